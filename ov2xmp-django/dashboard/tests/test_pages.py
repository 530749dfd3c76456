"""The dashboard's pages as the server renders them: who may see them, what
each section shows, and the sections fetched alone (?fragment=)."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from chargepoints.models import ConfigurationKey, DeviceModelVariable
from chargepoints.tests.factories import (
    ChargePointFactory,
    ConnectorFactory,
    EvseFactory,
    StatusNotificationFactory,
)
from commands.models import Command
from dashboard import selectors
from dashboard.views import content_security_policy
from ocpp_messages.models import OcppMessage
from transactions.models import Transaction, TransactionStatus
from transactions.tests.factories import MeterValueFactory, TransactionFactory

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
PAGES = ["/", "/chargers/", "/chargers/CP-1/", "/sessions/", "/sessions/1/", "/smart-charging/"]


@pytest.fixture
def browser(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def user_with(*codenames: str) -> User:
    user = User.objects.create_user(username="viewer", password="viewer-pass-123")
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=name)
        )
    return user


def text(response) -> str:
    """The page's text with tags and runs of white space collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


# --- who may look ----------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_an_anonymous_visitor_to_the_login(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/login/?next={path}")


def test_logging_in_leads_to_the_page_asked_for_and_out_to_the_login(admin_user):
    client = Client()
    page = client.get("/login/?next=/chargers/")
    assert page.status_code == 200
    wrong = client.post("/login/", {"username": "operator", "password": "nope", "next": "/"})
    assert "Wrong username or password" in text(wrong)
    response = client.post(
        "/login/",
        {"username": "operator", "password": "operator-pass-123", "next": "/chargers/"},
    )
    assert response.headers["Location"] == "/chargers/"
    assert client.get("/chargers/").status_code == 200
    assert client.post("/logout/").headers["Location"] == "/login/"
    assert client.get("/chargers/").status_code == 302


def test_a_user_without_the_permission_is_refused(db):
    client = Client()
    client.force_login(user_with())
    ChargePointFactory(id="CP-1")
    TransactionFactory(pk=1, charge_point__id="CP-1")
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_sections_follow_the_users_permissions(db):
    """A support user who may see chargers but not the message log, nor send commands."""
    ChargePointFactory(id="CP-1")
    client = Client()
    client.force_login(user_with("chargepoints.view_chargepoint"))
    page = client.get("/chargers/CP-1/")
    assert page.status_code == 200
    assert page.context["topics"] == ["charger:CP-1"]
    assert 'id="frames"' not in page.content.decode()
    assert "command-form" not in page.content.decode()
    assert "Recent commands" not in text(page)
    assert client.get("/chargers/CP-1/?fragment=frames").status_code == 404
    assert client.get("/chargers/CP-1/?fragment=commands").status_code == 404
    assert client.get("/sessions/").status_code == 403
    overview = client.get("/").content.decode()
    assert 'id="total-online"' in overview
    assert 'id="total-active"' not in overview
    assert "daily-data" not in overview
    assert "daily-chart" not in overview


def test_the_session_list_needs_the_chargers_too(db):
    """It is live through the chargers topic, and names the chargers."""
    client = Client()
    client.force_login(user_with("transactions.view_transaction"))
    assert client.get("/sessions/").status_code == 403


def test_pages_are_not_cached_and_run_only_their_own_scripts(browser, settings):
    response = browser.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert policy == content_security_policy()
    assert "script-src" not in policy  # falls back to default-src 'self'
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in policy
    settings.MAP_TILES_URL = ""
    assert "img-src 'self' data:;" in browser.get("/").headers["Content-Security-Policy"]
    assert "no-cache" in response.headers["Cache-Control"]
    assert "<script>" not in response.content.decode()  # no inline script to allow


def test_the_feed_token_is_an_access_token_of_the_logged_in_user(browser, admin_user):
    body = browser.get("/feed-token/").json()
    token = AccessToken(body["token"])
    assert token["user_id"] == str(admin_user.pk)
    assert body["expires_at"] == token["exp"]
    assert Client().get("/feed-token/").status_code == 403


# --- overview ------------------------------------------------------------------------


def test_network_totals_count_chargers_sessions_and_todays_energy(db):
    online = ChargePointFactory(id="CP-ON", is_connected=True)
    ChargePointFactory(id="CP-OFF", is_connected=False)
    ChargePointFactory(id="CP-DOWN", is_connected=True, status="Faulted")
    ConnectorFactory(evse=EvseFactory(charge_point__id="CP-BROKEN", evse_id=1), status="Faulted")
    today = NOW.replace(hour=1)
    TransactionFactory(charge_point=online, started_at=today, meter_last_wh=Decimal("3500"))
    TransactionFactory(
        charge_point=online,
        started_at=today,
        status=TransactionStatus.ENDED,
        meter_stop_wh=Decimal("2000"),
    )
    TransactionFactory(  # yesterday: not today's energy
        charge_point=online,
        started_at=NOW - timedelta(days=1),
        status=TransactionStatus.ENDED,
        meter_stop_wh=Decimal("9000"),
    )

    totals = selectors.network_totals(now=NOW)

    assert totals == selectors.NetworkTotals(
        chargers=4,
        online=2,
        offline=2,
        faulted=2,
        active_sessions=1,
        energy_today_wh=Decimal("3500"),  # (3500 - 1000) + (2000 - 1000)
    )


def test_daily_totals_give_every_day_even_without_sessions(db):
    charger = ChargePointFactory(id="CP-1")
    for started, stop in [
        (NOW, "1500"),
        (NOW.replace(hour=0), "3000"),
        (NOW - timedelta(2), "2000"),
    ]:
        TransactionFactory(
            charge_point=charger,
            started_at=started,
            status=TransactionStatus.ENDED,
            meter_stop_wh=Decimal(stop),
        )
    TransactionFactory(charge_point=charger, started_at=NOW - timedelta(days=5))  # too old

    days = selectors.daily_totals(now=NOW, days=3)

    assert [(day.day.isoformat(), day.sessions, day.energy_wh) for day in days] == [
        ("2026-11-22", 1, Decimal("1000")),
        ("2026-11-23", 0, Decimal("0")),
        ("2026-11-24", 2, Decimal("2500")),
    ]


def test_the_overview_shows_the_totals_and_serves_them_alone(browser):
    ChargePointFactory(id="CP-ON", is_connected=True)
    ChargePointFactory(id="CP-OFF")
    page = browser.get("/")
    assert page.status_code == 200
    assert re.search(r'id="total-online">1<', page.content.decode())
    assert re.search(r'id="total-offline">1<', page.content.decode())
    assert page.context["topics"] == ["chargers"]

    fragment = browser.get("/?fragment=totals")
    assert fragment.status_code == 200
    assert "<nav" not in fragment.content.decode()
    assert re.search(r'id="total-chargers">2<', fragment.content.decode())
    daily = json.loads(
        re.search(r'id="daily-data"[^>]*>(.*?)</script>', fragment.content.decode()).group(1)
    )
    assert len(daily) == 14
    assert set(daily[-1]) == {"day", "sessions", "energy_kwh"}
    assert browser.get("/?fragment=nothing").status_code == 404


# --- chargers --------------------------------------------------------------------------


def test_the_charger_list_filters_and_pages(browser):
    for number in range(55):
        ChargePointFactory(id=f"CP-{number:02d}", is_connected=number % 2 == 0)
    ChargePointFactory(id="ZZ-1", vendor="Volta", model="X1", is_connected=False)
    ConnectorFactory(evse=EvseFactory(charge_point__id="ZZ-1", evse_id=1), status="Faulted")

    first = browser.get("/chargers/")
    assert "Page 1 of 2 (56 chargers)" in text(first)
    assert len(re.findall(r'<tr data-charger="', first.content.decode())) == 50
    second = browser.get("/chargers/?page=2&fragment=rows")
    assert len(re.findall(r'<tr data-charger="', second.content.decode())) == 6
    assert '<nav class="navbar' not in second.content.decode()

    def ids(query: str) -> list[str]:
        return re.findall(
            r'<tr data-charger="([^"]+)"', browser.get(f"/chargers/?{query}").content.decode()
        )

    assert ids("q=volta") == ["ZZ-1"]
    assert ids("state=faulted") == ["ZZ-1"]
    assert len(ids("state=online")) == 28
    assert "CP-01" in ids("state=offline")
    assert "CP-00" not in ids("state=offline")
    assert "No chargers match" in text(browser.get("/chargers/?q=nothing-like-it"))


def test_a_charger_row_shows_connection_statuses_firmware_and_sessions(browser):
    charger = ChargePointFactory(
        id="CP-1", is_connected=True, firmware_version="1.2.3", ocpp_version="1.6"
    )
    evse = EvseFactory(charge_point=charger, evse_id=1)
    ConnectorFactory(evse=evse, status="Charging")
    ConnectorFactory(evse=EvseFactory(charge_point=charger, evse_id=2), status="Available")
    TransactionFactory(charge_point=charger)
    row = re.search(
        r'<tr data-charger="CP-1">(.*?)</tr>', browser.get("/chargers/").content.decode(), re.S
    )
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(1))).split()
    no_status = no_heartbeat = "\N{EN DASH}"
    assert cells == [
        "CP-1",
        "online",
        no_status,
        "Charging",
        "Available",
        "1.6",
        "Acme",
        "Wallbox-22",
        "1.2.3",
        no_heartbeat,
        "1",
    ]


def test_the_charger_page_shows_its_connectors_history_settings_commands_and_frames(
    browser, admin_user
):
    charger = ChargePointFactory(id="CP-1", ocpp_version="1.6", is_connected=True)
    ConnectorFactory(evse=EvseFactory(charge_point=charger, evse_id=1), status="Charging")
    TransactionFactory(
        charge_point=charger, ocpp_transaction_id="77", meter_last_wh=Decimal("13345.6")
    )
    StatusNotificationFactory(charge_point=charger, status="Preparing")
    StatusNotificationFactory(charge_point=charger, status="Charging", error_code="NoError")
    ConfigurationKey.objects.create(charge_point=charger, key="HeartbeatInterval", value="300")
    Command.objects.create(
        charge_point=charger,
        ocpp_version="1.6",
        action="Reset",
        request={"type": "Soft"},
        status="Answered",
        response={"status": "Accepted"},
        created_by=admin_user,
    )
    OcppMessage.objects.create(
        charge_point_id="CP-1",
        direction="received",
        message_type=2,
        unique_id="u-1",
        action="Heartbeat",
        payload={},
        ocpp_version="1.6",
        timestamp=NOW,
    )

    page = browser.get("/chargers/CP-1/")
    content = text(page)
    assert page.context["topics"] == ["charger:CP-1", "frames:CP-1"]
    assert "1 1 Charging" in content
    assert "#77 TAG000001 12.35 kWh" in content  # 13345.6 - 1000 Wh
    history = text(browser.get("/chargers/CP-1/?fragment=history"))
    assert history.index("Charging") < history.index("Preparing")  # the newest first
    assert "HeartbeatInterval 300 ?" in content  # read-only: not reported
    assert 'Reset Answered {"status": "Accepted"} operator' in content
    assert "charger → CSMS CALL Heartbeat u-1" in content
    for section in ("header", "connectors", "history", "commands", "settings", "frames"):
        fragment = browser.get(f"/chargers/CP-1/?fragment={section}")
        assert fragment.status_code == 200
        assert b'<nav class="navbar' not in fragment.content
    assert browser.get("/chargers/NOPE/").status_code == 404


def test_a_201_charger_page_shows_device_model_variables_and_its_own_commands(browser):
    charger = ChargePointFactory(id="CP-2", ocpp_version="2.0.1")
    DeviceModelVariable.objects.create(
        charge_point=charger,
        component_name="OCPPCommCtrlr",
        variable_name="HeartbeatInterval",
        value="60",
        mutability="ReadWrite",
    )
    page = browser.get("/chargers/CP-2/")
    content = page.content.decode()
    assert "OCPPCommCtrlr HeartbeatInterval Actual 60 ReadWrite" in text(page)
    assert 'data-url="/api/commands/ocpp201/RequestStartTransaction/"' in content
    assert 'data-url="/api/commands/ocpp16/' not in content


def test_command_forms_are_those_the_users_role_may_send(db):
    ChargePointFactory(id="CP-1", ocpp_version="1.6")
    client = Client()
    client.force_login(User.objects.create_user(username="helpdesk", role="first_line_support"))
    forms = re.findall(r'data-action="(\w+)"', client.get("/chargers/CP-1/").content.decode())
    assert {"Reset", "UnlockConnector", "RemoteStartTransaction"} <= set(forms)
    assert "ChangeConfiguration" not in forms  # configuring is 2nd line's


@pytest.mark.parametrize("role", ["charge_point_vendor", "driver"])
def test_the_roles_that_see_only_their_own_use_the_api_not_the_pages(db, role):
    ChargePointFactory(id="CP-1", vendor="Acme")
    TransactionFactory(pk=1, charge_point__id="CP-1")
    client = Client()
    client.force_login(User.objects.create_user(username="scoped", role=role, vendor_name="Acme"))
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_command_forms_offer_the_choices_of_the_ocpp_schema(browser):
    ChargePointFactory(id="CP-1", ocpp_version="1.6")
    content = browser.get("/chargers/CP-1/").content.decode()
    reset = re.search(r'name="type" data-kind="choice" required>(.*?)</select>', content, re.S)
    assert re.findall(r"<option[^>]*>(\w+)</option>", reset.group(1)) == ["Hard", "Soft"]
    assert re.search(r"<option selected>Soft</option>", reset.group(1))
    trigger = re.search(r'id="TriggerMessage-requestedMessage"[^>]*>(.*?)</select>', content, re.S)
    assert "BootNotification" in trigger.group(1)
    assert "MeterValues" in trigger.group(1)


# --- sessions --------------------------------------------------------------------------


def test_the_sessions_page_lists_running_and_past_sessions(browser):
    charger = ChargePointFactory(id="CP-1")
    TransactionFactory(charge_point=charger, ocpp_transaction_id="1", meter_last_wh=Decimal("1500"))
    TransactionFactory(
        charge_point=charger,
        ocpp_transaction_id="2",
        status=TransactionStatus.ENDED,
        started_at=NOW,
        stopped_at=NOW + timedelta(hours=1, minutes=2, seconds=3),
        stop_reason="Local",
        meter_stop_wh=Decimal("11000"),
    )
    active = text(browser.get("/sessions/?fragment=active"))
    past = text(browser.get("/sessions/?fragment=past"))
    assert "#1 CP-1 1 / 1 TAG000001" in active
    assert "0.50 kWh" in active
    assert "#2" not in active
    assert "1:02:03 Local 10.00 kWh \N{EN DASH}" in past  # no CDR yet
    from billing.services import cdr_create

    cdr_create(transaction_id=Transaction.objects.get(ocpp_transaction_id="2").pk, reason="test")
    assert "10.00 kWh no tariff" in text(browser.get("/sessions/?fragment=past"))
    assert "#1 " not in past


def test_the_session_page_charts_power_over_phases_and_energy_in_watts(browser):
    session = TransactionFactory(charge_point__id="CP-1")
    at = NOW.replace(microsecond=0)
    for measurand, phase, unit, value in [
        ("Power.Active.Import", "L1", "W", "3000"),
        ("Power.Active.Import", "L2", "W", "3100"),
        ("Power.Active.Import", "L3", "kW", "3.2"),
        ("Energy.Active.Import.Register", "", "kWh", "12.5"),
        ("Current.Import", "L1", "A", "16"),
    ]:
        MeterValueFactory(
            transaction=session,
            timestamp=at,
            measurand=measurand,
            phase=phase,
            unit=unit,
            value=value,
        )
    MeterValueFactory(
        transaction=session, timestamp=at + timedelta(minutes=1), value="12600", unit="Wh"
    )

    page = browser.get(f"/sessions/{session.pk}/")
    series = json.loads(
        re.search(r'id="session-series"[^>]*>(.*?)</script>', page.content.decode()).group(1)
    )
    assert series == [
        {"at": at.isoformat(), "power_w": 9300.0, "energy_wh": 12500.0},
        {"at": (at + timedelta(minutes=1)).isoformat(), "power_w": None, "energy_wh": 12600.0},
    ]
    assert page.context["topics"] == [f"transaction:{session.pk}"]
    summary = browser.get(f"/sessions/{session.pk}/?fragment=summary")
    assert "Cost so far no tariff applies" in text(summary)


def test_a_v2x_session_shows_its_mode_and_the_energy_and_power_each_way(browser):
    plain = TransactionFactory(charge_point__id="CP-1")
    assert "Given back" not in text(browser.get(f"/sessions/{plain.pk}/?fragment=summary"))
    session = TransactionFactory(
        charge_point__id="CP-2",
        ocpp_version="2.1",
        operation_mode="CentralSetpoint",
        export_start_wh=Decimal(200),
        export_last_wh=Decimal(1700),
        power_import_w=Decimal(0),
        power_export_w=Decimal(5000),
        flow_last_at=NOW,
    )
    summary = text(browser.get(f"/sessions/{session.pk}/?fragment=summary"))
    assert "CentralSetpoint" in summary
    assert "Given back (V2X) 1.50 kWh" in summary
    assert "Power in / out 0 / 5000 W" in summary


def test_the_smart_charging_page_shows_each_sites_limit_shares_signals_and_alarms(browser):
    from locations.tests.factories import LocationFactory
    from smartcharging.load_management import load_group_rebalance
    from smartcharging.models import DerEvent, GridSignal, LoadGroup

    assert "No load group" in text(browser.get("/smart-charging/?fragment=groups"))
    site = LocationFactory(name="Depot", time_zone="UTC")
    group = LoadGroup.objects.create(name="Depot grid", location=site, max_import_w=22080)
    for name in ("CP-1", "CP-2"):
        TransactionFactory(
            charge_point=ChargePointFactory(id=name, location=site, ocpp_version="2.0.1"),
            ocpp_version="2.0.1",
            started_at=datetime.now(UTC) - timedelta(minutes=5),
        )
    load_group_rebalance(group_id=group.pk, at=datetime.now(UTC))
    GridSignal.objects.create(
        load_group=group,
        kind="capacity",
        start=datetime.now(UTC) + timedelta(hours=1),
        end=datetime.now(UTC) + timedelta(hours=2),
        max_import_w=11000,
        source="DSO-North",
        signal_id="4711",
    )
    DerEvent.objects.create(
        charge_point_id="CP-1",
        kind="alarm",
        control_type="HVMustTrip",
        grid_event_fault="OverVoltage",
        timestamp=NOW,
    )

    page = browser.get("/smart-charging/")
    assert page.status_code == 200
    assert page.context["topics"] == ["chargers"]
    shown = text(page)
    assert "limit now 22080 W · shared 22080 W among 2 sessions" in shown
    assert shown.count("11040 W") == 2  # each session's share, sent and waiting for the answer
    assert "Sent" in shown
    assert "DSO-North / 4711 capacity" in shown
    assert "11000 W not yet" in shown
    assert "HVMustTrip OverVoltage raised" in shown
    assert "Smart charging" in shown  # in the menu
    # Without the DER permission, the section says so rather than showing them.
    viewer = Client()
    viewer.force_login(
        user_with(
            "smartcharging.view_loadgroup",
            "transactions.view_transaction",
            "chargepoints.view_chargepoint",
        )
    )
    assert "does not show DER events" in text(viewer.get("/smart-charging/?fragment=der"))


def test_the_overview_maps_the_locations_with_coordinates(browser):
    from locations.tests.factories import LocationFactory

    site = LocationFactory(name="Baixa")
    LocationFactory(name="Unplaced", latitude=None, longitude=None)
    online = ChargePointFactory(id="CP-ON", location=site, is_connected=True)
    ConnectorFactory(evse=EvseFactory(charge_point=online, evse_id=1), status="Available")
    ConnectorFactory(evse=EvseFactory(charge_point=online, evse_id=2), status="Charging")
    offline = ChargePointFactory(id="CP-OFF", location=site, is_connected=False)
    ConnectorFactory(evse=EvseFactory(charge_point=offline, evse_id=1), status="Available")

    page = browser.get("/")
    content = page.content.decode()
    assert 'id="location-map"' in content
    assert "vendor/leaflet/leaflet.js" in content
    data = json.loads(re.search(r'id="map-data"[^>]*>(.*?)</script>', content).group(1))
    assert data == [
        {
            "id": site.pk,
            "name": "Baixa",
            "address": "Rua Augusta 1, Lisboa",
            "latitude": 38.71,
            "longitude": -9.137,
            "chargers": 2,
            "online": 1,
            "available": 1,  # the offline charger's free connector is no use
        }
    ]
    fragment = browser.get("/?fragment=map").content.decode()
    assert '"name": "Baixa"' in fragment


def test_without_located_chargers_there_is_no_map(browser):
    content = browser.get("/").content.decode()
    assert "location-map" not in content
    assert "leaflet" not in content

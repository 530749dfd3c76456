"""A vendor sees its own chargers and a driver their own things, in lists,
details, writes and on the live feed; the rest is absent, not forbidden."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Vehicle
from accounts.roles import Role
from accounts.tests.factories import UserFactory, VehicleFactory
from billing.services import cdr_create
from billing.tests.test_cdrs import ended_session, tariff
from chargepoints.models import ConfigurationKey
from chargepoints.tests.factories import (
    T0,
    ChargePointFactory,
    ConnectorFactory,
    StatusNotificationFactory,
)
from commands.models import Command
from files.models import FirmwareImage
from idtokens.tests.factories import IdTokenFactory
from ocpp_messages.models import OcppMessage
from transactions.tests.factories import MeterValueFactory, TransactionFactory
from updates.tests.test_feed import feed, subscribe


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def listed(client: APIClient, path: str, key: str = "id") -> list:
    response = client.get(path)
    assert response.status_code == 200, (path, response.content)
    return sorted(row[key] for row in response.json()["results"])


def charger_with_history(charger_id: str, vendor: str) -> None:
    charger = ChargePointFactory(id=charger_id, vendor=vendor)
    ConnectorFactory(evse__charge_point=charger)
    StatusNotificationFactory(charge_point=charger)
    ConfigurationKey.objects.create(charge_point=charger, key="HeartbeatInterval", value="60")
    Command.objects.create(charge_point=charger, ocpp_version="1.6", action="Reset", request={})
    OcppMessage.objects.create(
        charge_point_id=charger_id,
        direction="in",
        message_type=2,
        unique_id=f"m-{charger_id}",
        action="Heartbeat",
        payload={},
        timestamp=T0,
    )


@pytest.fixture
def two_vendors(db):
    charger_with_history("CP-ACME", "Acme")
    charger_with_history("CP-OTHER", "Other Corp")
    return UserFactory(username="acme-dev", role=Role.CHARGE_POINT_VENDOR, vendor_name="ACME")


def test_a_vendor_lists_only_its_own_chargers_and_their_history(two_vendors):
    vendor = client_of(two_vendors)
    assert listed(vendor, "/api/chargepoints/") == ["CP-ACME"]
    for path, key in (
        ("/api/connectors/", "charge_point"),
        ("/api/status-notifications/", "charge_point"),
        ("/api/configuration-keys/", "charge_point"),
        ("/api/commands/", "charge_point"),
        ("/api/ocpp-messages/", "charge_point_id"),
    ):
        assert set(listed(vendor, path, key)) == {"CP-ACME"}, path


def test_another_vendors_charger_is_absent_not_forbidden(two_vendors):
    vendor = client_of(two_vendors)
    assert vendor.get("/api/chargepoints/CP-ACME/").status_code == 200
    assert vendor.get("/api/chargepoints/CP-OTHER/").status_code == 404
    other_command = Command.objects.get(charge_point_id="CP-OTHER")
    assert vendor.get(f"/api/commands/{other_command.pk}/").status_code == 404


def test_a_vendor_cannot_command_another_vendors_charger(two_vendors):
    vendor = client_of(two_vendors)
    body = {"payload": {"type": "Soft"}, "wait": 0}
    refused = vendor.post("/api/commands/ocpp16/Reset/", {"charge_point": "CP-OTHER", **body})
    unknown = vendor.post("/api/commands/ocpp16/Reset/", {"charge_point": "CP-NONE", **body})
    # The same answer as for a charger that does not exist.
    assert (refused.status_code, unknown.status_code) == (400, 400)
    assert refused.json()["charge_point"] == ["Unknown charger 'CP-OTHER'."]
    assert unknown.json()["charge_point"] == ["Unknown charger 'CP-NONE'."]
    own = vendor.post("/api/commands/ocpp16/Reset/", {"charge_point": "CP-ACME", **body})
    assert own.status_code == 409  # allowed, but the charger is offline
    assert Command.objects.filter(charge_point_id="CP-OTHER").count() == 1  # the fixture's
    files = vendor.post(
        "/api/file-requests/", {"charge_point": "CP-OTHER", "kind": "Diagnostics", "wait": 0}
    )
    assert files.status_code == 400
    assert "Unknown charger" in files.json()["charge_point"][0]


def test_a_vendor_sees_only_the_firmware_it_uploaded(two_vendors):
    FirmwareImage.objects.create(name="theirs.bin", path="x/theirs.bin", size=1, sha256="0" * 64)
    FirmwareImage.objects.create(
        name="ours.bin", path="x/ours.bin", size=1, sha256="1" * 64, created_by=two_vendors
    )
    assert listed(client_of(two_vendors), "/api/firmware/", "name") == ["ours.bin"]


def test_a_vendor_without_a_vendor_name_sees_no_chargers(two_vendors):
    nameless = UserFactory(username="nameless", role=Role.CHARGE_POINT_VENDOR)
    assert listed(client_of(nameless), "/api/chargepoints/") == []


# --- Drivers ------------------------------------------------------------------------------


@pytest.fixture
def two_drivers(db):
    charger = ChargePointFactory(id="CP-1")
    tariff("Everywhere")
    drivers = {}
    for name in ("dana", "eve"):
        driver = UserFactory(username=name, role=Role.DRIVER)
        token = IdTokenFactory(value=f"TAG-{name}", owner=driver)
        session = ended_session(charger)
        session.id_token, session.id_token_value = token, token.value
        session.save()
        MeterValueFactory(transaction=session)
        cdr_create(transaction_id=session.pk, reason="session ended")
        VehicleFactory(owner=driver, name=f"{name}'s car")
        drivers[name] = driver
    return drivers


def test_a_driver_sees_their_own_tokens_sessions_meter_values_cdrs_and_vehicles(two_drivers):
    dana = client_of(two_drivers["dana"])
    assert listed(dana, "/api/id-tokens/", "value") == ["TAG-dana"]
    assert listed(dana, "/api/transactions/", "id_token_value") == ["TAG-dana"]
    assert listed(dana, "/api/cdrs/", "id_token_value") == ["TAG-dana"]
    assert listed(dana, "/api/vehicles/", "name") == ["dana's car"]
    dana_session = two_drivers["dana"].id_tokens.get().transactions.get()
    assert listed(dana, "/api/meter-values/", "transaction") == [dana_session.pk]
    assert dana.get("/api/chargepoints/").status_code == 403
    assert dana.get("/api/users/").status_code == 403


def test_another_drivers_session_is_absent(two_drivers):
    dana = client_of(two_drivers["dana"])
    eve_session = two_drivers["eve"].id_tokens.get().transactions.get()
    assert dana.get(f"/api/transactions/{eve_session.pk}/").status_code == 404
    assert dana.get(f"/api/transactions/{eve_session.pk}/cost/").status_code == 404
    assert dana.get(f"/api/transactions/{eve_session.pk}/meter-values/").status_code == 404
    own = two_drivers["dana"].id_tokens.get().transactions.get()
    assert dana.get(f"/api/transactions/{own.pk}/cost/").status_code == 200


def test_a_drivers_vehicles_are_their_own(two_drivers):
    dana = client_of(two_drivers["dana"])
    added = dana.post("/api/vehicles/", {"name": "Van", "evcc_id": "EVCC-42"})
    assert added.status_code == 201, added.content
    assert added.json()["owner"] == two_drivers["dana"].pk
    for_eve = dana.post("/api/vehicles/", {"name": "Gift", "owner": two_drivers["eve"].pk})
    assert for_eve.status_code == 400
    assert for_eve.json()["owner"] == ["Your vehicles are your own."]
    eve_car = Vehicle.objects.get(owner=two_drivers["eve"])
    assert dana.patch(f"/api/vehicles/{eve_car.pk}/", {"name": "Mine"}).status_code == 404
    assert dana.delete(f"/api/vehicles/{eve_car.pk}/").status_code == 404
    assert Vehicle.objects.get(pk=eve_car.pk).name == "eve's car"
    duplicate = client_of(two_drivers["eve"]).post(
        "/api/vehicles/", {"name": "Clone", "evcc_id": "EVCC-42"}
    )
    assert duplicate.status_code == 400


def test_the_cdr_knows_its_driver(two_drivers):
    dana = client_of(two_drivers["dana"])
    (row,) = dana.get("/api/cdrs/").json()["results"]
    assert row["driver"] == two_drivers["dana"].pk
    assert Decimal(row["total_incl_vat"]) > 0


# --- The live feed ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_feed_keeps_vendors_and_drivers_to_their_own():
    @sync_to_async
    def set_up():
        ChargePointFactory(id="CP-ACME", vendor="Acme")
        ChargePointFactory(id="CP-OTHER", vendor="Other")
        vendor = UserFactory(username="acme", role=Role.CHARGE_POINT_VENDOR, vendor_name="Acme")
        dana = UserFactory(username="dana", role=Role.DRIVER)
        own = TransactionFactory(
            charge_point_id="CP-ACME", id_token=IdTokenFactory(value="TAG-D", owner=dana)
        )
        other = TransactionFactory(charge_point_id="CP-OTHER")
        tokens = str(AccessToken.for_user(vendor)), str(AccessToken.for_user(dana))
        return tokens, own.pk, other.pk

    (vendor_token, driver_token), own, other = await set_up()
    vendor = await feed(vendor_token)
    assert (await subscribe(vendor, "chargers"))["error"] == "forbidden"
    assert (await subscribe(vendor, "commands"))["error"] == "forbidden"
    assert (await subscribe(vendor, "charger:CP-OTHER"))["error"] == "not_found"
    assert (await subscribe(vendor, "frames:CP-OTHER"))["error"] == "not_found"
    assert (await subscribe(vendor, "charger:CP-ACME"))["type"] == "subscribed"
    assert (await subscribe(vendor, "frames:CP-ACME"))["type"] == "subscribed"
    driver = await feed(driver_token)
    assert (await subscribe(driver, f"transaction:{other}"))["error"] == "not_found"
    assert (await subscribe(driver, f"transaction:{own}"))["type"] == "subscribed"
    assert (await subscribe(driver, "charger:CP-ACME"))["error"] == "forbidden"
    await vendor.disconnect()
    await driver.disconnect()

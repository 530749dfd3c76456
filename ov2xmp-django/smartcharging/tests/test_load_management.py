"""Site load management: a site's limit over the day, and real websocket
chargers receiving their share as sessions start and stop and as the limit
changes; what is sent never adds up to more than the limit."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from ocpp.v16 import call
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from chargepoints.tests.factories import ChargePointFactory
from commands.tests.charger import answering_charger
from csms.tests.helpers import eventually, in_thread
from locations.tests.factories import LocationFactory
from smartcharging.load_management import (
    daily_limits_errors,
    group_limit_periods,
    load_group_ids_of,
)
from smartcharging.models import GridSignal, LoadGroup

H = 3600


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Lisbon is UTC+1 in June: 12:00 UTC is 13:00 there.
        (
            datetime(2026, 6, 1, 12, tzinfo=UTC),
            [(0, 30000), (4 * H, 20000), (8 * H, 50000), (11 * H, 30000)],
        ),
        # From 18:30 local: the evening limit, then the night's, then midnight's default.
        (
            datetime(2026, 6, 1, 17, 30, tzinfo=UTC),
            [(0, 20000), (int(2.5 * H), 50000), (int(5.5 * H), 30000), (int(22.5 * H), 20000)],
        ),
    ],
)
def test_a_sites_limit_over_the_next_day(db, start, expected):
    group = LoadGroup(
        name="Depot",
        location=LocationFactory(time_zone="Europe/Lisbon"),
        max_import_w=30000,
        daily_limits=[
            {"from": "21:00", "max_import_w": 50000},
            {"from": "17:00", "max_import_w": 20000},
        ],
    )
    assert group_limit_periods(group, start=start) == [(s, Decimal(w)) for s, w in expected]


@pytest.mark.parametrize(
    "value",
    [
        {"from": "17:00"},
        [{"from": "5pm", "max_import_w": 1}],
        [{"from": "24:00", "max_import_w": 1}],
        [{"from": "17:00", "max_import_w": -1}],
        [{"from": "17:00", "max_import_w": "lots"}],
        [{"from": "17:00", "max_import_w": 1}, {"from": "17:00", "max_import_w": 2}],
        [{"from": "17:00", "max_import_w": 1, "note": "x"}],
    ],
)
def test_wrong_daily_limits_are_named(value):
    assert daily_limits_errors(value) != []


def watts_sent(charger) -> Decimal | None:
    """What the charger was last told, in W (A x 230 V x 3 phases), now."""
    sent = [payload for action, payload in charger.received if action == "SetChargingProfile"]
    if not sent:
        return None
    profile = sent[-1]["csChargingProfiles"]
    assert profile["chargingProfilePurpose"] == "TxProfile"
    period = profile["chargingSchedule"]["chargingSchedulePeriod"][0]
    return Decimal(str(period["limit"])) * 230 * 3


@sync_to_async
def site_with(chargers: int) -> tuple[LoadGroup, APIClient]:
    """A site of ``chargers`` chargers (CP-0 …) sharing 22,080 W, and a CPO manager."""
    site = LocationFactory(time_zone="UTC")
    for n in range(chargers):
        ChargePointFactory(id=f"CP-{n}", location=site)
    group = LoadGroup.objects.create(name="Depot", location=site, max_import_w=22080)
    manager = APIClient()
    manager.force_authenticate(UserFactory(username="cpo", role=Role.CPO_MANAGER))
    return group, manager


async def connected(stack: AsyncExitStack, csms, count: int) -> list:
    """The site's chargers, connected, accepting every profile."""
    chargers = [
        await stack.enter_async_context(answering_charger(csms.url, f"CP-{n}"))
        for n in range(count)
    ]
    for charger in chargers:
        charger.answers["SetChargingProfile"] = {"status": "Accepted"}
    return chargers


@pytest.mark.django_db(transaction=True)
async def test_sessions_share_the_sites_limit_as_they_come_and_go(csms):
    group, manager = await site_with(6)
    async with AsyncExitStack() as stack:
        chargers = await connected(stack, csms, 6)
        sessions = {}
        for n, charger in enumerate(chargers):
            started = await charger.call(
                call.StartTransaction(
                    connector_id=1,
                    id_tag=f"TAG-{n}",
                    meter_start=0,
                    timestamp=datetime.now(UTC).isoformat(),
                )
            )
            sessions[n] = started.transaction_id

            async def shares_settled(count=n + 1):
                shares = [watts_sent(c) for c in chargers[:count]]
                # Each running session told its equal share of the limit.
                expected = Decimal(22080 // count // 690 * 690) if count > 1 else Decimal(22080)
                return all(share is not None and abs(share - expected) < 690 for share in shares)

            await eventually(shares_settled, within=15)
            total = sum(watts_sent(c) for c in chargers[: n + 1])
            assert total <= 22080, (n, total)

        # The limit drops mid-session: everyone gets less, still within it.
        response = await in_thread(
            manager.patch, f"/api/load-groups/{group.pk}/", {"max_import_w": 11040}, format="json"
        )
        assert response.status_code == 200, response.content

        async def all_at_most(watts: int, group: list) -> bool:
            return all((watts_sent(c) or 0) <= watts for c in group)

        async def all_at_least(watts: int, group: list) -> bool:
            return all((watts_sent(c) or 0) >= watts for c in group)

        await eventually(lambda: all_at_most(1840, chargers), within=15)
        assert sum(watts_sent(c) for c in chargers) <= 11040

        # Two sessions end: the four others share the limit.
        for n in (0, 1):
            await chargers[n].call(
                call.StopTransaction(
                    meter_stop=1000,
                    timestamp=datetime.now(UTC).isoformat(),
                    transaction_id=sessions[n],
                )
            )
        await eventually(lambda: all_at_least(2760, chargers[2:]), within=15)
        assert sum(watts_sent(c) for c in chargers[2:]) <= 11040


def test_only_who_may_send_profiles_rebalances(db):
    group = LoadGroup.objects.create(name="Depot", max_import_w=10000)
    desk = APIClient()
    desk.force_authenticate(UserFactory(username="desk", role=Role.SECOND_LINE_SUPPORT))
    cdr = APIClient()
    cdr.force_authenticate(UserFactory(username="cdr", role=Role.CDR_MANAGER))
    url = f"/api/load-groups/{group.pk}/"
    assert cdr.get(url).status_code == 403
    assert desk.get(url).status_code == 200
    assert desk.patch(url, {"max_import_w": 1}, format="json").status_code == 403
    # No session: nothing to send, and that is said.
    assert desk.post(url + "rebalance/").json() == []
    # 2nd line may rebalance, not define sites.
    assert desk.post("/api/load-groups/", {"name": "x", "max_import_w": 1}).status_code == 403


def test_a_wrong_site_is_refused_with_the_reason(db):
    manager = APIClient()
    manager.force_authenticate(UserFactory(username="cpo", role=Role.CPO_MANAGER))
    bad = manager.post(
        "/api/load-groups/",
        {"name": "x", "max_import_w": 1, "daily_limits": [{"from": "25:00", "max_import_w": 1}]},
        format="json",
    )
    assert bad.status_code == 400
    assert "daily_limits" in bad.json()


# --- Grid (DSO) signals -------------------------------------------------------------------


def signal(group, signal_id, start_h, end_h, **fields):
    values = {"kind": "capacity", "source": "DSO-North", **fields}
    return GridSignal.objects.create(
        load_group=group,
        signal_id=signal_id,
        start=datetime(2026, 6, 1, start_h, tzinfo=UTC),
        end=datetime(2026, 6, 1, end_h, tzinfo=UTC),
        **values,
    )


def test_grid_signals_lower_the_sites_limit_while_in_force(db):
    group = LoadGroup.objects.create(
        name="Depot",
        location=LocationFactory(time_zone="UTC"),
        max_import_w=30000,
        expensive_price_per_kwh=Decimal("0.40"),
        expensive_max_import_w=5000,
    )
    signal(group, "cap-1", 14, 16, max_import_w=12000)
    # A higher capacity than the site's own changes nothing.
    signal(group, "cap-2", 18, 19, max_import_w=90000)
    signal(group, "cheap", 20, 21, kind="price", price_per_kwh=Decimal("0.10"), currency="EUR")
    signal(group, "dear", 21, 22, kind="price", price_per_kwh=Decimal("0.55"), currency="EUR")
    periods = group_limit_periods(group, start=datetime(2026, 6, 1, 12, tzinfo=UTC))
    assert periods == [
        (0, Decimal(30000)),
        (2 * H, Decimal(12000)),
        (4 * H, Decimal(30000)),
        (9 * H, Decimal(5000)),
        (10 * H, Decimal(30000)),
    ]


def test_a_group_without_a_price_threshold_ignores_prices(db):
    group = LoadGroup.objects.create(name="Depot", max_import_w=30000)
    signal(group, "dear", 13, 14, kind="price", price_per_kwh=Decimal("9"), currency="EUR")
    assert group_limit_periods(group, start=datetime(2026, 6, 1, 12, tzinfo=UTC)) == [
        (0, Decimal(30000))
    ]


@pytest.fixture
def dso(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(username="cpo", role=Role.CPO_MANAGER))
    return client


def test_a_signal_sent_again_changes_nothing_and_a_correction_is_kept(
    dso, django_capture_on_commit_callbacks
):
    group = LoadGroup.objects.create(name="Depot", max_import_w=30000)
    body = {
        "load_group": group.pk,
        "kind": "capacity",
        "start": "2026-06-01T14:00:00Z",
        "end": "2026-06-01T16:00:00Z",
        "max_import_w": 12000,
        "source": "DSO-North",
        "signal_id": "4711",
    }
    with django_capture_on_commit_callbacks() as rebalances:
        first = dso.post("/api/grid-signals/", body, format="json")
    # The rebalance and the live event wait for the commit.
    assert (first.status_code, len(rebalances)) == (201, 2)
    with django_capture_on_commit_callbacks() as rebalances:
        again = dso.post("/api/grid-signals/", body, format="json")
    assert (again.status_code, again.json()["id"], len(rebalances)) == (200, first.json()["id"], 0)
    corrected = dso.post("/api/grid-signals/", {**body, "max_import_w": 8000}, format="json")
    assert corrected.status_code == 201
    assert GridSignal.objects.get().max_import_w == 8000


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"end": "2026-06-01T13:00:00Z"}, "end"),
        ({"max_import_w": None}, "max_import_w"),
        ({"kind": "price", "max_import_w": None, "price_per_kwh": "0.3"}, "currency"),
        ({"kind": "price", "max_import_w": None}, "price_per_kwh"),
        ({"kind": "price", "price_per_kwh": "0.3", "currency": "EUR"}, "max_import_w"),
        ({"kind": "wind"}, "kind"),
    ],
)
def test_a_wrong_signal_is_refused_with_the_field_named(dso, fields, field):
    group = LoadGroup.objects.create(name="Depot", max_import_w=30000)
    body = {
        "load_group": group.pk,
        "kind": "capacity",
        "start": "2026-06-01T14:00:00Z",
        "end": "2026-06-01T16:00:00Z",
        "max_import_w": 12000,
        "source": "DSO-North",
        "signal_id": "1",
        **fields,
    }
    response = dso.post("/api/grid-signals/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not GridSignal.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_a_capacity_signal_reaches_the_chargers_and_is_recorded_as_applied(csms):
    group, client = await site_with(2)
    async with AsyncExitStack() as stack:
        chargers = await connected(stack, csms, 2)
        for n, charger in enumerate(chargers):
            await charger.call(
                call.StartTransaction(
                    connector_id=1,
                    id_tag=f"TAG-{n}",
                    meter_start=0,
                    timestamp=datetime.now(UTC).isoformat(),
                )
            )

        async def told(watts: int) -> bool:
            return all(watts_sent(c) is not None and watts_sent(c) <= watts for c in chargers)

        await eventually(lambda: told(11040), within=15)
        now = datetime.now(UTC)
        response = await in_thread(
            client.post,
            "/api/grid-signals/",
            {
                "load_group": group.pk,
                "kind": "capacity",
                "start": (now - timedelta(minutes=1)).isoformat(),
                "end": (now + timedelta(hours=1)).isoformat(),
                "max_import_w": 4140,
                "source": "DSO-North",
                "signal_id": "storm",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        # 4,140 W shared by two: 2,070 W each, 3.0 A on three phases.
        await eventually(lambda: told(2070), within=15)
    applied = await sync_to_async(lambda: GridSignal.objects.get().applied_at)()
    assert applied is not None


@pytest.mark.parametrize(
    ("version", "said", "amps"),
    [
        ("1.6", None, True),
        ("1.6", "Current,Power", True),
        ("1.6", "Power", False),
        ("2.0.1", None, False),
        ("2.0.1", "A,W", False),
        ("2.0.1", "A", True),
    ],
)
def test_profiles_go_in_the_unit_the_charger_allows(db, version, said, amps):
    from chargepoints.models import ConfigurationKey, DeviceModelVariable
    from smartcharging.load_management import sends_amps

    charger = ChargePointFactory(id="CP-1", ocpp_version=version)
    if said is not None and version == "1.6":
        ConfigurationKey.objects.create(
            charge_point=charger, key="ChargingScheduleAllowedChargingRateUnit", value=said
        )
    elif said is not None:
        DeviceModelVariable.objects.create(
            charge_point=charger,
            component_name="SmartChargingCtrlr",
            variable_name="RateUnit",
            value=said,
        )
    assert sends_amps(charger) is amps


def test_a_vehicles_preference_comes_before_its_tokens_priority(db):
    from accounts.models import Vehicle
    from accounts.tests.factories import UserFactory
    from smartcharging.load_management import load_group_rebalance
    from smartcharging.models import ChargingProfile
    from transactions.tests.factories import TransactionFactory

    site = LocationFactory(time_zone="UTC")
    group = LoadGroup.objects.create(name="Depot", location=site, max_import_w=10000)
    for name, token in (("CP-A", "AA:BB:CC:00:11:22"), ("CP-B", "TAG-B")):
        TransactionFactory(
            charge_point=ChargePointFactory(id=name, location=site, ocpp_version="2.0.1"),
            ocpp_version="2.0.1",
            id_token_value=token,
        )

    def shares() -> dict[str, Decimal]:
        load_group_rebalance(group_id=group.pk, at=datetime(2026, 6, 1, tzinfo=UTC))
        return {
            profile.charge_point_id: Decimal(profile.periods[0]["limit"])
            for profile in ChargingProfile.objects.filter(load_group=group)
        }

    assert shares() == {"CP-A": 5000, "CP-B": 5000}
    # Autocharge: the token is the car's EVCC id, and its owner prefers it.
    Vehicle.objects.create(
        owner=UserFactory(), name="Van", evcc_id="AA:BB:CC:00:11:22", charging_priority=9
    )
    preferred = shares()
    assert preferred["CP-A"] > preferred["CP-B"] >= 1380
    assert sum(preferred.values()) <= 10000


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_a_session_change_queues_only_its_chargers_groups(settings, monkeypatch):
    from core.background import background_work_done
    from smartcharging import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued: list[int] = []
    monkeypatch.setattr(tasks.load_group_rebalance_task, "delay", queued.append)
    site = LocationFactory()
    in_site, chosen, alone = (
        ChargePointFactory(location=site),
        ChargePointFactory(),
        ChargePointFactory(),
    )
    by_site = LoadGroup.objects.create(name="Site", location=site, max_import_w=10000)
    by_choice = LoadGroup.objects.create(name="Chosen", max_import_w=10000)
    by_choice.charge_points.add(chosen, in_site)
    LoadGroup.objects.create(name="Off", max_import_w=10000, enabled=False).charge_points.add(alone)

    for charger in (alone, chosen, in_site):
        tasks.sessions_changed(charger.pk)
    background_work_done()

    assert queued[0] == by_choice.pk  # alone's only group is disabled: nothing queued
    assert sorted(queued[1:]) == sorted([by_site.pk, by_choice.pk])


def test_a_charger_s_groups_are_those_it_is_in_and_those_of_its_site(db):
    site, elsewhere = LocationFactory(), LocationFactory()
    charger = ChargePointFactory(location=site)
    listed = LoadGroup.objects.create(name="Listed", max_import_w=10000)
    listed.charge_points.add(charger)
    of_site = LoadGroup.objects.create(name="Site", location=site, max_import_w=10000)
    both = LoadGroup.objects.create(name="Both", location=site, max_import_w=10000)
    both.charge_points.add(charger)
    disabled = LoadGroup.objects.create(name="Off", max_import_w=1, enabled=False)
    disabled.charge_points.add(charger)
    LoadGroup.objects.create(name="Other site", location=elsewhere, max_import_w=10000)
    LoadGroup.objects.create(name="Nobody's", max_import_w=10000)
    unplaced = ChargePointFactory(location=None)
    LoadGroup.objects.create(name="Unplaced", location=None, max_import_w=1)

    expected = sorted([listed.pk, of_site.pk, both.pk])
    assert load_group_ids_of(charger.pk) == expected
    assert load_group_ids_of(unplaced.pk) == []
    assert load_group_ids_of("no such charger") == []

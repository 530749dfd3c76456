"""CDRs: made when a session ends (a real charger, a real csms), priced with
the most specific tariff in force when it started, recomputed with history."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from ocpp.v16 import call

from billing.models import Cdr, Current, Tariff, TariffVersion
from billing.services import cdr_create, cdrs_create_missing
from chargepoints.models import PowerType
from chargepoints.tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory
from csms.simulator import simulated_charger
from csms.tests.helpers import eventually
from locations.tests.factories import LocationFactory
from transactions.models import TransactionStatus
from transactions.tests.factories import MeterValueFactory, TransactionFactory
from updates.tests.test_feed import feed, next_event, subscribe, token_for

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
ENERGY_AT = [{"price_components": [{"type": "ENERGY", "price": "0.30"}]}]


def tariff(
    name: str, *, price: str = "0.30", valid_from: datetime = T0 - timedelta(days=1), **scope
):
    made = Tariff.objects.create(name=name, currency="EUR", vat_percent=Decimal(23), **scope)
    TariffVersion.objects.create(
        tariff=made,
        valid_from=valid_from,
        elements=[{"price_components": [{"type": "ENERGY", "price": price}]}],
    )
    return made


def ended_session(charger, *, wh: str = "7400", evse_id: int = 1, started_at: datetime = T0):
    return TransactionFactory(
        charge_point=charger,
        evse_id=evse_id,
        status=TransactionStatus.ENDED,
        started_at=started_at,
        stopped_at=started_at + timedelta(hours=1),
        meter_start_wh=Decimal(0),
        meter_stop_wh=Decimal(wh),
    )


@pytest.mark.django_db(transaction=True)
async def test_a_session_that_ends_gets_its_cdr_in_the_background(csms):
    @sync_to_async
    def set_up():
        site = LocationFactory(time_zone="Europe/Lisbon")
        ChargePointFactory(id="CP-1", location=site)
        tariff("Lisboa", location=site)

    await set_up()
    client = await feed(await token_for("operator"))
    await subscribe(client, "chargers")
    async with simulated_charger(csms.url, "CP-1") as charger:
        started = await charger.call(
            call.StartTransaction(
                connector_id=1, id_tag="TAG-1", meter_start=0, timestamp="2026-03-02T10:00:00Z"
            )
        )
        await charger.call(
            call.StopTransaction(
                meter_stop=7400,
                timestamp="2026-03-02T11:00:00Z",
                transaction_id=started.transaction_id,
            )
        )
    cdr = await eventually(lambda: Cdr.objects.filter(is_current=True).afirst())
    assert (cdr.charge_point_id, cdr.id_token_value, cdr.currency) == ("CP-1", "TAG-1", "EUR")
    assert (cdr.energy_wh, cdr.cost_energy, cdr.vat, cdr.total_incl_vat) == (
        Decimal("7400.000"),
        Decimal("2.22"),
        Decimal("0.51"),
        Decimal("2.73"),
    )
    assert cdr.time_zone == "Europe/Lisbon"
    assert cdr.reason == "session ended"
    created = await next_event(client, "cdr.created")
    assert created["data"] == {"cdr_id": cdr.pk, "currency": "EUR", "total_incl_vat": "2.73"}
    await client.disconnect()


@pytest.mark.django_db
def test_the_most_specific_tariff_prices_the_session():
    site = LocationFactory()
    charger = ChargePointFactory(id="CP-1", location=site)
    dc = ConnectorFactory(
        evse=EvseFactory(charge_point=charger, evse_id=2), power_type=PowerType.DC
    )
    assert dc.power_type == "DC"
    tariff("general", price="0.50")
    tariff("general DC", price="0.60", current=Current.DC)
    tariff("site", price="0.40", location=site)
    tariff("site DC", price="0.45", location=site, current=Current.DC)

    def priced(session) -> str:
        return cdr_create(transaction_id=session.pk, reason="test").tariff_version.tariff.name

    assert priced(ended_session(charger, evse_id=1)) == "site"  # AC or unknown
    assert priced(ended_session(charger, evse_id=2)) == "site DC"
    # An EVSE's own, older than the charger's own: first on its EVSE only.
    tariff("CP-1 EVSE 1", price="0.10", charge_point=charger, evse_id=1)
    tariff("CP-1's own", price="0.20", charge_point=charger)
    assert priced(ended_session(charger, evse_id=2)) == "CP-1's own"
    assert priced(ended_session(charger, evse_id=1)) == "CP-1 EVSE 1"
    elsewhere = ChargePointFactory(id="CP-2")
    assert priced(ended_session(elsewhere)) == "general"


@pytest.mark.django_db
def test_a_session_is_priced_with_the_version_in_force_when_it_started():
    charger = ChargePointFactory(id="CP-1")
    general = tariff("general", price="0.30")
    TariffVersion.objects.create(
        tariff=general,
        valid_from=T0 + timedelta(days=1),
        elements=[{"price_components": [{"type": "ENERGY", "price": "0.35"}]}],
    )
    before = cdr_create(transaction_id=ended_session(charger).pk, reason="test")
    after = cdr_create(
        transaction_id=ended_session(charger, started_at=T0 + timedelta(days=2)).pk, reason="test"
    )
    assert (before.cost_energy, after.cost_energy) == (Decimal("2.22"), Decimal("2.59"))


@pytest.mark.django_db
def test_meter_values_between_start_and_stop_split_the_energy_between_tariff_periods():
    site = LocationFactory(time_zone="UTC")
    charger = ChargePointFactory(id="CP-1", location=site)
    made = Tariff.objects.create(name="peak", currency="EUR", vat_percent=Decimal(0), location=site)
    TariffVersion.objects.create(
        tariff=made,
        valid_from=T0 - timedelta(days=1),
        elements=[
            {
                "price_components": [{"type": "ENERGY", "price": "0.50"}],
                "restrictions": {"start_time": "10:30"},
            },
            {"price_components": [{"type": "ENERGY", "price": "0.10"}]},
        ],
    )
    session = ended_session(charger, wh="10000")
    # 9 kWh in the first half hour, 1 kWh in the second.
    MeterValueFactory(
        transaction=session, timestamp=T0 + timedelta(minutes=30), value="9000", unit="Wh"
    )
    cdr = cdr_create(transaction_id=session.pk, reason="test")
    assert cdr.cost_energy == Decimal("1.40")  # 9 x 0.10 + 1 x 0.50


@pytest.mark.django_db
def test_without_a_tariff_the_cdr_records_the_session_at_no_cost(caplog):
    charger = ChargePointFactory(id="CP-1")
    with caplog.at_level(logging.WARNING):
        cdr = cdr_create(transaction_id=ended_session(charger).pk, reason="test")
    assert (cdr.tariff_version, cdr.currency, cdr.total_incl_vat, cdr.energy_wh) == (
        None,
        "",
        Decimal("0.00"),
        Decimal("7400.000"),
    )
    assert "no tariff applies" in caplog.text


@pytest.mark.django_db
def test_a_running_session_has_no_cdr_and_one_is_made_only_once():
    charger = ChargePointFactory(id="CP-1")
    tariff("general")
    running = TransactionFactory(charge_point=charger)
    assert cdr_create(transaction_id=running.pk, reason="test") is None
    session = ended_session(charger)
    first = cdr_create(transaction_id=session.pk, reason="test")
    assert cdr_create(transaction_id=session.pk, reason="again") == first
    assert Cdr.objects.count() == 1


@pytest.mark.django_db
def test_cdrs_lost_on_the_way_are_made_by_the_periodic_task():
    charger = ChargePointFactory(id="CP-1")
    tariff("general")
    session = ended_session(charger)
    ended_session(charger, started_at=T0 + timedelta(days=1))
    assert (
        cdrs_create_missing(ended_before=T0 + timedelta(hours=2)) == 1
    )  # the second is too recent
    assert Cdr.objects.get().transaction == session
    assert cdrs_create_missing(ended_before=T0 + timedelta(hours=2)) == 0


@pytest.mark.django_db
def test_a_recomputed_cdr_keeps_the_earlier_one(api):
    charger = ChargePointFactory(id="CP-1")
    general = tariff("general", price="0.30")
    session = ended_session(charger)
    first = cdr_create(transaction_id=session.pk, reason="session ended")
    # A correction: the same version's price was wrong. (A new price is a
    # new version; here the version is replaced before anything else used it.)
    TariffVersion.objects.filter(tariff=general).update(
        elements=[{"price_components": [{"type": "ENERGY", "price": "0.25"}]}]
    )
    response = api.post(f"/api/cdrs/{first.pk}/recompute/")
    assert response.status_code == 201
    assert (response.json()["total_incl_vat"], response.json()["reason"]) == ("2.28", "recomputed")
    listed = api.get(f"/api/cdrs/?transaction={session.pk}").json()["results"]
    assert sorted((cdr["is_current"], cdr["total_incl_vat"]) for cdr in listed) == [
        (False, "2.73"),
        (True, "2.28"),
    ]
    assert api.post(f"/api/cdrs/{first.pk}/recompute/").status_code == 409


@pytest.mark.django_db
def test_a_running_session_shows_its_cost_up_to_its_last_reading(api):
    charger = ChargePointFactory(id="CP-1")
    tariff("general", price="0.30")
    running = TransactionFactory(
        charge_point=charger,
        started_at=T0,
        meter_start_wh=Decimal(0),
        meter_last_wh=Decimal(4000),
        meter_last_at=T0 + timedelta(minutes=30),
    )
    MeterValueFactory(
        transaction=running, timestamp=T0 + timedelta(minutes=30), value="4000", unit="Wh"
    )
    body = api.get(f"/api/transactions/{running.pk}/cost/").json()
    assert (body["until"], body["energy_wh"], body["parking_seconds"]) == (
        "2026-03-02T10:30:00Z",
        "4000.000",
        "0.000",
    )
    assert (body["cost_energy"], body["total_incl_vat"], body["currency"]) == (
        "1.20",
        "1.48",
        "EUR",
    )
    # Ended, it costs what its CDR says.
    ended = ended_session(charger)
    cdr = cdr_create(transaction_id=ended.pk, reason="test")
    assert api.get(f"/api/transactions/{ended.pk}/cost/").json()["total_incl_vat"] == str(
        cdr.total_incl_vat
    )
    assert api.get("/api/transactions/999999/cost/").status_code == 404

"""eMSP (retail) tariffs: what the driver pays, on top of the CPO's cost or
instead of it (flat subscriptions), per driver or for all; in the CDR of a
real OCPP 2.0.1 session, in the cost so far, and debited from a prepaid
balance. The numbers are docs/billing.md's eMSP example."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from ocpp.v201 import call
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from billing.models import Cdr, Tariff, TariffKind, TariffVersion
from billing.pricing import FLAT, CurrencyMismatch, Price, retail_price
from billing.selectors import prepaid_balance, session_price
from billing.services import prepaid_entry_create
from billing.tests.test_cdrs import T0, ended_session, tariff
from chargepoints.tests.factories import ChargePointFactory
from csms.simulator import simulated_charger
from csms.tests.helpers import eventually
from idtokens.tests.factories import IdTokenFactory

MARKUP = [
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.05"},
            {"type": "FLAT", "price": "0.50"},
        ]
    }
]
FREE = [{"price_components": [{"type": "FLAT", "price": "0.00"}]}]


def emsp_tariff(name: str, elements: list, **fields) -> Tariff:
    made = Tariff.objects.create(
        name=name, kind=TariffKind.EMSP, currency="EUR", vat_percent=Decimal(23), **fields
    )
    TariffVersion.objects.create(tariff=made, valid_from=T0 - timedelta(days=1), elements=elements)
    return made


def price(currency: str, vat: str = "0", **costs: str) -> Price:
    """A priced session as price_session gives it (its own VAT included)."""
    cost = {dimension.upper(): Decimal(amount) for dimension, amount in costs.items()}
    total = sum(cost.values(), Decimal(0))
    return Price(
        currency=currency,
        cost=cost,
        total_excl_vat=total,
        vat=Decimal(vat),
        total_incl_vat=total + Decimal(vat),
    )


@pytest.mark.parametrize(
    ("includes", "expected_energy", "expected_flat", "expected_vat", "expected_total"),
    [
        # CPO 3.00 energy + eMSP 0.50 energy and 0.50 flat; 23 % VAT on 4.00.
        (True, "3.50", "0.50", "0.92", "4.92"),
        # A subscription: the eMSP's own price alone.
        (False, "0.50", "0.50", "0.23", "1.23"),
    ],
)
def test_the_retail_price_adds_the_cpos_cost_unless_it_is_left_out(
    includes, expected_energy, expected_flat, expected_vat, expected_total
):
    cpo = price("EUR", energy="3.00")
    emsp = price("EUR", vat="0.23", energy="0.50", flat="0.50")
    retail = retail_price(cpo=cpo, emsp=emsp, vat_percent=Decimal(23), includes_cpo_cost=includes)
    assert retail.cost["ENERGY"] == Decimal(expected_energy)
    assert retail.cost[FLAT] == Decimal(expected_flat)
    assert retail.vat == Decimal(expected_vat)
    assert retail.total_incl_vat == Decimal(expected_total)


def test_a_cpo_cost_in_another_currency_cannot_be_added():
    with pytest.raises(CurrencyMismatch):
        retail_price(
            cpo=price("GBP", energy="3.00"),
            emsp=price("EUR", energy="0.50"),
            vat_percent=Decimal(23),
            includes_cpo_cost=True,
        )
    # No CPO tariff at all (no cost, no currency) is nothing to add.
    free = retail_price(
        cpo=price("", energy="0"),
        emsp=price("EUR", energy="0.50"),
        vat_percent=Decimal(0),
        includes_cpo_cost=True,
    )
    assert (free.currency, free.total_incl_vat) == ("EUR", Decimal("0.50"))


def session_of(driver, *, wh: str = "10000"):
    session = ended_session(ChargePointFactory(id="CP-1"), wh=wh)
    session.id_token = IdTokenFactory(value=f"TAG-{driver.username}", owner=driver)
    session.save()
    return session


def test_the_docs_example_markup_on_top_of_the_cost(db):
    dana = UserFactory(username="dana", role=Role.DRIVER)
    tariff("Network")  # CPO: 0.30 EUR/kWh + 23 % VAT
    markup = emsp_tariff("Roaming markup", MARKUP)
    priced = session_price(session_of(dana), until=T0 + timedelta(hours=1))
    assert priced.price.total_incl_vat == Decimal("3.69")
    assert priced.retail_version.tariff == markup
    assert (priced.retail.cost["ENERGY"], priced.retail.cost[FLAT]) == (
        Decimal("3.50"),
        Decimal("0.50"),
    )
    assert (priced.retail.total_excl_vat, priced.retail.vat, priced.retail.total_incl_vat) == (
        Decimal("4.00"),
        Decimal("0.92"),
        Decimal("4.92"),
    )


def test_a_drivers_own_subscription_comes_before_the_tariff_for_all(db):
    dana, eve = (UserFactory(username=n, role=Role.DRIVER) for n in ("dana", "eve"))
    tariff("Network")
    # Made first: the newer tariff for all must still not win.
    emsp_tariff("Dana's unlimited", FREE, driver=dana, includes_cpo_cost=False)
    emsp_tariff("Roaming markup", MARKUP)
    for_dana = session_price(session_of(dana), until=T0 + timedelta(hours=1))
    assert for_dana.retail_version.tariff.name == "Dana's unlimited"
    assert for_dana.retail.total_incl_vat == Decimal("0.00")
    # The CPO's cost does not change with the driver's subscription.
    assert for_dana.price.total_incl_vat == Decimal("3.69")
    eve_session = ended_session(ChargePointFactory(id="CP-2"), wh="10000")
    eve_session.id_token = IdTokenFactory(value="TAG-eve", owner=eve)
    eve_session.save()
    for_eve = session_price(eve_session, until=T0 + timedelta(hours=1))
    assert for_eve.retail_version.tariff.name == "Roaming markup"


def test_without_an_emsp_tariff_there_is_no_retail_price_and_emsp_ones_never_price_the_cost(db):
    session = session_of(UserFactory(username="dana", role=Role.DRIVER))
    priced = session_price(session, until=T0 + timedelta(hours=1))
    assert (priced.retail_version, priced.retail) == (None, None)
    emsp_tariff("Roaming markup", MARKUP)
    priced = session_price(session, until=T0 + timedelta(hours=1))
    # No CPO tariff: the cost is nothing; the eMSP's price stands alone.
    assert (priced.version, priced.price.total_incl_vat) == (None, Decimal(0))
    assert priced.retail.total_incl_vat == Decimal("1.23")  # (0.50 + 0.50) + 23 %


@pytest.mark.django_db(transaction=True)
async def test_a_real_201_sessions_cdr_has_the_retail_price_and_debits_it(csms):
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)

    @sync_to_async
    def set_up():
        dana = UserFactory(username="dana", role=Role.DRIVER, prepaid_currency="EUR")
        prepaid_entry_create(user=dana, amount=Decimal(20), description="top-up", created_by=dana)
        IdTokenFactory(value="TAG-DANA", owner=dana)
        tariff("Network")
        emsp_tariff("Roaming markup", MARKUP)
        return dana

    dana = await set_up()

    def event(event_type: str, seq_no: int, minutes: int, wh: int, **fields):
        return call.TransactionEvent(
            event_type=event_type,
            timestamp=(start + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
            trigger_reason="ChargingStateChanged",
            seq_no=seq_no,
            transaction_info={"transaction_id": "TX-1"},
            meter_value=[
                {
                    "timestamp": (start + timedelta(minutes=minutes))
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "sampled_value": [{"value": wh, "context": "Transaction.Begin"}],
                }
            ],
            **fields,
        )

    async with simulated_charger(csms.url, "CP-201", subprotocols=("ocpp2.0.1",)) as charger:
        await charger.call(
            event(
                "Started",
                0,
                0,
                0,
                id_token={"id_token": "TAG-DANA", "type": "ISO14443"},
                evse={"id": 1, "connector_id": 1},
            )
        )
        await charger.call(event("Ended", 1, 60, 10000))
    cdr = await eventually(lambda: Cdr.objects.filter(is_current=True).afirst())
    assert (cdr.total_incl_vat, cdr.retail_total_incl_vat) == (Decimal("3.69"), Decimal("4.92"))
    assert cdr.retail_currency == "EUR"
    assert await sync_to_async(prepaid_balance)(dana) == Decimal("15.08")


# --- The API ------------------------------------------------------------------------------


@pytest.fixture
def billing_rules(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(username="rules", role=Role.BILLING_RULE_MANAGER))
    return client


def test_an_emsp_subscription_is_made_through_the_api(billing_rules):
    dana = UserFactory(username="dana", role=Role.DRIVER)
    response = billing_rules.post(
        "/api/tariffs/",
        {
            "name": "Unlimited",
            "kind": "emsp",
            "driver": dana.pk,
            "includes_cpo_cost": False,
            "currency": "EUR",
            "vat_percent": "23",
        },
    )
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["driver"]) == ("emsp", dana.pk)
    assert billing_rules.get("/api/tariffs/?kind=emsp").json()["count"] == 1
    assert billing_rules.get("/api/tariffs/?kind=cpo").json()["count"] == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"driver": "dana"}, "driver"), ({"includes_cpo_cost": False}, "includes_cpo_cost")],
)
def test_a_cpo_tariff_is_neither_per_driver_nor_a_subscription(billing_rules, fields, field):
    dana = UserFactory(username="dana", role=Role.DRIVER)
    body = {"name": "Wrong", "kind": "cpo", "currency": "EUR", "vat_percent": "23", **fields}
    if body.get("driver") == "dana":
        body["driver"] = dana.pk
    response = billing_rules.post("/api/tariffs/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Tariff.objects.exists()


def test_the_cost_so_far_shows_the_retail_price(db):
    dana = UserFactory(username="dana", role=Role.DRIVER)
    tariff("Network")
    emsp_tariff("Roaming markup", MARKUP)
    session = session_of(dana)
    client = APIClient()
    client.force_authenticate(dana)
    body = client.get(f"/api/transactions/{session.pk}/cost/").json()
    assert (body["total_incl_vat"], body["retail_total_incl_vat"]) == ("3.69", "4.92")
    assert body["retail_cost_flat"] == "0.50"
    assert body["emsp_tariff_version"] is not None

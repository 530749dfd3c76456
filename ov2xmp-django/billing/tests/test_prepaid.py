"""Prepaid balances: topped up through the API, debited by the CDRs of real
OCPP sessions, given back when a CDR is recomputed, and a driver without
credit refused at Authorize."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from billing.models import Cdr, PrepaidEntry, TariffVersion
from billing.selectors import prepaid_balance
from billing.services import cdr_create, prepaid_entry_create
from billing.tests.test_cdrs import ended_session, tariff
from chargepoints.tests.factories import ChargePointFactory
from csms.simulator import simulated_charger
from csms.tests.helpers import eventually
from idtokens.tests.factories import IdTokenFactory


def prepaid_driver(username: str = "dana", *, top_up: str | None = "50.00", currency="EUR"):
    driver = UserFactory(username=username, role=Role.DRIVER, prepaid_currency=currency)
    if top_up is not None:
        desk = UserFactory(username="desk", role=Role.EMSP_MANAGER)
        prepaid_entry_create(
            user=driver, amount=Decimal(top_up), description="top-up", created_by=desk
        )
    return driver


@pytest.mark.django_db(transaction=True)
async def test_a_real_sessions_cdr_is_debited_from_the_drivers_balance(csms):
    @sync_to_async
    def set_up():
        ChargePointFactory(id="CP-1")
        tariff("Everywhere")  # 0.30 EUR/kWh + 23 % VAT
        IdTokenFactory(value="TAG-DANA", owner=prepaid_driver())

    await set_up()
    async with simulated_charger(csms.url, "CP-1") as charger:
        started = await charger.call(
            call16.StartTransaction(
                connector_id=1, id_tag="TAG-DANA", meter_start=0, timestamp="2026-03-02T10:00:00Z"
            )
        )
        assert started.id_tag_info["status"] == "Accepted"
        await charger.call(
            call16.StopTransaction(
                meter_stop=10000,
                timestamp="2026-03-02T11:00:00Z",
                transaction_id=started.transaction_id,
            )
        )
    cdr = await eventually(
        lambda: Cdr.objects.select_related("driver").filter(is_current=True).afirst()
    )

    @sync_to_async
    def check():
        # 10 kWh x 0.30 = 3.00, VAT 0.69: 3.69 debited from 50.00.
        assert cdr.driver.username == "dana"
        assert cdr.total_incl_vat == Decimal("3.69")
        assert prepaid_balance(cdr.driver) == Decimal("46.31")
        debit = PrepaidEntry.objects.get(cdr=cdr)
        assert (debit.amount, debit.currency, debit.created_by) == (Decimal("-3.69"), "EUR", None)

    await check()


def test_recomputing_gives_the_debit_back_and_debits_the_new_total(db):
    driver = prepaid_driver()
    charger = ChargePointFactory(id="CP-1")
    made = tariff("Everywhere", price="0.30")
    session = ended_session(charger, wh="10000")
    session.id_token = IdTokenFactory(value="TAG-DANA", owner=driver)
    session.save()
    first = cdr_create(transaction_id=session.pk, reason="session ended")
    assert prepaid_balance(driver) == Decimal("46.31")

    TariffVersion.objects.filter(tariff=made).update(
        elements=[{"price_components": [{"type": "ENERGY", "price": "0.20"}]}]
    )
    second = cdr_create(transaction_id=session.pk, reason="recomputed", recompute=True)
    # 10 kWh x 0.20 = 2.00 + 0.46 VAT.
    assert second.total_incl_vat == Decimal("2.46")
    assert prepaid_balance(driver) == Decimal("47.54")
    amounts = sorted(PrepaidEntry.objects.filter(cdr__isnull=False).values_list("cdr", "amount"))
    assert amounts == [
        (first.pk, Decimal("-3.69")),
        (first.pk, Decimal("3.69")),
        (second.pk, Decimal("-2.46")),
    ]


def test_a_cdr_in_another_currency_is_not_debited_and_says_so(db, caplog):
    driver = prepaid_driver(currency="GBP", top_up="20.00")
    session = ended_session(ChargePointFactory(id="CP-1"))
    session.id_token = IdTokenFactory(value="TAG-DANA", owner=driver)
    session.save()
    tariff("Everywhere")  # EUR
    with caplog.at_level(logging.WARNING, logger="billing.services"):
        cdr = cdr_create(transaction_id=session.pk, reason="session ended")
    assert cdr.driver == driver
    assert prepaid_balance(driver) == Decimal("20.00")
    assert "not debited" in caplog.text


def test_a_driver_without_a_prepaid_balance_is_not_debited(db):
    driver = UserFactory(username="postpaid", role=Role.DRIVER)
    session = ended_session(ChargePointFactory(id="CP-1"))
    session.id_token = IdTokenFactory(value="TAG-P", owner=driver)
    session.save()
    tariff("Everywhere")
    cdr = cdr_create(transaction_id=session.pk, reason="session ended")
    assert cdr.driver == driver
    assert prepaid_balance(driver) is None
    assert not PrepaidEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_a_driver_without_credit_is_refused_until_topped_up(csms):
    @sync_to_async
    def set_up():
        driver = prepaid_driver(top_up=None)
        IdTokenFactory(value="TAG-DANA", owner=driver)
        return driver

    driver = await set_up()
    async with simulated_charger(csms.url, "CP-16") as charger:
        refused = await charger.call(call16.Authorize(id_tag="TAG-DANA"))
    async with simulated_charger(csms.url, "CP-201", subprotocols=("ocpp2.0.1",)) as charger:
        no_credit = await charger.call(
            call201.Authorize(id_token={"id_token": "TAG-DANA", "type": "ISO14443"})
        )
        await sync_to_async(prepaid_entry_create)(
            user=driver, amount=Decimal("5.00"), description="top-up", created_by=driver
        )
        accepted = await charger.call(
            call201.Authorize(id_token={"id_token": "TAG-DANA", "type": "ISO14443"})
        )
    assert refused.id_tag_info["status"] == "Blocked"  # 1.6 has no NoCredit
    assert no_credit.id_token_info["status"] == "NoCredit"
    assert accepted.id_token_info["status"] == "Accepted"


# --- The API ------------------------------------------------------------------------------


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_emsp_manager_tops_up_and_everyone_sees_the_balance(db):
    driver = prepaid_driver(top_up=None)
    desk = client_of(UserFactory(username="desk", role=Role.EMSP_MANAGER))
    response = desk.post(
        "/api/prepaid-entries/",
        {"user": driver.pk, "amount": "25.50", "description": "card payment 123"},
    )
    assert response.status_code == 201, response.content
    assert (response.json()["currency"], response.json()["created_by"]) == ("EUR", "desk")
    assert desk.get(f"/api/users/{driver.pk}/").json()["prepaid_balance"] == "25.50"
    assert client_of(driver).get("/api/me/").json()["prepaid_balance"] == "25.50"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"user": "no-prepaid"}, "user"),
    ],
)
def test_a_wrong_top_up_is_refused_with_the_reason(db, body, field):
    driver = prepaid_driver(top_up=None)
    other = UserFactory(username="no-prepaid", role=Role.DRIVER)
    body = {"user": driver.pk, "amount": "5", "description": "top-up", **body}
    if body["user"] == "no-prepaid":
        body["user"] = other.pk
    desk = client_of(UserFactory(username="desk", role=Role.EMSP_MANAGER))
    response = desk.post("/api/prepaid-entries/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert not PrepaidEntry.objects.exists()


def test_entries_are_never_changed_and_drivers_see_only_their_own(db):
    dana, eve = prepaid_driver("dana"), prepaid_driver("eve", top_up=None)
    prepaid_entry_create(user=eve, amount=Decimal("1"), description="welcome", created_by=eve)
    entry = PrepaidEntry.objects.get(user=dana)
    # Not even the platform manager changes one.
    desk = client_of(UserFactory(username="boss", role=Role.PLATFORM_MANAGER))
    assert desk.patch(f"/api/prepaid-entries/{entry.pk}/", {"amount": "99"}).status_code == 405
    assert desk.delete(f"/api/prepaid-entries/{entry.pk}/").status_code == 405
    mine = client_of(dana).get("/api/prepaid-entries/").json()["results"]
    assert [row["user"] for row in mine] == [dana.pk]
    assert (
        client_of(dana).get(f"/api/prepaid-entries/{eve.prepaid_entries.get().pk}/").status_code
        == 404
    )
    # A driver cannot top themselves up.
    response = client_of(dana).post(
        "/api/prepaid-entries/", {"user": dana.pk, "amount": "100", "description": "free money"}
    )
    assert response.status_code == 403
    assert prepaid_balance(dana) == Decimal("50.00")

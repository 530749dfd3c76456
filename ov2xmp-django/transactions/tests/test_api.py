"""REST API of transactions and meter values (read-only)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chargepoints.tests.factories import T0, ChargePointFactory
from core.testing import iso, listed
from idtokens.tests.factories import IdTokenFactory
from transactions.models import Transaction, TransactionEvent, TransactionStatus
from transactions.tests.factories import MeterValueFactory, TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions():
    cp1 = ChargePointFactory(id="CP-1")
    cp2 = ChargePointFactory(id="CP-2")
    return {
        "old": TransactionFactory(
            charge_point=cp1,
            status=TransactionStatus.ENDED,
            started_at=T0,
            stopped_at=T0 + timedelta(hours=1),
            meter_start_wh=Decimal("1000"),
            meter_last_wh=Decimal("4000"),
            meter_stop_wh=Decimal("5500.5"),
        ),
        "running": TransactionFactory(
            charge_point=cp1,
            started_at=T0 + timedelta(hours=2),
            meter_start_wh=Decimal("5500.5"),
            meter_last_wh=Decimal("7000"),
        ),
        "other": TransactionFactory(
            charge_point=cp2,
            started_at=T0 + timedelta(hours=3),
            meter_start_wh=None,
            meter_last_wh=None,
        ),
    }


# --- Transactions -----------------------------------------------------------------------------


def test_list_is_newest_first(api, sessions):
    assert listed(api.get("/api/transactions/")) == [
        sessions["other"].pk,
        sessions["running"].pk,
        sessions["old"].pk,
    ]


def test_detail(api, sessions):
    token = IdTokenFactory(value="TAG1")
    session = TransactionFactory(
        charge_point=sessions["old"].charge_point,
        ocpp_transaction_id="42",
        id_token=token,
        id_token_value="TAG1",
        started_at=T0,
    )
    response = api.get(f"/api/transactions/{session.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["charge_point"] == "CP-1"
    assert body["ocpp_transaction_id"] == "42"
    assert body["id_token"] == token.pk
    assert body["id_token_value"] == "TAG1"
    assert body["status"] == "Active"
    assert body["started_at"] == iso(T0)
    assert api.get("/api/transactions/999999/").status_code == 404


def test_energy_is_computed_from_the_stop_or_the_last_reading(api, sessions):
    def energy(name: str):
        return api.get(f"/api/transactions/{sessions[name].pk}/").json()["energy_wh"]

    # Ended: the stop reading wins over the last periodic one.
    assert Decimal(energy("old")) == Decimal("4500.5")
    # Running: the last reading so far.
    assert Decimal(energy("running")) == Decimal("1499.5")
    # Without a start reading nothing can be said.
    assert energy("other") is None


def test_transactions_are_read_only(api, sessions):
    session = sessions["running"]
    payload = {"charge_point": "CP-1", "evse_id": 1, "started_at": iso(T0)}
    assert api.post("/api/transactions/", payload).status_code == 405
    response = api.patch(f"/api/transactions/{session.pk}/", {"status": "Ended"})
    assert response.status_code == 405
    assert api.delete(f"/api/transactions/{session.pk}/").status_code == 405
    session.refresh_from_db()
    assert session.status == TransactionStatus.ACTIVE
    assert Transaction.objects.count() == 3


def test_filter_by_charge_point(api, sessions):
    assert listed(api.get("/api/transactions/?charge_point=CP-1")) == [
        sessions["running"].pk,
        sessions["old"].pk,
    ]
    assert listed(api.get("/api/transactions/?charge_point=CP-2")) == [sessions["other"].pk]


def test_filter_by_status(api, sessions):
    assert listed(api.get("/api/transactions/?status=Ended")) == [sessions["old"].pk]
    assert listed(api.get("/api/transactions/?status=Active")) == [
        sessions["other"].pk,
        sessions["running"].pk,
    ]
    response = api.get("/api/transactions/?status=Paused")
    assert response.status_code == 400
    assert "status" in response.json()


def test_filter_by_start_time(api, sessions):
    after = iso(T0 + timedelta(hours=2))
    assert listed(api.get(f"/api/transactions/?started_at_after={after}")) == [
        sessions["other"].pk,
        sessions["running"].pk,
    ]
    before = iso(T0 + timedelta(hours=1))
    assert listed(api.get(f"/api/transactions/?started_at_before={before}")) == [sessions["old"].pk]
    response = api.get("/api/transactions/?started_at_after=last-week")
    assert response.status_code == 400
    assert "started_at" in response.json()


def test_ordering_by_energy_register(api, sessions):
    response = api.get("/api/transactions/?charge_point=CP-1&ordering=meter_last_wh")
    assert listed(response) == [sessions["old"].pk, sessions["running"].pk]


# --- A session's meter values -----------------------------------------------------------------


def test_meter_values_of_a_session_oldest_first_and_only_its_own(api, sessions):
    session = sessions["running"]
    late = MeterValueFactory(transaction=session, timestamp=T0 + timedelta(hours=3))
    early = MeterValueFactory(transaction=session, timestamp=T0 + timedelta(hours=2))
    middle = MeterValueFactory(transaction=session, timestamp=T0 + timedelta(hours=2, minutes=30))
    MeterValueFactory(transaction=sessions["old"], timestamp=T0)
    MeterValueFactory(transaction=None, charge_point=session.charge_point, timestamp=T0)

    response = api.get(f"/api/transactions/{session.pk}/meter-values/")
    assert listed(response) == [early.pk, middle.pk, late.pk]
    row = response.json()["results"][0]
    assert row["transaction"] == session.pk
    assert row["charge_point"] == "CP-1"
    assert row["measurand"] == "Energy.Active.Import.Register"
    assert row["value"] == early.value


def test_meter_values_of_a_session_are_paginated(api, sessions):
    session = sessions["running"]
    values = [MeterValueFactory(transaction=session) for _ in range(5)]
    first = api.get(f"/api/transactions/{session.pk}/meter-values/?page_size=2").json()
    assert first["count"] == 5
    assert [row["id"] for row in first["results"]] == [values[0].pk, values[1].pk]
    assert "page=2" in first["next"]
    assert f"/api/transactions/{session.pk}/meter-values/" in first["next"]
    last = api.get(f"/api/transactions/{session.pk}/meter-values/?page_size=2&page=3").json()
    assert [row["id"] for row in last["results"]] == [values[4].pk]
    assert last["next"] is None


def test_meter_values_of_a_session_ignore_the_transaction_filters(api, sessions):
    # The list's filters (status=Active here) must not hide the session itself.
    session = sessions["old"]
    value = MeterValueFactory(transaction=session)
    response = api.get(f"/api/transactions/{session.pk}/meter-values/?status=Active")
    assert listed(response) == [value.pk]


def test_meter_values_of_an_unknown_session_is_404(api):
    assert api.get("/api/transactions/999999/meter-values/").status_code == 404


def test_meter_values_of_a_session_need_a_token(api, sessions):
    api.credentials()
    response = api.get(f"/api/transactions/{sessions['old'].pk}/meter-values/")
    assert response.status_code == 401


# --- Meter values -----------------------------------------------------------------------------


def test_meter_values_filter_by_transaction(api, sessions):
    mine = MeterValueFactory(transaction=sessions["running"])
    MeterValueFactory(transaction=sessions["old"])
    MeterValueFactory(transaction=None)
    assert listed(api.get(f"/api/meter-values/?transaction={sessions['running'].pk}")) == [mine.pk]
    response = api.get("/api/meter-values/?transaction=999999")
    assert response.status_code == 400
    assert "transaction" in response.json()


def test_meter_values_filter_by_measurand(api, sessions):
    session = sessions["running"]
    energy = MeterValueFactory(transaction=session)
    power = MeterValueFactory(
        transaction=session, measurand="Power.Active.Import", unit="W", value="7200"
    )
    assert listed(api.get("/api/meter-values/?measurand=Power.Active.Import")) == [power.pk]
    response = api.get("/api/meter-values/", {"measurand": "Energy.Active.Import.Register"})
    assert listed(response) == [energy.pk]


def test_meter_values_filter_by_charge_point_and_time(api, sessions):
    a = MeterValueFactory(transaction=sessions["running"], timestamp=T0)
    b = MeterValueFactory(transaction=sessions["other"], timestamp=T0 + timedelta(hours=5))
    assert listed(api.get("/api/meter-values/?charge_point=CP-2")) == [b.pk]
    after = iso(T0 + timedelta(hours=1))
    assert listed(api.get(f"/api/meter-values/?timestamp_after={after}")) == [b.pk]
    assert listed(api.get("/api/meter-values/?ordering=-timestamp")) == [b.pk, a.pk]


def test_meter_values_are_read_only(api, sessions):
    value = MeterValueFactory(transaction=sessions["running"])
    assert api.post("/api/meter-values/", {"value": "1"}).status_code == 405
    assert api.delete(f"/api/meter-values/{value.pk}/").status_code == 405


def test_meter_value_numbers_are_strings_with_full_precision(api, sessions):
    value = MeterValueFactory(transaction=sessions["running"], value="12.345678")
    row = api.get(f"/api/meter-values/{value.pk}/").json()
    assert row["value"] == "12.345678"
    assert row["numeric_value"] == "12.345678"


@pytest.mark.parametrize("path", ["/api/transactions/", "/api/meter-values/"])
def test_lists_need_a_constant_number_of_queries(api, path):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(path).status_code == 200
        return len(captured)

    MeterValueFactory(transaction=TransactionFactory(id_token=IdTokenFactory()))
    one = queries()
    for _ in range(5):
        MeterValueFactory(transaction=TransactionFactory(id_token=IdTokenFactory()))
    assert queries() == one


def test_a_sessions_events_are_listed_in_seq_no_order(api):
    session = TransactionFactory(ocpp_version="2.0.1")
    for seq_no, kind in [(2, "Ended"), (0, "Started"), (1, "Updated")]:
        TransactionEvent.objects.create(
            transaction=session,
            seq_no=seq_no,
            event_type=kind,
            trigger_reason="ChargingStateChanged",
            timestamp=T0 + timedelta(minutes=seq_no),
        )
    other = TransactionFactory()
    TransactionEvent.objects.create(
        transaction=other, seq_no=0, event_type="Started", trigger_reason="Authorized", timestamp=T0
    )
    response = api.get(f"/api/transactions/{session.pk}/events/")
    assert listed(response, "event_type") == ["Started", "Updated", "Ended"]
    assert api.get("/api/transactions/99999/events/").status_code == 404

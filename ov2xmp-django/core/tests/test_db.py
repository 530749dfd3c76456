from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from chargepoints.models import Connector
from chargepoints.tests.factories import T0, ChargePointFactory, ConnectorFactory
from commands.models import Command
from core.db import insert_rows, update_each
from transactions.models import ENERGY_REGISTER, MeterValue, Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_nothing_else_changes() -> None:
    first, second, untouched = TransactionFactory.create_batch(3)
    first.meter_last_wh, first.meter_last_at = Decimal("1234.567"), T0 + timedelta(minutes=1)
    second.meter_last_wh, second.meter_last_at = Decimal("99"), T0 + timedelta(minutes=2)
    first.stop_reason = "not saved: not among the fields"

    update_each(Transaction, [first, second], ["meter_last_wh", "meter_last_at"])

    stored = {t.pk: t for t in Transaction.objects.all()}
    assert (stored[first.pk].meter_last_wh, stored[first.pk].meter_last_at) == (
        Decimal("1234.567"),
        T0 + timedelta(minutes=1),
    )
    assert (stored[second.pk].meter_last_wh, stored[second.pk].meter_last_at) == (
        Decimal("99"),
        T0 + timedelta(minutes=2),
    )
    assert stored[first.pk].stop_reason == ""
    assert stored[untouched.pk].meter_last_wh == untouched.meter_last_wh
    assert stored[untouched.pk].meter_last_at == untouched.meter_last_at


def test_text_and_null_values_round_trip() -> None:
    connector = ConnectorFactory(status="Available", info="old")
    connector.status, connector.info, connector.status_at = "Faulted", "it's 'quoted'", None

    update_each(Connector, [connector], ["status", "info", "status_at"])

    connector.refresh_from_db()
    assert (connector.status, connector.info, connector.status_at) == (
        "Faulted",
        "it's 'quoted'",
        None,
    )


def test_nothing_to_update_runs_no_statement(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        update_each(Transaction, [], ["meter_last_wh"])


def test_inserted_rows_keep_their_values_and_get_their_defaults() -> None:
    session = TransactionFactory()
    charger = session.charge_point
    before = timezone.now()

    insert_rows(
        MeterValue,
        [
            {
                "charge_point_id": charger.id,
                "transaction_id": session.pk,
                "evse_id": 1,
                "connector_id": None,
                "timestamp": T0,
                "value": "it's 1234.5",
                "numeric_value": Decimal("1234.5"),
                "signed_meter_value": {"signedMeterData": "AbC=", "nested": [1, None]},
            },
            {"charge_point_id": charger.id, "evse_id": 2, "timestamp": T0, "value": "7"},
        ],
    )

    first, second = MeterValue.objects.order_by("evse_id")
    assert (first.transaction_id, first.connector_id, first.value) == (
        session.pk,
        None,
        "it's 1234.5",
    )
    assert first.numeric_value == Decimal("1234.5")
    assert first.signed_meter_value == {"signedMeterData": "AbC=", "nested": [1, None]}
    # Left out: the field's default, auto_now_add now, a nullable JSON field NULL.
    assert (second.measurand, second.phase, second.transaction_id) == (ENERGY_REGISTER, "", None)
    assert second.received_at >= before
    assert second.signed_meter_value is None
    assert first.pk != second.pk


def test_a_callable_default_is_called_for_each_row() -> None:
    charger = ChargePointFactory()
    row = {"charge_point_id": charger.id, "ocpp_version": "1.6", "action": "Reset", "request": {}}

    insert_rows(Command, [row, dict(row)])

    ids = list(Command.objects.values_list("id", flat=True))
    assert len(ids) == 2
    assert len(set(ids)) == 2  # each row its own uuid


def test_inserting_nothing_runs_no_statement(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        insert_rows(MeterValue, [])

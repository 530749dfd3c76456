from datetime import timedelta
from decimal import Decimal

import pytest

from chargepoints.models import Connector
from chargepoints.tests.factories import T0, ConnectorFactory
from core.db import update_each
from transactions.models import Transaction
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

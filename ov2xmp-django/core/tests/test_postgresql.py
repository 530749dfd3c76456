"""The PostgreSQL backend (core.postgresql): integers that do not fit their
column are refused, never wrapped around."""

from __future__ import annotations

import pytest
from django.db import DataError, connection, transaction

from chargepoints.models import ChargePoint, StatusNotification
from chargepoints.tests.factories import ChargePointFactory, StatusNotificationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's integer types"),
]

TOO_LARGE_FOR_INTEGER = [2**31, 2**32 + 1, 2**40, -(2**31) - 1, 2**63, 2**64 + 1]


@pytest.mark.parametrize("value", TOO_LARGE_FOR_INTEGER)
def test_an_integer_its_column_cannot_hold_is_refused(value):
    status = StatusNotificationFactory(evse_id=1)
    with pytest.raises(DataError, match="out of range"), transaction.atomic():
        StatusNotification.objects.filter(pk=status.pk).update(evse_id=value)
    with pytest.raises(DataError, match="out of range"), transaction.atomic():
        StatusNotificationFactory(charge_point=status.charge_point, evse_id=value)
    status.refresh_from_db()
    assert status.evse_id == 1
    assert StatusNotification.objects.count() == 1


def test_a_small_integer_column_too():
    charge_point = ChargePointFactory(security_profile=1)
    with pytest.raises(DataError, match="out of range"), transaction.atomic():
        ChargePoint.objects.filter(pk=charge_point.pk).update(security_profile=2**16 + 1)
    charge_point.refresh_from_db()
    assert charge_point.security_profile == 1


def test_integers_that_fit_are_stored_as_they_are():
    status = StatusNotificationFactory(evse_id=2**31 - 1, connector_id=0)
    status.refresh_from_db()
    assert (status.evse_id, status.connector_id) == (2**31 - 1, 0)

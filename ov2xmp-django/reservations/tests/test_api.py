"""REST API of reservations (read-only until ReserveNow comes with the
commands)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargepoints.tests.factories import T0, ChargePointFactory
from core.testing import iso, listed
from reservations.models import Reservation

pytestmark = pytest.mark.django_db


def test_reservations_filter_by_charger_status_and_expiry(api):
    cp1, cp2 = ChargePointFactory(id="CP-1"), ChargePointFactory(id="CP-2")
    soon = Reservation.objects.create(
        charge_point=cp1,
        reservation_id=1,
        status="Accepted",
        status_at=T0,
        expires_at=T0 + timedelta(minutes=15),
    )
    later = Reservation.objects.create(
        charge_point=cp2,
        reservation_id=1,
        status="Expired",
        status_at=T0,
        expires_at=T0 + timedelta(hours=2),
    )
    assert listed(api.get("/api/reservations/?charge_point=CP-2")) == [later.pk]
    assert listed(api.get("/api/reservations/?status=Accepted")) == [soon.pk]
    before = iso(T0 + timedelta(hours=1))
    assert listed(api.get(f"/api/reservations/?expires_at_before={before}")) == [soon.pk]
    assert api.get("/api/reservations/?status=Whenever").status_code == 400

"""Writes on reservations. Version-neutral: OCPP 2.0.1 reports how a
reservation ended (ReservationStatusUpdate); a transaction of either version
that names a reservation uses it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from reservations.models import Reservation, ReservationStatus

if TYPE_CHECKING:
    from transactions.models import Transaction

logger = logging.getLogger(__name__)


def reservation_record_status_update(
    *, charge_point_id: str, reservation_id: int, status: str, at: datetime
) -> Reservation:
    """A charger says a reservation ended (Expired or Removed). One the
    platform does not know (made before a database restore, or by another
    CSMS) is kept all the same, so that the charger's word is not lost."""
    reservation, created = Reservation.objects.update_or_create(
        charge_point_id=charge_point_id,
        reservation_id=reservation_id,
        defaults={"status": status, "status_at": at},
    )
    if created:
        logger.warning(
            "%s: status %s of unknown reservation %s kept", charge_point_id, status, reservation_id
        )
    return reservation


def reservation_record_use(
    *, charge_point_id: str, reservation_id: int, transaction: Transaction, at: datetime
) -> None:
    """A transaction started on a reservation: it is used up. Unknown
    reservations are left alone (the transaction keeps the id)."""
    used = Reservation.objects.filter(
        charge_point_id=charge_point_id, reservation_id=reservation_id
    ).update(status=ReservationStatus.USED, status_at=at, transaction=transaction, updated_at=at)
    if not used:
        logger.warning(
            "%s: transaction %s names unknown reservation %s",
            charge_point_id,
            transaction.pk,
            reservation_id,
        )

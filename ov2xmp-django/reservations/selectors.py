"""Reads on reservations: which ones hold an EVSE now."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Prefetch, Q, QuerySet

from reservations.models import ACTIVE_STATUSES, Reservation

# The attribute a charger's active reservations are prefetched to.
ACTIVE_ATTRIBUTE = "active_reservations"


def reservations_active(*, at: datetime) -> QuerySet[Reservation]:
    """Accepted by the charger and not past their expiry; by EVSE, those for
    any EVSE last."""
    return (
        Reservation.objects.filter(status__in=ACTIVE_STATUSES)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        .order_by(F("evse_id").asc(nulls_last=True), "expires_at", "pk")
    )


def reservations_active_prefetch(*, at: datetime, through: str = "reservations") -> Prefetch:
    """Prefetch a charger's active reservations (``through``: the path from
    the queryset's model to the charger's reservations)."""
    return Prefetch(
        through,
        queryset=reservations_active(at=at),
        to_attr=ACTIVE_ATTRIBUTE,
    )

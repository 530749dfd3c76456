"""Reads on transactions."""

from __future__ import annotations

from transactions.models import Transaction, TransactionStatus


def transaction_active_on_evse(*, charge_point_id: str, evse_id: int) -> Transaction | None:
    """The session running on an EVSE (the newest, should a charger have
    failed to end an older one)."""
    return (
        Transaction.objects.filter(
            charge_point_id=charge_point_id, evse_id=evse_id, status=TransactionStatus.ACTIVE
        )
        .order_by("-started_at", "-id")
        .first()
    )

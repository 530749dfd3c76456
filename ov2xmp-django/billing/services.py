"""Billing writes: the CDR of a finished session, made once, recomputed on
demand with the earlier one kept."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction as db_transaction

from billing.models import Cdr, PrepaidEntry
from billing.pricing import ENERGY, FLAT, PARKING_TIME, TIME
from billing.selectors import retail_fields, session_price
from core.time import utc_now
from transactions.models import Transaction, TransactionStatus
from updates.events import transaction_event
from updates.services import events_publish

logger = logging.getLogger(__name__)


@db_transaction.atomic
def cdr_create(*, transaction_id: int, reason: str, recompute: bool = False) -> Cdr | None:
    """The session's CDR: made now if it has none (or ``recompute``), else
    the current one. None while the session is running."""
    session = (
        Transaction.objects.select_for_update(of=("self",))
        .select_related("charge_point__location", "id_token__owner")
        .get(pk=transaction_id)
    )
    if session.status != TransactionStatus.ENDED or session.stopped_at is None:
        return None
    current = Cdr.objects.filter(transaction=session, is_current=True).first()
    if current is not None and not recompute:
        return current
    priced = session_price(session, until=session.stopped_at)
    version, price = priced.version, priced.price
    if current is not None:
        current.is_current = False
        current.save(update_fields=["is_current"])
        _prepaid_reverse(cdr=current)
    cdr = Cdr.objects.create(
        transaction=session,
        tariff_version=version,
        charge_point_id=session.charge_point_id,
        id_token_value=session.id_token_value,
        driver=session.id_token.owner if session.id_token else None,
        started_at=session.started_at,
        stopped_at=session.stopped_at,
        time_zone=priced.time_zone,
        currency=price.currency,
        energy_wh=price.energy_wh.quantize(Decimal("0.001")),
        charging_seconds=price.charging_seconds.quantize(Decimal("0.001")),
        parking_seconds=price.parking_seconds.quantize(Decimal("0.001")),
        cost_energy=price.cost[ENERGY],
        cost_flat=price.cost[FLAT],
        cost_time=price.cost[TIME],
        cost_parking_time=price.cost[PARKING_TIME],
        total_excl_vat=price.total_excl_vat,
        vat=price.vat,
        total_incl_vat=price.total_incl_vat,
        **retail_fields(priced),
        reason=reason,
    )
    _prepaid_debit(cdr=cdr)
    events_publish(
        events=[
            transaction_event(
                "cdr.created",
                charge_point_id=session.charge_point_id,
                transaction_id=session.pk,
                at=utc_now(),
                cdr_id=cdr.pk,
                currency=cdr.currency,
                total_incl_vat=str(cdr.total_incl_vat),
            )
        ]
    )
    if version is None:
        logger.warning("%s: no tariff applies to session %s", session.charge_point_id, session.pk)
    logger.info(
        "%s: CDR %s of session %s: %s %s",
        session.charge_point_id,
        cdr.pk,
        session.pk,
        cdr.total_incl_vat,
        cdr.currency or "(no tariff)",
    )
    return cdr


def _prepaid_debit(*, cdr: Cdr) -> None:
    """Debit what the driver pays (the retail price, else the cost)."""
    driver = cdr.driver
    amount, currency = cdr.driver_price
    if driver is None or not driver.prepaid_currency or amount == 0:
        return
    if currency != driver.prepaid_currency:
        logger.warning(
            "CDR %s is in %s, %s's prepaid balance in %s: not debited",
            cdr.pk,
            currency or "(no currency)",
            driver.username,
            driver.prepaid_currency,
        )
        return
    PrepaidEntry.objects.create(
        user=driver,
        amount=-amount,
        currency=currency,
        cdr=cdr,
        description=f"Session {cdr.transaction_id} (CDR {cdr.pk})",
    )


def _prepaid_reverse(*, cdr: Cdr) -> None:
    """Give back what a CDR took from a prepaid balance (it is being recomputed)."""
    for entry in cdr.prepaid_entries.all():
        PrepaidEntry.objects.create(
            user_id=entry.user_id,
            amount=-entry.amount,
            currency=entry.currency,
            cdr=cdr,
            description=f"CDR {cdr.pk} recomputed: its debit given back",
        )


@db_transaction.atomic
def prepaid_entry_create(
    *, user: Any, amount: Decimal, description: str, created_by: Any
) -> PrepaidEntry:
    """A top-up (positive) or correction of a driver's prepaid balance."""
    if not user.prepaid_currency:
        raise ValueError(f"{user.username} has no prepaid balance (no prepaid_currency).")
    if amount == 0:
        raise ValueError("An entry of 0 changes nothing.")
    entry = PrepaidEntry.objects.create(
        user=user,
        amount=amount,
        currency=user.prepaid_currency,
        description=description,
        created_by=created_by,
    )
    logger.info(
        "%s: prepaid %+.2f %s by %s (%s)",
        user.username,
        amount,
        entry.currency,
        created_by.username,
        description,
    )
    return entry


def cdrs_create_missing(*, ended_before: datetime, limit: int = 500) -> int:
    """CDRs for ended sessions that have none (a task lost to a stopped
    worker or process); how many were made."""
    missing = (
        Transaction.objects.filter(status=TransactionStatus.ENDED, stopped_at__lt=ended_before)
        .exclude(cdrs__is_current=True)
        .values_list("pk", flat=True)[:limit]
    )
    made = 0
    for transaction_id in list(missing):
        if cdr_create(transaction_id=transaction_id, reason="made late") is not None:
            made += 1
    return made

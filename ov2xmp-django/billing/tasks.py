"""Billing's background work: the CDR of a session that ended."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from billing.services import cdr_create, cdrs_create_missing
from core.background import run_in_background
from core.time import utc_now


@shared_task
def cdr_create_for_session(transaction_id: int) -> None:
    cdr_create(transaction_id=transaction_id, reason="session ended")


@shared_task
def cdrs_make_missing() -> int:
    """Periodic: CDRs of sessions that ended over a minute ago without one."""
    return cdrs_create_missing(ended_before=utc_now() - timedelta(minutes=1))


def session_ended(transaction_id: int) -> None:
    """Called once the end of a session is committed."""
    run_in_background(
        "billing",
        cdr_create_for_session,
        transaction_id,
        failure=f"the CDR of session {transaction_id} could not be made",
    )

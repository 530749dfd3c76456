"""Billing's background work: the CDR of a session that ended."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections

from billing.services import cdr_create, cdrs_create_missing
from core.time import utc_now

logger = logging.getLogger(__name__)

# Without a broker (the embedded mode) tasks would run where they are asked
# for: in the csms, before the charger is answered. This thread runs them
# after instead.
_embedded = ThreadPoolExecutor(max_workers=1, thread_name_prefix="billing")


@shared_task
def cdr_create_for_session(transaction_id: int) -> None:
    cdr_create(transaction_id=transaction_id, reason="session ended")


@shared_task
def cdrs_make_missing() -> int:
    """Periodic: CDRs of sessions that ended over a minute ago without one."""
    return cdrs_create_missing(ended_before=utc_now() - timedelta(minutes=1))


def _run_embedded(transaction_id: int) -> None:
    close_old_connections()
    try:
        cdr_create_for_session(transaction_id)
    except Exception:
        logger.exception("the CDR of session %s could not be made", transaction_id)
    finally:
        close_old_connections()


def session_ended(transaction_id: int) -> None:
    """Called once the end of a session is committed."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _embedded.submit(_run_embedded, transaction_id)
    else:
        cdr_create_for_session.delay(transaction_id)


def embedded_work_done(timeout: float = 30) -> None:
    """Wait for the CDRs asked for so far (tests, and a stopping process)."""
    _embedded.submit(lambda: None).result(timeout=timeout)

"""Password reset mails, sent apart from the request that asked for them.

The request does the same work whatever the address (it hands the address
on and answers), so neither its answer nor its duration tells whether an
account has that address. With a broker the mail is a Celery task; without
one (the embedded mode, where tasks would run eagerly inside the request)
it is sent from a thread of this process.
"""

from __future__ import annotations

import logging
import smtplib
from concurrent.futures import ThreadPoolExecutor

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections

from accounts.services import password_reset_mails_send

logger = logging.getLogger(__name__)

_embedded = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-reset")


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    max_retries=3,
)
def password_reset_mail(email: str) -> int:
    return password_reset_mails_send(email=email)


def _run_embedded(email: str) -> None:
    close_old_connections()
    try:
        password_reset_mail(email)
    except Exception:
        # The exception names the mail server's problem, never the link.
        logger.exception("a password reset mail could not be sent")
    finally:
        close_old_connections()


def password_reset_requested(email: str) -> None:
    """Called by the API and the dashboard for every well-formed request."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _embedded.submit(_run_embedded, email)
    else:
        password_reset_mail.delay(email)


def embedded_work_done(timeout: float = 30) -> None:
    """Wait for the mails asked for so far (tests, and a stopping process)."""
    _embedded.submit(lambda: None).result(timeout=timeout)

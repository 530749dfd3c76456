"""Password reset mails, sent apart from the request that asked for them.

The request does the same work whatever the address (it hands the address
on and answers), so neither its answer nor its duration tells whether an
account has that address. With a broker the mail is a Celery task; without
one (the embedded mode, where tasks would run eagerly inside the request)
it is sent from a thread of this process.
"""

from __future__ import annotations

import smtplib

from celery import shared_task

from accounts.services import password_reset_mails_send
from core.background import run_in_background


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    max_retries=3,
)
def password_reset_mail(email: str) -> int:
    return password_reset_mails_send(email=email)


def password_reset_requested(email: str) -> None:
    """Called by the API and the dashboard for every well-formed request."""
    # The failure names the mail server's problem, never the link.
    run_in_background(
        "password-reset",
        password_reset_mail,
        email,
        failure="a password reset mail could not be sent",
    )

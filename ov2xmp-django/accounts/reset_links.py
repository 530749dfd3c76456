"""Password reset links: ``<PUBLIC_URL>/password-reset/<uidb64>/<token>/``.

The token is Django's ``default_token_generator``: an HMAC (with
``SECRET_KEY``) of the user's id, password hash, last login, e-mail address and
the time it was made. It expires after ``PASSWORD_RESET_TIMEOUT`` seconds, and
it stops working once any of those fields changes: setting the new password
uses it up, and so does logging in. Nothing is stored.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import User

INVALID_LINK = (
    "This password reset link is invalid, has expired or has been used already. Ask for a new one."
)


def link_for(user: User) -> str:
    """A fresh link that sets ``user``'s password."""
    path = reverse(
        "accounts:password-reset-confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.PUBLIC_URL + path


def user_id(uidb64: str) -> int | None:
    """The user id of a link, or None for anything that is not one."""
    try:
        decoded = urlsafe_base64_decode(uidb64).decode()
        number = int(decoded)
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError, ValidationError):
        return None
    # Positive and within a 64-bit key: anything else matches no user.
    return number if 0 < number < 2**63 else None


def token_valid(user: User, token: str) -> bool:
    return default_token_generator.check_token(user, token)


def validity_text(seconds: int | None = None) -> str:
    """How long a link works, in words: "1 hour", "2 days 3 hours", "90 seconds"."""
    remaining = settings.PASSWORD_RESET_TIMEOUT if seconds is None else seconds
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    if remaining or not parts:
        parts.append(f"{remaining} second{'' if remaining == 1 else 's'}")
    return " ".join(parts)

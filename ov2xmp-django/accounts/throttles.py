"""Limits on the public password reset endpoints, so that they cannot be used
to flood someone's mailbox or to guess tokens.

Rates are in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``; counts are kept in
the cache (Redis when configured, so shared by every web process). The
dashboard's form uses the same classes as the API, so one budget covers both.
A client address is ``REMOTE_ADDR`` (``NUM_PROXIES`` is 0): behind a trusted
proxy, daphne has already put the client's own address there.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any, cast

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


def submitted_email(request: HttpRequest | Request) -> str | None:
    """The address a request asks a mail for, normalized, or None."""
    data: Any = request.data if isinstance(request, Request) else request.POST
    try:
        email = data.get("email")
    except AttributeError:  # a JSON body that is not an object
        return None
    if not isinstance(email, str) or not email.strip():
        return None
    return unicodedata.normalize("NFKC", email.strip()).casefold()


class PasswordResetAddressThrottle(SimpleRateThrottle):
    """Mails asked for one address, from anywhere: the mailbox's protection.
    It counts requests for unknown addresses alike, so its answer reveals
    nothing either."""

    scope = "password_reset_address"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        email = submitted_email(request)
        if email is None:
            return None
        # Hashed: no address in cache keys.
        ident = hashlib.sha256(email.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PasswordResetClientThrottle(SimpleRateThrottle):
    """Mail requests from one client address, whatever address they name."""

    scope = "password_reset_client"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PasswordResetConfirmThrottle(PasswordResetClientThrottle):
    """Attempts to set a password from one client address."""

    scope = "password_reset_confirm"


REQUEST_THROTTLES = (PasswordResetClientThrottle, PasswordResetAddressThrottle)


def password_reset_request_allowed(request: HttpRequest) -> bool:
    """The API's throttles, for the dashboard's form. Every one counts the
    request, as in DRF. (They read only the request's META and POST.)"""
    allowed = [
        throttle().allow_request(cast(Any, request), cast(Any, None))
        for throttle in REQUEST_THROTTLES
    ]
    return all(allowed)

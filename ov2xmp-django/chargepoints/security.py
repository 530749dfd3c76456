"""Chargers' credentials: the HTTP Basic password of security profiles 1 and
2, and the certificate identity of profile 3 (ADR 0017).

Passwords are random strings of 16 to 40 characters, which OCPP asks for
(1.6 AuthorizationKey, 2.0.1 BasicAuthPassword). Each is stored as a salted
SHA-256, not with a slow password hash: a guess at 16 random characters
fails either way, and a fleet that reconnects after an outage must not wait
on the CPU for hundreds of slow hashes.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from chargepoints.models import ChargePoint, SecurityProfile

PASSWORD_MIN_LENGTH = 16
PASSWORD_MAX_LENGTH = 40
_SCHEME = "sha256"


class InvalidPassword(ValueError):
    pass


def password_check_text(password: str) -> None:
    """Raise InvalidPassword unless OCPP chargers can hold ``password``:
    16 to 40 printable ASCII characters, no spaces."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise InvalidPassword(
            f"use {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters "
            f"(this one has {len(password)})"
        )
    if not all("!" <= character <= "~" for character in password):
        raise InvalidPassword("use printable ASCII characters without spaces")


def password_generate() -> str:
    """40 hexadecimal characters (20 random bytes): what OCPP 1.6 recommends
    for the AuthorizationKey, and a valid 2.0.1 BasicAuthPassword."""
    return secrets.token_hex(20)


def password_hash(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}{password}".encode()).hexdigest()
    return f"{_SCHEME}${salt}${digest}"


def password_matches(password: str, stored: str) -> bool:
    scheme, _, rest = stored.partition("$")
    salt, _, digest = rest.partition("$")
    if scheme != _SCHEME or not salt or not digest:
        return False
    candidate = hashlib.sha256(f"{salt}{password}".encode()).hexdigest()
    return hmac.compare_digest(candidate, digest)


@dataclass(frozen=True)
class Credentials:
    """What the csms checks when a known charger connects."""

    security_profile: int
    password_hash: str
    certificate_identity: str


async def credentials_of(charge_point_id: str) -> Credentials | None:
    """None for a charger the platform does not know."""
    row = (
        await ChargePoint.objects.filter(id=charge_point_id)
        .values_list("security_profile", "password_hash", "certificate_identity")
        .afirst()
    )
    return Credentials(*row) if row is not None else None


@transaction.atomic
def chargepoint_set_password(*, charge_point_id: str, password: str, at: datetime) -> None:
    """Store a new Basic password for the charger. Not checked here: the API
    checks what operators give, and a charger that accepted one holds it."""
    updated = ChargePoint.objects.filter(id=charge_point_id).update(
        password_hash=password_hash(password), password_changed_at=at
    )
    if not updated:
        raise ChargePoint.DoesNotExist(charge_point_id)


def needs_password(security_profile: int) -> bool:
    return security_profile in (SecurityProfile.BASIC_AUTH, SecurityProfile.TLS_BASIC_AUTH)


# --- the password on its way to the charger ------------------------------------------

REDACTED = "<redacted>"
# OCPP 1.6 (security whitepaper) configuration key and 2.0.1 variable of the password.
PASSWORD_KEY_16 = "AuthorizationKey"
PASSWORD_COMPONENT_201, PASSWORD_VARIABLE_201 = "SecurityCtrlr", "BasicAuthPassword"


def is_password_variable(item: Any) -> bool:
    """Whether a SetVariables data or result item names the 2.0.1 password."""
    return (
        isinstance(item, dict)
        and isinstance(item.get("component"), dict)
        and isinstance(item.get("variable"), dict)
        and item["component"].get("name") == PASSWORD_COMPONENT_201
        and item["variable"].get("name") == PASSWORD_VARIABLE_201
    )


def password_sent(action: str, request: Any) -> str | None:
    """The Basic password a ChangeConfiguration (1.6) or SetVariables (2.0.1)
    request sets, if it sets one."""
    if not isinstance(request, dict):
        return None
    if action == "ChangeConfiguration" and request.get("key") == PASSWORD_KEY_16:
        value = request.get("value")
        return value if isinstance(value, str) else None
    if action == "SetVariables":
        for item in request.get("setVariableData") or []:
            if is_password_variable(item) and isinstance(item.get("attributeValue"), str):
                return str(item["attributeValue"])
    return None


def request_redacted(action: str, request: Any) -> Any:
    """``request`` with the password it sets replaced by REDACTED (for the
    message log and the command's record); other requests unchanged."""
    if password_sent(action, request) is None:
        return request
    redacted = copy.deepcopy(request)
    if action == "ChangeConfiguration":
        redacted["value"] = REDACTED
    else:
        for item in redacted["setVariableData"]:
            if is_password_variable(item):
                item["attributeValue"] = REDACTED
    return redacted

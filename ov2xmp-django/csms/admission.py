"""Who may open an OCPP connection, decided before the websocket upgrade:
the unknown-charger policy and the charger's security profile (ADR 0017).

* Profile 0: the charger id alone.
* Profile 1: HTTP Basic authentication, the charger id as the username.
* Profile 2: the same, over TLS only.
* Profile 3: TLS with a client certificate, verified against the configured
  CA, whose common name is the charger's (``certificate_identity``, or the
  charger id).

TLS ends either here (``OV2XMP_OCPP_TLS_*``) or at a proxy (Caddy). A proxy's
word on TLS and on the client certificate (``X-Forwarded-Proto``,
``X-Client-Certificate-Subject``) counts only when the connection comes from
one of ``OV2XMP_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.conf import settings
from websockets.datastructures import Headers

from chargepoints.models import SecurityProfile
from chargepoints.security import Credentials, credentials_of, password_matches

CERTIFICATE_SUBJECT_HEADER = "X-Client-Certificate-Subject"
BASIC_CHALLENGE = ("WWW-Authenticate", 'Basic realm="OCPP", charset="UTF-8"')


@dataclass(frozen=True)
class Refusal:
    status: HTTPStatus
    reason: str
    challenge: bool = False  # 401: ask for Basic credentials


@dataclass(frozen=True)
class Transport:
    """What protects the connection, as far as the csms can tell."""

    peer: str
    tls: bool
    certificate_common_name: str | None
    forwarded_for: str | None  # the first X-Forwarded-For hop, from a trusted proxy


def peer_is_trusted_proxy(peer: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in settings.OV2XMP.trusted_proxies)


def transport_of(connection: Any, headers: Headers) -> Transport:
    """``connection`` is the websockets ServerConnection being admitted."""
    remote = connection.remote_address
    peer = str(remote[0]) if remote else ""
    ssl_object = connection.transport.get_extra_info("ssl_object")
    if ssl_object is not None:
        # Verified during the TLS handshake (csms/tls.py); empty without one.
        return Transport(peer, True, _common_name(ssl_object.getpeercert() or {}), None)
    if peer_is_trusted_proxy(peer):
        forwarded = headers.get("X-Forwarded-For")
        subject = headers.get(CERTIFICATE_SUBJECT_HEADER) or ""
        return Transport(
            peer,
            headers.get("X-Forwarded-Proto", "").strip().lower() == "https",
            subject_common_name(subject),
            forwarded.split(",")[0].strip() if forwarded else None,
        )
    return Transport(peer, False, None, None)


def _common_name(certificate: dict[str, Any]) -> str | None:
    for relative_name in certificate.get("subject", ()):
        for key, value in relative_name:
            if key == "commonName":
                return str(value)
    return None


def subject_common_name(subject: str) -> str | None:
    """The CN of a distinguished name as Caddy writes it (RFC 2253/4514:
    ``CN=CP-1,O=Acme\\, Inc.``), or None."""
    attributes: list[str] = []
    current: list[str] = []
    escaped = False
    for character in subject:
        if escaped:
            current.append(character)
            escaped = False
        elif character == "\\":
            escaped = True
        elif character in ",+":
            attributes.append("".join(current))
            current = []
        else:
            current.append(character)
    attributes.append("".join(current))
    for attribute in attributes:
        key, separator, value = attribute.partition("=")
        if separator and key.strip().upper() in ("CN", "2.5.4.3"):
            return value.strip()
    return None


def basic_password(headers: Headers, username: str) -> str | None:
    """The password of an ``Authorization: Basic`` header for ``username``
    (a charger id may hold a colon, so the header is matched, not split)."""
    scheme, _, token = headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    prefix = f"{username}:"
    return decoded[len(prefix) :] if decoded.startswith(prefix) else None


def profile_refusal(
    charge_point_id: str, credentials: Credentials, headers: Headers, transport: Transport
) -> Refusal | None:
    """Why this known charger may not connect so, or None."""
    profile = credentials.security_profile
    minimum = settings.OV2XMP.minimum_security_profile
    if profile < minimum:
        return Refusal(
            HTTPStatus.FORBIDDEN,
            f"security profile {profile} is below the platform's minimum ({minimum})",
        )
    if profile >= SecurityProfile.TLS_BASIC_AUTH and not transport.tls:
        return Refusal(HTTPStatus.FORBIDDEN, f"security profile {profile} needs TLS (wss://)")
    if profile == SecurityProfile.TLS_CLIENT_CERTIFICATE:
        expected = credentials.certificate_identity or charge_point_id
        if transport.certificate_common_name is None:
            return Refusal(HTTPStatus.FORBIDDEN, "security profile 3 needs a client certificate")
        if transport.certificate_common_name != expected:
            return Refusal(
                HTTPStatus.FORBIDDEN,
                f"the client certificate is for {transport.certificate_common_name!r}, "
                "not this charger",
            )
        return None
    if profile in (SecurityProfile.BASIC_AUTH, SecurityProfile.TLS_BASIC_AUTH):
        if not headers.get("Authorization"):
            return Refusal(HTTPStatus.UNAUTHORIZED, "HTTP Basic authentication needed", True)
        if not credentials.password_hash:
            return Refusal(HTTPStatus.UNAUTHORIZED, "no password is set for this charger", True)
        password = basic_password(headers, charge_point_id)
        if password is None or not password_matches(password, credentials.password_hash):
            return Refusal(HTTPStatus.UNAUTHORIZED, "wrong username or password", True)
    return None


async def admission_refusal(
    charge_point_id: str, headers: Headers, transport: Transport
) -> Refusal | None:
    credentials = await credentials_of(charge_point_id)
    if credentials is not None:
        return profile_refusal(charge_point_id, credentials, headers, transport)
    config = settings.OV2XMP
    if config.unknown_chargers == "reject":
        return Refusal(HTTPStatus.NOT_FOUND, f"Unknown charger {charge_point_id}")
    if config.minimum_security_profile > SecurityProfile.NONE:
        # A charger the platform has never seen has no credentials to check.
        return Refusal(
            HTTPStatus.FORBIDDEN,
            f"unknown charger {charge_point_id}: chargers need provisioning with "
            f"security profile {config.minimum_security_profile} or above",
        )
    return None

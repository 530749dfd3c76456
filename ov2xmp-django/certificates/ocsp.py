"""GetCertificateStatus (OCPP 2.0.1 M06): what a charger asks, what it is
answered, and forwarding to an OCSP responder.

Forwarding makes the CSMS POST to a URL a charger chose, so it is limited to
the responders of ``OV2XMP_OCSP_RESPONDERS`` (none by default), never follows
redirects, and runs in a worker thread (``asyncio.to_thread``), not in the
ORM thread that the whole CSMS shares.
"""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.conf import settings

from certificates.authority import HASH_ALGORITHMS
from certificates.models import AnswerStatus, CertificateStatusRequest

logger = logging.getLogger(__name__)

FORWARD_TIMEOUT_SECONDS = 5.0
# GetCertificateStatusResponse.ocspResult holds at most 5500 base64 characters.
OCSP_RESULT_MAX_BYTES = 5500 // 4 * 3
RESPONDER = CertificateStatusRequest.AnsweredBy.RESPONDER


@dataclass(frozen=True)
class OcspQuery:
    """OCPP's OCSPRequestData, decoded: an RFC 6960 CertID and a responder."""

    hash_algorithm: str
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial_number: int
    responder_url: str

    @classmethod
    def from_hex(
        cls,
        *,
        hash_algorithm: str,
        issuer_name_hash: str,
        issuer_key_hash: str,
        serial_number: str,
        responder_url: str,
    ) -> OcspQuery:
        """OCPP sends the hashes and the serial as hex. Raises ValueError
        naming the field that is not hex, or not a hash of that length."""
        digest_size = HASH_ALGORITHMS[hash_algorithm].digest_size
        decoded = {}
        for field, value in [
            ("issuerNameHash", issuer_name_hash),
            ("issuerKeyHash", issuer_key_hash),
        ]:
            try:
                decoded[field] = bytes.fromhex(value)
            except ValueError:
                raise ValueError(f"{field}: {value!r} is not hex") from None
            if len(decoded[field]) != digest_size:
                raise ValueError(f"{field}: not a {hash_algorithm} hash ({digest_size} bytes)")
        try:
            serial = int(serial_number, 16)
        except ValueError:
            raise ValueError(f"serialNumber: {serial_number!r} is not hex") from None
        return cls(
            hash_algorithm=hash_algorithm,
            issuer_name_hash=decoded["issuerNameHash"],
            issuer_key_hash=decoded["issuerKeyHash"],
            serial_number=serial,
            responder_url=responder_url,
        )

    @property
    def algorithm(self) -> hashes.HashAlgorithm:
        return HASH_ALGORITHMS[self.hash_algorithm]()

    @property
    def serial_hex(self) -> str:
        """How serials are stored: lower-case hex without leading zeros."""
        return format(self.serial_number, "x")


@dataclass(frozen=True)
class OcspAnswer:
    """The GetCertificateStatus answer: Accepted with the OCSP response (DER,
    base64), or Failed with the reason (statusInfo)."""

    status: str
    ocsp_result: str = ""
    certificate_status: str = ""
    answered_by: str = ""
    reason_code: str = ""
    reason: str = ""

    @classmethod
    def from_response(cls, der: bytes, *, answered_by: str) -> OcspAnswer:
        """Accepted when ``der`` is a successful OCSP response that fits the
        answer; Failed otherwise (the charger could not use it)."""

        def failed(reason_code: str, reason: str) -> OcspAnswer:
            return cls.failed(reason_code, reason, answered_by=answered_by)

        if len(der) > OCSP_RESULT_MAX_BYTES:
            return failed("ResponseTooLarge", "The OCSP response does not fit ocspResult.")
        try:
            response = ocsp.load_der_ocsp_response(der)
        except ValueError:
            return failed("InvalidResponse", "The responder's answer is not an OCSP response.")
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return failed(
                "ResponderRefused", f"The responder answered {response.response_status.name}."
            )
        try:
            certificate_status = response.certificate_status.name.lower()
        except ValueError:  # several responses in one: the charger reads them itself
            certificate_status = ""
        return cls(
            status=AnswerStatus.ACCEPTED,
            ocsp_result=base64.b64encode(der).decode(),
            certificate_status=certificate_status,
            answered_by=answered_by,
        )

    @classmethod
    def failed(cls, reason_code: str, reason: str, *, answered_by: str = "") -> OcspAnswer:
        return cls(
            status=AnswerStatus.FAILED,
            answered_by=answered_by,
            reason_code=reason_code,
            reason=reason,
        )


def responder_allowed(url: str, allowed: Sequence[str]) -> bool:
    """Whether ``url`` is under one of the ``allowed`` prefixes: the same
    scheme, host and port, and a path that starts with the prefix's path.
    Compared by parts, so ``http://ocsp.example`` does not allow
    ``http://ocsp.example.evil`` nor ``http://ocsp.example@evil``."""
    try:
        target = urlsplit(url)
        target_origin = (target.scheme.lower(), target.hostname, target.port)
    except ValueError:  # an unparseable port
        return False
    if target_origin[0] not in ("http", "https") or not target.hostname or target.username:
        return False
    path = target.path or "/"
    if any(segment in (".", "..") for segment in unquote(path).split("/")):
        return False
    for prefix in allowed:
        parts = urlsplit(prefix)
        origin = (parts.scheme.lower(), parts.hostname, parts.port)
        if origin == target_origin and path.startswith(parts.path or "/"):
            return True
    return False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would lead the POST past the allow-list."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        raise urllib.error.HTTPError(
            req.full_url, code, f"redirect to {newurl} refused", headers, fp
        )


_opener = urllib.request.build_opener(_NoRedirects)


def ocsp_forward(query: OcspQuery) -> OcspAnswer:
    """POST the OCSP request to the charger's responder, if it is allowed.
    Blocking: call it in a worker thread."""
    if not responder_allowed(query.responder_url, settings.OV2XMP.ocsp_responders):
        logger.warning(
            "OCSP request to %s refused: not in OV2XMP_OCSP_RESPONDERS", query.responder_url
        )
        return OcspAnswer.failed(
            "ResponderNotAllowed",
            "The CSMS does not forward OCSP requests to this responder (OV2XMP_OCSP_RESPONDERS).",
        )
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            query.issuer_name_hash, query.issuer_key_hash, query.serial_number, query.algorithm
        )
        .build()
    )
    http_request = urllib.request.Request(
        query.responder_url,
        data=request.public_bytes(serialization.Encoding.DER),
        headers={
            "Content-Type": "application/ocsp-request",
            "Accept": "application/ocsp-response",
        },
        method="POST",
    )
    try:
        with _opener.open(http_request, timeout=FORWARD_TIMEOUT_SECONDS) as response:
            # One byte more than fits tells a response that is too large.
            der = response.read(OCSP_RESULT_MAX_BYTES + 1)
    except (OSError, ValueError) as error:  # URLError, HTTPError and timeouts are OSErrors
        logger.warning("OCSP responder %s failed: %s", query.responder_url, error)
        return OcspAnswer.failed(
            "ResponderError", f"The OCSP responder failed: {error}", answered_by=RESPONDER
        )
    return OcspAnswer.from_response(der, answered_by=RESPONDER)

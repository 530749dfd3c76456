"""The contract-certificate seam for Get15118EVCertificate (OCPP 2.0.1 M01,
M02): an EV asks, through the charger, for its ISO 15118 contract
certificate to be installed or updated.

Answering needs a Contract Certificate Pool or the mobility operator's PKI,
which the CSMS does not have. ``OV2XMP_EV_CERTIFICATE_PROVIDER`` names a class
(dotted import path, constructed without arguments) that implements
``EvCertificateProvider`` and talks to one. Without it, every request is
answered Failed, saying so.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from config.env import ConfigurationError

logger = logging.getLogger(__name__)

# Get15118EVCertificateResponse.exiResponse's schema limit.
EXI_RESPONSE_MAX_LENGTH = 7500


@dataclass(frozen=True)
class EvCertificateAnswer:
    """What to answer: Accepted or Failed, the base64 EXI response for the EV
    (CertificateInstallationRes / CertificateUpdateRes; empty when Failed),
    and an optional reason (OCPP statusInfo)."""

    status: str
    exi_response: str = ""
    reason_code: str = ""
    reason: str = ""

    @classmethod
    def failed(cls, reason_code: str, reason: str) -> EvCertificateAnswer:
        return cls(status="Failed", reason_code=reason_code, reason=reason)


class EvCertificateProvider(Protocol):
    """Turns an EV's EXI request into the EXI response. Called in a worker
    thread, so it may block on network I/O; it should bound that by a timeout
    well below the charger's (OCPP's default is 30 s)."""

    def get_ev_certificate(
        self, *, iso15118_schema_version: str, action: str, exi_request: str
    ) -> EvCertificateAnswer:
        """``action`` is Install or Update; ``exi_request`` is base64."""
        ...


@functools.cache
def _provider(path: str) -> EvCertificateProvider:
    try:
        return import_string(path)()
    except Exception as error:
        raise ConfigurationError(
            f"OV2XMP_EV_CERTIFICATE_PROVIDER={path}: cannot load: {error}"
        ) from error


def configured_provider() -> EvCertificateProvider | None:
    path = settings.OV2XMP.ev_certificate_provider
    return _provider(path) if path else None


def ev_certificate_answer(
    *, iso15118_schema_version: str, action: str, exi_request: str
) -> EvCertificateAnswer:
    """Ask the configured provider. Its failures become a Failed answer with
    the reason, logged; an answer the OCPP schema would refuse is one too."""
    provider = configured_provider()
    if provider is None:
        return EvCertificateAnswer.failed(
            "NotConfigured",
            "No contract-certificate provider is configured (OV2XMP_EV_CERTIFICATE_PROVIDER).",
        )
    try:
        answer = provider.get_ev_certificate(
            iso15118_schema_version=iso15118_schema_version,
            action=action,
            exi_request=exi_request,
        )
    except Exception as error:
        logger.exception("contract-certificate provider failed")
        return EvCertificateAnswer.failed("ProviderError", f"The provider failed: {error}")
    if (
        not isinstance(answer, EvCertificateAnswer)
        or answer.status not in ("Accepted", "Failed")
        or not isinstance(answer.exi_response, str)
        or len(answer.exi_response) > EXI_RESPONSE_MAX_LENGTH
    ):
        logger.error("contract-certificate provider gave an invalid answer: %r", answer)
        return EvCertificateAnswer.failed(
            "ProviderError", "The provider's answer is not a valid Get15118EVCertificate answer."
        )
    return answer

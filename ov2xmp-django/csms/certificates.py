"""SignCertificate, as OCPP 1.6 (security extension) and 2.0.1 share it: the
answer is decided at once (the CSR is checked, the request stored); the CA
signs and CertificateSigned goes to the charger after that answer is sent,
on the same connection, and the charger's answer is recorded."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from ocpp.exceptions import OCPPError

from certificates.models import CertificateSigningRequest, SigningStatus
from certificates.services import (
    certificate_signing_request_receive,
    certificate_signing_request_record_delivery,
    certificate_signing_request_sign,
)
from core.time import utc_now
from csms.charge_point import db

logger = logging.getLogger(__name__)


class CertificateSigning:
    """Mixed into each version's certificate handlers."""

    id: str
    ocpp_version: ClassVar[str]
    _response_timeout: float
    call: Callable[..., Awaitable[Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # SignCertificate's unique id → the accepted request, from the
        # handler to its after-hook.
        self._accepted_signing_requests: dict[str, int] = {}
        # The loop keeps only weak references to tasks.
        self._deliveries: set[asyncio.Task[None]] = set()

    def certificate_signed_call(self, chain_pem: str, certificate_type: str | None) -> Any:
        """The version's CertificateSigned request."""
        raise NotImplementedError

    async def receive_signing_request(
        self, *, csr: str, certificate_type: str, call_unique_id: str
    ) -> CertificateSigningRequest:
        request = await db(certificate_signing_request_receive)(
            charge_point_id=self.id,
            ocpp_version=self.ocpp_version,
            certificate_type=certificate_type,
            csr_pem=csr,
        )
        if request.status == SigningStatus.ACCEPTED:
            self._accepted_signing_requests[call_unique_id] = request.pk
        return request

    def deliver_after_answer(self, call_unique_id: str, certificate_type: str | None) -> None:
        """Start signing and delivery for an accepted request. A task of its
        own: the connection's reader must go on, to receive the charger's
        answer to CertificateSigned."""
        request_id = self._accepted_signing_requests.pop(call_unique_id, None)
        if request_id is None:
            return
        task = asyncio.create_task(self._sign_and_deliver(request_id, certificate_type))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _sign_and_deliver(self, request_id: int, certificate_type: str | None) -> None:
        # Nobody awaits this task: every failure is logged and stored here.
        try:
            chain = await db(certificate_signing_request_sign)(signing_request_id=request_id)
            if chain is None:
                return  # SigningFailed, logged and stored by the service
            status, reason_code, reason = await self._send_certificate(chain, certificate_type)
            await db(certificate_signing_request_record_delivery)(
                signing_request_id=request_id,
                status=status,
                reason_code=reason_code,
                reason=reason,
                at=utc_now(),
            )
        except Exception:
            logger.exception("%s: certificate delivery of request %s failed", self.id, request_id)

    async def _send_certificate(
        self, chain: str, certificate_type: str | None
    ) -> tuple[str, str, str]:
        """Send CertificateSigned; (status, reason code, reason) of the outcome."""
        try:
            answer = await self.call(
                self.certificate_signed_call(chain, certificate_type), suppress=False
            )
        except TimeoutError:
            reason = f"No answer to CertificateSigned within {self._response_timeout} s."
            logger.warning("%s: %s", self.id, reason)
            return SigningStatus.DELIVERY_FAILED, "Timeout", reason
        except OCPPError as error:
            reason = (
                f"The charger answered CertificateSigned with {error.code}: {error.description}"
            )
            logger.warning("%s: %s", self.id, reason)
            return SigningStatus.DELIVERY_FAILED, "CallError", reason
        except Exception as error:  # the connection closed, a schema violation, ...
            logger.exception("%s: sending CertificateSigned failed", self.id)
            return SigningStatus.DELIVERY_FAILED, "SendFailed", f"{type(error).__name__}: {error}"
        if answer.status == "Accepted":
            return SigningStatus.DELIVERED, "", ""
        info = getattr(answer, "status_info", None) or {}  # 2.0.1 only
        logger.warning("%s: the charger rejected its certificate: %s", self.id, info)
        return (
            SigningStatus.DELIVERY_REJECTED,
            info.get("reason_code", ""),
            info.get("additional_info", ""),
        )

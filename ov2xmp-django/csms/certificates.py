"""SignCertificate, as OCPP 1.6 (security extension) and 2.0.1 share it: the
answer is decided at once (the CSR is checked, the request stored); the CA
signs and CertificateSigned goes to the charger after that answer is sent,
on the same connection, and the charger's answer is recorded."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from certificates.models import CertificateSigningRequest, SigningStatus
from certificates.services import (
    certificate_signing_request_receive,
    certificate_signing_request_record_delivery,
    certificate_signing_request_sign,
)
from commands.catalog import command_spec
from commands.models import CommandStatus
from commands.services import command_create
from core.time import utc_now
from csms.charge_point import db
from csms.commands import command_execute

logger = logging.getLogger(__name__)


class CertificateSigning:
    """Mixed into each version's certificate handlers."""

    id: str
    ocpp_version: ClassVar[str]
    _response_timeout: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # SignCertificate's unique id → the accepted request, from the
        # handler to its after-hook.
        self._accepted_signing_requests: dict[str, int] = {}
        # The loop keeps only weak references to tasks.
        self._deliveries: set[asyncio.Task[None]] = set()

    def certificate_signed_payload(
        self, chain_pem: str, certificate_type: str | None
    ) -> dict[str, Any]:
        """The version's CertificateSigned request (OCPP JSON)."""
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
        """Send CertificateSigned as a command (listed with every other, in
        turn with them); (status, reason code, reason) of the outcome."""
        command = await db(command_create)(
            charge_point_id=self.id,
            spec=command_spec(self.ocpp_version, "CertificateSigned"),
            payload=self.certificate_signed_payload(chain, certificate_type),
        )
        await command_execute(self, command.id)  # type: ignore[arg-type]
        await command.arefresh_from_db()
        answer = command.response or {}
        if command.status == CommandStatus.ANSWERED and answer.get("status") == "Accepted":
            return SigningStatus.DELIVERED, "", ""
        if command.status == CommandStatus.ANSWERED:
            info = answer.get("statusInfo") or {}  # 2.0.1 only
            logger.warning("%s: the charger rejected its certificate: %s", self.id, info)
            return (
                SigningStatus.DELIVERY_REJECTED,
                info.get("reasonCode", ""),
                info.get("additionalInfo", ""),
            )
        if command.status == CommandStatus.TIMED_OUT:
            reason = f"No answer to CertificateSigned within {self._response_timeout:g} s."
            return SigningStatus.DELIVERY_FAILED, "Timeout", reason
        if command.status == CommandStatus.CALL_ERROR:
            reason = (
                f"The charger answered CertificateSigned with {command.error_code}: "
                f"{command.error_description}"
            )
            return SigningStatus.DELIVERY_FAILED, "CallError", reason
        reason = f"{command.status}: {command.error_code} {command.error_description}".strip()
        return SigningStatus.DELIVERY_FAILED, "SendFailed", reason

"""SignCertificate of the OCPP 1.6 security extension (Security Whitepaper,
edition 3): the same path as 2.0.1, for the charging station certificate
only (1.6 has no certificate types) and without statusInfo."""

from __future__ import annotations

from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from certificates.models import CertificateType
from csms.certificates import CertificateSigning


class CertificateHandlers16(CertificateSigning):
    @on(Action.sign_certificate)
    async def on_sign_certificate(
        self, csr: str, call_unique_id: str
    ) -> call_result.SignCertificate:
        request = await self.receive_signing_request(
            csr=csr,
            certificate_type=CertificateType.CHARGING_STATION,
            call_unique_id=call_unique_id,
        )
        return call_result.SignCertificate(status=request.status)

    @after(Action.sign_certificate)
    def after_sign_certificate(self, call_unique_id: str, **_: Any) -> None:
        self.deliver_after_answer(call_unique_id, None)

    def certificate_signed_payload(
        self, chain_pem: str, certificate_type: str | None
    ) -> dict[str, Any]:
        return {"certificateChain": chain_pem}

"""OCPP 2.0.1 certificate messages: SignCertificate (A02/A03),
GetCertificateStatus (M06) and Get15118EVCertificate (M01/M02). Thin
handlers over the certificates app."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.datatypes import StatusInfoType
from ocpp.v201.enums import Action

from certificates.ev_certificates import ev_certificate_answer
from certificates.models import CertificateType
from certificates.ocsp import OcspQuery, ocsp_forward
from certificates.selectors import ocsp_answer_from_our_ca
from certificates.services import (
    certificate_status_request_record,
    ev_certificate_request_record,
    status_info_fields,
)
from csms.certificates import CertificateSigning
from csms.charge_point import db


class HasReason(Protocol):
    @property
    def reason_code(self) -> str: ...
    @property
    def reason(self) -> str: ...


def status_info(outcome: HasReason) -> StatusInfoType | None:
    if not outcome.reason_code:
        return None
    # Cut to the schema's limits, as the stored reason is.
    info = status_info_fields(outcome.reason_code, outcome.reason)
    return StatusInfoType(reason_code=info["reason_code"], additional_info=info["reason"] or None)


def ocsp_query(data: dict[str, Any]) -> OcspQuery:
    try:
        return OcspQuery.from_hex(
            hash_algorithm=data["hash_algorithm"],
            issuer_name_hash=data["issuer_name_hash"],
            issuer_key_hash=data["issuer_key_hash"],
            serial_number=data["serial_number"],
            responder_url=data["responder_url"],
        )
    except ValueError as error:
        raise PropertyConstraintViolationError(description=f"ocspRequestData.{error}") from None


class CertificateHandlers201(CertificateSigning):
    @on(Action.sign_certificate)
    async def on_sign_certificate(
        self,
        csr: str,
        call_unique_id: str,
        certificate_type: str | None = None,
        **_: Any,
    ) -> call_result.SignCertificate:
        request = await self.receive_signing_request(
            csr=csr,
            # Without a type the certificate serves both connections; it is
            # checked as the station's own (CN = the charger id).
            certificate_type=certificate_type or CertificateType.CHARGING_STATION,
            call_unique_id=call_unique_id,
        )
        return call_result.SignCertificate(status=request.status, status_info=status_info(request))

    @after(Action.sign_certificate)
    def after_sign_certificate(
        self, call_unique_id: str, certificate_type: str | None = None, **_: Any
    ) -> None:
        self.deliver_after_answer(call_unique_id, certificate_type)

    def certificate_signed_payload(
        self, chain_pem: str, certificate_type: str | None
    ) -> dict[str, Any]:
        # The type is echoed as asked: a charger that gave none uses the
        # certificate for both connections.
        payload = {"certificateChain": chain_pem}
        if certificate_type:
            payload["certificateType"] = certificate_type
        return payload

    @on(Action.get_certificate_status)
    async def on_get_certificate_status(
        self, ocsp_request_data: dict[str, Any], **_: Any
    ) -> call_result.GetCertificateStatus:
        query = ocsp_query(ocsp_request_data)
        answer = await db(ocsp_answer_from_our_ca)(query=query)
        if answer is None:
            # Network I/O runs in a worker thread, never in the ORM thread
            # that every charger's handlers share.
            answer = await asyncio.to_thread(ocsp_forward, query)
        await db(certificate_status_request_record)(
            charge_point_id=self.id, query=query, answer=answer
        )
        return call_result.GetCertificateStatus(
            status=answer.status,
            ocsp_result=answer.ocsp_result or None,
            status_info=status_info(answer),
        )

    @on(Action.get_15118_ev_certificate)
    async def on_get_15118_ev_certificate(
        self, iso15118_schema_version: str, action: str, exi_request: str, **_: Any
    ) -> call_result.Get15118EVCertificate:
        request = {
            "iso15118_schema_version": iso15118_schema_version,
            "action": action,
            "exi_request": exi_request,
        }
        # A provider may call out to a contract-certificate pool: a worker thread.
        answer = await asyncio.to_thread(ev_certificate_answer, **request)
        await db(ev_certificate_request_record)(charge_point_id=self.id, answer=answer, **request)
        return call_result.Get15118EVCertificate(
            status=answer.status, exi_response=answer.exi_response, status_info=status_info(answer)
        )

"""Writes on certificate requests and issued certificates. Version-neutral:
the SignCertificate handlers of OCPP 1.6 (security extension) and 2.0.1 call
the same services."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, rsa
from cryptography.x509.oid import NameOID
from django.db import transaction

from certificates.authority import certificate_authority
from certificates.ev_certificates import EvCertificateAnswer
from certificates.models import (
    CertificateSigningRequest,
    CertificateStatusRequest,
    CertificateType,
    EvCertificateRequest,
    IssuedCertificate,
    SigningStatus,
)
from certificates.ocsp import OcspAnswer, OcspQuery
from core.time import utc_now

logger = logging.getLogger(__name__)

# OCPP's security profiles ask for RSA keys of at least 2048 bits.
MIN_RSA_KEY_BITS = 2048
REASON_CODE_MAX_LENGTH = 20
REASON_MAX_LENGTH = 512


@dataclass(frozen=True)
class Refusal:
    """Why a CSR is not signed: OCPP statusInfo's reasonCode and additionalInfo."""

    reason_code: str
    reason: str


def status_info_fields(reason_code: str, reason: str) -> dict[str, str]:
    """The reason fields of a row, cut to what OCPP's statusInfo holds."""
    return {
        "reason_code": reason_code[:REASON_CODE_MAX_LENGTH],
        "reason": reason[:REASON_MAX_LENGTH],
    }


def csr_refusal(
    csr: x509.CertificateSigningRequest, *, charge_point_id: str, certificate_type: str
) -> Refusal | None:
    """What is wrong with a parsed CSR, if anything. A charging station
    certificate must name the charger itself (OCPP: the subject's CN is the
    station's identity), so a charger cannot obtain one for another id."""
    if not csr.is_signature_valid:
        return Refusal("InvalidCSR", "The CSR's signature does not verify.")
    key = csr.public_key()
    if isinstance(key, dsa.DSAPublicKey) or (
        isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_KEY_BITS
    ):
        return Refusal("WeakKey", f"Use an EC key or an RSA key of {MIN_RSA_KEY_BITS}+ bits.")
    if certificate_type == CertificateType.CHARGING_STATION:
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if [name.value for name in names] != [charge_point_id]:
            found = ", ".join(str(name.value) for name in names) or "none"
            return Refusal(
                "InvalidCommonName",
                f"The subject's CN must be the charger id {charge_point_id!r}; it is {found}.",
            )
    return None


def certificate_signing_request_receive(
    *, charge_point_id: str, ocpp_version: str, certificate_type: str, csr_pem: str
) -> CertificateSigningRequest:
    """Decide the answer to SignCertificate and keep the request: Accepted
    when the CSR is sound and a CA is configured for its type, Rejected with
    the reason otherwise. Signing comes after the answer is sent."""
    subject = ""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        subject = csr.subject.rfc4514_string()
        refusal = csr_refusal(
            csr, charge_point_id=charge_point_id, certificate_type=certificate_type
        )
    except ValueError as error:
        refusal = Refusal("InvalidCSR", f"The CSR is not a PEM certificate request: {error}")
    if refusal is None and certificate_authority(certificate_type) is None:
        refusal = Refusal(
            "NoCAConfigured",
            "The CSMS has no certificate authority for this certificate type "
            "(OV2XMP_CA_CERTIFICATE).",
        )
    if refusal is not None:
        logger.warning(
            "%s: SignCertificate (%s) rejected, %s: %s",
            charge_point_id,
            certificate_type,
            refusal.reason_code,
            refusal.reason,
        )
    return CertificateSigningRequest.objects.create(
        charge_point_id=charge_point_id,
        ocpp_version=ocpp_version,
        certificate_type=certificate_type,
        csr_pem=csr_pem,
        subject=subject,
        status=SigningStatus.REJECTED if refusal else SigningStatus.ACCEPTED,
        **(status_info_fields(refusal.reason_code, refusal.reason) if refusal else {}),
    )


def certificate_signing_request_sign(*, signing_request_id: int) -> str | None:
    """Have the CA sign an accepted request, keep the certificate, and return
    the chain to send (leaf first). A failure is logged and stored on the
    request (SigningFailed), and None returned."""
    request = CertificateSigningRequest.objects.get(id=signing_request_id)
    try:
        authority = certificate_authority(request.certificate_type)
        if authority is None:
            raise RuntimeError("no certificate authority is configured any more")
        csr = x509.load_pem_x509_csr(request.csr_pem.encode())
        issued = authority.sign(
            csr, charge_point_id=request.charge_point_id, certificate_type=request.certificate_type
        )
    except Exception as error:
        # The CA is a seam: whatever it raises is this request's outcome.
        logger.exception("%s: signing request %s failed", request.charge_point_id, request.pk)
        request.status = SigningStatus.SIGNING_FAILED
        for field, value in status_info_fields("SigningFailed", str(error)).items():
            setattr(request, field, value)
        request.save(update_fields=["status", "reason_code", "reason", "updated_at"])
        return None
    certificate = issued.certificate
    with transaction.atomic():
        IssuedCertificate.objects.create(
            signing_request=request,
            charge_point_id=request.charge_point_id,
            certificate_type=request.certificate_type,
            serial_number=format(certificate.serial_number, "x"),
            subject=certificate.subject.rfc4514_string(),
            issuer=certificate.issuer.rfc4514_string(),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        )
        request.status = SigningStatus.SIGNED
        request.signed_at = utc_now()
        request.save(update_fields=["status", "signed_at", "updated_at"])
    return issued.chain_pem


def certificate_signing_request_record_delivery(
    *,
    signing_request_id: int,
    status: str,
    at: datetime,
    reason_code: str = "",
    reason: str = "",
) -> None:
    """The charger's answer to CertificateSigned (Delivered, DeliveryRejected)
    or its absence (DeliveryFailed)."""
    CertificateSigningRequest.objects.filter(id=signing_request_id).update(
        status=status, answered_at=at, updated_at=at, **status_info_fields(reason_code, reason)
    )


class CertificateAlreadyRevoked(ValueError):
    pass


def issued_certificate_revoke(
    *, certificate: IssuedCertificate, reason: str = "", at: datetime
) -> IssuedCertificate:
    """Revoke a certificate our CA issued: OCSP answers revoked from now on.
    Revocation is final; a second one raises CertificateAlreadyRevoked."""
    updated = IssuedCertificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(
        revoked_at=at, revocation_reason=reason
    )
    if not updated:
        raise CertificateAlreadyRevoked(
            f"certificate {certificate.serial_number} is already revoked"
        )
    certificate.refresh_from_db()
    logger.warning(
        "certificate %s (%s) revoked: %s",
        certificate.serial_number,
        certificate.subject,
        reason or "no reason given",
    )
    return certificate


def certificate_status_request_record(
    *, charge_point_id: str, query: OcspQuery, answer: OcspAnswer
) -> CertificateStatusRequest:
    return CertificateStatusRequest.objects.create(
        charge_point_id=charge_point_id,
        hash_algorithm=query.hash_algorithm,
        issuer_name_hash=query.issuer_name_hash.hex(),
        issuer_key_hash=query.issuer_key_hash.hex(),
        serial_number=query.serial_hex,
        responder_url=query.responder_url,
        status=answer.status,
        answered_by=answer.answered_by,
        certificate_status=answer.certificate_status,
        ocsp_result=answer.ocsp_result,
        **status_info_fields(answer.reason_code, answer.reason),
    )


def ev_certificate_request_record(
    *,
    charge_point_id: str,
    iso15118_schema_version: str,
    action: str,
    exi_request: str,
    answer: EvCertificateAnswer,
) -> EvCertificateRequest:
    return EvCertificateRequest.objects.create(
        charge_point_id=charge_point_id,
        iso15118_schema_version=iso15118_schema_version,
        action=action,
        exi_request=exi_request,
        status=answer.status,
        exi_response=answer.exi_response,
        **status_info_fields(answer.reason_code, answer.reason),
    )

"""Reads that decide an answer."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509 import ocsp

from certificates.authority import Revocation, certificate_authorities, issuer_hashes
from certificates.models import CertificateStatusRequest, IssuedCertificate
from certificates.ocsp import OcspAnswer, OcspQuery


def ocsp_answer_from_our_ca(*, query: OcspQuery) -> OcspAnswer | None:
    """Answer an OCSP query about a certificate of one of our CAs from our own
    records: good, revoked, or unknown for a serial that CA never issued.
    None when the query names another issuer."""
    wanted = (query.issuer_name_hash, query.issuer_key_hash)
    for authority in certificate_authorities():
        if issuer_hashes(authority.certificate, query.algorithm) != wanted:
            continue
        issued = IssuedCertificate.objects.filter(
            serial_number=query.serial_hex,
            issuer=authority.certificate.subject.rfc4514_string(),
        ).first()
        revocation = None
        if issued is None:
            status = ocsp.OCSPCertStatus.UNKNOWN
        elif issued.revoked_at is None:
            status = ocsp.OCSPCertStatus.GOOD
        else:
            status = ocsp.OCSPCertStatus.REVOKED
            reason = issued.revocation_reason
            revocation = Revocation(
                at=issued.revoked_at, reason=x509.ReasonFlags(reason) if reason else None
            )
        der = authority.ocsp_response(
            serial_number=query.serial_number,
            algorithm=query.algorithm,
            status=status,
            revocation=revocation,
        )
        return OcspAnswer.from_response(
            der, answered_by=CertificateStatusRequest.AnsweredBy.CSMS_CA
        )
    return None

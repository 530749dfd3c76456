"""The services and selectors behind the certificate handlers, without a
charger: what a CSR is answered, signing, delivery outcomes, revocation,
OCSP answers from our own records, and the EV-certificate provider."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from certificates.ev_certificates import ev_certificate_answer
from certificates.models import CertificateSigningRequest, IssuedCertificate, SigningStatus
from certificates.ocsp import OcspQuery
from certificates.selectors import ocsp_answer_from_our_ca
from certificates.services import (
    CertificateAlreadyRevoked,
    certificate_signing_request_receive,
    certificate_signing_request_record_delivery,
    certificate_signing_request_sign,
    issued_certificate_revoke,
)
from certificates.tests import factories
from certificates.tests.factories import (
    leaf_of,
    make_ca,
    make_csr,
    weak_rsa_key,
    with_broken_signature,
)
from chargepoints.tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def configure(settings, **fields):
    settings.OV2XMP = dataclasses.replace(settings.OV2XMP, **fields)


@pytest.fixture
def ca(settings, tmp_path):
    ca = make_ca(tmp_path / "main")
    configure(settings, **ca.settings())
    return ca


@pytest.fixture
def charger():
    return ChargePointFactory(id="CP-1")


def receive(csr_pem: str, certificate_type: str = "ChargingStationCertificate"):
    return certificate_signing_request_receive(
        charge_point_id="CP-1",
        ocpp_version="2.0.1",
        certificate_type=certificate_type,
        csr_pem=csr_pem,
    )


def signed(csr_pem: str, certificate_type: str = "ChargingStationCertificate"):
    request = receive(csr_pem, certificate_type)
    assert request.status == SigningStatus.ACCEPTED, request.reason
    chain = certificate_signing_request_sign(signing_request_id=request.pk)
    assert chain is not None
    return IssuedCertificate.objects.get(signing_request=request), chain


# --- What SignCertificate is answered -----------------------------------------------------------


def test_a_sound_csr_is_accepted(ca, charger):
    request = receive(make_csr("CP-1"))
    assert (request.status, request.reason_code, request.subject) == (
        "Accepted",
        "",
        "CN=CP-1,O=Acme Charging",
    )


@pytest.mark.parametrize(
    ("csr", "reason_code"),
    [
        (lambda: "garbage", "InvalidCSR"),
        (lambda: with_broken_signature(make_csr("CP-1")), "InvalidCSR"),
        (lambda: make_csr("CP-2"), "InvalidCommonName"),
        (lambda: make_csr(None), "InvalidCommonName"),
        (lambda: make_csr("CP-1", key=weak_rsa_key()), "WeakKey"),
    ],
)
def test_an_unsound_csr_is_rejected_and_kept(ca, charger, csr, reason_code):
    request = receive(csr())
    assert (request.status, request.reason_code) == ("Rejected", reason_code)
    assert request.reason
    assert CertificateSigningRequest.objects.get() == request


def test_a_v2g_csr_names_the_evse_not_the_charger(ca, charger):
    assert receive(make_csr("DE*ACM*E1234*1"), "V2GCertificate").status == "Accepted"


def test_without_a_ca_every_csr_is_rejected(settings, charger):
    configure(settings, ca_certificate=None, ca_private_key=None)
    request = receive(make_csr("CP-1"))
    assert (request.status, request.reason_code) == ("Rejected", "NoCAConfigured")


# --- Signing and delivery ----------------------------------------------------------------------


def test_signing_keeps_the_issued_certificate(ca, charger):
    issued, chain = signed(make_csr("CP-1"))
    leaf = leaf_of(chain)
    assert issued.serial_number == format(leaf.serial_number, "x")
    assert (issued.subject, issued.issuer) == (
        "CN=CP-1,O=Acme Charging",
        ca.certificate.subject.rfc4514_string(),
    )
    assert (issued.not_before, issued.not_after) == (
        leaf.not_valid_before_utc,
        leaf.not_valid_after_utc,
    )
    assert chain.startswith(issued.certificate_pem)
    assert (issued.charge_point_id, issued.certificate_type) == (
        "CP-1",
        "ChargingStationCertificate",
    )
    request = issued.signing_request
    assert (request.status, request.signed_at is not None) == ("Signed", True)


def test_a_v2g_csr_is_signed_by_the_v2g_ca(settings, tmp_path, ca, charger):
    v2g = make_ca(tmp_path / "v2g", "V2G Root")
    configure(settings, **v2g.settings("v2g_"))
    issued, _ = signed(make_csr("DE*ACM*E1234*1"), "V2GCertificate")
    assert issued.issuer == "CN=V2G Root"


def test_a_signing_failure_is_logged_and_kept(settings, ca, charger, caplog):
    request = receive(make_csr("CP-1"))
    configure(settings, ca_certificate=None, ca_private_key=None)  # the CA went away
    assert certificate_signing_request_sign(signing_request_id=request.pk) is None
    request.refresh_from_db()
    assert (request.status, request.reason_code) == ("SigningFailed", "SigningFailed")
    assert "no certificate authority" in request.reason
    assert "signing request" in caplog.text
    assert not IssuedCertificate.objects.exists()


def test_the_chargers_answer_is_recorded(ca, charger):
    issued, _ = signed(make_csr("CP-1"))
    certificate_signing_request_record_delivery(
        signing_request_id=issued.signing_request_id,
        status=SigningStatus.DELIVERY_REJECTED,
        reason_code="InvalidCertificateChain" + "x" * 20,
        reason="y" * 600,
        at=T0,
    )
    request = CertificateSigningRequest.objects.get()
    assert (request.status, request.answered_at) == ("DeliveryRejected", T0)
    assert (len(request.reason_code), len(request.reason)) == (20, 512)  # statusInfo's limits


def test_issued_certificates_outlive_the_charger(ca, charger):
    issued, _ = signed(make_csr("CP-1"))
    charger.delete()
    issued.refresh_from_db()
    assert (issued.charge_point_id, issued.signing_request_id) == (None, None)


# --- Revocation and OCSP ---------------------------------------------------------------------


def test_revocation_is_final(ca, charger):
    issued, _ = signed(make_csr("CP-1"))
    revoked = issued_certificate_revoke(certificate=issued, reason="keyCompromise", at=T0)
    assert (revoked.revoked_at, revoked.revocation_reason) == (T0, "keyCompromise")
    with pytest.raises(CertificateAlreadyRevoked):
        issued_certificate_revoke(certificate=issued, at=T0)


def our_status(ca, serial: int) -> str:
    answer = ocsp_answer_from_our_ca(query=OcspQuery.from_hex(**ca.ocsp_request_data(serial)))
    assert answer is not None
    assert (answer.status, answer.answered_by) == ("Accepted", "ca")
    return answer.certificate_status


def test_ocsp_answers_from_our_records(ca, charger):
    issued, _ = signed(make_csr("CP-1"))
    serial = int(issued.serial_number, 16)
    assert our_status(ca, serial) == "good"
    issued_certificate_revoke(certificate=issued, at=T0)
    assert our_status(ca, serial) == "revoked"
    assert our_status(ca, serial + 1) == "unknown"


def test_a_serial_of_the_other_ca_is_unknown_to_this_one(settings, tmp_path, ca, charger):
    v2g = make_ca(tmp_path / "v2g", "V2G Root")
    configure(settings, **v2g.settings("v2g_"))
    issued, _ = signed(make_csr("DE*ACM*E1234*1"), "V2GCertificate")
    serial = int(issued.serial_number, 16)
    assert (our_status(v2g, serial), our_status(ca, serial)) == ("good", "unknown")


def test_an_issuer_that_is_not_ours_is_not_answered(ca, tmp_path):
    other = make_ca(tmp_path / "other", "Someone Else")
    assert ocsp_answer_from_our_ca(query=OcspQuery.from_hex(**other.ocsp_request_data(1))) is None


# --- The EV-certificate provider --------------------------------------------------------------


EV_REQUEST = {
    "iso15118_schema_version": "urn:iso:15118:2:2013:MsgDef",
    "action": "Update",
    "exi_request": "gAA=",
}


@pytest.mark.parametrize(
    ("provider", "status", "reason_code"),
    [
        (None, "Failed", "NotConfigured"),
        ("FixedEvCertificateProvider", "Accepted", ""),
        ("BrokenEvCertificateProvider", "Failed", "ProviderError"),
        ("InvalidEvCertificateProvider", "Failed", "ProviderError"),
    ],
)
def test_ev_certificate_answers(settings, provider, status, reason_code):
    path = f"{factories.__name__}.{provider}" if provider else None
    configure(settings, ev_certificate_provider=path)
    answer = ev_certificate_answer(**EV_REQUEST)
    assert (answer.status, answer.reason_code) == (status, reason_code)
    assert isinstance(answer.exi_response, str)

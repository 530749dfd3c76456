"""The CA seam: LocalCertificateAuthority signs and answers OCSP as a CA
should, the configured CAs are chosen per certificate type, and a bad
configuration stops the start naming the variable."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from certificates.authority import (
    LocalCertificateAuthority,
    Revocation,
    certificate_authority,
    check_configuration,
    issuer_hashes,
)
from certificates.tests.factories import make_ca, make_csr
from config.env import ConfigurationError, Env


@pytest.fixture
def ca(tmp_path):
    return make_ca(tmp_path)


@pytest.fixture
def authority(ca):
    return LocalCertificateAuthority.from_files(ca.certificate_path, ca.key_path, validity_days=30)


def configure(settings, **fields):
    settings.OV2XMP = dataclasses.replace(settings.OV2XMP, **fields)


def sign(authority, csr_pem: str, certificate_type: str = "ChargingStationCertificate"):
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    return authority.sign(csr, charge_point_id="CP-1", certificate_type=certificate_type)


def extension(certificate: x509.Certificate, kind: type) -> object:
    return certificate.extensions.get_extension_for_class(kind).value


# --- Signing ----------------------------------------------------------------------------------


def test_a_signed_certificate_keeps_the_csr_subject_and_is_a_tls_leaf(ca, authority):
    issued = sign(authority, make_csr("CP-1", organization="Acme"))
    leaf = issued.certificate
    assert leaf.subject.rfc4514_string() == "CN=CP-1,O=Acme"
    assert leaf.issuer == ca.certificate.subject
    ca.certificate.public_key().verify(
        leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256())
    )
    assert extension(leaf, x509.BasicConstraints) == x509.BasicConstraints(
        ca=False, path_length=None
    )
    usage = extension(leaf, x509.KeyUsage)
    assert (usage.digital_signature, usage.key_agreement, usage.key_encipherment) == (
        True,
        True,
        False,
    )
    assert set(extension(leaf, x509.ExtendedKeyUsage)) == {
        ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.SERVER_AUTH,
    }
    ca_key_id = extension(ca.certificate, x509.SubjectKeyIdentifier).digest
    assert extension(leaf, x509.AuthorityKeyIdentifier).key_identifier == ca_key_id
    assert extension(leaf, x509.SubjectKeyIdentifier) == x509.SubjectKeyIdentifier.from_public_key(
        leaf.public_key()
    )


def test_the_chain_is_the_leaf_then_the_ca(ca, authority):
    issued = sign(authority, make_csr("CP-1"))
    chain = x509.load_pem_x509_certificates(issued.chain_pem.encode())
    assert chain == [issued.certificate, ca.certificate]


def test_an_rsa_key_gets_key_encipherment_not_key_agreement(authority):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    usage = extension(sign(authority, make_csr("CP-1", key=key)).certificate, x509.KeyUsage)
    assert (usage.key_encipherment, usage.key_agreement) == (True, False)


def test_validity_follows_the_setting_with_room_for_clock_skew(authority):
    leaf = sign(authority, make_csr("CP-1")).certificate
    now = datetime.now(UTC)
    assert now - timedelta(minutes=6) < leaf.not_valid_before_utc < now - timedelta(minutes=4)
    assert abs(leaf.not_valid_after_utc - (now + timedelta(days=30))) < timedelta(minutes=1)


def test_a_certificate_never_outlives_its_ca(ca):
    authority = LocalCertificateAuthority.from_files(
        ca.certificate_path, ca.key_path, validity_days=100_000
    )
    leaf = sign(authority, make_csr("CP-1")).certificate
    assert leaf.not_valid_after_utc == ca.certificate.not_valid_after_utc


def test_serial_numbers_are_random(authority):
    serials = {sign(authority, make_csr("CP-1")).certificate.serial_number for _ in range(5)}
    assert len(serials) == 5
    assert all(serial.bit_length() > 64 for serial in serials)


# --- Loading ----------------------------------------------------------------------------------


def test_a_key_that_is_not_the_certificates_is_refused(tmp_path, ca):
    other = make_ca(tmp_path / "other")
    with pytest.raises(ValueError, match="is not the key of"):
        LocalCertificateAuthority.from_files(ca.certificate_path, other.key_path, validity_days=1)


def test_a_certificate_that_is_not_a_ca_is_refused(tmp_path):
    leaf = make_ca(tmp_path, "Not A CA", is_ca=False)
    with pytest.raises(ValueError, match="not a CA certificate"):
        LocalCertificateAuthority.from_files(leaf.certificate_path, leaf.key_path, validity_days=1)


def test_garbage_and_encrypted_keys_are_refused(tmp_path, ca):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("nothing here")
    with pytest.raises(ValueError, match="not a PEM certificate"):
        LocalCertificateAuthority.from_files(garbage, ca.key_path, validity_days=1)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        ca.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        LocalCertificateAuthority.from_files(ca.certificate_path, encrypted, validity_days=1)


# --- OCSP -------------------------------------------------------------------------------------


def test_issuer_hashes_are_those_of_an_ocsp_request_for_a_certificate_it_issued(ca, authority):
    leaf = sign(authority, make_csr("CP-1")).certificate
    for algorithm in (hashes.SHA256(), hashes.SHA384(), hashes.SHA512()):
        request = ocsp.OCSPRequestBuilder().add_certificate(leaf, ca.certificate, algorithm).build()
        assert issuer_hashes(ca.certificate, algorithm) == (
            request.issuer_name_hash,
            request.issuer_key_hash,
        )


@pytest.mark.parametrize(
    ("status", "revocation"),
    [
        (ocsp.OCSPCertStatus.GOOD, None),
        (ocsp.OCSPCertStatus.UNKNOWN, None),
        (
            ocsp.OCSPCertStatus.REVOKED,
            Revocation(datetime(2026, 1, 2, tzinfo=UTC), x509.ReasonFlags.superseded),
        ),
    ],
)
def test_ocsp_responses_are_signed_by_the_ca(ca, authority, status, revocation):
    der = authority.ocsp_response(
        serial_number=42, algorithm=hashes.SHA384(), status=status, revocation=revocation
    )
    response = ocsp.load_der_ocsp_response(der)
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert (response.serial_number, response.certificate_status) == (42, status)
    assert (response.issuer_name_hash, response.issuer_key_hash) == issuer_hashes(
        ca.certificate, hashes.SHA384()
    )
    assert response.next_update_utc - response.this_update_utc == timedelta(hours=24)
    ca.certificate.public_key().verify(
        response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256())
    )
    if revocation:
        assert response.revocation_time_utc == revocation.at
        assert response.revocation_reason == revocation.reason


# --- Configuration ----------------------------------------------------------------------------


def test_no_ca_configured_means_no_authority(settings):
    configure(settings, ca_certificate=None, ca_private_key=None)
    assert certificate_authority("ChargingStationCertificate") is None
    assert certificate_authority("V2GCertificate") is None


def test_v2g_certificates_use_the_v2g_ca_or_fall_back_to_the_main_one(settings, tmp_path):
    main, v2g = make_ca(tmp_path / "main", "Main CA"), make_ca(tmp_path / "v2g", "V2G CA")
    configure(settings, **main.settings())
    assert certificate_authority("V2GCertificate").certificate == main.certificate
    configure(settings, **v2g.settings("v2g_"))
    assert certificate_authority("V2GCertificate").certificate == v2g.certificate
    assert certificate_authority("ChargingStationCertificate").certificate == main.certificate


def test_a_ca_that_cannot_be_loaded_stops_the_start_naming_the_variables(settings, tmp_path, ca):
    other = make_ca(tmp_path / "other")
    configure(settings, ca_certificate=ca.certificate_path, ca_private_key=other.key_path)
    with pytest.raises(ConfigurationError, match="OV2XMP_CA_CERTIFICATE / OV2XMP_CA_PRIVATE_KEY"):
        check_configuration()


def test_an_ev_certificate_provider_that_cannot_be_imported_stops_the_start(settings):
    configure(settings, ev_certificate_provider="certificates.tests.nowhere.Provider")
    with pytest.raises(ConfigurationError, match=r"OV2XMP_EV_CERTIFICATE_PROVIDER=.*cannot load"):
        check_configuration()


@pytest.mark.parametrize(
    "fields",
    [
        {"ca_certificate": "cert.pem"},
        {"ca_private_key": "key.pem"},
        {"v2g_ca_private_key": "key.pem"},
    ],
)
def test_certificate_and_key_go_together(settings, fields):
    with pytest.raises(ConfigurationError, match="go together"):
        dataclasses.replace(settings.OV2XMP, **fields)


@pytest.mark.parametrize("responder", ["ocsp.example.org", "ftp://ocsp.example.org/", "http://"])
def test_ocsp_responders_must_be_http_urls(settings, responder):
    with pytest.raises(ConfigurationError, match="OV2XMP_OCSP_RESPONDERS"):
        dataclasses.replace(settings.OV2XMP, ocsp_responders=(responder,))


def test_a_ca_file_variable_must_name_an_existing_file(tmp_path):
    existing = tmp_path / "ca.pem"
    existing.write_text("")
    environment = Env({"OV2XMP_CA_CERTIFICATE": str(existing)})
    assert environment.existing_file("CA_CERTIFICATE") == existing
    assert Env({}).existing_file("CA_CERTIFICATE") is None
    with pytest.raises(ConfigurationError, match=r"OV2XMP_CA_CERTIFICATE=.*no such file"):
        Env({"OV2XMP_CA_CERTIFICATE": str(tmp_path / "missing.pem")}).existing_file(
            "CA_CERTIFICATE"
        )

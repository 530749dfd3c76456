"""The certificate authority seam.

The CSMS needs a CA for two things: signing the CSRs chargers send
(SignCertificate → CertificateSigned) and answering OCSP requests about the
certificates it issued (GetCertificateStatus). ``CertificateAuthority`` is
that contract. ``LocalCertificateAuthority`` implements it with a CA
certificate and private key read from PEM files (``OV2XMP_CA_CERTIFICATE``,
``OV2XMP_CA_PRIVATE_KEY``; ``OV2XMP_V2G_CA_*`` for V2G certificates). A
remote CA (an ACME, EST or vendor PKI client) implements the same three
members and is returned by ``certificate_authority`` instead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.conf import settings

from certificates.models import CertificateType
from config.env import ConfigurationError

# OCPP's HashAlgorithmEnumType.
HASH_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}
# Chargers' clocks drift; a certificate valid only from "now" may be refused.
CLOCK_SKEW = timedelta(minutes=5)
# How long a charger may rely on an OCSP answer of ours before asking again.
OCSP_VALIDITY = timedelta(hours=24)


@dataclass(frozen=True)
class IssuedChain:
    """A signed certificate and the chain to send with it (PEM, leaf first)."""

    certificate: x509.Certificate
    chain_pem: str


@dataclass(frozen=True)
class Revocation:
    at: datetime
    reason: x509.ReasonFlags | None = None


class CertificateAuthority(Protocol):
    """What the CSMS needs of a certificate authority."""

    @property
    def certificate(self) -> x509.Certificate:
        """The issuing CA certificate. OCSP requests whose issuer name and key
        hashes are this certificate's are answered by this CA."""
        ...

    def sign(
        self,
        csr: x509.CertificateSigningRequest,
        *,
        charge_point_id: str,
        certificate_type: str,
    ) -> IssuedChain:
        """Issue a certificate for a CSR that the CSMS has already checked
        (signature, subject). Raises on failure; the caller records it."""
        ...

    def ocsp_response(
        self,
        *,
        serial_number: int,
        algorithm: hashes.HashAlgorithm,
        status: ocsp.OCSPCertStatus,
        revocation: Revocation | None = None,
    ) -> bytes:
        """A DER OCSP response, signed for this CA, saying ``status`` for the
        certificate ``serial_number`` (UNKNOWN for one it never issued)."""
        ...


def issuer_hashes(
    certificate: x509.Certificate, algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    """(issuer name hash, issuer key hash) of certificates issued by
    ``certificate``, as an OCSP request (RFC 6960 CertID) carries them."""
    # The request builder computes exactly the CertID hashes; the issuer
    # stands in for the certificate, whose serial is not part of them.
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, certificate, algorithm).build()
    return request.issuer_name_hash, request.issuer_key_hash


def signature_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.SHA256 | None:
    """Ed25519 and Ed448 sign without a separate hash; RSA and EC with SHA-256."""
    return (
        None
        if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
        else hashes.SHA256()
    )


def key_usage_for(public_key: object) -> x509.KeyUsage:
    """digitalSignature for every key; keyAgreement for EC (ECDHE), and
    keyEncipherment for RSA (RSA key transport)."""
    is_ec = isinstance(public_key, ec.EllipticCurvePublicKey)
    is_rsa = isinstance(public_key, rsa.RSAPublicKey)
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=is_rsa,
        data_encipherment=False,
        key_agreement=is_ec,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def authority_key_identifier(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """The issuer's own subjectKeyIdentifier when it has one (so that the two
    match byte for byte), else one derived from its public key."""
    try:
        identifier = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier)


class LocalCertificateAuthority:
    """A CA whose certificate and private key the CSMS holds. The certificate
    file may carry the issuing CA's own chain after it (intermediate first,
    as chargers expect it); all of it is sent after the leaf."""

    def __init__(
        self,
        *,
        certificates: list[x509.Certificate],
        private_key: CertificateIssuerPrivateKeyTypes,
        validity: timedelta,
    ) -> None:
        self._chain = certificates
        self._key = private_key
        self._validity = validity
        self._chain_pem = "".join(
            cert.public_bytes(serialization.Encoding.PEM).decode() for cert in certificates
        )

    @classmethod
    def from_files(
        cls, certificate_path: Path, private_key_path: Path, *, validity_days: int
    ) -> LocalCertificateAuthority:
        """Load and check the pair. Raises ValueError saying what is wrong."""
        try:
            certificates = x509.load_pem_x509_certificates(certificate_path.read_bytes())
        except ValueError as error:
            raise ValueError(f"{certificate_path}: not a PEM certificate ({error})") from None
        try:
            key = serialization.load_pem_private_key(private_key_path.read_bytes(), password=None)
        except (ValueError, TypeError) as error:
            # TypeError: the key is encrypted; the CSMS has no passphrase for it.
            raise ValueError(
                f"{private_key_path}: not an unencrypted PEM private key ({error})"
            ) from None
        if not isinstance(
            key,
            rsa.RSAPrivateKey
            | ec.EllipticCurvePrivateKey
            | ed25519.Ed25519PrivateKey
            | ed448.Ed448PrivateKey,
        ):
            raise ValueError(f"{private_key_path}: a {type(key).__name__} cannot sign certificates")
        issuer = certificates[0]
        if issuer.public_key() != key.public_key():
            raise ValueError(f"{private_key_path} is not the key of {certificate_path}")
        try:
            is_ca = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            raise ValueError(f"{certificate_path}: not a CA certificate (basicConstraints CA:TRUE)")
        return cls(
            certificates=certificates, private_key=key, validity=timedelta(days=validity_days)
        )

    @property
    def certificate(self) -> x509.Certificate:
        return self._chain[0]

    def sign(
        self,
        csr: x509.CertificateSigningRequest,
        *,
        charge_point_id: str,
        certificate_type: str,
    ) -> IssuedChain:
        now = datetime.now(UTC)
        issuer = self.certificate
        # A certificate never outlives the CA that vouches for it.
        not_after = min(now + self._validity, issuer.not_valid_after_utc)
        public_key = csr.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(issuer.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage_for(public_key), critical=True)
            # The station is a TLS client towards the CSMS, and (V2G, or no
            # type given: both uses) a TLS server towards the EV.
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(authority_key_identifier(issuer), critical=False)
            .sign(self._key, signature_hash(self._key))
        )
        leaf = certificate.public_bytes(serialization.Encoding.PEM).decode()
        return IssuedChain(certificate=certificate, chain_pem=leaf + self._chain_pem)

    def ocsp_response(
        self,
        *,
        serial_number: int,
        algorithm: hashes.HashAlgorithm,
        status: ocsp.OCSPCertStatus,
        revocation: Revocation | None = None,
    ) -> bytes:
        now = datetime.now(UTC)
        name_hash, key_hash = issuer_hashes(self.certificate, algorithm)
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=name_hash,
                issuer_key_hash=key_hash,
                serial_number=serial_number,
                algorithm=algorithm,
                cert_status=status,
                this_update=now,
                next_update=now + OCSP_VALIDITY,
                revocation_time=revocation.at if revocation else None,
                revocation_reason=revocation.reason if revocation else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.certificate)
            .sign(self._key, signature_hash(self._key))
        )
        return response.public_bytes(serialization.Encoding.DER)


# --- The configured authorities ----------------------------------------------------------------


@functools.cache
def _local_authority(
    certificate_path: Path, private_key_path: Path, validity_days: int
) -> LocalCertificateAuthority:
    return LocalCertificateAuthority.from_files(
        certificate_path, private_key_path, validity_days=validity_days
    )


def _configured_pairs() -> list[tuple[str, Path, Path]]:
    """(variable prefix, certificate, key) of each configured CA, main first."""
    config = settings.OV2XMP
    pairs = [
        ("OV2XMP_CA", config.ca_certificate, config.ca_private_key),
        ("OV2XMP_V2G_CA", config.v2g_ca_certificate, config.v2g_ca_private_key),
    ]
    return [(name, cert, key) for name, cert, key in pairs if cert and key]


def _load(name: str, certificate_path: Path, private_key_path: Path) -> CertificateAuthority:
    try:
        return _local_authority(
            certificate_path, private_key_path, settings.OV2XMP.certificate_validity_days
        )
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{name}_CERTIFICATE / {name}_PRIVATE_KEY: {error}") from error


def certificate_authority(certificate_type: str) -> CertificateAuthority | None:
    """The CA that signs CSRs of this type: the V2G CA for V2GCertificate when
    one is configured, else the main CA; None when none is configured."""
    pairs = {name: (cert, key) for name, cert, key in _configured_pairs()}
    name = "OV2XMP_V2G_CA" if certificate_type == CertificateType.V2G else "OV2XMP_CA"
    if name not in pairs:
        name = "OV2XMP_CA"
    if name not in pairs:
        return None
    return _load(name, *pairs[name])


def certificate_authorities() -> list[CertificateAuthority]:
    """Every configured CA, once each (the V2G pair may repeat the main one)."""
    authorities: list[CertificateAuthority] = []
    for name, cert, key in _configured_pairs():
        authority = _load(name, cert, key)
        if authority not in authorities:
            authorities.append(authority)
    return authorities


def check_configuration() -> None:
    """Load every configured CA and the EV-certificate provider now; raises
    ConfigurationError naming the variable."""
    from certificates.ev_certificates import configured_provider

    certificate_authorities()
    configured_provider()

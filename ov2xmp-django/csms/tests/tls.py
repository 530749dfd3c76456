"""A test PKI for wss://: a CA, a server certificate for 127.0.0.1, client
certificates for chargers, and the client-side TLS contexts."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from certificates.tests.factories import PEM, CaFiles, make_ca


@dataclass(frozen=True)
class Pki:
    ca: CaFiles
    directory: Path
    server_certificate: Path
    server_key: Path

    def issue(self, common_name: str, *, server: bool = False) -> tuple[Path, Path]:
        """A certificate of this CA and its key, as PEM files."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Charging"),
                        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    ]
                )
            )
            .issuer_name(self.ca.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        else:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False
            )
        certificate = builder.sign(self.ca.key, hashes.SHA256())
        certificate_path = self.directory / f"{common_name}.pem"
        key_path = self.directory / f"{common_name}.key"
        certificate_path.write_bytes(certificate.public_bytes(PEM))
        key_path.write_bytes(
            key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        return certificate_path, key_path

    def client_context(self, common_name: str | None = None) -> ssl.SSLContext:
        """What a charger uses: trusts this CA; presents a certificate for
        ``common_name`` when given."""
        context = ssl.create_default_context(cafile=self.ca.certificate_path)
        if common_name is not None:
            context.load_cert_chain(*self.issue(common_name))
        return context


def make_pki(directory: Path) -> Pki:
    ca = make_ca(directory, "OCPP Test CA")
    pki = Pki(ca, directory, Path(), Path())
    certificate, key = pki.issue("127.0.0.1", server=True)
    return Pki(ca, directory, certificate, key)

"""A test PKI made with ``cryptography``: CAs written to PEM files the way an
operator configures them, CSRs as chargers send them, and an OCSP responder
on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from certificates.authority import issuer_hashes
from certificates.ev_certificates import EvCertificateAnswer

PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class CaFiles:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    certificate_path: Path
    key_path: Path

    def settings(self, prefix: str = "") -> dict[str, Path]:
        """The PlatformSettings fields that configure this CA."""
        return {
            f"{prefix}ca_certificate": self.certificate_path,
            f"{prefix}ca_private_key": self.key_path,
        }

    def ocsp_request_data(
        self, serial_number: int, *, responder_url: str = "http://ocsp.invalid/"
    ) -> dict[str, str]:
        """OCPP's OCSPRequestData for a certificate of this CA (SHA-256)."""
        name_hash, key_hash = issuer_hashes(self.certificate, hashes.SHA256())
        return {
            "hash_algorithm": "SHA256",
            "issuer_name_hash": name_hash.hex(),
            "issuer_key_hash": key_hash.hex(),
            "serial_number": format(serial_number, "X"),
            "responder_url": responder_url,
        }


def make_ca(directory: Path, name: str = "O-V2X-MP Test CA", *, is_ca: bool = True) -> CaFiles:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    slug = name.replace(" ", "-").lower()
    certificate_path = directory / f"{slug}.pem"
    key_path = directory / f"{slug}.key"
    certificate_path.write_bytes(certificate.public_bytes(PEM))
    key_path.write_bytes(
        key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return CaFiles(certificate, key, certificate_path, key_path)


def make_csr(
    common_name: str | None, *, key: Any = None, organization: str = "Acme Charging"
) -> str:
    """A PEM CSR, signed by ``key`` (a new P-256 key by default)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    if common_name is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(attributes))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(PEM).decode()


def weak_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def with_broken_signature(csr_pem: str) -> str:
    """The same CSR with its signature's last byte changed."""
    der = bytearray(
        x509.load_pem_x509_csr(csr_pem.encode()).public_bytes(serialization.Encoding.DER)
    )
    der[-1] ^= 0x01
    return x509.load_der_x509_csr(bytes(der)).public_bytes(PEM).decode()


def leaf_of(chain_pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificates(chain_pem.encode())[0]


@dataclass
class OcspResponder:
    """An OCSP responder on 127.0.0.1 that answers ``good``, signed by its
    own CA, and keeps what it received."""

    ca: CaFiles
    url: str = ""
    requests: list[tuple[str, ocsp.OCSPRequest]] = field(default_factory=list)

    def respond(self, body: bytes) -> bytes:
        request = ocsp.load_der_ocsp_request(body)
        now = datetime.now(UTC)
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=request.issuer_name_hash,
                issuer_key_hash=request.issuer_key_hash,
                serial_number=request.serial_number,
                algorithm=request.hash_algorithm,
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=now,
                next_update=None,
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca.certificate)
            .sign(self.ca.key, hashes.SHA256())
        )
        return response.public_bytes(serialization.Encoding.DER)


@contextmanager
def ocsp_responder(ca: CaFiles) -> Iterator[OcspResponder]:
    responder = OcspResponder(ca)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            responder.requests.append(
                (self.headers["Content-Type"], ocsp.load_der_ocsp_request(body))
            )
            answer = responder.respond(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    responder.url = f"http://127.0.0.1:{server.server_port}/ocsp"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield responder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class FixedEvCertificateProvider:
    """A contract-certificate provider for tests: answers every request
    Accepted with ``EXI_RESPONSE`` and remembers what it was asked."""

    EXI_RESPONSE = "gJgCAAAAAAAAAAAAAA=="
    requests: list[dict[str, str]] = []

    def get_ev_certificate(
        self, *, iso15118_schema_version: str, action: str, exi_request: str
    ) -> EvCertificateAnswer:
        self.requests.append(
            {"schema": iso15118_schema_version, "action": action, "exi_request": exi_request}
        )
        return EvCertificateAnswer(status="Accepted", exi_response=self.EXI_RESPONSE)


class BrokenEvCertificateProvider:
    def get_ev_certificate(self, **_: str) -> EvCertificateAnswer:
        raise ConnectionError("contract certificate pool unreachable")


class InvalidEvCertificateProvider:
    def get_ev_certificate(self, **_: str) -> EvCertificateAnswer:
        return EvCertificateAnswer(status="Maybe")

"""GetCertificateStatus parts that need no charger: decoding OCPP's
OCSPRequestData, the responder allow-list, and forwarding."""

from __future__ import annotations

import dataclasses
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp

from certificates.ocsp import OcspAnswer, OcspQuery, ocsp_forward, responder_allowed
from certificates.tests.factories import make_ca, ocsp_responder

ALLOWED = ["https://ocsp.example.org/", "http://10.0.0.5:8080/ocsp/"]


@pytest.mark.parametrize(
    "url",
    [
        "https://ocsp.example.org/",
        "https://OCSP.example.org/v1/status",
        "http://10.0.0.5:8080/ocsp/",
        "http://10.0.0.5:8080/ocsp/ca1",
    ],
)
def test_responders_under_an_allowed_prefix(url):
    assert responder_allowed(url, ALLOWED)


@pytest.mark.parametrize(
    "url",
    [
        "http://ocsp.example.org/",  # another scheme
        "https://ocsp.example.org.evil.net/",
        "https://ocsp.example.org@evil.net/",
        "https://user@ocsp.example.org/",
        "https://ocsp.example.org:8443/",
        "http://10.0.0.5:8080/admin",
        "http://10.0.0.5:8080/ocsp/../admin",
        "http://10.0.0.5:8080/ocsp/%2e%2e/admin",
        "http://10.0.0.5:port/ocsp/",
        "file:///etc/passwd",
        "not a url",
    ],
)
def test_everything_else_is_refused(url):
    assert not responder_allowed(url, ALLOWED)


def test_nothing_is_allowed_by_default():
    assert not responder_allowed("https://ocsp.example.org/", [])


def query(**fields: str) -> OcspQuery:
    return OcspQuery.from_hex(
        **{
            "hash_algorithm": "SHA256",
            "issuer_name_hash": "ab" * 32,
            "issuer_key_hash": "CD" * 32,
            "serial_number": "00FF",
            "responder_url": "http://ocsp.invalid/",
            **fields,
        }
    )


def test_a_query_is_decoded_from_hex():
    decoded = query()
    assert (decoded.issuer_name_hash, decoded.issuer_key_hash) == (b"\xab" * 32, b"\xcd" * 32)
    assert (decoded.serial_number, decoded.serial_hex) == (255, "ff")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"issuer_name_hash": "xyz"}, "issuerNameHash: 'xyz' is not hex"),
        ({"issuer_key_hash": "ab" * 20}, r"issuerKeyHash: not a SHA256 hash \(32 bytes\)"),
        ({"hash_algorithm": "SHA512"}, "issuerNameHash: not a SHA512 hash"),
        ({"serial_number": "0x12G"}, "serialNumber: '0x12G' is not hex"),
    ],
)
def test_a_query_that_is_not_hex_names_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        query(**fields)


@pytest.fixture
def allow(settings):
    def allow(*prefixes: str) -> None:
        settings.OV2XMP = dataclasses.replace(settings.OV2XMP, ocsp_responders=prefixes)

    return allow


def test_forwarding_posts_the_ocsp_request_and_returns_the_answer(tmp_path, allow):
    ca = make_ca(tmp_path)
    with ocsp_responder(ca) as responder:
        allow(responder.url)
        answer = ocsp_forward(
            OcspQuery.from_hex(**ca.ocsp_request_data(7, responder_url=responder.url))
        )
    assert (answer.status, answer.answered_by, answer.certificate_status) == (
        "Accepted",
        "responder",
        "good",
    )
    content_type, request = responder.requests[0]
    assert (content_type, request.serial_number) == ("application/ocsp-request", 7)


def test_a_responder_outside_the_allow_list_is_not_contacted(tmp_path, allow):
    ca = make_ca(tmp_path)
    with ocsp_responder(ca) as responder:
        allow("https://ocsp.example.org/")
        answer = ocsp_forward(
            OcspQuery.from_hex(**ca.ocsp_request_data(7, responder_url=responder.url))
        )
    assert (answer.status, answer.reason_code) == ("Failed", "ResponderNotAllowed")
    assert responder.requests == []


class Redirect(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(307)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_redirects_are_not_followed(allow):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        allow(url)
        answer = ocsp_forward(query(responder_url=url))
    finally:
        server.shutdown()
        server.server_close()
    assert (answer.status, answer.reason_code) == ("Failed", "ResponderError")
    assert "redirect" in answer.reason


def test_an_unreachable_responder_is_a_failure(allow):
    allow("http://127.0.0.1:9/")  # discard port: nothing listens
    answer = ocsp_forward(query(responder_url="http://127.0.0.1:9/"))
    assert (answer.status, answer.reason_code) == ("Failed", "ResponderError")


UNAUTHORIZED = ocsp.OCSPResponseBuilder.build_unsuccessful(
    ocsp.OCSPResponseStatus.UNAUTHORIZED
).public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("body", "reason_code"),
    [
        (b"<html>not ocsp</html>", "InvalidResponse"),
        (UNAUTHORIZED, "ResponderRefused"),
        (b"\x30" * 5000, "ResponseTooLarge"),
    ],
)
def test_answers_the_charger_could_not_use_are_failures(body, reason_code):
    answer = OcspAnswer.from_response(body, answered_by="responder")
    assert (answer.status, answer.reason_code, answer.ocsp_result) == ("Failed", reason_code, "")

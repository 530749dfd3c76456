"""Certificate messages end to end: a real websocket charger, the real server
and a test CA made with ``cryptography``. SignCertificate is answered, the
certificate signed and sent back in CertificateSigned, and the charger's
answer recorded; GetCertificateStatus is answered from our CA or forwarded;
Get15118EVCertificate goes to the configured provider."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as call_result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from certificates.models import (
    CertificateSigningRequest,
    CertificateStatusRequest,
    EvCertificateRequest,
    IssuedCertificate,
)
from certificates.ocsp import OcspAnswer
from certificates.tests.factories import (
    FixedEvCertificateProvider,
    make_ca,
    make_csr,
    ocsp_responder,
)
from csms.simulator import SIMULATORS, SimulatedCharger16, SimulatedCharger201, simulated_charger
from csms.tests.helpers import eventually
from csms.v201.certificates import status_info

pytestmark = pytest.mark.django_db(transaction=True)

V201 = ("ocpp2.0.1",)


class CertificateReceiver:
    """Takes CertificateSigned: queues what it got, answers ``answer``."""

    answer = "Accepted"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()


class Receiver201(CertificateReceiver, SimulatedCharger201):
    @on(Action.certificate_signed)
    async def on_certificate_signed(self, **payload: Any) -> call_result.CertificateSigned:
        await self.received.put(payload)
        if self.answer == "Late":
            await asyncio.sleep(1)
        if self.answer in ("Accepted", "Late"):
            return call_result.CertificateSigned(status="Accepted")
        info = {"reason_code": "InvalidCertificate", "additional_info": "wrong key usage"}
        return call_result.CertificateSigned(status="Rejected", status_info=info)


class Receiver16(CertificateReceiver, SimulatedCharger16):
    @on(Action16.certificate_signed)
    async def on_certificate_signed(self, **payload: Any) -> call_result16.CertificateSigned:
        await self.received.put(payload)
        return call_result16.CertificateSigned(status=self.answer)


@pytest.fixture
def receivers(monkeypatch):
    """Simulated chargers that can take CertificateSigned."""
    monkeypatch.setitem(SIMULATORS, "ocpp2.0.1", Receiver201)
    monkeypatch.setitem(SIMULATORS, "ocpp1.6", Receiver16)


@pytest.fixture
def ca(tmp_path):
    return make_ca(tmp_path / "ca")


async def signing_request(charge_point_id: str, status: str) -> CertificateSigningRequest | None:
    """The charger's newest signing request, once it has ``status``."""
    return await CertificateSigningRequest.objects.filter(
        charge_point_id=charge_point_id, status=status
    ).afirst()


async def delivered(charger, status: str = "Delivered") -> tuple[dict, CertificateSigningRequest]:
    payload = await asyncio.wait_for(charger.received.get(), 10)
    request = await eventually(lambda: signing_request(charger.id, status))
    return payload, request


def verify_issued_by(certificate: x509.Certificate, ca) -> None:
    """Raises unless ``ca``'s key signed ``certificate``."""
    algorithm = certificate.signature_hash_algorithm
    assert algorithm is not None
    ca.certificate.public_key().verify(
        certificate.signature, certificate.tbs_certificate_bytes, ec.ECDSA(algorithm)
    )


# --- SignCertificate → CertificateSigned --------------------------------------------------------


async def test_an_accepted_csr_is_signed_and_delivered(start_csms, ca, receivers):
    csms = await start_csms(**ca.settings())
    async with simulated_charger(csms.url, "CP-CERT", subprotocols=V201) as charger:
        # The version's own handlers still route beside the certificate mixin.
        assert (await charger.call(call.Heartbeat())).current_time
        reply = await charger.call(
            call.SignCertificate(
                csr=make_csr("CP-CERT"), certificate_type="ChargingStationCertificate"
            )
        )
        assert (reply.status, reply.status_info) == ("Accepted", None)
        payload, request = await delivered(charger)
    chain = x509.load_pem_x509_certificates(payload["certificate_chain"].encode())
    assert payload["certificate_type"] == "ChargingStationCertificate"
    assert [cert.subject for cert in chain[1:]] == [ca.certificate.subject]
    leaf = chain[0]
    verify_issued_by(leaf, ca)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP-CERT"
    issued = await IssuedCertificate.objects.aget(signing_request=request)
    assert issued.serial_number == format(leaf.serial_number, "x")
    assert (request.ocpp_version, request.signed_at is not None) == ("2.0.1", True)
    assert request.answered_at is not None


async def test_a_csr_for_another_chargers_id_is_rejected_and_stored(start_csms, ca):
    csms = await start_csms(**ca.settings())
    async with simulated_charger(csms.url, "CP-A", subprotocols=V201) as charger:
        reply = await charger.call(call.SignCertificate(csr=make_csr("CP-B")))
    assert reply.status == "Rejected"
    assert reply.status_info["reason_code"] == "InvalidCommonName"
    assert "'CP-A'" in reply.status_info["additional_info"]
    request = await CertificateSigningRequest.objects.aget(charge_point_id="CP-A")
    assert (request.status, request.reason_code) == ("Rejected", "InvalidCommonName")
    assert "CN=CP-B" in request.subject
    assert not await IssuedCertificate.objects.aexists()


async def test_a_garbage_csr_is_rejected(start_csms, ca):
    csms = await start_csms(**ca.settings())
    async with simulated_charger(csms.url, "CP-JUNK", subprotocols=V201) as charger:
        reply = await charger.call(call.SignCertificate(csr="-----BEGIN NONSENSE-----"))
    assert (reply.status, reply.status_info["reason_code"]) == ("Rejected", "InvalidCSR")
    request = await CertificateSigningRequest.objects.aget(charge_point_id="CP-JUNK")
    assert (request.status, request.csr_pem) == ("Rejected", "-----BEGIN NONSENSE-----")


async def test_without_a_ca_the_csr_is_rejected_with_the_reason(csms):
    async with simulated_charger(csms.url, "CP-NOCA", subprotocols=V201) as charger:
        reply = await charger.call(call.SignCertificate(csr=make_csr("CP-NOCA")))
    assert (reply.status, reply.status_info["reason_code"]) == ("Rejected", "NoCAConfigured")
    assert "OV2XMP_CA_CERTIFICATE" in reply.status_info["additional_info"]
    request = await CertificateSigningRequest.objects.aget(charge_point_id="CP-NOCA")
    assert (request.status, request.reason_code) == ("Rejected", "NoCAConfigured")


async def test_a_certificate_the_charger_rejects_is_recorded(start_csms, ca, receivers):
    csms = await start_csms(**ca.settings())
    async with simulated_charger(csms.url, "CP-PICKY", subprotocols=V201) as charger:
        charger.answer = "Rejected"
        await charger.call(call.SignCertificate(csr=make_csr("CP-PICKY")))
        _, request = await delivered(charger, "DeliveryRejected")
    assert (request.reason_code, request.reason) == ("InvalidCertificate", "wrong key usage")
    assert await IssuedCertificate.objects.filter(signing_request=request).aexists()


async def test_a_charger_that_cannot_take_the_certificate_is_recorded(start_csms, ca):
    # The plain simulator has no CertificateSigned handler: it answers NotImplemented.
    csms = await start_csms(**ca.settings())
    async with simulated_charger(csms.url, "CP-DEAF", subprotocols=V201) as charger:
        await charger.call(call.SignCertificate(csr=make_csr("CP-DEAF")))
        request = await eventually(lambda: signing_request("CP-DEAF", "DeliveryFailed"))
    assert request.reason_code == "CallError"
    assert "NotImplemented" in request.reason


async def test_a_charger_that_answers_too_late_is_recorded(start_csms, ca, receivers):
    csms = await start_csms(**ca.settings(), ocpp_response_timeout=0.2)
    async with simulated_charger(csms.url, "CP-SLOW", subprotocols=V201) as charger:
        charger.answer = "Late"
        await charger.call(call.SignCertificate(csr=make_csr("CP-SLOW")))
        _, request = await delivered(charger, "DeliveryFailed")
    assert (request.reason_code, request.reason) == (
        "Timeout",
        "No answer to CertificateSigned within 0.2 s.",
    )


def test_status_info_is_cut_to_the_schema_limits():
    answer = OcspAnswer.failed("ResponderErrorWithALongName", "x" * 600)
    info = status_info(answer)
    assert info is not None
    assert (len(info.reason_code), len(info.additional_info or "")) == (20, 512)
    assert status_info(OcspAnswer(status="Accepted")) is None


async def test_ocpp16_sign_certificate_takes_the_same_path(start_csms, ca, receivers):
    csms = await start_csms(**ca.settings())
    async with simulated_charger(csms.url, "CP-16") as charger:
        assert (await charger.call(call16.Heartbeat())).current_time
        reply = await charger.call(call16.SignCertificate(csr=make_csr("CP-16")))
        assert reply.status == "Accepted"
        payload, request = await delivered(charger)
        rejected = await charger.call(call16.SignCertificate(csr=make_csr("CP-OTHER")))
    assert rejected.status == "Rejected"
    assert set(payload) == {"certificate_chain"}  # 1.6 has no certificate type
    leaf = x509.load_pem_x509_certificates(payload["certificate_chain"].encode())[0]
    verify_issued_by(leaf, ca)
    assert (request.ocpp_version, request.certificate_type) == ("1.6", "ChargingStationCertificate")


# --- GetCertificateStatus ----------------------------------------------------------------------


def ocsp_result(reply) -> ocsp.OCSPResponse:
    assert reply.status == "Accepted", reply
    return ocsp.load_der_ocsp_response(base64.b64decode(reply.ocsp_result))


async def test_certificate_status_of_our_certificates(start_csms, ca, receivers, api):
    csms = await start_csms(**ca.settings())
    async with simulated_charger(csms.url, "CP-OCSP", subprotocols=V201) as charger:
        await charger.call(call.SignCertificate(csr=make_csr("CP-OCSP")))
        _, request = await delivered(charger)
        issued = await IssuedCertificate.objects.aget(signing_request=request)

        async def status_of(serial: int) -> ocsp.OCSPResponse:
            data = ca.ocsp_request_data(serial)
            return ocsp_result(await charger.call(call.GetCertificateStatus(data)))

        good = await status_of(int(issued.serial_number, 16))
        revoke = await sync_to_async(api.post)(
            f"/api/issued-certificates/{issued.pk}/revoke/", {"reason": "keyCompromise"}
        )
        assert revoke.status_code == 200, revoke.content
        revoked = await status_of(int(issued.serial_number, 16))
        unknown = await status_of(12345)
    assert good.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert good.serial_number == int(issued.serial_number, 16)
    assert (
        good.responder_key_hash
        == x509.SubjectKeyIdentifier.from_public_key(ca.certificate.public_key()).digest
    )
    assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason == x509.ReasonFlags.key_compromise
    assert unknown.certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    rows = [
        (row.status, row.answered_by, row.certificate_status)
        async for row in CertificateStatusRequest.objects.order_by("id")
    ]
    assert rows == [
        ("Accepted", "ca", "good"),
        ("Accepted", "ca", "revoked"),
        ("Accepted", "ca", "unknown"),
    ]


async def test_certificate_status_is_forwarded_to_allowed_responders_only(start_csms, tmp_path):
    other_ca = make_ca(tmp_path / "mo", "Mobility Operator CA")
    with ocsp_responder(other_ca) as responder:
        csms = await start_csms(ocsp_responders=(responder.url.removesuffix("ocsp"),))
        allowed = other_ca.ocsp_request_data(0xBEEF, responder_url=responder.url)
        elsewhere = {**allowed, "responder_url": "http://169.254.169.254/latest/meta-data"}
        async with simulated_charger(csms.url, "CP-FWD", subprotocols=V201) as charger:
            forwarded = await charger.call(call.GetCertificateStatus(allowed))
            refused = await charger.call(call.GetCertificateStatus(elsewhere))
    response = ocsp_result(forwarded)
    assert (response.serial_number, response.certificate_status) == (
        0xBEEF,
        ocsp.OCSPCertStatus.GOOD,
    )
    assert [(kind, request.serial_number) for kind, request in responder.requests] == [
        ("application/ocsp-request", 0xBEEF)
    ]
    assert refused.status == "Failed"
    assert refused.status_info["reason_code"] == "ResponderNotAllowed"
    rows = [
        (row.status, row.answered_by, row.serial_number, row.reason_code)
        async for row in CertificateStatusRequest.objects.order_by("id")
    ]
    assert rows == [
        ("Accepted", "responder", "beef", ""),
        ("Failed", "", "beef", "ResponderNotAllowed"),
    ]


async def test_certificate_status_with_a_hash_that_is_not_hex_is_a_call_error(csms, tmp_path):
    data = make_ca(tmp_path).ocsp_request_data(1) | {"issuer_key_hash": "zz"}
    async with simulated_charger(csms.url, "CP-HEX", subprotocols=V201) as charger:
        with pytest.raises(PropertyConstraintViolationError, match="issuerKeyHash"):
            await charger.call(call.GetCertificateStatus(data), suppress=False)
    assert not await CertificateStatusRequest.objects.aexists()


# --- Get15118EVCertificate ---------------------------------------------------------------------


def ev_certificate_request() -> call.Get15118EVCertificate:
    return call.Get15118EVCertificate(
        iso15118_schema_version="urn:iso:15118:2:2013:MsgDef", action="Install", exi_request="gAA="
    )


async def test_ev_certificate_without_a_provider_fails_and_is_stored(csms):
    async with simulated_charger(csms.url, "CP-PNC", subprotocols=V201) as charger:
        reply = await charger.call(ev_certificate_request())
    assert (reply.status, reply.exi_response) == ("Failed", "")
    assert reply.status_info["reason_code"] == "NotConfigured"
    row = await EvCertificateRequest.objects.aget(charge_point_id="CP-PNC")
    assert (row.status, row.action, row.exi_request, row.reason_code) == (
        "Failed",
        "Install",
        "gAA=",
        "NotConfigured",
    )


async def test_ev_certificate_with_a_provider(start_csms):
    provider = f"{FixedEvCertificateProvider.__module__}.FixedEvCertificateProvider"
    csms = await start_csms(ev_certificate_provider=provider)
    async with simulated_charger(csms.url, "CP-PNC2", subprotocols=V201) as charger:
        reply = await charger.call(ev_certificate_request())
    assert (reply.status, reply.exi_response) == (
        "Accepted",
        FixedEvCertificateProvider.EXI_RESPONSE,
    )
    assert FixedEvCertificateProvider.requests[-1] == {
        "schema": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exi_request": "gAA=",
    }
    row = await EvCertificateRequest.objects.aget(charge_point_id="CP-PNC2")
    assert (row.status, row.exi_response) == ("Accepted", FixedEvCertificateProvider.EXI_RESPONSE)

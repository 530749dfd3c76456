"""REST API of certificate requests and issued certificates: read-only
lists with filters, and revocation."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.models import User
from certificates.models import (
    CertificateSigningRequest,
    CertificateStatusRequest,
    EvCertificateRequest,
    IssuedCertificate,
)
from chargepoints.tests.factories import ChargePointFactory
from core.testing import listed

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/certificate-signing-requests/",
    "/api/issued-certificates/",
    "/api/certificate-status-requests/",
    "/api/ev-certificate-requests/",
]


def signing_request(
    charge_point_id: str, status: str = "Signed", **fields
) -> CertificateSigningRequest:
    ChargePointFactory(id=charge_point_id)
    return CertificateSigningRequest.objects.create(
        charge_point_id=charge_point_id,
        ocpp_version="2.0.1",
        certificate_type=fields.pop("certificate_type", "ChargingStationCertificate"),
        csr_pem="-----BEGIN CERTIFICATE REQUEST-----",
        status=status,
        **fields,
    )


def issued(request: CertificateSigningRequest, serial: str) -> IssuedCertificate:
    return IssuedCertificate.objects.create(
        signing_request=request,
        charge_point_id=request.charge_point_id,
        certificate_type=request.certificate_type,
        serial_number=serial,
        subject=f"CN={request.charge_point_id}",
        issuer="CN=Test CA",
        not_before="2026-01-01T00:00:00Z",
        not_after="2027-01-01T00:00:00Z",
        certificate_pem="-----BEGIN CERTIFICATE-----",
    )


@pytest.fixture
def viewer(db) -> tuple[User, APIClient]:
    """A logged-in user without model permissions."""
    user = User.objects.create_user(username="viewer", password="viewer-pass-123")
    client = APIClient()
    client.force_authenticate(user)
    return user, client


@pytest.mark.parametrize("path", LISTS)
def test_the_lists_need_a_login(db, path):
    assert APIClient().get(path).status_code == 401


def test_the_api_root_lists_them(db):
    body = APIClient().get("/api/").json()
    for path in LISTS:
        key = path.removeprefix("/api/").strip("/").replace("-", "_")
        assert body[key] == f"http://testserver{path}"


def test_signing_requests_show_their_certificate_and_filter(api):
    signed = signing_request("CP-1")
    certificate = issued(signed, "abc1")
    signing_request("CP-2", "Rejected", reason_code="InvalidCommonName")
    signing_request("CP-3", "Accepted", certificate_type="V2GCertificate")
    body = api.get(f"/api/certificate-signing-requests/{signed.pk}/").json()
    assert body["certificate"]["serial_number"] == "abc1"
    assert body["certificate"]["id"] == certificate.pk
    assert listed(api.get("/api/certificate-signing-requests/?charge_point=CP-1")) == [signed.pk]
    assert listed(
        api.get("/api/certificate-signing-requests/?status=Rejected"), "charge_point"
    ) == ["CP-2"]
    by_type = api.get("/api/certificate-signing-requests/?certificate_type=V2GCertificate")
    assert listed(by_type, "charge_point") == ["CP-3"]
    rejected = api.get("/api/certificate-signing-requests/?charge_point=CP-2").json()["results"][0]
    assert (rejected["certificate"], rejected["reason_code"]) == (None, "InvalidCommonName")


def test_revoking_a_certificate(api):
    certificate = issued(signing_request("CP-1"), "abc1")
    response = api.post(
        f"/api/issued-certificates/{certificate.pk}/revoke/", {"reason": "superseded"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["revocation_reason"] == "superseded"
    assert response.json()["revoked_at"] is not None
    assert listed(api.get("/api/issued-certificates/?revoked=true"), "serial_number") == ["abc1"]
    assert listed(api.get("/api/issued-certificates/?revoked=false")) == []
    again = api.post(f"/api/issued-certificates/{certificate.pk}/revoke/")
    assert again.status_code == 409
    assert "already revoked" in again.json()["detail"]


def test_a_revocation_reason_must_be_an_rfc_5280_one(api):
    certificate = issued(signing_request("CP-1"), "abc1")
    response = api.post(f"/api/issued-certificates/{certificate.pk}/revoke/", {"reason": "bored"})
    assert response.status_code == 400
    assert "reason" in response.json()
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_revoking_needs_the_change_permission(viewer):
    user, client = viewer
    certificate = issued(signing_request("CP-1"), "abc1")
    url = f"/api/issued-certificates/{certificate.pk}/revoke/"
    assert client.get("/api/issued-certificates/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_issuedcertificate"))
    client.force_authenticate(User.objects.get(pk=user.pk))
    assert client.get("/api/issued-certificates/").status_code == 200
    assert client.post(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="add_issuedcertificate"))
    client.force_authenticate(User.objects.get(pk=user.pk))
    assert client.post(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="change_issuedcertificate"))
    client.force_authenticate(User.objects.get(pk=user.pk))
    assert client.post(url).status_code == 200


def test_the_lists_are_read_only(api):
    for path in LISTS:
        assert api.post(path, {}).status_code == 405


def test_status_and_ev_certificate_request_logs(api):
    ChargePointFactory(id="CP-1")
    ChargePointFactory(id="CP-2")
    common = {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": "ab" * 32,
        "issuer_key_hash": "cd" * 32,
        "responder_url": "http://ocsp.example.org/",
    }
    CertificateStatusRequest.objects.create(
        charge_point_id="CP-1", serial_number="1", status="Accepted", answered_by="ca", **common
    )
    CertificateStatusRequest.objects.create(
        charge_point_id="CP-2", serial_number="2", status="Failed", **common
    )
    EvCertificateRequest.objects.create(
        charge_point_id="CP-1",
        iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
        action="Install",
        exi_request="gAA=",
        status="Failed",
        reason_code="NotConfigured",
    )
    statuses = api.get("/api/certificate-status-requests/?status=Failed")
    assert listed(statuses, "serial_number") == ["2"]
    by_responder = api.get("/api/certificate-status-requests/?answered_by=ca")
    assert listed(by_responder, "charge_point") == ["CP-1"]
    ev = api.get("/api/ev-certificate-requests/?charge_point=CP-1&action=Install").json()["results"]
    assert [(row["status"], row["reason_code"], row["exi_response"]) for row in ev] == [
        ("Failed", "NotConfigured", "")
    ]

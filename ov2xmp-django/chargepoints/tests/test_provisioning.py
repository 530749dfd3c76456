"""Provisioning a charger's security profile and credentials through the API."""

from __future__ import annotations

import pytest

from chargepoints.models import ChargePoint
from chargepoints.security import password_matches
from chargepoints.tests.factories import ChargePointFactory

PASSWORD = "0123456789abcdef0123"


def test_a_charger_is_provisioned_with_profile_and_password(api):
    response = api.post(
        "/api/chargepoints/",
        {"id": "CP-1", "security_profile": 2, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["security_profile"], body["has_password"]) == (2, True)
    assert body["generated_password"] is None
    assert "password" not in body
    assert body["password_changed_at"] is not None
    stored = ChargePoint.objects.get(id="CP-1").password_hash
    assert PASSWORD not in stored
    assert password_matches(PASSWORD, stored)


def test_a_generated_password_is_shown_once(api):
    response = api.post(
        "/api/chargepoints/",
        {"id": "CP-1", "security_profile": 1, "generate_password": True},
        format="json",
    )
    generated = response.json()["generated_password"]
    assert len(generated) == 40
    assert password_matches(generated, ChargePoint.objects.get(id="CP-1").password_hash)
    assert api.get("/api/chargepoints/CP-1/").json()["generated_password"] is None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"security_profile": 1}, "password", "Security profile 1 needs a password"),
        ({"security_profile": 2, "password": "too-short"}, "password", "use 16 to 40"),
        (
            {"security_profile": 1, "password": PASSWORD, "generate_password": True},
            "generate_password",
            "not both",
        ),
        ({"security_profile": 4}, "security_profile", "not a valid choice"),
    ],
)
def test_provisioning_mistakes_are_refused_with_the_reason(api, body, field, message):
    response = api.post("/api/chargepoints/", {"id": "CP-1", **body}, format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not ChargePoint.objects.filter(id="CP-1").exists()


def test_a_charger_moves_to_client_certificates_without_a_password(api):
    ChargePointFactory(id="CP-1")
    response = api.patch(
        "/api/chargepoints/CP-1/",
        {"security_profile": 3, "certificate_identity": "SN-000123"},
        format="json",
    )
    assert response.status_code == 200
    charger = ChargePoint.objects.get(id="CP-1")
    assert (charger.security_profile, charger.certificate_identity) == (3, "SN-000123")


def test_a_new_password_replaces_the_old_one(api):
    api.post(
        "/api/chargepoints/",
        {"id": "CP-1", "security_profile": 1, "password": PASSWORD},
        format="json",
    )
    assert (
        api.patch("/api/chargepoints/CP-1/", {"security_profile": 2}, format="json").status_code
        == 200
    )
    api.patch("/api/chargepoints/CP-1/", {"password": "fedcba9876543210fedc"}, format="json")
    stored = ChargePoint.objects.get(id="CP-1").password_hash
    assert password_matches("fedcba9876543210fedc", stored)
    assert not password_matches(PASSWORD, stored)

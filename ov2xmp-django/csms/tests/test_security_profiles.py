"""OCPP security profiles enforced at the websocket handshake, with real
clients: Basic authentication (1), over TLS only (2), client certificates
bound to the charger id (3), TLS ended here or at a trusted proxy."""

from __future__ import annotations

import base64
import ssl

import pytest
from asgiref.sync import sync_to_async
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

from chargepoints.models import ChargePoint, SecurityProfile
from chargepoints.security import password_hash
from chargepoints.tests.factories import ChargePointFactory
from config.env import Env
from csms.simulator import simulated_charger
from csms.tests.tls import make_pki
from ocpp_messages.models import OcppMessage

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "0123456789abcdef0123"


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@sync_to_async
def provision(charger_id: str, profile: int, *, password: str | None = PASSWORD, identity=""):
    ChargePointFactory(
        id=charger_id,
        security_profile=profile,
        password_hash=password_hash(password) if password else "",
        certificate_identity=identity,
    )


async def refused(url: str, **options) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(url, subprotocols=["ocpp1.6"], **options):
            pass
    return refusal.value


async def boots(url: str, charger_id: str, **options) -> bool:
    """Connects, and the CSMS answers its BootNotification."""
    async with simulated_charger(url, charger_id, **options) as charger:
        answer = await charger.call(
            call.BootNotification(charge_point_model="M", charge_point_vendor="V")
        )
    return answer.status == "Accepted"


@pytest.fixture
def pki(tmp_path):
    return make_pki(tmp_path / "pki")


@pytest.fixture
async def tls_csms(start_csms, pki):
    return await start_csms(
        ocpp_tls_certificate=pki.server_certificate,
        ocpp_tls_private_key=pki.server_key,
        ocpp_tls_client_ca=pki.ca.certificate_path,
    )


# --- profile 1 ---------------------------------------------------------------------


async def test_profile_1_admits_the_charger_with_its_password(csms):
    await provision("CP-1", SecurityProfile.BASIC_AUTH)
    assert await boots(csms.url, "CP-1", additional_headers=basic("CP-1", PASSWORD))


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "HTTP Basic authentication needed"),
        (basic("CP-1", "not-the-password-at-all"), "wrong username or password"),
        (basic("CP-OTHER", PASSWORD), "wrong username or password"),
        ({"Authorization": "Basic %%%"}, "wrong username or password"),
        ({"Authorization": f"Bearer {PASSWORD}"}, "wrong username or password"),
    ],
)
async def test_profile_1_refuses_missing_or_wrong_credentials_before_any_frame(
    csms, caplog, headers, reason
):
    await provision("CP-1", SecurityProfile.BASIC_AUTH)
    refusal = await refused(csms.url + "CP-1", additional_headers=headers)
    assert refusal.response.status_code == 401
    assert refusal.response.headers["WWW-Authenticate"] == 'Basic realm="OCPP", charset="UTF-8"'
    assert reason.encode() in refusal.response.body
    assert f"refused CP-1 from 127.0.0.1: {reason}" in caplog.text
    await csms.message_log.flush()
    assert not await OcppMessage.objects.filter(charge_point_id="CP-1").aexists()


async def test_a_charger_without_a_password_cannot_use_profile_1(csms, caplog):
    await provision("CP-1", SecurityProfile.BASIC_AUTH, password=None)
    refusal = await refused(csms.url + "CP-1", additional_headers=basic("CP-1", ""))
    assert refusal.response.status_code == 401
    assert "no password is set for this charger" in caplog.text


async def test_a_charger_id_with_a_colon_authenticates(csms):
    await provision("CP:1", SecurityProfile.BASIC_AUTH)
    assert await boots(csms.url, "CP:1", additional_headers=basic("CP:1", PASSWORD))


# --- profile 2 ---------------------------------------------------------------------


async def test_profile_2_refuses_plain_ws_even_with_the_right_password(csms):
    await provision("CP-2", SecurityProfile.TLS_BASIC_AUTH)
    refusal = await refused(csms.url + "CP-2", additional_headers=basic("CP-2", PASSWORD))
    assert refusal.response.status_code == 403
    assert b"security profile 2 needs TLS (wss://)" in refusal.response.body


async def test_profile_2_admits_over_tls_with_the_password(tls_csms, pki):
    await provision("CP-2", SecurityProfile.TLS_BASIC_AUTH)
    assert tls_csms.url.startswith("wss://")
    tls = pki.client_context()
    assert await boots(tls_csms.url, "CP-2", ssl=tls, additional_headers=basic("CP-2", PASSWORD))
    refusal = await refused(tls_csms.url + "CP-2", ssl=tls, additional_headers=basic("CP-2", "x"))
    assert refusal.response.status_code == 401


# --- profile 3 ---------------------------------------------------------------------


async def test_profile_3_admits_the_charger_with_its_own_certificate(tls_csms, pki):
    await provision("CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)
    assert await boots(tls_csms.url, "CP-3", ssl=pki.client_context("CP-3"))


async def test_a_valid_certificate_of_one_charger_cannot_connect_as_another(tls_csms, pki):
    await provision("CP-A", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)
    await provision("CP-B", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)
    refusal = await refused(tls_csms.url + "CP-B", ssl=pki.client_context("CP-A"))
    assert refusal.response.status_code == 403
    assert b"the client certificate is for 'CP-A', not this charger" in refusal.response.body


async def test_profile_3_needs_a_certificate(tls_csms, pki):
    await provision("CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)
    refusal = await refused(
        tls_csms.url + "CP-3", ssl=pki.client_context(), additional_headers=basic("CP-3", "x")
    )
    assert refusal.response.status_code == 403
    assert b"security profile 3 needs a client certificate" in refusal.response.body


async def test_a_certificate_of_another_ca_fails_the_tls_handshake(tls_csms, pki, tmp_path):
    await provision("CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)
    stranger = make_pki(tmp_path / "other")
    context = pki.client_context()
    context.load_cert_chain(*stranger.issue("CP-3"))
    # Under TLS 1.3 the server checks the client's certificate after the
    # client's side of the handshake: the client then sees no HTTP answer.
    with pytest.raises((ssl.SSLError, ConnectionError, InvalidHandshake)):
        async with connect(tls_csms.url + "CP-3", subprotocols=["ocpp1.6"], ssl=context) as ws:
            await ws.recv()
    assert not await ChargePoint.objects.filter(id="CP-3", is_connected=True).aexists()


async def test_the_certificate_identity_may_differ_from_the_charger_id(tls_csms, pki):
    await provision(
        "CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None, identity="SN-000123"
    )
    assert await boots(tls_csms.url, "CP-3", ssl=pki.client_context("SN-000123"))
    refusal = await refused(tls_csms.url + "CP-3", ssl=pki.client_context("CP-3"))
    assert refusal.response.status_code == 403


# --- TLS ended at a proxy ------------------------------------------------------------


@pytest.mark.parametrize(("proxies", "admitted"), [("127.0.0.1", True), ("10.0.0.0/8", False)])
async def test_a_proxy_vouches_for_tls_and_the_certificate_only_when_trusted(
    start_csms, proxies, admitted
):
    server = await start_csms(trusted_proxies=Env({"OV2XMP_P": proxies}).networks("P"))
    await provision("CP-2", SecurityProfile.TLS_BASIC_AUTH)
    await provision("CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.9"}
    profile_2 = https | basic("CP-2", PASSWORD)
    profile_3 = https | {"X-Client-Certificate-Subject": "CN=CP-3,O=Acme Charging\\, Inc."}
    if admitted:
        assert await boots(server.url, "CP-2", additional_headers=profile_2)
        assert await boots(server.url, "CP-3", additional_headers=profile_3)
    else:
        assert (
            await refused(server.url + "CP-2", additional_headers=profile_2)
        ).response.status_code == 403
        assert (
            await refused(server.url + "CP-3", additional_headers=profile_3)
        ).response.status_code == 403


async def test_a_proxy_without_a_client_certificate_does_not_pass_profile_3(start_csms):
    server = await start_csms(trusted_proxies=Env({"OV2XMP_P": "127.0.0.1"}).networks("P"))
    await provision("CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)
    headers = {"X-Forwarded-Proto": "https", "X-Client-Certificate-Subject": ""}
    refusal = await refused(server.url + "CP-3", additional_headers=headers)
    assert b"needs a client certificate" in refusal.response.body


# --- the platform's minimum ------------------------------------------------------------


async def test_chargers_below_the_minimum_profile_are_refused(start_csms):
    server = await start_csms(minimum_security_profile=2)
    await provision("CP-1", SecurityProfile.BASIC_AUTH)
    refusal = await refused(server.url + "CP-1", additional_headers=basic("CP-1", PASSWORD))
    assert refusal.response.status_code == 403
    assert b"security profile 1 is below the platform's minimum (2)" in refusal.response.body
    stranger = await refused(server.url + "CP-NEW")  # unknown, so unprovisioned
    assert stranger.response.status_code == 403
    assert b"chargers need provisioning" in stranger.response.body


async def test_without_a_minimum_an_unknown_charger_still_follows_the_policy(csms):
    assert await boots(csms.url, "CP-NEW")  # accept, the default


async def test_a_charger_provisioned_through_the_api_connects_with_its_password(csms, api):
    response = await sync_to_async(api.post)(
        "/api/chargepoints/",
        {"id": "CP-API", "security_profile": 1, "generate_password": True},
        format="json",
    )
    password = response.json()["generated_password"]
    assert await boots(csms.url, "CP-API", additional_headers=basic("CP-API", password))
    refusal = await refused(csms.url + "CP-API")
    assert refusal.response.status_code == 401

"""Who may connect, how, and what happens to connections that go wrong."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os

import pytest
from ocpp.v16 import call
from ocpp.v16.enums import RegistrationStatus
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chargepoints.models import ChargePoint
from config.env import Env
from csms.simulator import simulated_charger
from csms.tests.helpers import eventually, is_offline

pytestmark = pytest.mark.django_db(transaction=True)


def boot() -> call.BootNotification:
    return call.BootNotification(charge_point_model="W1", charge_point_vendor="Acme")


@pytest.mark.parametrize(
    "offered",
    [pytest.param(["ocpp0.9"], id="only-unsupported"), pytest.param([], id="none")],
)
async def test_without_a_supported_subprotocol_the_socket_is_closed_with_a_reason(csms, offered):
    async with connect(csms.url + "CP-PROTO", subprotocols=offered or None) as websocket:
        assert websocket.subprotocol is None
        with pytest.raises(ConnectionClosed) as closed:
            await websocket.recv()
    assert closed.value.rcvd.code == 1002
    assert "ocpp1.6" in closed.value.rcvd.reason
    assert not await ChargePoint.objects.filter(id="CP-PROTO").aexists()


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp0.9", "ocpp1.6"], "ocpp1.6"),
        (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp1.6", "ocpp2.0.1", "ocpp2.1"], "ocpp2.1"),
    ],
)
async def test_a_charger_offering_several_versions_gets_the_newest_it_supports(
    csms, offered, chosen
):
    async with connect(csms.url + "CP-MULTI", subprotocols=offered) as websocket:
        assert websocket.subprotocol == chosen


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/ws/other/CP-1", id="other-path"),
        pytest.param("/ws/ocpp/", id="no-id"),
        pytest.param("/ws/ocpp/CP%201", id="space-in-id"),
        pytest.param("/ws/ocpp/" + "X" * 49, id="id-too-long"),
        pytest.param("/ws/ocpp/a/b", id="nested"),
    ],
)
async def test_paths_that_name_no_charger_get_404(csms, path):
    url = f"ws://127.0.0.1:{csms.bound_port}{path}"
    with pytest.raises(InvalidStatus) as refused:
        await connect(url, subprotocols=["ocpp1.6"])
    assert refused.value.response.status_code == 404
    assert await ChargePoint.objects.acount() == 0


async def test_policy_reject_refuses_unknown_chargers_before_the_upgrade(start_csms, caplog):
    server = await start_csms(unknown_chargers="reject")
    with pytest.raises(InvalidStatus) as refused:
        await connect(server.url + "CP-STRANGER", subprotocols=["ocpp1.6"])
    assert refused.value.response.status_code == 404
    assert b"Unknown charger" in refused.value.response.body
    assert "refused CP-STRANGER from 127.0.0.1: Unknown charger CP-STRANGER" in caplog.text
    assert not await ChargePoint.objects.filter(id="CP-STRANGER").aexists()

    await ChargePoint.objects.acreate(id="CP-KNOWN")
    async with simulated_charger(server.url, "CP-KNOWN") as charger:
        assert (await charger.call(boot())).status == RegistrationStatus.accepted


async def test_policy_accept_creates_unknown_chargers_as_accepted(csms):
    async with simulated_charger(csms.url, "CP-NEW") as charger:
        assert (await charger.call(boot())).status == RegistrationStatus.accepted
    assert (await ChargePoint.objects.aget(id="CP-NEW")).registration_status == "Accepted"


async def test_policy_pending_holds_unknown_chargers_until_an_operator_accepts(start_csms):
    server = await start_csms(unknown_chargers="pending", boot_retry_interval=42)
    async with simulated_charger(server.url, "CP-WAIT") as charger:
        reply = await charger.call(boot())
        assert (reply.status, reply.interval) == (RegistrationStatus.pending, 42)
        await ChargePoint.objects.filter(id="CP-WAIT").aupdate(registration_status="Accepted")
        reply = await charger.call(boot())
        assert (reply.status, reply.interval) == (RegistrationStatus.accepted, 300)
        assert (await charger.call(call.Heartbeat())).current_time


async def test_a_rejected_charger_is_told_so_at_boot(csms):
    await ChargePoint.objects.acreate(id="CP-BANNED", registration_status="Rejected")
    async with simulated_charger(csms.url, "CP-BANNED") as charger:
        assert (await charger.call(boot())).status == RegistrationStatus.rejected


async def test_disconnect_is_recorded(csms):
    async with simulated_charger(csms.url, "CP-BYE") as charger:
        await charger.call(boot())
        assert (await ChargePoint.objects.aget(id="CP-BYE")).is_connected
    await eventually(lambda: is_offline("CP-BYE"))
    charge_point = await ChargePoint.objects.aget(id="CP-BYE")
    assert charge_point.disconnected_at is not None
    assert charge_point.connection_id == ""


async def test_a_second_connection_with_the_same_id_replaces_the_first(csms):
    async with simulated_charger(csms.url, "CP-TWIN") as first:
        await first.call(boot())
        async with simulated_charger(csms.url, "CP-TWIN") as second:
            await first.websocket.wait_closed()
            assert first.websocket.close_code == 4000
            assert "replaced" in first.websocket.close_reason
            # The old connection's late cleanup must not mark the charger offline.
            await asyncio.sleep(0.1)
            charge_point = await ChargePoint.objects.aget(id="CP-TWIN")
            assert charge_point.is_connected
            assert list(csms.connections) == ["CP-TWIN"]
            assert csms.connections["CP-TWIN"].connection_id == charge_point.connection_id
            assert (await second.call(call.Heartbeat())).current_time
    await eventually(lambda: is_offline("CP-TWIN"))


async def test_a_reconnect_storm_leaves_one_live_connection(csms):
    async def connect_and_boot() -> None:
        try:
            async with simulated_charger(csms.url, "CP-STORM") as charger:
                await charger.call(boot())
                await asyncio.sleep(0.2)
        except (TimeoutError, ConnectionClosed):
            pass  # replaced by a later one

    await asyncio.gather(*(connect_and_boot() for _ in range(10)))
    await eventually(lambda: is_offline("CP-STORM"))
    assert csms.connections == {}


async def silent_client(port: int, charge_point_id: str) -> tuple:
    """A client that completes the websocket handshake and then never reads
    again, so it never answers a ping: a dead charger behind a NAT."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ws/ocpp/{charge_point_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        ).encode()
    )
    status = await reader.readline()
    assert b"101" in status, status
    return reader, writer


async def test_a_silent_connection_is_marked_disconnected(start_csms):
    server = await start_csms(ocpp_ping_interval=0.2, ocpp_ping_timeout=0.3)
    _, writer = await silent_client(server.bound_port, "CP-SILENT")
    try:
        await eventually(
            lambda: ChargePoint.objects.filter(id="CP-SILENT", is_connected=True).aexists()
        )
        await eventually(lambda: is_offline("CP-SILENT"), within=3)
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("proxies", "recorded"),
    [("127.0.0.0/8", "203.0.113.7"), ("10.0.0.0/8", "127.0.0.1"), ("", "127.0.0.1")],
)
async def test_the_forwarded_address_is_used_only_behind_a_trusted_proxy(
    csms, settings, proxies, recorded
):
    settings.OV2XMP = dataclasses.replace(
        settings.OV2XMP, trusted_proxies=Env({"OV2XMP_P": proxies}).networks("P")
    )
    headers = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}
    async with connect(
        csms.url + "CP-PROXIED", subprotocols=["ocpp1.6"], additional_headers=headers
    ):
        await eventually(lambda: ChargePoint.objects.filter(id="CP-PROXIED").aexists())
    assert (await ChargePoint.objects.aget(id="CP-PROXIED")).remote_address == recorded

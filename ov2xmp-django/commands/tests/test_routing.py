"""Commands find the csms process that holds the charger (several csms
servers in one test process share the in-memory channel layer just as
separate processes share Redis; test_distributed.py runs real processes)."""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer

from commands.models import Command, CommandStatus
from commands.services import EXECUTE_MESSAGE
from csms.tests.helpers import eventually, is_offline

RESET = {"type": "Hard"}


async def _answered(command_id) -> bool:
    return (await Command.objects.aget(id=command_id)).status == CommandStatus.ANSWERED


async def test_a_command_reaches_the_process_holding_the_charger(start_csms, connect, send):
    first, second = await start_csms(), await start_csms()
    assert first.channel != second.channel
    async with connect(second, "CP-1") as charger:
        response = await send("ocpp16", "Reset", "CP-1", RESET)
    assert response.status_code == 200, response.content
    assert charger.requests("Reset") == [RESET]


async def test_a_charger_that_moves_is_reachable_at_its_new_process_at_once(
    start_csms, connect, send
):
    first, second = await start_csms(), await start_csms()
    async with connect(first, "CP-1") as charger:
        assert (await send("ocpp16", "Reset", "CP-1", RESET)).status_code == 200
    await eventually(lambda: is_offline("CP-1"))
    async with connect(second, "CP-1") as charger:
        response = await send("ocpp16", "Reset", "CP-1", RESET)
    assert response.status_code == 200
    assert charger.requests("Reset") == [RESET]


async def test_a_command_that_reaches_the_wrong_process_is_passed_on(start_csms, connect):
    first, second = await start_csms(), await start_csms()
    async with connect(second, "CP-1") as charger:
        command = await Command.objects.acreate(
            charge_point_id="CP-1", ocpp_version="1.6", action="Reset", request=RESET
        )
        # As if routed from a stale record: to the process the charger has left.
        await get_channel_layer().send(
            first.channel,
            {"type": EXECUTE_MESSAGE, "command_id": str(command.id), "charge_point_id": "CP-1"},
        )
        await eventually(lambda: _answered(command.id))
    assert charger.requests("Reset") == [RESET]


async def test_a_command_delivered_twice_is_sent_once(csms, connect):
    async with connect(csms, "CP-1") as charger:
        command = await Command.objects.acreate(
            charge_point_id="CP-1", ocpp_version="1.6", action="Reset", request=RESET
        )
        message = {
            "type": EXECUTE_MESSAGE,
            "command_id": str(command.id),
            "charge_point_id": "CP-1",
        }
        for _ in range(3):  # a task delivered again, a held delivery racing it, ...
            await get_channel_layer().send(csms.channel, message)
        await eventually(lambda: _answered(command.id))
        await asyncio.sleep(0.3)  # the duplicates have had their chance
    assert charger.requests("Reset") == [RESET]


async def test_a_command_for_a_charger_nobody_holds_is_not_connected(start_csms, connect):
    first = await start_csms()
    async with connect(first, "CP-1"):
        command = await Command.objects.acreate(
            charge_point_id="CP-1", ocpp_version="1.6", action="Reset", request=RESET
        )
    await eventually(lambda: is_offline("CP-1"))
    await get_channel_layer().send(
        first.channel,
        {"type": EXECUTE_MESSAGE, "command_id": str(command.id), "charge_point_id": "CP-1"},
    )

    async def not_connected() -> bool:
        return (await Command.objects.aget(id=command.id)).status == CommandStatus.NOT_CONNECTED

    await eventually(not_connected)


async def test_malformed_channel_messages_are_logged_and_ignored(csms, connect, send, caplog):
    layer = get_channel_layer()
    await layer.send(csms.channel, {"type": EXECUTE_MESSAGE, "command_id": "not-a-uuid"})
    await layer.send(csms.channel, {"type": "something.else"})
    async with connect(csms, "CP-1"):
        response = await send("ocpp16", "Reset", "CP-1", RESET)
    assert response.status_code == 200
    assert "malformed command message" in caplog.text
    assert "ignored channel message of type 'something.else'" in caplog.text


async def test_the_csms_keeps_receiving_after_the_channel_layer_fails(
    start_csms, connect, send, monkeypatch, caplog
):
    from csms import server

    layer = get_channel_layer()
    receive = layer.receive
    failures = [ConnectionError("Redis went away")]

    async def flaky_receive(channel):
        if failures:
            raise failures.pop()
        return await receive(channel)

    monkeypatch.setattr(layer, "receive", flaky_receive)
    monkeypatch.setattr(server, "RECEIVE_RETRY_SECONDS", 0.05)
    csms = await start_csms()
    async with connect(csms, "CP-1"):
        response = await send("ocpp16", "Reset", "CP-1", RESET)
    assert response.status_code == 200
    assert "receiving commands failed; retrying" in caplog.text

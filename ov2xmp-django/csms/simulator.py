"""A simulated charger (OCPP 1.6J, 2.0.1 or 2.1): a real websocket client speaking
OCPP to a real CSMS. The tests use it, and so can a developer without a charger:

    async with simulated_charger("ws://127.0.0.1:9000/ws/ocpp/", "CP-1") as charger:
        await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ocpp.v16 import ChargePoint as ChargePoint16Client
from ocpp.v21 import ChargePoint as ChargePoint21Client
from ocpp.v201 import ChargePoint as ChargePoint201Client
from websockets.asyncio.client import ClientConnection, connect


class SimulatedCharger16(ChargePoint16Client):
    """The ``ocpp`` library's 1.6 charge point in its client role. ``call``
    sends a request and returns the CSMS's answer; ``call(..., suppress=False)``
    raises the CSMS's CallError as an exception."""

    websocket: ClientConnection


class SimulatedCharger201(ChargePoint201Client):
    """The same for OCPP 2.0.1."""

    websocket: ClientConnection


class SimulatedCharger21(ChargePoint21Client):
    """The same for OCPP 2.1."""

    websocket: ClientConnection


SIMULATORS: dict[str, type[Any]] = {
    "ocpp1.6": SimulatedCharger16,
    "ocpp2.0.1": SimulatedCharger201,
    "ocpp2.1": SimulatedCharger21,
}


@contextlib.asynccontextmanager
async def simulated_charger(
    base_url: str,
    charge_point_id: str,
    *,
    subprotocols: tuple[str, ...] = ("ocpp1.6",),
    response_timeout: float = 10,
    simulators: dict[str, type[Any]] | None = None,
    **connect_options: Any,
) -> AsyncIterator[Any]:
    """Connect, offering ``subprotocols``; the client speaks the version the
    server chose, with the class ``simulators`` (default ``SIMULATORS``) has
    for it."""
    websocket = await connect(
        base_url + charge_point_id,
        subprotocols=list(subprotocols),  # type: ignore[arg-type]
        open_timeout=10,
        **connect_options,
    )
    simulator = (simulators or SIMULATORS).get(websocket.subprotocol or "", SimulatedCharger16)
    charger = simulator(charge_point_id, websocket, response_timeout=response_timeout)
    charger.websocket = websocket
    listener = asyncio.create_task(charger.start())
    try:
        yield charger
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listener
        await websocket.close()

"""A simulated charger that answers the CSMS's commands: a real websocket
client (csms/simulator.py) whose answers come from a table, recording every
request it received and how many were open at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from ocpp.messages import Call, CallError, CallResult, MessageType, unpack
from ocpp.v16 import call as call16

from commands.catalog import OCPP16, OCPP21, OCPP201, SUBPROTOCOLS, command_spec
from commands.tests.examples import example_answer
from csms.simulator import (
    SimulatedCharger16,
    SimulatedCharger21,
    SimulatedCharger201,
    simulated_charger,
)
from csms.tests.helpers import boot_201

# An answer: a payload, a callable building one from the request payload, or
# one of these.
NO_ANSWER = object()


class CallErrorAnswer:
    def __init__(self, code: str, description: str, details: dict[str, Any] | None = None):
        self.code, self.description, self.details = code, description, details or {}


class AnsweringMixin:
    ocpp_version: str
    _send: Callable[[str], Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: dict[str, Any] = {}
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.delay = 0.0
        self.open_calls = 0
        self.most_open_calls = 0
        self._answering: set[asyncio.Task[None]] = set()

    async def route_message(self, raw_msg: str) -> None:
        message = unpack(raw_msg)
        if message.message_type_id != MessageType.Call:
            await super().route_message(raw_msg)  # type: ignore[misc]
            return
        assert isinstance(message, Call)
        self.received.append((message.action, message.payload))
        # Answered in a task of its own, so that a second call the CSMS sent
        # before this one's answer would be seen (open_calls > 1).
        task = asyncio.create_task(self._answer(message))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _answer(self, message: Call) -> None:
        self.open_calls += 1
        self.most_open_calls = max(self.most_open_calls, self.open_calls)
        try:
            await asyncio.sleep(self.delay)
            answer = self.answers.get(message.action)
            if answer is None:
                answer = example_answer(command_spec(self.ocpp_version, message.action))
            if callable(answer):
                answer = answer(message.payload)
            if answer is NO_ANSWER:
                return
            if isinstance(answer, CallErrorAnswer):
                frame = CallError(
                    message.unique_id, answer.code, answer.description, answer.details
                ).to_json()
            else:
                frame = CallResult(message.unique_id, answer).to_json()
            await self._send(frame)
        finally:
            self.open_calls -= 1

    def requests(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.received if name == action]


class AnsweringCharger16(AnsweringMixin, SimulatedCharger16):
    ocpp_version = OCPP16


class AnsweringCharger201(AnsweringMixin, SimulatedCharger201):
    ocpp_version = OCPP201


class AnsweringCharger21(AnsweringMixin, SimulatedCharger21):
    ocpp_version = OCPP21


ANSWERING = {
    SUBPROTOCOLS[OCPP16]: AnsweringCharger16,
    SUBPROTOCOLS[OCPP201]: AnsweringCharger201,
    SUBPROTOCOLS[OCPP21]: AnsweringCharger21,
}


@contextlib.asynccontextmanager
async def answering_charger(
    url: str, charge_point_id: str, version: str = SUBPROTOCOLS[OCPP16], **options: Any
) -> AsyncIterator[Any]:
    """Connect an answering charger to the CSMS at ``url`` and boot it."""
    async with simulated_charger(
        url, charge_point_id, subprotocols=(version,), simulators=ANSWERING, **options
    ) as charger:
        if version == SUBPROTOCOLS[OCPP16]:
            await charger.call(
                call16.BootNotification(charge_point_model="M", charge_point_vendor="V")
            )
        else:
            await boot_201(charger)
        yield charger

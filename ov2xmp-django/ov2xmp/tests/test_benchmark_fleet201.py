"""The benchmark's OCPP 2.0.1 charger (benchmarks/fleet201.py) sends what the
spec allows: every frame it writes, through its real methods, validates
against the ``ocpp`` library's 2.0.1 JSON schemas, and its transactions are
numbered as the spec requires."""

from __future__ import annotations

import importlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema.exceptions import ValidationError
from ocpp.messages import MessageType, get_validator

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


@pytest.fixture(scope="module")
def fleet201() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        return importlib.import_module("fleet201")


class RecordingWebsocket:
    """Stands in for the connection: keeps each frame sent and answers each
    call with an empty CallResult."""

    def __init__(self) -> None:
        self.sent: list[list[Any]] = []

    async def send(self, frame: str) -> None:
        self.sent.append(json.loads(frame))

    async def recv(self) -> str:
        return json.dumps([3, self.sent[-1][1], {}])


def validate(call: list[Any]) -> None:
    _, _, action, payload = call
    get_validator(MessageType.Call, action, "2.0.1").validate(payload)


def charger_with_recorder(fleet201: Any) -> tuple[Any, RecordingWebsocket]:
    charger = fleet201.Charger201("ws://127.0.0.1:1/", "BENCH-00000")
    charger.websocket = RecordingWebsocket()
    return charger, charger.websocket


async def test_every_message_of_the_mix_validates_against_the_201_schemas(fleet201, monkeypatch):
    # The same draws each run (2,000 messages see every kind), and the
    # global generator other tests use left alone.
    monkeypatch.setattr(fleet201, "random", random.Random(201))
    charging, charging_socket = charger_with_recorder(fleet201)
    idle, idle_socket = charger_with_recorder(fleet201)
    for charger in (charging, idle):
        await charger.boot()
    await charging.start_transaction()
    kinds = set()
    for _ in range(1000):
        kinds.add((await charging.next_message(charging=True))[0])
        kinds.add((await idle.next_message(charging=False))[0])

    assert kinds == {
        "Heartbeat",
        "StatusNotification",
        "TransactionEvent(Started)",
        "TransactionEvent(Updated)",
        "TransactionEvent(Ended)",
    }
    sent = charging_socket.sent + idle_socket.sent
    assert {call[2] for call in sent} == {
        "BootNotification",
        "StatusNotification",
        "Heartbeat",
        "TransactionEvent",
    }
    for call in sent:
        validate(call)


async def test_a_transaction_is_numbered_and_ended_as_the_spec_requires(fleet201, monkeypatch):
    monkeypatch.setattr(fleet201, "random", random.Random(16))
    charger, socket = charger_with_recorder(fleet201)
    await charger.start_transaction()
    for _ in range(300):
        await charger.next_message(charging=True)
    events = [call[3] for call in socket.sent]

    transactions: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        transactions.setdefault(event["transactionInfo"]["transactionId"], []).append(event)
    assert len(transactions) > 2, "no transaction ended in 300 messages"
    for transaction in transactions.values():
        kinds = [event["eventType"] for event in transaction]
        ended = kinds[-1] == "Ended"
        assert kinds == ["Started"] + ["Updated"] * (len(kinds) - 1 - ended) + ["Ended"] * ended
        assert [event["seqNo"] for event in transaction] == list(range(len(transaction)))
        started = transaction[0]
        assert started["triggerReason"] == "Authorized"
        assert started["idToken"] == {"idToken": "BENCH", "type": "ISO14443"}
        assert started["evse"] == {"id": 1, "connectorId": 1}
        assert started["transactionInfo"]["chargingState"] == "Charging"
        energy = [event["meterValue"][0]["sampledValue"][0]["value"] for event in transaction]
        assert energy == sorted(energy), "the energy register went back"
        if ended:
            assert transaction[-1]["triggerReason"] in {"StopAuthorized", "EVDeparted"}
            assert transaction[-1]["transactionInfo"]["stoppedReason"] == "Local"
    updated = next(event for event in events if event["eventType"] == "Updated")
    energy, power = updated["meterValue"][0]["sampledValue"]
    assert (energy["measurand"], energy["unitOfMeasure"]) == (
        "Energy.Active.Import.Register",
        {"unit": "Wh"},
    )
    assert (power["value"], power["measurand"], power["unitOfMeasure"]) == (
        7200,
        "Power.Active.Import",
        {"unit": "W"},
    )


def test_the_schema_check_rejects_a_wrong_field(fleet201):
    """The validation above can fail: a 1.6-style meter value (a string) or a
    field 2.0.1 does not have is refused."""
    charger = fleet201.Charger201("ws://127.0.0.1:1/", "BENCH-00000")
    charger.transaction_started()
    updated = charger.transaction_updated()
    validate([2, "1", "TransactionEvent", updated])

    as_string = json.loads(json.dumps(updated))
    as_string["meterValue"][0]["sampledValue"][0]["value"] = "12"
    with pytest.raises(ValidationError):
        validate([2, "1", "TransactionEvent", as_string])
    with pytest.raises(ValidationError):
        validate([2, "1", "StatusNotification", charger.status_notification() | {"status": "x"}])

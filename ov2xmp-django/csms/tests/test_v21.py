"""OCPP 2.1 chargers: served by the 2.0.1 handlers where the versions share a
message, validated against the 2.1 schemas, and answered with a CallError
for what this CSMS does not handle (the library alone would stay silent)."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from chargepoints.models import ChargePoint

pytestmark = pytest.mark.django_db(transaction=True)

BOOT = {
    "chargingStation": {"model": "BPT-22", "vendorName": "Acme"},
    "reason": "PowerUp",
}


async def exchange(websocket, frame: list) -> list:
    await websocket.send(json.dumps(frame))
    # Bounded: an unanswered call must fail the test, not hang it.
    return json.loads(await asyncio.wait_for(websocket.recv(), 5))


@pytest.fixture
async def charger_21(csms):
    async with connect(csms.url + "CP-21", subprotocols=["ocpp2.1"]) as websocket:
        assert websocket.subprotocol == "ocpp2.1"
        reply = await exchange(websocket, [2, "boot", "BootNotification", BOOT])
        assert (reply[0], reply[2]["status"]) == (3, "Accepted")
        yield websocket


async def test_a_21_charger_boots_and_is_recorded_as_21(charger_21):
    reply = await exchange(charger_21, [2, "hb", "Heartbeat", {}])
    assert reply[0] == 3
    charger = await ChargePoint.objects.aget(id="CP-21")
    assert (charger.ocpp_version, charger.vendor, charger.is_connected) == ("2.1", "Acme", True)


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        pytest.param(
            "NotifyPriorityCharging",
            {"transactionId": "TX-1", "activated": True},
            "NotImplemented",
            id="a-21-action-without-handler",
        ),
        pytest.param("FlyToTheMoon", {}, "NotSupported", id="not-an-action"),
        pytest.param("Heartbeat", {"extra": 1}, "FormatViolation", id="schema-violation"),
        pytest.param(
            "NotifyEVChargingNeeds",
            {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "Flying"}},
            "FormatViolation",
            id="not-a-21-enum",
        ),
    ],
)
async def test_what_a_21_charger_sends_wrongly_gets_a_call_error(
    charger_21, action, payload, code, caplog
):
    reply = await exchange(charger_21, [2, "x1", action, payload])
    assert reply[:3] == [4, "x1", code]
    assert action in caplog.text
    # The connection stays usable.
    assert (await exchange(charger_21, [2, "hb", "Heartbeat", {}]))[0] == 3


async def test_der_alarms_controls_and_reports_are_kept(charger_21, caplog):
    from smartcharging.models import DerEvent

    alarm = {
        "controlType": "HVMustTrip",
        "gridEventFault": "OverVoltage",
        "timestamp": "2026-11-24T10:00:00Z",
        "extraInfo": "253 V",
    }
    assert (await exchange(charger_21, [2, "a1", "NotifyDERAlarm", alarm]))[0] == 3
    started = {"controlId": "VV-1", "started": True, "timestamp": "2026-11-24T10:01:00Z"}
    assert (await exchange(charger_21, [2, "a2", "NotifyDERStartStop", started]))[0] == 3
    report = {
        "requestId": 42,
        "curve": [
            {
                "curveType": "VoltVar",
                "id": "VV-1",
                "isDefault": False,
                "isSuperseded": False,
                "curve": {
                    "priority": 1,
                    "yUnit": "PctMaxVar",
                    "curveData": [{"x": 0.9, "y": 40}, {"x": 1.1, "y": -40}],
                },
            }
        ],
    }
    assert (await exchange(charger_21, [2, "a3", "ReportDERControl", report]))[0] == 3
    kept = [e async for e in DerEvent.objects.filter(charge_point_id="CP-21").order_by("id")]
    assert [(e.kind, e.control_type, e.control_id) for e in kept] == [
        ("alarm", "HVMustTrip", ""),
        ("started", "", "VV-1"),
        ("report", "", ""),
    ]
    assert (kept[0].grid_event_fault, kept[0].details) == ("OverVoltage", {"extra_info": "253 V"})
    assert kept[2].request_id == 42
    assert kept[2].details["curve"][0]["curve_type"] == "VoltVar"
    assert "DER alarm HVMustTrip OverVoltage" in caplog.text

"""Bad frames get a defined CallError, a log line, and change nothing."""

from __future__ import annotations

import json

import pytest
from ocpp.exceptions import SecurityError
from ocpp.v16 import call
from websockets.asyncio.client import connect

from chargepoints.models import ChargePoint, StatusNotification
from csms.simulator import simulated_charger
from csms.tests.helpers import eventually, is_offline
from ocpp_messages.models import OcppMessage
from transactions.models import MeterValue, Transaction

pytestmark = pytest.mark.django_db(transaction=True)

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "W1"}


async def exchange(websocket, frame: str | bytes) -> list:
    await websocket.send(frame)
    return json.loads(await websocket.recv())


@pytest.fixture
async def raw_charger(csms):
    """A websocket client that sends frames by hand, after a valid boot."""
    async with connect(csms.url + "CP-RAW", subprotocols=["ocpp1.6"]) as websocket:
        reply = await exchange(websocket, json.dumps([2, "boot", "BootNotification", BOOT]))
        assert reply[0] == 3
        yield websocket


@pytest.mark.parametrize(
    ("frame", "unique_id", "code"),
    [
        pytest.param("this is not json", "-1", "FormationViolation", id="not-json"),
        pytest.param('{"an": "object"}', "-1", "ProtocolError", id="not-a-list"),
        pytest.param('[2, "only-id"]', "only-id", "ProtocolError", id="missing-elements"),
        pytest.param(
            '[7, "x", "Heartbeat", {}]', "x", "PropertyConstraintViolation", id="bad-type"
        ),
    ],
)
async def test_malformed_frames_are_answered_with_a_call_error(
    csms, raw_charger, frame, unique_id, code, caplog
):
    reply = await exchange(raw_charger, frame)
    assert reply[:3] == [4, unique_id, code]
    assert "malformed frame" in caplog.text
    # The connection stays usable.
    reply = await exchange(raw_charger, json.dumps([2, "hb", "Heartbeat", {}]))
    assert reply[0] == 3
    await csms.message_log.flush()
    kept = await OcppMessage.objects.filter(charge_point_id="CP-RAW", message_type=None).afirst()
    assert kept is not None
    assert kept.raw == frame


@pytest.mark.parametrize(
    ("action", "code"),
    [
        pytest.param("Reset", "NotImplemented", id="csms-initiated-action"),
        pytest.param("MakeCoffee", "NotSupported", id="action-not-in-ocpp16"),
    ],
)
async def test_actions_without_a_handler(raw_charger, action, code):
    reply = await exchange(raw_charger, json.dumps([2, "u1", action, {}]))
    assert reply[:3] == [4, "u1", code]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        pytest.param({"chargePointVendor": "Acme"}, "ProtocolError", id="missing-required"),
        pytest.param({**BOOT, "chargePointModel": 12}, "TypeConstraintViolation", id="wrong-type"),
        pytest.param({**BOOT, "colour": "red"}, "FormationViolation", id="unknown-field"),
        pytest.param(
            {**BOOT, "chargePointModel": "M" * 21}, "TypeConstraintViolation", id="too-long"
        ),
    ],
)
async def test_schema_violations(raw_charger, payload, code):
    reply = await exchange(raw_charger, json.dumps([2, "u2", "BootNotification", payload]))
    assert reply[:3] == [4, "u2", code]
    charge_point = await ChargePoint.objects.aget(id="CP-RAW")
    assert charge_point.model == "W1"  # the invalid boot changed nothing


async def test_an_invalid_timestamp_is_refused_and_nothing_is_stored(raw_charger):
    start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "yesterday"}
    reply = await exchange(raw_charger, json.dumps([2, "u3", "StartTransaction", start]))
    assert reply[:3] == [4, "u3", "PropertyConstraintViolation"]
    assert "timestamp" in reply[3]
    assert await Transaction.objects.acount() == 0


async def test_a_meter_reading_no_session_can_hold_is_refused_and_nothing_is_stored(raw_charger):
    start = {
        "connectorId": 1,
        "idTag": "T",
        "meterStart": 10**20,
        "timestamp": "2026-11-25T00:00:00Z",
    }
    reply = await exchange(raw_charger, json.dumps([2, "big", "StartTransaction", start]))
    assert reply[:3] == [4, "big", "PropertyConstraintViolation"]
    assert "meterStart" in reply[3]
    assert await Transaction.objects.acount() == 0


async def test_a_binary_frame_is_decoded_and_served(raw_charger):
    reply = await exchange(raw_charger, json.dumps([2, "bin", "Heartbeat", {}]).encode())
    assert reply[:2] == [3, "bin"]


async def test_an_oversized_frame_closes_the_socket(start_csms):
    server = await start_csms(ocpp_max_message_bytes=1024)
    async with simulated_charger(server.url, "CP-BIG") as charger:
        oversized = [2, "big", "DataTransfer", {"vendorId": "x" * 4000}]
        await charger.websocket.send(json.dumps(oversized))
        await charger.websocket.wait_closed()
        assert charger.websocket.close_code == 1009
    await eventually(lambda: is_offline("CP-BIG"))


async def test_messages_before_acceptance_get_security_error(start_csms):
    server = await start_csms(unknown_chargers="pending")
    async with simulated_charger(server.url, "CP-PEND") as charger:
        with pytest.raises(SecurityError, match="Registration is Pending"):
            await charger.call(call.Heartbeat(), suppress=False)


async def test_an_answer_to_no_request_is_logged_and_dropped(csms, raw_charger, caplog):
    await raw_charger.send(json.dumps([3, "never-asked", {}]))
    reply = await exchange(raw_charger, json.dumps([2, "hb", "Heartbeat", {}]))
    assert reply[:2] == [3, "hb"]
    assert "answer to no request ignored" in caplog.text


async def test_a_call_with_text_the_database_cannot_store_is_refused(csms, raw_charger, caplog):
    # Valid JSON and valid against the schema, but PostgreSQL stores no NUL.
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "info": "a\x00b"}
    reply = await exchange(raw_charger, json.dumps([2, "nul", "StatusNotification", status]))
    assert reply[:3] == [4, "nul", "PropertyConstraintViolation"]
    assert "NUL" in reply[3]
    assert "StatusNotification nul refused" in caplog.text
    # Nothing stored of it; the connection and the log go on.
    reply = await exchange(raw_charger, json.dumps([2, "hb", "Heartbeat", {}]))
    assert reply[:2] == [3, "hb"]
    assert not await StatusNotification.objects.filter(info__startswith="a").aexists()
    await csms.message_log.flush()
    logged = OcppMessage.objects.filter(charge_point_id="CP-RAW", unique_id__in=["nul", "hb"])
    payloads = {(m.unique_id, m.direction): m.payload async for m in logged}
    assert payloads[("nul", "received")]["info"] == "a\ufffdb"
    assert payloads[("nul", "sent")]["errorDescription"].startswith("A string holds")
    assert ("hb", "sent") in payloads


TS = "2026-11-25T00:00:00Z"
READINGS = [{"timestamp": TS, "sampledValue": [{"value": "1"}]}]
STATUS = {"errorCode": "NoError", "status": "Available"}


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        pytest.param(
            "StatusNotification", {**STATUS, "connectorId": 2**40}, "connectorId", id="was-0"
        ),
        pytest.param(
            "StatusNotification", {**STATUS, "connectorId": -1}, "connectorId", id="negative"
        ),
        pytest.param(
            "MeterValues",
            {"connectorId": 2**31, "meterValue": READINGS},
            "connectorId",
            id="meter-values",
        ),
        pytest.param(
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": TS}
            | {"reservationId": 2**32},
            "reservationId",
            id="start",
        ),
    ],
)
async def test_an_integer_no_column_holds_is_refused_and_nothing_is_stored(
    raw_charger, action, payload, field, caplog
):
    reply = await exchange(raw_charger, json.dumps([2, "int", action, payload]))
    assert reply[:3] == [4, "int", "PropertyConstraintViolation"]
    assert reply[3].startswith(f"{field}: ")
    assert "answered PropertyConstraintViolation" in caplog.text
    assert await StatusNotification.objects.acount() == 0
    assert await MeterValue.objects.acount() == 0
    assert await Transaction.objects.acount() == 0


async def test_an_integer_no_column_holds_is_refused_in_201_too(csms):
    boot = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
    started = {
        "eventType": "Started",
        "timestamp": TS,
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "TX-1"},
        "evse": {"id": -1, "connectorId": 1},
    }
    async with connect(csms.url + "CP-201", subprotocols=["ocpp2.0.1"]) as websocket:
        assert (await exchange(websocket, json.dumps([2, "b", "BootNotification", boot])))[0] == 3
        reply = await exchange(websocket, json.dumps([2, "t", "TransactionEvent", started]))
        assert reply[:3] == [4, "t", "PropertyConstraintViolation"]
        assert reply[3].startswith("evse.id: -1 is out of range")
        started["evse"] = {"id": 1, "connectorId": 1}
        reply = await exchange(websocket, json.dumps([2, "t2", "TransactionEvent", started]))
        assert reply[0] == 3
    assert await Transaction.objects.acount() == 1

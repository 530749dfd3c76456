"""OCPP 2.0.1 charger-initiated messages, sent by a real websocket client to the
real server: the answer, and what was stored in the same tables as 1.6."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call
from websockets.asyncio.client import connect

from chargepoints.models import (
    ChargePoint,
    Connector,
    SecurityEvent,
    StatusNotification,
)
from core.testing import iso
from csms.simulator import simulated_charger
from csms.tests.helpers import boot_201 as boot
from idtokens.models import IdToken
from transactions.models import MeterValue, Transaction, TransactionEvent, TransactionStatus

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
V201 = ("ocpp2.0.1",)


def event(
    event_type: str, seq_no: int, minutes: int, *, trigger: str = "ChargingStateChanged", **fields
) -> call.TransactionEvent:
    info = {"transaction_id": "TX-201", **fields.pop("info", {})}
    return call.TransactionEvent(
        event_type=event_type,
        timestamp=iso(T0 + timedelta(minutes=minutes)),
        trigger_reason=trigger,
        seq_no=seq_no,
        transaction_info=info,
        **fields,
    )


def energy(minutes: int, wh: float, context: str = "Sample.Periodic") -> list[dict]:
    return [
        {
            "timestamp": iso(T0 + timedelta(minutes=minutes)),
            "sampled_value": [{"value": wh, "context": context}],
        }
    ]


async def test_the_newest_version_offered_is_chosen(csms):
    async with connect(csms.url + "CP-BOTH", subprotocols=["ocpp1.6", "ocpp2.0.1"]) as websocket:
        assert websocket.subprotocol == "ocpp2.0.1"


async def test_boot_heartbeat_status(csms):
    async with simulated_charger(csms.url, "CP-201", subprotocols=V201) as charger:
        reply = await boot(charger)
        assert (reply.status, reply.interval) == ("Accepted", 300)
        assert (await charger.call(call.Heartbeat())).current_time.endswith("Z")
        await charger.call(
            call.StatusNotification(
                timestamp=iso(T0), connector_status="Occupied", evse_id=2, connector_id=1
            )
        )
        cp = await ChargePoint.objects.aget(id="CP-201")
        connector = await Connector.objects.select_related("evse").aget(evse__charge_point=cp)
        history = await StatusNotification.objects.filter(charge_point=cp).acount()
    assert (cp.ocpp_version, cp.vendor, cp.model, cp.serial_number) == (
        "2.0.1",
        "Acme",
        "DC-150",
        "SN-201",
    )
    assert (cp.firmware_version, cp.iccid, cp.imsi, cp.boot_reason) == (
        "4.5.6",
        "8931",
        "2040",
        "PowerUp",
    )
    assert cp.last_heartbeat_at is not None
    assert (connector.evse.evse_id, connector.connector_id, connector.status) == (2, 1, "Occupied")
    assert history == 1


async def test_authorize_answers_unknown_for_tokens_nobody_knows(csms):
    group = await IdToken.objects.acreate(value="FLEET", type="Central")
    await IdToken.objects.acreate(
        value="CARD-1",
        type="ISO14443",
        parent=group,
        language="nl",
        second_language="en",
        personal_message="Welkom terug",
        personal_message_language="nl",
        charging_priority=3,
    )
    await IdToken.objects.acreate(value="CARD-2", type="ISO14443", status="Blocked")
    async with simulated_charger(csms.url, "CP-AUTH201", subprotocols=V201) as charger:
        await boot(charger)
        answers = {}
        for value, kind in [
            ("CARD-1", "ISO14443"),
            ("CARD-2", "ISO14443"),
            ("CARD-1", "eMAID"),
            ("", "NoAuthorization"),
        ]:
            reply = await charger.call(call.Authorize(id_token={"id_token": value, "type": kind}))
            answers[(value, kind)] = reply.id_token_info
    card = answers[("CARD-1", "ISO14443")]
    assert card["status"] == "Accepted"
    assert card["group_id_token"] == {"id_token": "FLEET", "type": "Central"}
    assert (card["language1"], card["language2"], card["charging_priority"]) == ("nl", "en", 3)
    assert card["personal_message"] == {
        "format": "UTF8",
        "content": "Welkom terug",
        "language": "nl",
    }
    assert "personal_message" not in answers[("CARD-2", "ISO14443")]
    assert answers[("CARD-2", "ISO14443")]["status"] == "Blocked"
    assert answers[("CARD-1", "eMAID")]["status"] == "Unknown"  # same value, other type
    assert answers[("", "NoAuthorization")]["status"] == "Accepted"


async def test_a_session_from_started_to_ended(csms):
    token = await IdToken.objects.acreate(value="DRIVER-201", type="ISO14443")
    id_token = {"id_token": "DRIVER-201", "type": "ISO14443"}
    async with simulated_charger(csms.url, "CP-TX201", subprotocols=V201) as charger:
        await boot(charger)
        started = await charger.call(
            event(
                "Started",
                0,
                0,
                trigger="Authorized",
                id_token=id_token,
                evse={"id": 1, "connector_id": 1},
                meter_value=energy(0, 1000, "Transaction.Begin"),
                info={"charging_state": "EVConnected", "remote_start_id": 77},
            )
        )
        assert started.id_token_info["status"] == "Accepted"
        updated = await charger.call(
            event(
                "Updated", 1, 10, meter_value=energy(10, 4000), info={"charging_state": "Charging"}
            )
        )
        assert updated.id_token_info is None  # no token in the request, none in the answer
        await charger.call(
            event(
                "Ended",
                2,
                30,
                trigger="EVCommunicationLost",
                meter_value=[
                    {
                        "timestamp": iso(T0 + timedelta(minutes=30)),
                        "sampled_value": [
                            {
                                "value": 9.5,
                                "context": "Transaction.End",
                                "unit_of_measure": {"unit": "kWh"},
                            },
                            {
                                "value": 72,
                                "measurand": "Power.Active.Import",
                                "unit_of_measure": {"unit": "W", "multiplier": 3},
                            },
                        ],
                    }
                ],
                info={"charging_state": "Idle", "stopped_reason": "EVDisconnected"},
            )
        )
        session = await Transaction.objects.aget(charge_point_id="CP-TX201")
        events = [
            (e.seq_no, e.event_type)
            async for e in TransactionEvent.objects.filter(transaction=session)
        ]
        power = await MeterValue.objects.aget(transaction=session, measurand="Power.Active.Import")
    assert session.ocpp_version == "2.0.1"
    assert session.ocpp_transaction_id == "TX-201"
    assert session.id_token_id == token.pk
    assert (session.evse_id, session.connector_id, session.remote_start_id) == (1, 1, 77)
    assert session.status == TransactionStatus.ENDED
    assert (session.started_at, session.stopped_at) == (T0, T0 + timedelta(minutes=30))
    assert (session.meter_start_wh, session.meter_stop_wh) == (Decimal(1000), Decimal(9500))
    assert session.energy_wh == Decimal(8500)
    assert (session.charging_state, session.stop_reason) == ("Idle", "EVDisconnected")
    assert events == [(0, "Started"), (1, "Updated"), (2, "Ended")]
    assert (power.numeric_value, power.unit) == (Decimal(72000), "W")


async def test_resent_and_out_of_order_events_are_applied_once(csms):
    async with simulated_charger(csms.url, "CP-RESEND", subprotocols=V201) as charger:
        await boot(charger)
        # The charger was offline: Updated arrives before Started, then both again.
        updated = event(
            "Updated",
            1,
            5,
            offline=True,
            meter_value=energy(5, 200),
            info={"charging_state": "Charging"},
        )
        started = event(
            "Started",
            0,
            0,
            offline=True,
            evse={"id": 1},
            meter_value=energy(0, 100),
            info={"charging_state": "EVConnected"},
        )
        for message in (updated, started, updated, started):
            await charger.call(message)
        ended = event("Ended", 2, 9, meter_value=energy(9, 300), info={"stopped_reason": "Local"})
        await charger.call(ended)
        await charger.call(ended)
        sessions = [s async for s in Transaction.objects.filter(charge_point_id="CP-RESEND")]
        samples = await MeterValue.objects.filter(charge_point_id="CP-RESEND").acount()
        offline = await TransactionEvent.objects.filter(offline=True).acount()
    assert len(sessions) == 1
    session = sessions[0]
    assert session.started_at == T0  # from Started, although it came second
    assert session.charging_state == "Charging"  # seqNo 1 is newer than seqNo 0
    assert session.last_seq_no == 2
    assert (session.meter_start_wh, session.meter_stop_wh) == (Decimal(100), Decimal(300))
    assert session.status == "Ended"
    assert samples == 3  # not 5: repeated events add no readings
    assert offline == 2


async def test_meter_values_firmware_log_security_and_data_transfer(csms):
    async with simulated_charger(csms.url, "CP-MISC201", subprotocols=V201) as charger:
        await boot(charger)
        await charger.call(call.MeterValues(evse_id=0, meter_value=energy(1, 123456)))
        signed = {
            "signed_meter_data": "AQIDBA==",
            "signing_method": "ECDSA-secp256r1-SHA256",
            "encoding_method": "OCMF",
            "public_key": "BAUG",
        }
        reading = energy(2, 123500)
        reading[0]["sampled_value"][0]["signed_meter_value"] = signed
        await charger.call(call.MeterValues(evse_id=1, meter_value=reading))
        await charger.call(call.FirmwareStatusNotification(status="Installed", request_id=1))
        await charger.call(call.LogStatusNotification(status="Uploaded", request_id=2))
        await charger.call(
            call.SecurityEventNotification(
                type="FirmwareUpdated", timestamp=iso(T0), tech_info="v4.5.6"
            )
        )
        transfer = await charger.call(call.DataTransfer(vendor_id="com.acme", data={"x": 1}))
        assert transfer.status == "UnknownVendorId"
        cp = await ChargePoint.objects.aget(id="CP-MISC201")
        sample = await MeterValue.objects.aget(charge_point=cp, evse_id=0)
        signed_sample = await MeterValue.objects.aget(charge_point=cp, evse_id=1)
        security = await SecurityEvent.objects.aget(charge_point=cp)
    assert (sample.numeric_value, sample.transaction_id) == (123456, None)
    assert sample.signed_meter_value is None
    assert signed_sample.numeric_value == 123500
    assert signed_sample.signed_meter_value == {
        "signed_meter_data": "AQIDBA==",
        "signing_method": "ECDSA-secp256r1-SHA256",
        "encoding_method": "OCMF",
        "public_key": "BAUG",
    }
    assert (cp.firmware_status, cp.diagnostics_status) == ("Installed", "Uploaded")
    assert (security.type, security.timestamp, security.tech_info) == (
        "FirmwareUpdated",
        T0,
        "v4.5.6",
    )


async def test_schema_violations_use_201_error_codes(csms):
    async with connect(csms.url + "CP-BAD201", subprotocols=["ocpp2.0.1"]) as websocket:
        boot_payload = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
        await websocket.send(json.dumps([2, "b", "BootNotification", boot_payload]))
        assert json.loads(await websocket.recv())[0] == 3
        await websocket.send(json.dumps([2, "x", "BootNotification", {**boot_payload, "z": 1}]))
        assert json.loads(await websocket.recv())[:3] == [4, "x", "FormatViolation"]
        await websocket.send("{not json")
        assert json.loads(await websocket.recv())[:3] == [4, "-1", "FormatViolation"]


async def test_a_charger_that_moves_from_16_to_201_keeps_its_history(csms):
    async with simulated_charger(csms.url, "CP-UPGRADE") as charger:
        await charger.call(call16.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        await charger.call(
            call16.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )
        started = await charger.call(
            call16.StartTransaction(connector_id=1, id_tag="T", meter_start=0, timestamp=iso(T0))
        )
        await charger.call(
            call16.StopTransaction(
                meter_stop=10,
                timestamp=iso(T0 + timedelta(minutes=1)),
                transaction_id=started.transaction_id,
            )
        )
    async with simulated_charger(csms.url, "CP-UPGRADE", subprotocols=V201) as charger:
        await boot(charger)
        await charger.call(event("Started", 0, 60, evse={"id": 1, "connector_id": 1}))
    cp = await ChargePoint.objects.aget(id="CP-UPGRADE")
    versions = [t.ocpp_version async for t in Transaction.objects.filter(charge_point=cp)]
    assert cp.ocpp_version == "2.0.1"
    assert sorted(versions) == ["1.6", "2.0.1"]
    assert await StatusNotification.objects.filter(charge_point=cp).acount() == 1

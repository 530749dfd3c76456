"""Every charger-initiated OCPP 1.6 message, sent by a real websocket client to
the real server: the answer, and what was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from ocpp.v16 import call
from ocpp.v16.enums import AuthorizationStatus, RegistrationStatus

from chargepoints.models import ChargePoint, Connector, SecurityEvent, StatusNotification
from core.testing import iso
from csms.simulator import simulated_charger
from idtokens.models import IdToken
from ocpp_messages.models import OcppMessage
from reservations.models import Reservation
from transactions.models import MeterValue, Transaction, TransactionStatus

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def boot(charger, **extra):
    return await charger.call(
        call.BootNotification(charge_point_model="Wallbox-22", charge_point_vendor="Acme", **extra)
    )


async def test_boot_notification_is_accepted_and_stored(csms):
    async with simulated_charger(csms.url, "CP-BOOT") as charger:
        reply = await boot(
            charger,
            charge_point_serial_number="SN-1",
            charge_box_serial_number="BOX-1",
            firmware_version="1.2.3",
            iccid="8931",
            imsi="2040",
            meter_type="ABB",
            meter_serial_number="M-9",
        )
        assert reply.status == RegistrationStatus.accepted
        assert reply.interval == 300
        assert abs(datetime.fromisoformat(reply.current_time) - datetime.now(UTC)) < timedelta(
            seconds=5
        )
        cp = await ChargePoint.objects.aget(id="CP-BOOT")
    assert (cp.vendor, cp.model, cp.serial_number, cp.charge_box_serial_number) == (
        "Acme",
        "Wallbox-22",
        "SN-1",
        "BOX-1",
    )
    assert (cp.firmware_version, cp.iccid, cp.imsi, cp.meter_type, cp.meter_serial_number) == (
        "1.2.3",
        "8931",
        "2040",
        "ABB",
        "M-9",
    )
    assert cp.ocpp_version == "1.6"
    assert cp.is_connected
    assert cp.remote_address == "127.0.0.1"
    assert cp.last_boot_at is not None


async def test_heartbeat_records_time(csms):
    async with simulated_charger(csms.url, "CP-HB") as charger:
        await boot(charger)
        reply = await charger.call(call.Heartbeat())
        assert reply.current_time.endswith("Z")
        cp = await ChargePoint.objects.aget(id="CP-HB")
    assert cp.last_heartbeat_at is not None


async def test_status_notification_updates_connector_and_history(csms):
    async with simulated_charger(csms.url, "CP-ST") as charger:
        await boot(charger)
        await charger.call(
            call.StatusNotification(
                connector_id=2,
                error_code="NoError",
                status="Charging",
                timestamp=iso(T0),
                info="plugged",
                vendor_id="acme",
                vendor_error_code="0",
            )
        )
        # An older notification arriving late goes to the history only.
        await charger.call(
            call.StatusNotification(
                connector_id=2,
                error_code="NoError",
                status="Preparing",
                timestamp=iso(T0 - timedelta(minutes=1)),
            )
        )
        await charger.call(
            call.StatusNotification(connector_id=0, error_code="NoError", status="Available")
        )
        connector = await Connector.objects.select_related("evse").aget(
            evse__charge_point_id="CP-ST"
        )
        cp = await ChargePoint.objects.aget(id="CP-ST")
        history = [
            n.status async for n in StatusNotification.objects.filter(charge_point_id="CP-ST")
        ]
    assert (connector.evse.evse_id, connector.connector_id) == (2, 1)
    assert (connector.status, connector.info, connector.vendor_id) == (
        "Charging",
        "plugged",
        "acme",
    )
    assert connector.status_at == T0
    assert cp.status == "Available"
    assert sorted(history) == ["Available", "Charging", "Preparing"]


async def test_authorize_answers_from_the_id_token_table(csms):
    group = await IdToken.objects.acreate(value="GROUP-1")
    await IdToken.objects.acreate(value="GOOD", parent=group, expires_at=T0 + timedelta(days=900))
    await IdToken.objects.acreate(value="BLOCKED", status="Blocked")
    await IdToken.objects.acreate(value="OLD", expires_at=T0 - timedelta(days=1))
    async with simulated_charger(csms.url, "CP-AUTH") as charger:
        await boot(charger)
        answers = {}
        for tag in ["GOOD", "BLOCKED", "OLD", "NOBODY"]:
            reply = await charger.call(call.Authorize(id_tag=tag))
            answers[tag] = reply.id_tag_info
    assert answers["GOOD"]["status"] == AuthorizationStatus.accepted
    assert answers["GOOD"]["parent_id_tag"] == "GROUP-1"
    assert answers["GOOD"]["expiry_date"] == "2029-05-11T10:00:00.000Z"
    assert answers["BLOCKED"]["status"] == AuthorizationStatus.blocked
    assert answers["OLD"]["status"] == AuthorizationStatus.expired
    assert answers["NOBODY"]["status"] == AuthorizationStatus.invalid


async def test_transaction_start_meter_values_stop(csms):
    token = await IdToken.objects.acreate(value="DRIVER-1")
    async with simulated_charger(csms.url, "CP-TX") as charger:
        await boot(charger)
        started = await charger.call(
            call.StartTransaction(
                connector_id=1, id_tag="DRIVER-1", meter_start=1000, timestamp=iso(T0)
            )
        )
        assert started.id_tag_info["status"] == AuthorizationStatus.accepted
        tx_id = started.transaction_id

        # The same token cannot start a second session while this one runs.
        second = await charger.call(
            call.StartTransaction(
                connector_id=2, id_tag="DRIVER-1", meter_start=0, timestamp=iso(T0)
            )
        )
        assert second.id_tag_info["status"] == AuthorizationStatus.concurrent_tx

        await charger.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=tx_id,
                meter_value=[
                    {
                        "timestamp": iso(T0 + timedelta(minutes=5)),
                        "sampledValue": [
                            {"value": "1500"},
                            {
                                "value": "7.2",
                                "measurand": "Power.Active.Import",
                                "unit": "kW",
                                "phase": "L1",
                            },
                        ],
                    }
                ],
            )
        )
        stopped = await charger.call(
            call.StopTransaction(
                meter_stop=3500,
                timestamp=iso(T0 + timedelta(minutes=30)),
                transaction_id=tx_id,
                id_tag="DRIVER-1",
                reason="EVDisconnected",
                transaction_data=[
                    {
                        "timestamp": iso(T0 + timedelta(minutes=30)),
                        "sampledValue": [
                            {"value": "3.5", "unit": "kWh", "context": "Transaction.End"}
                        ],
                    }
                ],
            )
        )
        assert stopped.id_tag_info["status"] == AuthorizationStatus.accepted

        session = await Transaction.objects.aget(pk=tx_id)
        samples = [
            (s.measurand, s.value, s.unit, s.phase, s.context, s.location, s.numeric_value)
            async for s in MeterValue.objects.filter(transaction_id=tx_id).order_by(
                "timestamp", "id"
            )
        ]
    assert session.id_token_id == token.pk
    assert session.ocpp_transaction_id == str(tx_id)
    assert (session.evse_id, session.connector_id) == (1, 1)
    assert session.status == TransactionStatus.ENDED
    assert session.started_at == T0
    assert session.stopped_at == T0 + timedelta(minutes=30)
    assert (session.meter_start_wh, session.meter_stop_wh) == (Decimal(1000), Decimal(3500))
    assert session.energy_wh == Decimal(2500)
    assert session.stop_reason == "EVDisconnected"
    assert samples == [
        (
            "Energy.Active.Import.Register",
            "1500",
            "Wh",
            "",
            "Sample.Periodic",
            "Outlet",
            Decimal(1500),
        ),
        ("Power.Active.Import", "7.2", "kW", "L1", "Sample.Periodic", "Outlet", Decimal("7.2")),
        (
            "Energy.Active.Import.Register",
            "3.5",
            "kWh",
            "",
            "Transaction.End",
            "Outlet",
            Decimal("3.5"),
        ),
    ]


async def test_repeated_start_and_stop_create_no_duplicates(csms):
    await IdToken.objects.acreate(value="DRIVER-2")
    start = call.StartTransaction(
        connector_id=1, id_tag="DRIVER-2", meter_start=10, timestamp=iso(T0)
    )
    async with simulated_charger(csms.url, "CP-DUP") as charger:
        await boot(charger)
        first = await charger.call(start)
        again = await charger.call(start)
        assert again.transaction_id == first.transaction_id
        assert again.id_tag_info["status"] == AuthorizationStatus.accepted
        stop = call.StopTransaction(
            meter_stop=20,
            timestamp=iso(T0 + timedelta(hours=1)),
            transaction_id=first.transaction_id,
        )
        await charger.call(stop)
        await charger.call(stop)
        count = await Transaction.objects.filter(charge_point_id="CP-DUP").acount()
        session = await Transaction.objects.aget(pk=first.transaction_id)
    assert count == 1
    assert session.meter_stop_wh == Decimal(20)
    assert session.stop_reason == "Local"


async def test_unknown_transaction_stop_and_meter_values_are_answered_and_kept(csms):
    async with simulated_charger(csms.url, "CP-ORPHAN") as charger:
        await boot(charger)
        reply = await charger.call(
            call.StopTransaction(meter_stop=5, timestamp=iso(T0), transaction_id=99999, id_tag="X")
        )
        assert reply.id_tag_info["status"] == AuthorizationStatus.invalid
        await charger.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=99999,
                meter_value=[{"timestamp": iso(T0), "sampledValue": [{"value": "5"}]}],
            )
        )
        kept = await MeterValue.objects.filter(
            charge_point_id="CP-ORPHAN", transaction=None
        ).acount()
    assert kept == 1


async def test_data_transfer_diagnostics_and_firmware_status(csms):
    async with simulated_charger(csms.url, "CP-MISC") as charger:
        await boot(charger)
        reply = await charger.call(
            call.DataTransfer(vendor_id="com.acme", message_id="hello", data="{}")
        )
        assert reply.status == "UnknownVendorId"
        await charger.call(call.DiagnosticsStatusNotification(status="Uploaded"))
        await charger.call(call.FirmwareStatusNotification(status="Installed"))
        cp = await ChargePoint.objects.aget(id="CP-MISC")
    assert (cp.diagnostics_status, cp.firmware_status) == ("Uploaded", "Installed")
    assert cp.diagnostics_status_at is not None
    assert cp.firmware_status_at is not None


async def test_every_frame_is_logged_with_its_action(csms):
    async with simulated_charger(csms.url, "CP-LOG") as charger:
        await boot(charger)
        await charger.call(call.DataTransfer(vendor_id="com.acme", data="payload"))
    await csms.message_log.flush()
    frames = [
        (m.direction, m.message_type, m.action)
        async for m in OcppMessage.objects.filter(charge_point_id="CP-LOG").order_by("id")
    ]
    assert frames == [
        ("received", 2, "BootNotification"),
        ("sent", 3, "BootNotification"),
        ("received", 2, "DataTransfer"),
        ("sent", 3, "DataTransfer"),
    ]
    transfer = await OcppMessage.objects.aget(
        charge_point_id="CP-LOG", action="DataTransfer", direction="received"
    )
    assert transfer.payload == {"vendorId": "com.acme", "data": "payload"}
    # An answer is logged from its payload in hand: the same as the charger read.
    booted = await OcppMessage.objects.aget(
        charge_point_id="CP-LOG", action="BootNotification", direction="sent"
    )
    assert booted.payload == {
        "currentTime": booted.payload["currentTime"],
        "interval": settings.OV2XMP.heartbeat_interval,
        "status": "Accepted",
    }
    boot_call = await OcppMessage.objects.aget(
        charge_point_id="CP-LOG", action="BootNotification", direction="received"
    )
    assert (booted.raw, booted.unique_id) == ("", boot_call.unique_id)


async def test_security_extension_notifications(csms):
    async with simulated_charger(csms.url, "CP-SEC16") as charger:
        await boot(charger)
        await charger.call(
            call.SecurityEventNotification(
                type="InvalidCentralSystemCertificate", timestamp=iso(T0), tech_info="expired"
            )
        )
        await charger.call(call.LogStatusNotification(status="Uploading", request_id=3))
        await charger.call(
            call.SignedFirmwareStatusNotification(status="SignatureVerified", request_id=4)
        )
        cp = await ChargePoint.objects.aget(id="CP-SEC16")
        event = await SecurityEvent.objects.aget(charge_point=cp)
    assert (event.type, event.timestamp, event.tech_info) == (
        "InvalidCentralSystemCertificate",
        T0,
        "expired",
    )
    assert (cp.diagnostics_status, cp.firmware_status) == ("Uploading", "SignatureVerified")


async def test_a_start_on_a_reservation_uses_it(csms):
    charger_row = await ChargePoint.objects.acreate(id="CP-RES16")
    await Reservation.objects.acreate(
        charge_point=charger_row, reservation_id=5, evse_id=1, status="Accepted", status_at=T0
    )
    async with simulated_charger(csms.url, "CP-RES16") as charger:
        await boot(charger)
        started = await charger.call(
            call.StartTransaction(
                connector_id=1, id_tag="T", meter_start=0, timestamp=iso(T0), reservation_id=5
            )
        )
    reservation = await Reservation.objects.aget(charge_point=charger_row, reservation_id=5)
    assert reservation.status == "Used"
    assert reservation.transaction_id == started.transaction_id


async def test_meter_values_sent_again_after_a_reconnect_are_kept_once(csms):
    def meter_values(tx_id: int, minutes: list[int]) -> call.MeterValues:
        return call.MeterValues(
            connector_id=1,
            transaction_id=tx_id,
            meter_value=[
                {
                    "timestamp": iso(T0 + timedelta(minutes=minute)),
                    "sampledValue": [
                        {"value": str(1000 + minute)},
                        {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                    ],
                }
                for minute in minutes
            ],
        )

    async with simulated_charger(csms.url, "CP-QUEUE") as charger:
        await boot(charger)
        started = await charger.call(
            call.StartTransaction(connector_id=1, id_tag="T", meter_start=1000, timestamp=iso(T0))
        )
        await charger.call(meter_values(started.transaction_id, [1]))
    # The answer to minute 1 was lost with the connection: the charger sends it
    # again, with the readings it queued while offline.
    async with simulated_charger(csms.url, "CP-QUEUE") as charger:
        await boot(charger)
        await charger.call(meter_values(started.transaction_id, [1, 2, 3]))
        await charger.call(meter_values(started.transaction_id, [3]))
        session = await Transaction.objects.aget(pk=started.transaction_id)
        samples = [
            (sample.timestamp, sample.measurand, sample.transaction_id)
            async for sample in MeterValue.objects.filter(charge_point_id="CP-QUEUE")
        ]
    assert len(samples) == 6  # three readings of two samples each, none twice
    assert {transaction_id for *_, transaction_id in samples} == {session.pk}
    assert session.meter_last_wh == Decimal(1003)

"""OCPP 1.6J: thin handlers that translate payloads into domain services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as LibraryChargePoint
from ocpp.v16 import call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import Action, DataTransferStatus

from chargepoints.services import (
    BootInfo,
)
from chargepoints.statuses import StatusReport
from core.db import decimal_fits
from core.time import format_timestamp, utc_now
from csms.charge_point import CsmsChargePoint, db, timestamp_field
from csms.v16.certificates import CertificateHandlers16
from idtokens.models import IdTokenStatus
from idtokens.selectors import NO_CREDIT, Authorization, idtoken_authorize
from transactions.meter_values import MeterValuesReport
from transactions.models import ENERGY_REGISTER, Transaction
from transactions.services import (
    MeterReading,
    SampledValue,
    transaction_start,
    transaction_stop,
)

ID_TAG_MAX_LENGTH = 20


def id_tag_info(authorization: Authorization) -> IdTagInfo:
    parent = authorization.parent_value
    return IdTagInfo(
        # 1.6 has no NoCredit: the nearest is Blocked.
        status=IdTokenStatus.BLOCKED if authorization.status == NO_CREDIT else authorization.status,
        parent_id_tag=parent if parent and len(parent) <= ID_TAG_MAX_LENGTH else None,
        expiry_date=format_timestamp(authorization.expires_at)
        if authorization.expires_at
        else None,
    )


def meter_field(value: int, field: str) -> Decimal:
    """A meter reading (Wh) from a payload, or PropertyConstraintViolation
    naming the field where a session cannot hold it (PostgreSQL would refuse
    it, and the charger would be answered InternalError)."""
    wh = Decimal(value)
    if not decimal_fits(Transaction._meta.get_field("meter_start_wh"), wh):
        raise PropertyConstraintViolationError(description=f"{field}: {value} Wh is out of range")
    return wh


def evse_and_connector(connector_id: int) -> tuple[int, int | None]:
    """1.6 connector N is EVSE N, connector 1; connector 0 is the charger."""
    return (connector_id, 1) if connector_id > 0 else (0, None)


def meter_readings(meter_value: list[dict[str, Any]]) -> list[MeterReading]:
    """1.6 MeterValue objects, with the defaults the 1.6 spec gives."""
    return [
        MeterReading(
            timestamp=timestamp_field(
                reading["timestamp"], "timestamp", PropertyConstraintViolationError
            ),
            sampled_values=[
                SampledValue(
                    value=sample["value"],
                    measurand=sample.get("measurand", ENERGY_REGISTER),
                    phase=sample.get("phase", ""),
                    unit=sample.get("unit", "Wh"),
                    context=sample.get("context", "Sample.Periodic"),
                    location=sample.get("location", "Outlet"),
                    format=sample.get("format", "Raw"),
                )
                for sample in reading["sampled_value"]
            ],
        )
        for reading in meter_value
    ]


class ChargePoint16(CertificateHandlers16, CsmsChargePoint, LibraryChargePoint):
    ocpp_version = "1.6"
    error_code_aliases = {
        "FormatViolation": "FormationViolation",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    }

    @on(Action.boot_notification)
    async def on_boot_notification(
        self,
        charge_point_vendor: str,
        charge_point_model: str,
        charge_point_serial_number: str = "",
        charge_box_serial_number: str = "",
        firmware_version: str = "",
        iccid: str = "",
        imsi: str = "",
        meter_type: str = "",
        meter_serial_number: str = "",
    ) -> call_result.BootNotification:
        boot = BootInfo(
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial_number=charge_point_serial_number,
            charge_box_serial_number=charge_box_serial_number,
            firmware_version=firmware_version,
            iccid=iccid,
            imsi=imsi,
            meter_type=meter_type,
            meter_serial_number=meter_serial_number,
        )
        current_time, interval, status = await self.record_boot(boot)
        return call_result.BootNotification(
            current_time=current_time, interval=interval, status=status
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=await self.record_heartbeat())

    @on(Action.status_notification)
    async def on_status_notification(
        self,
        connector_id: int,
        error_code: str,
        status: str,
        info: str = "",
        timestamp: str | None = None,
        vendor_id: str = "",
        vendor_error_code: str = "",
    ) -> call_result.StatusNotification:
        evse_id, connector = evse_and_connector(connector_id)
        report = StatusReport(
            charge_point_id=self.id,
            evse_id=evse_id,
            connector_id=connector,
            status=status,
            error_code=error_code,
            info=info,
            vendor_id=vendor_id,
            vendor_error_code=vendor_error_code,
            timestamp=timestamp_field(timestamp, "timestamp", PropertyConstraintViolationError),
        )
        await self.writes.statuses.submit(report)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        authorization = await db(idtoken_authorize)(value=id_tag, at=utc_now())
        return call_result.Authorize(id_tag_info=id_tag_info(authorization))

    @on(Action.start_transaction)
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
    ) -> call_result.StartTransaction:
        evse_id, connector = evse_and_connector(connector_id)
        started = await db(transaction_start)(
            charge_point_id=self.id,
            ocpp_version=self.ocpp_version,
            evse_id=evse_id,
            connector_id=connector,
            id_token_value=id_tag,
            started_at=timestamp_field(timestamp, "timestamp", PropertyConstraintViolationError),
            meter_start_wh=meter_field(meter_start, "meterStart"),
            reservation_id=reservation_id,
        )
        return call_result.StartTransaction(
            transaction_id=started.transaction.pk, id_tag_info=id_tag_info(started.authorization)
        )

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        reason: str = "",
        id_tag: str = "",
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> call_result.StopTransaction:
        stopped = await db(transaction_stop)(
            charge_point_id=self.id,
            ocpp_transaction_id=str(transaction_id),
            stopped_at=timestamp_field(timestamp, "timestamp", PropertyConstraintViolationError),
            meter_stop_wh=meter_field(meter_stop, "meterStop"),
            # 1.6: a reason left out means Local.
            reason=reason or "Local",
            id_token_value=id_tag,
            readings=meter_readings(transaction_data or []),
        )
        info = id_tag_info(stopped.authorization) if stopped.authorization else None
        return call_result.StopTransaction(id_tag_info=info)

    @on(Action.meter_values)
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
    ) -> call_result.MeterValues:
        evse_id, connector = evse_and_connector(connector_id)
        report = MeterValuesReport(
            charge_point_id=self.id,
            evse_id=evse_id,
            connector_id=connector,
            ocpp_transaction_id=str(transaction_id) if transaction_id is not None else None,
            readings=meter_readings(meter_value),
        )
        await self.writes.meter_values.submit(report)
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, message_id: str = "", data: str | None = None
    ) -> call_result.DataTransfer:
        # No vendor extensions are installed; the frame is kept in the message log.
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(
        self, status: str
    ) -> call_result.DiagnosticsStatusNotification:
        await self.record_upload_status(status, action="GetDiagnostics")
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    async def on_firmware_status_notification(
        self, status: str
    ) -> call_result.FirmwareStatusNotification:
        await self.record_firmware_status(status)
        return call_result.FirmwareStatusNotification()

    # --- The OCPP 1.6 security extension (Security Whitepaper, edition 3) ---------------

    @on(Action.security_event_notification)
    async def on_security_event_notification(
        self, type: str, timestamp: str, tech_info: str = ""
    ) -> call_result.SecurityEventNotification:
        await self.record_security_event(type, timestamp, tech_info)
        return call_result.SecurityEventNotification()

    @on(Action.log_status_notification)
    async def on_log_status_notification(
        self, status: str, request_id: int | None = None
    ) -> call_result.LogStatusNotification:
        await self.record_upload_status(status, action="GetLog", request_id=request_id)
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    async def on_signed_firmware_status_notification(
        self, status: str, request_id: int | None = None
    ) -> call_result.SignedFirmwareStatusNotification:
        await self.record_firmware_status(status, request_id=request_id)
        return call_result.SignedFirmwareStatusNotification()

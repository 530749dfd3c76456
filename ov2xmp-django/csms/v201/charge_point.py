"""OCPP 2.0.1: thin handlers that translate payloads into the same
version-neutral services that serve 1.6."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v201 import ChargePoint as LibraryChargePoint
from ocpp.v201 import call_result
from ocpp.v201.datatypes import IdTokenInfoType, IdTokenType
from ocpp.v201.enums import Action, DataTransferStatusEnumType

from chargepoints.services import (
    BootInfo,
    ReportedAttribute,
    ReportedEvent,
    charger_events_record,
    connector_record_status,
    device_model_record_report,
)
from core.time import format_timestamp, utc_now
from csms.charge_point import CsmsChargePoint, db, timestamp_field
from idtokens.selectors import Authorization, idtoken_authorize
from transactions.models import ENERGY_REGISTER
from transactions.services import (
    MeterReading,
    SampledValue,
    TransactionEventData,
    meter_values_record,
    transaction_event_record,
)


def id_token_info(authorization: Authorization) -> IdTokenInfoType:
    group = None
    if authorization.parent_value and authorization.parent_type:
        group = IdTokenType(id_token=authorization.parent_value, type=authorization.parent_type)
    return IdTokenInfoType(
        status=authorization.status if authorization.known else "Unknown",
        cache_expiry_date_time=format_timestamp(authorization.expires_at)
        if authorization.expires_at
        else None,
        group_id_token=group,
    )


def when(value: str | None, field: str = "timestamp"):
    return timestamp_field(value, field, PropertyConstraintViolationError)


def sampled_value(sample: dict[str, Any]) -> SampledValue:
    """A 2.0.1 SampledValue: a number with a unit and a power-of-ten multiplier,
    stored scaled (the frame as sent stays in the message log)."""
    unit = sample.get("unit_of_measure") or {}
    try:
        value = Decimal(str(sample["value"])).scaleb(int(unit.get("multiplier", 0)))
    except (InvalidOperation, ValueError):
        raise PropertyConstraintViolationError(
            description=f"sampledValue.value: {sample['value']!r} is not a number"
        ) from None
    return SampledValue(
        value=str(value),
        measurand=sample.get("measurand", ENERGY_REGISTER),
        phase=sample.get("phase", ""),
        unit=unit.get("unit", "Wh"),
        context=sample.get("context", "Sample.Periodic"),
        location=sample.get("location", "Outlet"),
    )


def addressed_variable(item: dict[str, Any]) -> dict[str, Any]:
    """Where a device-model variable lives: component (with its EVSE and
    connector) and variable, as the fields the services take."""
    component, variable = item["component"], item["variable"]
    evse = component.get("evse") or {}
    return {
        "component_name": component["name"],
        "component_instance": component.get("instance", ""),
        "evse_id": evse.get("id"),
        "connector_id": evse.get("connector_id"),
        "variable_name": variable["name"],
        "variable_instance": variable.get("instance", ""),
    }


def reported_attributes(report_data: list[dict[str, Any]]) -> list[ReportedAttribute]:
    attributes = []
    for item in report_data:
        characteristics = item.get("variable_characteristics")
        for attribute in item["variable_attribute"]:
            attributes.append(
                ReportedAttribute(
                    **addressed_variable(item),
                    attribute_type=attribute.get("type", "Actual"),
                    value=attribute.get("value", ""),
                    mutability=attribute.get("mutability", ""),
                    persistent=attribute.get("persistent"),
                    constant=attribute.get("constant"),
                    characteristics=characteristics,
                )
            )
    return attributes


def reported_event(item: dict[str, Any]) -> ReportedEvent:
    return ReportedEvent(
        **addressed_variable(item),
        event_id=item["event_id"],
        timestamp=when(item["timestamp"]),
        trigger=item["trigger"],
        actual_value=item["actual_value"],
        event_notification_type=item["event_notification_type"],
        cause=item.get("cause"),
        tech_code=item.get("tech_code", ""),
        tech_info=item.get("tech_info", ""),
        cleared=item.get("cleared", False),
        transaction_id=item.get("transaction_id", ""),
        variable_monitoring_id=item.get("variable_monitoring_id"),
    )


def meter_readings(meter_value: list[dict[str, Any]]) -> list[MeterReading]:
    return [
        MeterReading(
            timestamp=when(reading["timestamp"]),
            sampled_values=[sampled_value(sample) for sample in reading["sampled_value"]],
        )
        for reading in meter_value
    ]


class ChargePoint201(CsmsChargePoint, LibraryChargePoint):
    ocpp_version = "2.0.1"
    error_code_aliases = {
        "FormationViolation": "FormatViolation",
        "OccurenceConstraintViolation": "OccurrenceConstraintViolation",
    }

    @on(Action.boot_notification)
    async def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **_: Any
    ) -> call_result.BootNotification:
        modem = charging_station.get("modem") or {}
        boot = BootInfo(
            vendor=charging_station["vendor_name"],
            model=charging_station["model"],
            serial_number=charging_station.get("serial_number", ""),
            firmware_version=charging_station.get("firmware_version", ""),
            iccid=modem.get("iccid", ""),
            imsi=modem.get("imsi", ""),
            reason=reason,
        )
        current_time, interval, status = await self.record_boot(boot)
        return call_result.BootNotification(
            current_time=current_time, interval=interval, status=status
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=await self.record_heartbeat())

    @on(Action.status_notification)
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **_: Any
    ) -> call_result.StatusNotification:
        await db(connector_record_status)(
            charge_point_id=self.id,
            evse_id=evse_id,
            connector_id=connector_id,
            status=connector_status,
            timestamp=when(timestamp),
        )
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        authorization = await db(idtoken_authorize)(
            value=id_token["id_token"], type=id_token["type"], at=utc_now()
        )
        return call_result.Authorize(id_token_info=id_token_info(authorization))

    @on(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        offline: bool = False,
        reservation_id: int | None = None,
        id_token: dict[str, Any] | None = None,
        evse: dict[str, Any] | None = None,
        meter_value: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.TransactionEvent:
        event = TransactionEventData(
            ocpp_transaction_id=transaction_info["transaction_id"],
            event_type=event_type,
            seq_no=seq_no,
            timestamp=when(timestamp),
            trigger_reason=trigger_reason,
            offline=offline,
            evse_id=evse["id"] if evse else None,
            connector_id=evse.get("connector_id") if evse else None,
            id_token_value=id_token["id_token"] if id_token else "",
            id_token_type=id_token["type"] if id_token else None,
            charging_state=transaction_info.get("charging_state", ""),
            stopped_reason=transaction_info.get("stopped_reason", ""),
            remote_start_id=transaction_info.get("remote_start_id"),
            reservation_id=reservation_id,
            readings=meter_readings(meter_value or []),
        )
        recorded = await db(transaction_event_record)(charge_point_id=self.id, event=event)
        info = id_token_info(recorded.authorization) if recorded.authorization else None
        return call_result.TransactionEvent(id_token_info=info)

    @on(Action.notify_report)
    async def on_notify_report(
        self,
        request_id: int,
        generated_at: str,
        seq_no: int,
        tbc: bool = False,
        report_data: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.NotifyReport:
        await db(device_model_record_report)(
            charge_point_id=self.id,
            request_id=request_id,
            generated_at=when(generated_at, "generatedAt"),
            seq_no=seq_no,
            tbc=tbc,
            attributes=reported_attributes(report_data or []),
        )
        return call_result.NotifyReport()

    @on(Action.notify_event)
    async def on_notify_event(
        self, generated_at: str, seq_no: int, event_data: list[dict[str, Any]], **_: Any
    ) -> call_result.NotifyEvent:
        # Each part stands alone (no requestId): stored as it comes, seqNo and
        # tbc need no assembly.
        await db(charger_events_record)(
            charge_point_id=self.id,
            generated_at=when(generated_at, "generatedAt"),
            events=[reported_event(item) for item in event_data],
        )
        return call_result.NotifyEvent()

    @on(Action.meter_values)
    async def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> call_result.MeterValues:
        await db(meter_values_record)(
            charge_point_id=self.id,
            evse_id=evse_id,
            connector_id=None,
            readings=meter_readings(meter_value),
        )
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        # No vendor extensions are installed; the frame is kept in the message log.
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    async def on_firmware_status_notification(
        self, status: str, **_: Any
    ) -> call_result.FirmwareStatusNotification:
        await self.record_firmware_status(status)
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    async def on_log_status_notification(
        self, status: str, **_: Any
    ) -> call_result.LogStatusNotification:
        await self.record_upload_status(status)
        return call_result.LogStatusNotification()

    @on(Action.security_event_notification)
    async def on_security_event_notification(
        self, type: str, timestamp: str, tech_info: str = "", **_: Any
    ) -> call_result.SecurityEventNotification:
        await self.record_security_event(type, timestamp, tech_info)
        return call_result.SecurityEventNotification()

"""OCPP 2.0.1: thin handlers that translate payloads into the same
version-neutral services that serve 1.6."""

from __future__ import annotations

from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint as LibraryChargePoint
from ocpp.v201 import call_result
from ocpp.v201.datatypes import StatusInfoType
from ocpp.v201.enums import (
    Action,
    DataTransferStatusEnumType,
    GenericStatusEnumType,
    NotifyEVChargingNeedsStatusEnumType,
)

from chargepoints.services import (
    BootInfo,
    chargepoint_record_publish_firmware_status,
    charger_events_record,
    customer_information_record,
    device_model_record_report,
    display_messages_record,
    variable_monitors_record_report,
)
from chargepoints.statuses import StatusReport
from core.time import utc_now
from csms.charge_point import CsmsChargePoint, db
from csms.v201.certificates import CertificateHandlers201
from csms.v201.translate import (
    id_token_info,
    meter_readings,
    optional_when,
    reported_attributes,
    reported_display_message,
    reported_event,
    reported_monitors,
    when,
)
from idtokens.selectors import idtoken_authorize
from reservations.services import reservation_record_status_update
from smartcharging.services import (
    ReportedNeeds,
    charging_limit_clear,
    charging_limit_record,
    charging_needs_record,
    ev_charging_schedule_record,
    reported_charging_profiles_record,
)
from transactions.meter_values import MeterValuesReport
from transactions.transaction_events import TransactionEventData, transaction_event_record
from transactions.transaction_updates import TransactionUpdate, batchable

# A charger outside every load group gets no schedule from the platform:
# Rejected, which the spec defines as "no schedule will come"; the EV then
# charges by its own and the charger's limits.
NO_SCHEDULE = StatusInfoType(
    reason_code="NoSchedule",
    additional_info="Needs stored; no load group limits this charger, so no schedule will come.",
)


class ChargePoint201(CertificateHandlers201, CsmsChargePoint, LibraryChargePoint):
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
        report = StatusReport(
            charge_point_id=self.id,
            evse_id=evse_id,
            connector_id=connector_id,
            status=connector_status,
            timestamp=when(timestamp),
        )
        await self.writes.statuses.submit(report)
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
            ocpp_version=self.ocpp_version,
            operation_mode=transaction_info.get("operation_mode", ""),
        )
        if batchable(event):
            # A session's meter values: batched with other chargers', as 1.6 MeterValues.
            await self.writes.transaction_updates.submit(TransactionUpdate(self.id, event))
            return call_result.TransactionEvent()
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
        report = MeterValuesReport(
            charge_point_id=self.id,
            evse_id=evse_id,
            connector_id=None,
            readings=meter_readings(meter_value),
        )
        await self.writes.meter_values.submit(report)
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        # No vendor extensions are installed; the frame is kept in the message log.
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    async def on_firmware_status_notification(
        self, status: str, request_id: int | None = None, **_: Any
    ) -> call_result.FirmwareStatusNotification:
        await self.record_firmware_status(status, request_id=request_id)
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    async def on_log_status_notification(
        self, status: str, request_id: int | None = None, **_: Any
    ) -> call_result.LogStatusNotification:
        await self.record_upload_status(status, action="GetLog", request_id=request_id)
        return call_result.LogStatusNotification()

    @on(Action.security_event_notification)
    async def on_security_event_notification(
        self, type: str, timestamp: str, tech_info: str = "", **_: Any
    ) -> call_result.SecurityEventNotification:
        await self.record_security_event(type, timestamp, tech_info)
        return call_result.SecurityEventNotification()

    @on(Action.notify_monitoring_report)
    async def on_notify_monitoring_report(
        self,
        request_id: int,
        seq_no: int,
        generated_at: str,
        monitor: list[dict[str, Any]] | None = None,
        tbc: bool = False,
        **_: Any,
    ) -> call_result.NotifyMonitoringReport:
        await db(variable_monitors_record_report)(
            charge_point_id=self.id,
            request_id=request_id,
            generated_at=when(generated_at, "generatedAt"),
            seq_no=seq_no,
            tbc=tbc,
            monitors=reported_monitors(monitor or []),
        )
        return call_result.NotifyMonitoringReport()

    @on(Action.notify_customer_information)
    async def on_notify_customer_information(
        self,
        data: str,
        seq_no: int,
        generated_at: str,
        request_id: int,
        tbc: bool = False,
        **_: Any,
    ) -> call_result.NotifyCustomerInformation:
        await db(customer_information_record)(
            charge_point_id=self.id,
            request_id=request_id,
            generated_at=when(generated_at, "generatedAt"),
            seq_no=seq_no,
            tbc=tbc,
            data=data,
        )
        return call_result.NotifyCustomerInformation()

    @on(Action.notify_display_messages)
    async def on_notify_display_messages(
        self, request_id: int, message_info: list[dict[str, Any]] | None = None, **_: Any
    ) -> call_result.NotifyDisplayMessages:
        # Parts carry no seqNo: each is applied as it comes.
        await db(display_messages_record)(
            charge_point_id=self.id,
            request_id=request_id,
            messages=[reported_display_message(info) for info in message_info or []],
        )
        return call_result.NotifyDisplayMessages()

    @on(Action.publish_firmware_status_notification)
    async def on_publish_firmware_status_notification(
        self,
        status: str,
        location: list[str] | None = None,
        request_id: int | None = None,
        **_: Any,
    ) -> call_result.PublishFirmwareStatusNotification:
        await db(chargepoint_record_publish_firmware_status)(
            charge_point_id=self.id,
            status=status,
            request_id=request_id,
            locations=location or [],
            at=utc_now(),
        )
        return call_result.PublishFirmwareStatusNotification()

    @on(Action.reservation_status_update)
    async def on_reservation_status_update(
        self, reservation_id: int, reservation_update_status: str, **_: Any
    ) -> call_result.ReservationStatusUpdate:
        await db(reservation_record_status_update)(
            charge_point_id=self.id,
            reservation_id=reservation_id,
            status=reservation_update_status,
            at=utc_now(),
        )
        return call_result.ReservationStatusUpdate()

    @on(Action.notify_ev_charging_needs)
    async def on_notify_ev_charging_needs(
        self,
        charging_needs: dict[str, Any],
        evse_id: int,
        max_schedule_tuples: int | None = None,
        **_: Any,
    ) -> call_result.NotifyEVChargingNeeds:
        needs = ReportedNeeds(
            evse_id=evse_id,
            requested_energy_transfer=charging_needs["requested_energy_transfer"],
            departure_time=optional_when(charging_needs.get("departure_time"), "departureTime"),
            max_schedule_tuples=max_schedule_tuples,
            ac_charging_parameters=charging_needs.get("ac_charging_parameters"),
            dc_charging_parameters=charging_needs.get("dc_charging_parameters"),
            # 2.1 (bidirectional charging); absent from 2.0.1.
            v2x_charging_parameters=charging_needs.get("v2x_charging_parameters"),
            control_mode=charging_needs.get("control_mode", ""),
            mobility_needs_mode=charging_needs.get("mobility_needs_mode", ""),
            available_energy_transfer=charging_needs.get("available_energy_transfer") or [],
            der_charging_parameters=charging_needs.get("der_charging_parameters"),
        )
        recorded = await db(charging_needs_record)(charge_point_id=self.id, needs=needs)
        if recorded.answered_status == NotifyEVChargingNeedsStatusEnumType.accepted:
            return call_result.NotifyEVChargingNeeds(status=recorded.answered_status)
        return call_result.NotifyEVChargingNeeds(
            status=recorded.answered_status, status_info=NO_SCHEDULE
        )

    @on(Action.notify_ev_charging_schedule)
    async def on_notify_ev_charging_schedule(
        self, time_base: str, charging_schedule: dict[str, Any], evse_id: int, **_: Any
    ) -> call_result.NotifyEVChargingSchedule:
        # No limits of ours to check the schedule against yet: accepted as is.
        await db(ev_charging_schedule_record)(
            charge_point_id=self.id,
            evse_id=evse_id,
            time_base=when(time_base, "timeBase"),
            charging_schedule=charging_schedule,
        )
        return call_result.NotifyEVChargingSchedule(status=GenericStatusEnumType.accepted)

    @on(Action.notify_charging_limit)
    async def on_notify_charging_limit(
        self,
        charging_limit: dict[str, Any],
        charging_schedule: list[dict[str, Any]] | None = None,
        evse_id: int | None = None,
        **_: Any,
    ) -> call_result.NotifyChargingLimit:
        await db(charging_limit_record)(
            charge_point_id=self.id,
            evse_id=evse_id,
            source=charging_limit["charging_limit_source"],
            is_grid_critical=charging_limit.get("is_grid_critical"),
            charging_schedules=charging_schedule or [],
            at=utc_now(),
        )
        return call_result.NotifyChargingLimit()

    @on(Action.cleared_charging_limit)
    async def on_cleared_charging_limit(
        self, charging_limit_source: str, evse_id: int | None = None, **_: Any
    ) -> call_result.ClearedChargingLimit:
        await db(charging_limit_clear)(
            charge_point_id=self.id, evse_id=evse_id, source=charging_limit_source, at=utc_now()
        )
        return call_result.ClearedChargingLimit()

    @on(Action.report_charging_profiles)
    async def on_report_charging_profiles(
        self,
        request_id: int,
        charging_limit_source: str,
        charging_profile: list[dict[str, Any]],
        evse_id: int,
        **_: Any,
    ) -> call_result.ReportChargingProfiles:
        await db(reported_charging_profiles_record)(
            charge_point_id=self.id,
            request_id=request_id,
            evse_id=evse_id,
            charging_limit_source=charging_limit_source,
            profiles=charging_profile,
        )
        return call_result.ReportChargingProfiles()

"""Writes on charge points, their EVSEs and connectors. Version-neutral: the
OCPP handlers of every version translate their payloads into these calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from django.db import transaction

from chargepoints.models import (
    ChargePoint,
    ChargerEvent,
    ChargerReport,
    DeviceModelVariable,
    DisplayMessage,
    RegistrationStatus,
    ReportKind,
    SecurityEvent,
    VariableMonitor,
)
from commands.models import Command
from core.db import update_each, update_keyed
from updates.events import charger_event
from updates.services import events_publish


@dataclass(frozen=True)
class BootInfo:
    """What a charger tells about itself at boot, in either OCPP version."""

    vendor: str
    model: str
    serial_number: str = ""
    charge_box_serial_number: str = ""
    firmware_version: str = ""
    iccid: str = ""
    imsi: str = ""
    meter_type: str = ""
    meter_serial_number: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ConnectionReport:
    """A charger that has just opened a websocket connection."""

    charge_point_id: str
    ocpp_version: str
    connection_id: str
    remote_address: str
    # Given to a charger seen for the first time.
    registration_status_if_new: str
    # The channel-layer address of the csms process holding the connection.
    csms_channel: str = ""


@transaction.atomic
def chargepoints_connect(*, reports: Sequence[ConnectionReport], at: datetime) -> list[str]:
    """Record that chargers hold a websocket connection now, creating unknown
    ones with their ``registration_status_if_new``. Returns each charger's
    registration status, in the order of ``reports``. A fleet reconnecting
    after an outage costs a few statements per batch, not per charger."""
    ids = [report.charge_point_id for report in reports]
    statuses = _registration_statuses(ids)
    unknown = [report for report in reports if report.charge_point_id not in statuses]
    if unknown:
        ChargePoint.objects.bulk_create(
            [
                ChargePoint(
                    id=report.charge_point_id, registration_status=report.registration_status_if_new
                )
                for report in unknown
            ],
            # Another csms process may create the same charger meanwhile.
            ignore_conflicts=True,
        )
        statuses.update(_registration_statuses([report.charge_point_id for report in unknown]))
    update_each(
        ChargePoint,
        [
            ChargePoint(
                id=report.charge_point_id,
                ocpp_version=report.ocpp_version,
                is_connected=True,
                connection_id=report.connection_id,
                csms_channel=report.csms_channel,
                remote_address=report.remote_address,
                connected_at=at,
                last_seen_at=at,
                updated_at=at,
            )
            # One row per charger; should it come twice, the later report wins.
            for report in {report.charge_point_id: report for report in reports}.values()
        ],
        CONNECTION_FIELDS,
    )
    events_publish(
        events=[
            charger_event(
                "charger.connected",
                charge_point_id=report.charge_point_id,
                at=at,
                ocpp_version=report.ocpp_version,
                registration_status=statuses[report.charge_point_id],
            )
            for report in reports
        ]
    )
    return [statuses[charge_point_id] for charge_point_id in ids]


CONNECTION_FIELDS = (
    "ocpp_version",
    "is_connected",
    "connection_id",
    "csms_channel",
    "remote_address",
    "connected_at",
    "last_seen_at",
    "updated_at",
)


def _registration_statuses(charge_point_ids: Sequence[str]) -> dict[str, str]:
    return dict(
        ChargePoint.objects.filter(id__in=charge_point_ids).values_list("id", "registration_status")
    )


@transaction.atomic
def chargepoints_disconnect(*, connections: Sequence[tuple[str, str]], at: datetime) -> None:
    """Record that connections, given as (charger id, connection id), ended.
    Only the connection that is current may mark its charger offline: a
    replaced connection that closes late must not hide the one that replaced
    it (here or in another csms process)."""
    if not connections:
        return
    pairs = ", ".join(["(%s, %s)"] * len(connections))
    current = ChargePoint.objects.extra(  # a row-value IN, which the ORM cannot say
        where=[f"(id, connection_id) IN (VALUES {pairs})"],
        params=[value for pair in connections for value in pair],
    )
    ended = list(current.select_for_update().values_list("id", flat=True))
    current.update(
        is_connected=False, connection_id="", csms_channel="", disconnected_at=at, updated_at=at
    )
    events_publish(
        events=[
            charger_event("charger.disconnected", charge_point_id=charge_point_id, at=at)
            for charge_point_id in ended
        ]
    )


# What a boot writes: BootInfo's fields (its ``reason`` is stored as
# ``boot_reason``) and when.
BOOT_FIELDS = (
    *(field.name for field in fields(BootInfo) if field.name != "reason"),
    "boot_reason",
    "last_boot_at",
    "last_seen_at",
    "updated_at",
)


@transaction.atomic
def chargepoints_record_boot(*, boots: Sequence[tuple[str, BootInfo]], at: datetime) -> list[str]:
    """Store the boot data of chargers, given as (charger id, boot info).
    Returns each one's registration status (it decides the answer), in order."""
    update_each(
        ChargePoint,
        [
            ChargePoint(
                id=charge_point_id,
                **{name: value for name, value in asdict(boot).items() if name != "reason"},
                boot_reason=boot.reason,
                last_boot_at=at,
                last_seen_at=at,
                updated_at=at,
            )
            for charge_point_id, boot in boots
        ],
        BOOT_FIELDS,
    )
    statuses = _registration_statuses([charge_point_id for charge_point_id, _ in boots])
    events_publish(
        events=[
            charger_event(
                "charger.booted",
                charge_point_id=charge_point_id,
                at=at,
                vendor=boot.vendor,
                model=boot.model,
                firmware_version=boot.firmware_version,
                registration_status=statuses[charge_point_id],
            )
            for charge_point_id, boot in boots
        ]
    )
    return [statuses[charge_point_id] for charge_point_id, _ in boots]


def chargepoints_record_heartbeat(*, charge_point_ids: Sequence[str], at: datetime) -> None:
    """Heartbeats of many chargers, received at about ``at``: one UPDATE."""
    update_keyed(
        ChargePoint, charge_point_ids, last_heartbeat_at=at, last_seen_at=at, updated_at=at
    )
    events_publish(
        events=[
            charger_event("charger.heartbeat", charge_point_id=charge_point_id, at=at)
            for charge_point_id in charge_point_ids
        ]
    )


def chargepoints_touch(*, charge_point_ids: Sequence[str], at: datetime) -> None:
    """Chargers seen (any message) at about ``at``: one UPDATE."""
    update_keyed(ChargePoint, charge_point_ids, last_seen_at=at, updated_at=at)


def chargepoint_record_firmware_status(*, charge_point_id: str, status: str, at: datetime) -> None:
    ChargePoint.objects.filter(id=charge_point_id).update(
        firmware_status=status, firmware_status_at=at, updated_at=at
    )


def chargepoint_record_diagnostics_status(
    *, charge_point_id: str, status: str, at: datetime
) -> None:
    ChargePoint.objects.filter(id=charge_point_id).update(
        diagnostics_status=status, diagnostics_status_at=at, updated_at=at
    )


def chargepoint_record_publish_firmware_status(
    *,
    charge_point_id: str,
    status: str,
    request_id: int | None,
    locations: list[str],
    at: datetime,
) -> None:
    ChargePoint.objects.filter(id=charge_point_id).update(
        publish_firmware_status=status,
        publish_firmware_status_at=at,
        publish_firmware_request_id=request_id,
        publish_firmware_locations=locations,
        updated_at=at,
    )


def chargepoint_set_registration_status(*, charge_point: ChargePoint, status: str) -> ChargePoint:
    if status not in RegistrationStatus.values:
        raise ValueError(f"unknown registration status {status!r}")
    charge_point.registration_status = status
    charge_point.save(update_fields=["registration_status", "updated_at"])
    return charge_point


def security_event_record(
    *, charge_point_id: str, type: str, timestamp: datetime, tech_info: str = ""
) -> SecurityEvent:
    return SecurityEvent.objects.create(
        charge_point_id=charge_point_id, type=type, timestamp=timestamp, tech_info=tech_info
    )


@dataclass(frozen=True)
class ReportedAttribute:
    component_name: str
    variable_name: str
    component_instance: str = ""
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str = ""
    attribute_type: str = "Actual"
    value: str = ""
    mutability: str = ""
    persistent: bool | None = None
    constant: bool | None = None
    characteristics: dict[str, Any] | None = None


# The commands whose requestId a report of each kind answers.
REPORT_COMMANDS: dict[str, tuple[str, ...]] = {
    ReportKind.DEVICE_MODEL: ("GetBaseReport", "GetReport"),
    ReportKind.MONITORING: ("GetMonitoringReport",),
    ReportKind.CUSTOMER_INFORMATION: ("CustomerInformation",),
}

# The fields that say where a device-model variable lives (AddressedVariable).
ADDRESS_FIELDS = (
    "component_name",
    "component_instance",
    "evse_id",
    "connector_id",
    "variable_name",
    "variable_instance",
)


def variable_address(
    item: dict[str, Any], *, connector_key: str = "connector_id"
) -> dict[str, Any]:
    """The ADDRESS_FIELDS of an OCPP 2.0.1 component/variable pair. Payloads
    from the ocpp library's handlers spell the connector ``connector_id``;
    raw OCPP JSON (command answers) spells it ``connectorId``."""
    component, variable = item["component"], item["variable"]
    evse = component.get("evse") or {}
    return {
        "component_name": component["name"],
        "component_instance": component.get("instance", ""),
        "evse_id": evse.get("id"),
        "connector_id": evse.get(connector_key),
        "variable_name": variable["name"],
        "variable_instance": variable.get("instance", ""),
    }


def charger_report_add_part(
    *,
    charge_point_id: str,
    kind: str,
    request_id: int,
    generated_at: datetime,
    seq_no: int,
    tbc: bool,
) -> ChargerReport:
    """Count one part of a multi-part report (call inside a transaction). Each
    part is applied as it comes, so nothing is lost if the rest never arrives;
    the report is complete when every part up to the last is in, in any order."""
    report, created = ChargerReport.objects.select_for_update().get_or_create(
        charge_point_id=charge_point_id,
        kind=kind,
        request_id=request_id,
        defaults={"generated_at": generated_at},
    )
    if created:
        report.command = (
            Command.objects.filter(
                charge_point_id=charge_point_id,
                action__in=REPORT_COMMANDS[kind],
                request_id=request_id,
            )
            .order_by("-created_at")
            .first()
        )
    report.seq_nos = sorted({*report.seq_nos, seq_no})
    if not tbc:
        report.last_seq_no = seq_no
    report.complete = report.last_seq_no is not None and report.seq_nos == list(
        range(report.last_seq_no + 1)
    )
    report.save()
    return report


@transaction.atomic
def device_model_record_report(
    *,
    charge_point_id: str,
    request_id: int,
    generated_at: datetime,
    seq_no: int,
    tbc: bool,
    attributes: list[ReportedAttribute],
) -> ChargerReport:
    """Store one part of a NotifyReport: every attribute upserted."""
    report = charger_report_add_part(
        charge_point_id=charge_point_id,
        kind=ReportKind.DEVICE_MODEL,
        request_id=request_id,
        generated_at=generated_at,
        seq_no=seq_no,
        tbc=tbc,
    )
    for attribute in attributes:
        fields = asdict(attribute)
        identity = {key: fields.pop(key) for key in (*ADDRESS_FIELDS, "attribute_type")}
        DeviceModelVariable.objects.update_or_create(
            charge_point_id=charge_point_id, **identity, defaults={**fields, "report": report}
        )
    return report


@dataclass(frozen=True)
class ReportedMonitor:
    monitor_id: int
    type: str
    value: float
    severity: int
    component_name: str
    variable_name: str
    transaction: bool = False
    component_instance: str = ""
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str = ""


@transaction.atomic
def variable_monitors_record_report(
    *,
    charge_point_id: str,
    request_id: int,
    generated_at: datetime,
    seq_no: int,
    tbc: bool,
    monitors: list[ReportedMonitor],
) -> ChargerReport:
    """Store one part of a NotifyMonitoringReport: every monitor upserted by
    its id."""
    report = charger_report_add_part(
        charge_point_id=charge_point_id,
        kind=ReportKind.MONITORING,
        request_id=request_id,
        generated_at=generated_at,
        seq_no=seq_no,
        tbc=tbc,
    )
    for monitor in monitors:
        fields = asdict(monitor)
        VariableMonitor.objects.update_or_create(
            charge_point_id=charge_point_id,
            monitor_id=fields.pop("monitor_id"),
            defaults={**fields, "report": report},
        )
    return report


@transaction.atomic
def customer_information_record(
    *,
    charge_point_id: str,
    request_id: int,
    generated_at: datetime,
    seq_no: int,
    tbc: bool,
    data: str,
) -> ChargerReport:
    """Store one part of a NotifyCustomerInformation; the parts are joined in
    seqNo order (``ChargerReport.text``)."""
    report = charger_report_add_part(
        charge_point_id=charge_point_id,
        kind=ReportKind.CUSTOMER_INFORMATION,
        request_id=request_id,
        generated_at=generated_at,
        seq_no=seq_no,
        tbc=tbc,
    )
    report.text_parts = {**report.text_parts, str(seq_no): data}
    report.save(update_fields=["text_parts", "updated_at"])
    return report


@dataclass(frozen=True)
class ReportedDisplayMessage:
    message_id: int
    priority: str
    message_format: str
    message_content: str
    message_language: str = ""
    state: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    transaction_id: str = ""
    display_component_name: str = ""
    display_component_instance: str = ""


def display_messages_record(
    *, charge_point_id: str, request_id: int, messages: list[ReportedDisplayMessage]
) -> None:
    """Store NotifyDisplayMessages: each message upserted by its id."""
    for message in messages:
        fields = asdict(message)
        DisplayMessage.objects.update_or_create(
            charge_point_id=charge_point_id,
            message_id=fields.pop("message_id"),
            defaults={**fields, "request_id": request_id},
        )


@dataclass(frozen=True)
class ReportedEvent:
    event_id: int
    timestamp: datetime
    trigger: str
    actual_value: str
    event_notification_type: str
    component_name: str
    variable_name: str
    cause: int | None = None
    tech_code: str = ""
    tech_info: str = ""
    cleared: bool = False
    transaction_id: str = ""
    component_instance: str = ""
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str = ""
    variable_monitoring_id: int | None = None


def charger_events_record(
    *, charge_point_id: str, generated_at: datetime, events: list[ReportedEvent]
) -> None:
    """Store NotifyEvent data; an event sent again (same eventId and time)
    is kept once."""
    rows = [
        ChargerEvent(charge_point_id=charge_point_id, generated_at=generated_at, **asdict(event))
        for event in events
    ]
    ChargerEvent.objects.bulk_create(rows, ignore_conflicts=True)

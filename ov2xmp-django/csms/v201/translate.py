"""OCPP 2.0.1 payloads (as the ``ocpp`` library hands them over: snake_case
dicts) translated into the arguments of the version-neutral services, and
service results into answer fields."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.v201.datatypes import IdTokenInfoType, IdTokenType, MessageContentType

from chargepoints.services import (
    ReportedAttribute,
    ReportedDisplayMessage,
    ReportedEvent,
    ReportedMonitor,
    variable_address,
)
from core.time import format_timestamp
from csms.charge_point import timestamp_field
from idtokens.selectors import Authorization
from transactions.models import ENERGY_REGISTER
from transactions.services import MeterReading, SampledValue


def id_token_info(authorization: Authorization) -> IdTokenInfoType:
    group = None
    if authorization.parent_value and authorization.parent_type:
        group = IdTokenType(id_token=authorization.parent_value, type=authorization.parent_type)
    info = IdTokenInfoType(
        status=authorization.status if authorization.known else "Unknown",
        cache_expiry_date_time=format_timestamp(authorization.expires_at)
        if authorization.expires_at
        else None,
        group_id_token=group,
    )
    token = authorization.id_token
    if token is not None:
        info.language_1 = token.language or None
        info.language_2 = token.second_language or None
        info.charging_priority = token.charging_priority
        if token.personal_message:
            info.personal_message = MessageContentType(
                format=token.personal_message_format,
                content=token.personal_message,
                language=token.personal_message_language or None,
            )
    return info


def when(value: str | None, field: str = "timestamp"):
    """A required timestamp (None means now)."""
    return timestamp_field(value, field, PropertyConstraintViolationError)


def optional_when(value: str | None, field: str):
    """An optional timestamp: None stays None."""
    return None if value is None else when(value, field)


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
        signed_meter_value=sample.get("signed_meter_value"),
    )


def reported_attributes(report_data: list[dict[str, Any]]) -> list[ReportedAttribute]:
    attributes = []
    for item in report_data:
        characteristics = item.get("variable_characteristics")
        for attribute in item["variable_attribute"]:
            attributes.append(
                ReportedAttribute(
                    **variable_address(item),
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
        **variable_address(item),
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


def reported_monitors(monitor: list[dict[str, Any]]) -> list[ReportedMonitor]:
    return [
        ReportedMonitor(
            **variable_address(item),
            monitor_id=monitoring["id"],
            type=monitoring["type"],
            value=monitoring["value"],
            severity=monitoring["severity"],
            transaction=monitoring["transaction"],
        )
        for item in monitor
        for monitoring in item["variable_monitoring"]
    ]


def reported_display_message(info: dict[str, Any]) -> ReportedDisplayMessage:
    message, display = info["message"], info.get("display") or {}
    return ReportedDisplayMessage(
        message_id=info["id"],
        priority=info["priority"],
        state=info.get("state", ""),
        starts_at=optional_when(info.get("start_date_time"), "startDateTime"),
        ends_at=optional_when(info.get("end_date_time"), "endDateTime"),
        transaction_id=info.get("transaction_id", ""),
        message_format=message["format"],
        message_language=message.get("language", ""),
        message_content=message["content"],
        display_component_name=display.get("name", ""),
        display_component_instance=display.get("instance", ""),
    )

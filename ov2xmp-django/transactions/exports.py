"""The session and meter value exports' columns (docs/billing.md, "Exports")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.exports import Column, plain_decimal


def _energy_wh(row: Mapping[str, Any]) -> Any:
    """As Transaction.energy_wh: to the stop reading, or the last one while
    the session runs."""
    end = row["meter_stop_wh"] if row["meter_stop_wh"] is not None else row["meter_last_wh"]
    if end is None or row["meter_start_wh"] is None:
        return None
    return end - row["meter_start_wh"]


def _energy_exported_wh(row: Mapping[str, Any]) -> Any:
    """As Transaction.energy_exported_wh."""
    if row["export_last_wh"] is None or row["export_start_wh"] is None:
        return None
    return row["export_last_wh"] - row["export_start_wh"]


def _value(row: Mapping[str, Any]) -> Any:
    value = row["numeric_value"]
    return None if value is None else plain_decimal(value)


SESSION_COLUMNS = [
    Column("id", "integer", "id"),
    Column("ocpp_transaction_id", "text", "ocpp_transaction_id"),
    Column("ocpp_version", "text", "ocpp_version"),
    Column("charge_point", "text", "charge_point_id"),
    Column("evse_id", "integer", "evse_id"),
    Column("connector_id", "integer", "connector_id"),
    Column("location_id", "integer", "charge_point__location_id"),
    Column("location_name", "text", "charge_point__location__name"),
    Column("status", "text", "status"),
    Column("id_token_value", "text", "id_token_value"),
    Column("driver_id", "integer", "id_token__owner_id"),
    Column("driver_username", "text", "id_token__owner__username"),
    Column("authorization_status", "text", "authorization_status"),
    Column("started_at", "datetime", "started_at"),
    Column("stopped_at", "datetime", "stopped_at"),
    Column("stop_reason", "text", "stop_reason"),
    Column("stop_id_token_value", "text", "stop_id_token_value"),
    Column("meter_start_wh", "decimal", "meter_start_wh", places=3),
    Column("meter_stop_wh", "decimal", "meter_stop_wh", places=3),
    Column("meter_last_wh", "decimal", "meter_last_wh", places=3),
    Column("meter_last_at", "datetime", "meter_last_at"),
    Column(
        "energy_wh",
        "decimal",
        _energy_wh,
        places=3,
        needs=("meter_start_wh", "meter_stop_wh", "meter_last_wh"),
    ),
    # Bidirectional (V2X) sessions: what the EV gave back, and its mode.
    Column(
        "energy_exported_wh",
        "decimal",
        _energy_exported_wh,
        places=3,
        needs=("export_start_wh", "export_last_wh"),
    ),
    Column("operation_mode", "text", "operation_mode"),
    Column("reservation_id", "integer", "reservation_id"),
    Column("remote_start_id", "integer", "remote_start_id"),
]

METER_VALUE_COLUMNS = [
    Column("id", "integer", "id"),
    Column("session_id", "integer", "transaction_id"),
    Column("charge_point", "text", "charge_point_id"),
    Column("evse_id", "integer", "evse_id"),
    Column("connector_id", "integer", "connector_id"),
    Column("timestamp", "datetime", "timestamp"),
    Column("measurand", "text", "measurand"),
    Column("phase", "text", "phase"),
    Column("location", "text", "location"),
    Column("context", "text", "context"),
    # As reported, without trailing zeros; empty for signed data.
    Column("value", "decimal", _value, needs=("numeric_value",)),
    Column("unit", "text", "unit"),
    Column("format", "text", "format"),
]

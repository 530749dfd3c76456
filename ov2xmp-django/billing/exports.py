"""The CDR export's columns: one row per CDR, what billing needs to invoice
it (docs/billing.md, "Exports")."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from core.exports import Column


def _kwh(row: Mapping[str, Any]) -> Decimal:
    return Decimal(row["energy_wh"]).scaleb(-3)


CDR_COLUMNS = [
    Column("id", "integer", "id"),
    Column("session_id", "integer", "transaction_id"),
    Column("ocpp_transaction_id", "text", "transaction__ocpp_transaction_id"),
    Column("charge_point", "text", "charge_point_id"),
    Column("evse_id", "integer", "transaction__evse_id"),
    Column("connector_id", "integer", "transaction__connector_id"),
    Column("location_id", "integer", "transaction__charge_point__location_id"),
    Column("location_name", "text", "transaction__charge_point__location__name"),
    Column("time_zone", "text", "time_zone"),
    Column("started_at", "datetime", "started_at"),
    Column("stopped_at", "datetime", "stopped_at"),
    # energy_wh has 3 places: in kWh, 6 places keep every digit.
    Column("energy_kwh", "decimal", _kwh, places=6, needs=("energy_wh",)),
    Column("charging_seconds", "decimal", "charging_seconds", places=3),
    Column("parking_seconds", "decimal", "parking_seconds", places=3),
    Column("tariff_id", "integer", "tariff_version__tariff_id"),
    Column("tariff_name", "text", "tariff_version__tariff__name"),
    Column("tariff_version_id", "integer", "tariff_version_id"),
    Column("tariff_version_valid_from", "datetime", "tariff_version__valid_from"),
    Column("currency", "text", "currency"),
    Column("cost_energy", "decimal", "cost_energy", places=2),
    Column("cost_flat", "decimal", "cost_flat", places=2),
    Column("cost_time", "decimal", "cost_time", places=2),
    Column("cost_parking_time", "decimal", "cost_parking_time", places=2),
    Column("total_excl_vat", "decimal", "total_excl_vat", places=2),
    Column("vat", "decimal", "vat", places=2),
    Column("total_incl_vat", "decimal", "total_incl_vat", places=2),
    # What the driver pays under an eMSP tariff (empty: the cost above).
    Column("emsp_tariff_name", "text", "emsp_tariff_version__tariff__name"),
    Column("emsp_tariff_version_id", "integer", "emsp_tariff_version_id"),
    Column("retail_currency", "text", "retail_currency"),
    Column("retail_cost_energy", "decimal", "retail_cost_energy", places=2),
    Column("retail_cost_flat", "decimal", "retail_cost_flat", places=2),
    Column("retail_cost_time", "decimal", "retail_cost_time", places=2),
    Column("retail_cost_parking_time", "decimal", "retail_cost_parking_time", places=2),
    Column("retail_total_excl_vat", "decimal", "retail_total_excl_vat", places=2),
    Column("retail_vat", "decimal", "retail_vat", places=2),
    Column("retail_total_incl_vat", "decimal", "retail_total_incl_vat", places=2),
    Column("id_token_value", "text", "id_token_value"),
    Column("driver_id", "integer", "driver_id"),
    Column("driver_username", "text", "driver__username"),
    Column("is_current", "boolean", "is_current"),
    Column("reason", "text", "reason"),
    Column("created_at", "datetime", "created_at"),
]

"""Writes on what chargers report about charging power. Version-neutral: the
OCPP handlers translate their payloads into these calls."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    EvChargingSchedule,
    ReportedChargingProfile,
)
from transactions.selectors import transaction_active_on_evse


@dataclass(frozen=True)
class ReportedNeeds:
    evse_id: int
    requested_energy_transfer: str
    departure_time: datetime | None = None
    max_schedule_tuples: int | None = None
    ac_charging_parameters: dict[str, Any] | None = None
    dc_charging_parameters: dict[str, Any] | None = None


def charging_needs_record(
    *, charge_point_id: str, needs: ReportedNeeds, answered_status: str
) -> ChargingNeeds:
    return ChargingNeeds.objects.create(
        charge_point_id=charge_point_id,
        transaction=transaction_active_on_evse(
            charge_point_id=charge_point_id, evse_id=needs.evse_id
        ),
        answered_status=answered_status,
        **asdict(needs),
    )


def ev_charging_schedule_record(
    *,
    charge_point_id: str,
    evse_id: int,
    time_base: datetime,
    charging_schedule: dict[str, Any],
) -> EvChargingSchedule:
    return EvChargingSchedule.objects.create(
        charge_point_id=charge_point_id,
        evse_id=evse_id,
        transaction=transaction_active_on_evse(charge_point_id=charge_point_id, evse_id=evse_id),
        time_base=time_base,
        charging_schedule=charging_schedule,
    )


def charging_limit_record(
    *,
    charge_point_id: str,
    evse_id: int | None,
    source: str,
    is_grid_critical: bool | None,
    charging_schedules: list[dict[str, Any]],
    at: datetime,
) -> ChargingLimit:
    return ChargingLimit.objects.create(
        charge_point_id=charge_point_id,
        evse_id=evse_id,
        source=source,
        is_grid_critical=is_grid_critical,
        charging_schedules=charging_schedules,
        reported_at=at,
    )


def charging_limit_clear(
    *, charge_point_id: str, evse_id: int | None, source: str, at: datetime
) -> int:
    """The charger says limits of ``source`` no longer apply: on one EVSE, or
    (no EVSE) on the whole charger, its EVSEs included. Returns how many
    recorded limits ended."""
    active = ChargingLimit.objects.filter(
        charge_point_id=charge_point_id, source=source, cleared_at__isnull=True
    )
    if evse_id is not None:
        active = active.filter(evse_id=evse_id)
    return active.update(cleared_at=at)


@transaction.atomic
def reported_charging_profiles_record(
    *,
    charge_point_id: str,
    request_id: int,
    evse_id: int,
    charging_limit_source: str,
    profiles: list[dict[str, Any]],
) -> list[ReportedChargingProfile]:
    """Store one ReportChargingProfiles part; a part sent again updates the
    profiles it already stored."""
    stored = []
    for profile in profiles:
        row, _ = ReportedChargingProfile.objects.update_or_create(
            charge_point_id=charge_point_id,
            request_id=request_id,
            evse_id=evse_id,
            profile_id=profile["id"],
            defaults={
                "charging_limit_source": charging_limit_source,
                "stack_level": profile["stack_level"],
                "purpose": profile["charging_profile_purpose"],
                "kind": profile["charging_profile_kind"],
                "profile": profile,
            },
        )
        stored.append(row)
    return stored

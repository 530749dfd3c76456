"""Writes on what chargers report about charging power. Version-neutral: the
OCPP handlers translate their payloads into these calls."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max, Q

from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingProfileStatus,
    DerEvent,
    DerEventKind,
    EvChargingSchedule,
    ReportedChargingProfile,
)
from smartcharging.profiles import clear_payload, profile_errors, set_payload
from transactions.selectors import transaction_active_on_evse
from updates.events import charger_event
from updates.services import events_publish

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportedNeeds:
    evse_id: int
    requested_energy_transfer: str
    departure_time: datetime | None = None
    max_schedule_tuples: int | None = None
    ac_charging_parameters: dict[str, Any] | None = None
    dc_charging_parameters: dict[str, Any] | None = None
    v2x_charging_parameters: dict[str, Any] | None = None
    control_mode: str = ""
    mobility_needs_mode: str = ""
    available_energy_transfer: list[str] = field(default_factory=list)
    der_charging_parameters: dict[str, Any] | None = None


@transaction.atomic
def charging_needs_record(*, charge_point_id: str, needs: ReportedNeeds) -> ChargingNeeds:
    """Store an EV's needs. Within a load group they set the session's share
    (its minimum and maximum power): the group is rebalanced and the needs
    answered Accepted, since a schedule will come; elsewhere Rejected."""
    from smartcharging.load_management import load_group_ids_of
    from smartcharging.tasks import sessions_changed

    session = transaction_active_on_evse(charge_point_id=charge_point_id, evse_id=needs.evse_id)
    scheduled = session is not None and bool(load_group_ids_of(charge_point_id))
    if scheduled:
        transaction.on_commit(lambda: sessions_changed(charge_point_id))
    return ChargingNeeds.objects.create(
        charge_point_id=charge_point_id,
        transaction=session,
        answered_status="Accepted" if scheduled else "Rejected",
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


# --- Charging profiles the platform sends ----------------------------------------------


class ProfileNotSendable(ValueError):
    """A profile that cannot go to its charger as it is (the reasons by field)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


SUPERSEDED = (
    ChargingProfileStatus.CLEARED,
    ChargingProfileStatus.REJECTED,
    ChargingProfileStatus.FAILED,
)


def charging_profile_next_id(*, charge_point_id: str) -> int:
    """A chargingProfileId the charger has not had from the platform."""
    highest = ChargingProfile.objects.filter(charge_point_id=charge_point_id).aggregate(
        highest=Max("profile_id")
    )["highest"]
    return (highest or 0) + 1


def charging_profile_conflict(*, profile: ChargingProfile) -> ChargingProfile | None:
    """Another live profile of the same charger, EVSE, purpose and stack
    level whose validity overlaps: the charger could not tell them apart."""
    others = (
        ChargingProfile.objects.filter(
            charge_point_id=profile.charge_point_id,
            evse_id=profile.evse_id,
            purpose=profile.purpose,
            stack_level=profile.stack_level,
        )
        .filter(transaction=profile.transaction)
        .exclude(pk=profile.pk)
        .exclude(status__in=SUPERSEDED)
    )
    if profile.valid_to is not None:
        others = others.filter(Q(valid_from=None) | Q(valid_from__lt=profile.valid_to))
    if profile.valid_from is not None:
        others = others.filter(Q(valid_to=None) | Q(valid_to__gt=profile.valid_from))
    return others.order_by("profile_id").first()


def _command(profile: ChargingProfile, action: str, payload: dict[str, Any], created_by: Any):
    from commands.catalog import COMMANDS
    from commands.services import command_create

    spec = COMMANDS[(profile.charge_point.ocpp_version, action)]
    errors = spec.request_errors(payload)
    if errors:  # a bug of ours, not the user's: the payload is built here
        raise ProfileNotSendable({"payload": [f"{k}: {v}" for k, v in errors.items()]})
    return command_create(
        charge_point_id=profile.charge_point_id, spec=spec, payload=payload, created_by=created_by
    )


@transaction.atomic
def charging_profile_send(*, profile: ChargingProfile, created_by: Any, at: datetime):
    """Queue SetChargingProfile for the profile, in its charger's version;
    the answer sets its status (smartcharging/results.py)."""
    version = profile.charge_point.ocpp_version
    if not version:
        raise ProfileNotSendable(
            {"charge_point": ["It has never connected: its version is not known."]}
        )
    if profile.purpose == ChargingProfilePurpose.EXTERNAL:
        raise ProfileNotSendable(
            {"purpose": ["External constraints are set at the charger, not sent by the CSMS."]}
        )
    errors = profile_errors(profile, ocpp_version=version)
    if errors:
        raise ProfileNotSendable(errors)
    command = _command(
        profile, "SetChargingProfile", set_payload(profile, ocpp_version=version), created_by
    )
    profile.status, profile.status_at, profile.command = ChargingProfileStatus.SENT, at, command
    profile.save(update_fields=["status", "status_at", "command", "updated_at"])
    return command


@transaction.atomic
def charging_profile_clear(*, profile: ChargingProfile, created_by: Any, at: datetime):
    """Queue ClearChargingProfile for the profile."""
    version = profile.charge_point.ocpp_version
    if not version:
        raise ProfileNotSendable(
            {"charge_point": ["It has never connected: its version is not known."]}
        )
    command = _command(
        profile, "ClearChargingProfile", clear_payload(profile, ocpp_version=version), created_by
    )
    profile.command = command
    profile.save(update_fields=["command", "updated_at"])
    return command


def charging_profile_record_answer(
    *, charge_point_id: str, profile_id: int, action: str, status: str | None, at: datetime
) -> None:
    """What the charger did with a profile sent or cleared (status None: no
    answer, the command failed)."""
    if action == "SetChargingProfile":
        new = {
            "Accepted": ChargingProfileStatus.ACCEPTED,
            None: ChargingProfileStatus.FAILED,
        }.get(status, ChargingProfileStatus.REJECTED)
    elif status in ("Accepted", "Unknown"):
        # Unknown: the charger does not hold it (any more) either way.
        new = ChargingProfileStatus.CLEARED
    else:
        return  # not cleared: it stays as it was
    updated = ChargingProfile.objects.filter(
        charge_point_id=charge_point_id, profile_id=profile_id
    ).update(status=new, status_at=at, updated_at=at)
    if not updated:
        # Sent as a raw command (/api/commands/…), not one of the platform's profiles.
        logger.info("%s: charging profile %s is not the platform's", charge_point_id, profile_id)


def der_event_record(
    *,
    charge_point_id: str,
    kind: str,
    timestamp: datetime,
    control_type: str = "",
    control_id: str = "",
    grid_event_fault: str = "",
    alarm_ended: bool | None = None,
    request_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> DerEvent:
    """Store what a 2.1 charger said of its DER controls; alarms go on the
    live feed (``der.alarm``), since an operator should see them at once."""
    event = DerEvent.objects.create(
        charge_point_id=charge_point_id,
        kind=kind,
        control_type=control_type,
        control_id=control_id,
        grid_event_fault=grid_event_fault,
        alarm_ended=alarm_ended,
        request_id=request_id,
        details=details or {},
        timestamp=timestamp,
    )
    if kind == DerEventKind.ALARM:
        logger.warning(
            "%s: DER alarm %s %s%s",
            charge_point_id,
            control_type,
            grid_event_fault,
            " ended" if alarm_ended else "",
        )
        events_publish(
            events=[
                charger_event(
                    "der.alarm",
                    charge_point_id=charge_point_id,
                    at=timestamp,
                    der_event_id=event.pk,
                    control_type=control_type,
                    grid_event_fault=grid_event_fault,
                    alarm_ended=bool(alarm_ended),
                )
            ]
        )
    return event

"""Reads on charging profiles: the composite schedule the platform expects
a charger to apply, from the profiles it holds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from smartcharging.models import ChargingProfile, ChargingProfilePurpose, ChargingProfileStatus
from smartcharging.profiles import as_schedule_profile
from smartcharging.schedules import IDLE, Composite, composite_schedule, period_in_force
from transactions.selectors import transaction_active_on_evse


def expected_composite(
    *, charge_point_id: str, evse_id: int, start: datetime, duration: int, unit: str
) -> tuple[Composite, list[int]]:
    """The composite schedule from the profiles the charger accepted (TxProfiles
    only of the session running on the EVSE), and those profiles' ids."""
    session = (
        transaction_active_on_evse(charge_point_id=charge_point_id, evse_id=evse_id)
        if evse_id
        else None
    )
    profiles = list(
        ChargingProfile.objects.filter(
            charge_point_id=charge_point_id, status=ChargingProfileStatus.ACCEPTED
        )
        .filter(evse_id__in={0, evse_id})
        .exclude(Q(purpose=ChargingProfilePurpose.TX) & ~Q(transaction=session))
        .order_by("profile_id")
    )
    composite = composite_schedule(
        [as_schedule_profile(profile) for profile in profiles],
        evse_id=evse_id,
        start=start,
        duration=duration,
        unit=unit,
        session_start=session.started_at if session else None,
    )
    return composite, [profile.profile_id for profile in profiles]


def dynamic_schedule_update(
    *, charge_point_id: str, profile_id: int, at: datetime
) -> dict[str, float] | None:
    """What a charger pulling a dynamic profile's update (OCPP 2.1
    PullDynamicScheduleUpdate) should apply now: the limit, setpoint and
    discharge limit of the period in force of that profile, as the charger
    holds it. None: the platform gave it no such profile, or none applies."""
    profile = (
        ChargingProfile.objects.select_related("transaction")
        .filter(
            charge_point_id=charge_point_id,
            profile_id=profile_id,
            status=ChargingProfileStatus.ACCEPTED,
        )
        .first()
    )
    if profile is None:
        return None
    session_start = profile.transaction.started_at if profile.transaction else None
    period = period_in_force(as_schedule_profile(profile), at, session_start)
    if period is None:
        return None
    values = {
        "limit": Decimal(0) if period.operation_mode == IDLE else period.limit,
        "setpoint": period.setpoint,
        "discharge_limit": period.discharge_limit,
    }
    return {name: float(value) for name, value in values.items() if value is not None}

"""Reads on charging profiles: the composite schedule the platform expects
a charger to apply, from the profiles it holds."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from smartcharging.models import ChargingProfile, ChargingProfilePurpose, ChargingProfileStatus
from smartcharging.profiles import as_schedule_profile
from smartcharging.schedules import Composite, composite_schedule
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

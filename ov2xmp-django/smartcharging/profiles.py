"""Charging profiles between the platform's one form and OCPP's two: the
rules a profile must follow (for the version its charger speaks), the
SetChargingProfile and ClearChargingProfile payloads of either version, and
the plain values the composite schedule is computed from."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from core.time import format_timestamp
from smartcharging.models import ChargingProfile, ChargingProfileKind, ChargingProfilePurpose
from smartcharging.schedules import Period, Profile

OCPP16, OCPP201 = "1.6", "2.0.1"
# What OCPP 1.6 calls the charger's maximum.
PURPOSE_16: dict[str, str] = {ChargingProfilePurpose.STATION_MAX.value: "ChargePointMaxProfile"}
MAX_PERIODS = 1024
TENTH = Decimal("0.1")


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def periods_errors(periods: Any, *, ocpp_version: str, unit: str) -> list[str]:
    """What is wrong with a schedule's periods (empty: nothing)."""
    if not isinstance(periods, list) or not periods:
        return ["At least one period: [{start_period, limit, number_phases?}]."]
    if len(periods) > MAX_PERIODS:
        return [f"At most {MAX_PERIODS} periods."]
    errors: list[str] = []
    previous = -1
    for index, period in enumerate(periods):
        if not isinstance(period, dict):
            errors.append(f"{index}: an object")
            continue
        unknown = set(period) - {"start_period", "limit", "number_phases", "phase_to_use"}
        if unknown:
            errors.append(f"{index}: unknown {', '.join(sorted(unknown))}")
        start = period.get("start_period")
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            errors.append(f"{index}.start_period: whole seconds, 0 or more")
        elif start <= previous:
            errors.append(f"{index}.start_period: after the period before ({previous})")
        else:
            if index == 0 and start != 0:
                errors.append("0.start_period: the first period starts at 0")
            previous = start
        limit = _decimal(period.get("limit"))
        if limit is None or limit < 0:
            errors.append(f"{index}.limit: a number, 0 or more ({unit})")
        elif ocpp_version == OCPP16 and limit % TENTH:
            errors.append(f"{index}.limit: OCPP 1.6 takes one decimal at most")
        phases = period.get("number_phases")
        if phases is not None and phases not in (1, 2, 3):
            errors.append(f"{index}.number_phases: 1, 2 or 3")
        phase_to_use = period.get("phase_to_use")
        if phase_to_use is not None:
            if ocpp_version == OCPP16:
                errors.append(f"{index}.phase_to_use: not in OCPP 1.6")
            elif phases != 1 or phase_to_use not in (1, 2, 3):
                errors.append(f"{index}.phase_to_use: 1, 2 or 3, with number_phases 1")
    return errors


def profile_errors(profile: ChargingProfile, *, ocpp_version: str) -> dict[str, list[str]]:
    """What makes a profile wrong for a charger speaking ``ocpp_version``
    (empty: nothing), by field."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    purpose, kind = profile.purpose, profile.kind
    if purpose == ChargingProfilePurpose.EXTERNAL and ocpp_version == OCPP16:
        error("purpose", "OCPP 1.6 has no ChargingStationExternalConstraints.")
    if purpose == ChargingProfilePurpose.STATION_MAX and profile.evse_id != 0:
        error("evse_id", "The charger's maximum is for the whole charger: EVSE 0.")
    if purpose == ChargingProfilePurpose.TX:
        if profile.transaction is None:
            error("transaction", "A TxProfile limits one session: name it.")
        elif profile.transaction.charge_point_id != profile.charge_point_id:
            error("transaction", "The session runs on another charger.")
        elif profile.evse_id not in (0, profile.transaction.evse_id):
            error("evse_id", f"The session runs on EVSE {profile.transaction.evse_id}.")
    elif profile.transaction is not None:
        error("transaction", "Only a TxProfile names a session.")
    if kind == ChargingProfileKind.RECURRING:
        if not profile.recurrency_kind:
            error("recurrency_kind", "A Recurring profile repeats Daily or Weekly.")
        if profile.start_schedule is None:
            error("start_schedule", "A Recurring profile needs the start of its first day.")
    elif profile.recurrency_kind:
        error("recurrency_kind", "Only for a Recurring profile.")
    if kind == ChargingProfileKind.RELATIVE and profile.start_schedule is not None:
        error("start_schedule", "A Relative profile starts with the session, not at a time.")
    if profile.valid_from and profile.valid_to and profile.valid_to <= profile.valid_from:
        error("valid_to", "After valid_from.")
    if profile.duration == 0:
        error("duration", "More than 0 seconds, or empty for no end.")
    if profile.min_charging_rate is not None and profile.min_charging_rate < 0:
        error("min_charging_rate", "0 or more.")
    for message in periods_errors(
        profile.periods, ocpp_version=ocpp_version, unit=profile.charging_rate_unit
    ):
        error("periods", message)
    return errors


def _periods(profile: ChargingProfile, *, ocpp_version: str) -> list[dict[str, Any]]:
    result = []
    for period in profile.periods:
        item: dict[str, Any] = {
            "startPeriod": period["start_period"],
            "limit": float(Decimal(str(period["limit"]))),
        }
        if period.get("number_phases") is not None:
            item["numberPhases"] = period["number_phases"]
        if ocpp_version == OCPP201 and period.get("phase_to_use") is not None:
            item["phaseToUse"] = period["phase_to_use"]
        result.append(item)
    return result


def _schedule(profile: ChargingProfile, *, ocpp_version: str) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "chargingRateUnit": profile.charging_rate_unit,
        "chargingSchedulePeriod": _periods(profile, ocpp_version=ocpp_version),
    }
    if ocpp_version == OCPP201:
        schedule["id"] = profile.profile_id
    if profile.start_schedule is not None:
        schedule["startSchedule"] = format_timestamp(profile.start_schedule)
    if profile.duration is not None:
        schedule["duration"] = profile.duration
    if profile.min_charging_rate is not None:
        schedule["minChargingRate"] = float(profile.min_charging_rate)
    return schedule


def set_payload(profile: ChargingProfile, *, ocpp_version: str) -> dict[str, Any]:
    """The SetChargingProfile request for the charger's version."""
    body: dict[str, Any] = {
        "stackLevel": profile.stack_level,
        "chargingProfileKind": profile.kind,
    }
    if profile.recurrency_kind:
        body["recurrencyKind"] = profile.recurrency_kind
    if profile.valid_from is not None:
        body["validFrom"] = format_timestamp(profile.valid_from)
    if profile.valid_to is not None:
        body["validTo"] = format_timestamp(profile.valid_to)
    transaction = profile.transaction
    if ocpp_version == OCPP16:
        body["chargingProfileId"] = profile.profile_id
        body["chargingProfilePurpose"] = PURPOSE_16.get(profile.purpose, profile.purpose)
        body["chargingSchedule"] = _schedule(profile, ocpp_version=ocpp_version)
        if transaction is not None:
            body["transactionId"] = int(transaction.ocpp_transaction_id)
        return {"connectorId": profile.evse_id, "csChargingProfiles": body}
    body["id"] = profile.profile_id
    body["chargingProfilePurpose"] = profile.purpose
    body["chargingSchedule"] = [_schedule(profile, ocpp_version=ocpp_version)]
    if transaction is not None:
        body["transactionId"] = transaction.ocpp_transaction_id
    return {"evseId": profile.evse_id, "chargingProfile": body}


def clear_payload(profile: ChargingProfile, *, ocpp_version: str) -> dict[str, Any]:
    if ocpp_version == OCPP16:
        return {"id": profile.profile_id}
    return {"chargingProfileId": profile.profile_id}


def sent_profile_id(action: str, ocpp_version: str, request: dict[str, Any]) -> int | None:
    """The profile a SetChargingProfile or ClearChargingProfile request names."""
    if action == "SetChargingProfile":
        key = "csChargingProfiles" if ocpp_version == OCPP16 else "chargingProfile"
        body = request.get(key, {})
        return body.get("chargingProfileId" if ocpp_version == OCPP16 else "id")
    return request.get("id" if ocpp_version == OCPP16 else "chargingProfileId")


def as_schedule_profile(profile: ChargingProfile) -> Profile:
    """The plain values the composite schedule is computed from."""
    return Profile(
        profile_id=profile.profile_id,
        purpose=profile.purpose,
        stack_level=profile.stack_level,
        kind=profile.kind,
        unit=profile.charging_rate_unit,
        periods=tuple(
            Period(
                start=period["start_period"],
                limit=Decimal(str(period["limit"])),
                phases=period.get("number_phases"),
                phase_to_use=period.get("phase_to_use"),
            )
            for period in profile.periods
        ),
        evse_id=profile.evse_id,
        recurrency=profile.recurrency_kind,
        valid_from=profile.valid_from,
        valid_to=profile.valid_to,
        start_schedule=profile.start_schedule,
        duration=profile.duration,
        min_rate=profile.min_charging_rate,
    )


def composite_request(*, ocpp_version: str, evse_id: int, duration: int, unit: str) -> dict:
    key = "connectorId" if ocpp_version == OCPP16 else "evseId"
    return {key: evse_id, "duration": duration, "chargingRateUnit": unit}


def reported_composite(response: Any, *, ocpp_version: str) -> dict[str, Any] | None:
    """The charger's GetCompositeSchedule answer in the platform's shape:
    its start, unit and periods (None: it had none to give)."""
    if not isinstance(response, dict) or response.get("status") != "Accepted":
        return None
    if ocpp_version == OCPP16:
        schedule = response.get("chargingSchedule") or {}
        start = response.get("scheduleStart") or schedule.get("startSchedule")
    else:
        schedule = response.get("schedule") or {}
        start = schedule.get("scheduleStart")
    return {
        "start": start,
        "duration": schedule.get("duration"),
        "unit": schedule.get("chargingRateUnit"),
        "periods": [
            {
                "start_period": period.get("startPeriod"),
                "limit": str(period.get("limit")),
                "number_phases": period.get("numberPhases"),
            }
            for period in schedule.get("chargingSchedulePeriod", [])
        ],
    }

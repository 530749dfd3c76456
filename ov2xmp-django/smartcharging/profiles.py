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

OCPP16, OCPP201, OCPP21 = "1.6", "2.0.1", "2.1"
# What OCPP 1.6 calls the charger's maximum.
PURPOSE_16: dict[str, str] = {ChargingProfilePurpose.STATION_MAX.value: "ChargePointMaxProfile"}
MAX_PERIODS = 1024
MAX_CURVE_POINTS = 20
TENTH = Decimal("0.1")

# OCPP 2.1 operation modes (V2X) and what a period in each needs.
OPERATION_MODES = (
    "Idle",
    "ChargingOnly",
    "CentralSetpoint",
    "ExternalSetpoint",
    "ExternalLimits",
    "CentralFrequency",
    "LocalFrequency",
    "LocalLoadBalancing",
)
# The 2.1 schema makes ``limit`` optional in these (Idle: nothing flows).
LIMIT_OPTIONAL = frozenset(
    {
        "Idle",
        "CentralSetpoint",
        "ExternalSetpoint",
        "ExternalLimits",
        "LocalFrequency",
        "LocalLoadBalancing",
    }
)
REQUIRED_BY_MODE = {
    "CentralSetpoint": "setpoint",
    "CentralFrequency": "v2x_signal_watt_curve",
    "LocalFrequency": "v2x_freq_watt_curve",
}
# Neither charges back nor follows a setpoint.
NO_DISCHARGE = frozenset({"Idle", "ChargingOnly"})
# Period field → OCPP 2.1 name, for the fields 2.1 added (V2X).
V2X_FIELDS = {
    "operation_mode": "operationMode",
    "setpoint": "setpoint",
    "setpoint_reactive": "setpointReactive",
    "discharge_limit": "dischargeLimit",
    "v2x_baseline": "v2xBaseline",
    "v2x_freq_watt_curve": "v2xFreqWattCurve",
    "v2x_signal_watt_curve": "v2xSignalWattCurve",
    "evse_sleep": "evseSleep",
    "preconditioning_request": "preconditioningRequest",
}
NUMBERS = ("setpoint", "setpoint_reactive", "discharge_limit", "v2x_baseline")
FLAGS = ("evse_sleep", "preconditioning_request")
CURVES = {"v2x_freq_watt_curve": "frequency", "v2x_signal_watt_curve": "signal"}


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


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
        unknown -= set(V2X_FIELDS)
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
        mode = period.get("operation_mode") or "ChargingOnly"
        limit = _decimal(period.get("limit"))
        if period.get("limit") is None and mode in LIMIT_OPTIONAL:
            pass
        elif limit is None or limit < 0:
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
        v2x = [name for name in V2X_FIELDS if period.get(name) is not None]
        if v2x and ocpp_version != OCPP21:
            errors.append(f"{index}.{v2x[0]}: only OCPP 2.1 chargers have operation modes (V2X)")
        elif v2x:
            errors += [f"{index}.{message}" for message in _v2x_errors(period, limit, unit)]
    return errors


def _v2x_errors(period: dict[str, Any], limit: Decimal | None, unit: str) -> list[str]:
    """What is wrong with a 2.1 period's V2X fields."""
    errors: list[str] = []
    mode = period.get("operation_mode")
    if mode is not None and mode not in OPERATION_MODES:
        return [f"operation_mode: one of {', '.join(OPERATION_MODES)}"]
    mode = mode or "ChargingOnly"
    numbers = {}
    for name in NUMBERS:
        if period.get(name) is not None:
            numbers[name] = _decimal(period[name])
            if numbers[name] is None:
                errors.append(f"{name}: a number ({unit})")
    for name in FLAGS:
        if period.get(name) is not None and not isinstance(period[name], bool):
            errors.append(f"{name}: true or false")
    needed = REQUIRED_BY_MODE.get(mode)
    if needed and period.get(needed) is None:
        errors.append(f"{needed}: {mode} needs it")
    if mode in NO_DISCHARGE:
        for name in ("setpoint", "discharge_limit"):
            if period.get(name) is not None:
                errors.append(f"{name}: not in {mode}")
    discharge, setpoint = numbers.get("discharge_limit"), numbers.get("setpoint")
    if discharge is not None and discharge > 0:
        errors.append("discharge_limit: 0 or less (discharging is negative)")
    if setpoint is not None:
        if limit is not None and setpoint > limit:
            errors.append(f"setpoint: at most the limit ({limit})")
        if discharge is not None and discharge <= 0 and setpoint < discharge:
            errors.append(f"setpoint: at least the discharge limit ({discharge})")
    for name, axis in CURVES.items():
        if period.get(name) is not None:
            errors += [f"{name}: {message}" for message in _curve_errors(period[name], axis)]
    return errors


def _curve_errors(curve: Any, axis: str) -> list[str]:
    """A frequency-watt or signal-watt curve: 1 to 20 points, ``axis`` rising."""
    if not isinstance(curve, list) or not 1 <= len(curve) <= MAX_CURVE_POINTS:
        return [f"1 to {MAX_CURVE_POINTS} points [{{{axis}, power}}]"]
    previous = None
    for index, point in enumerate(curve):
        if not isinstance(point, dict) or set(point) != {axis, "power"}:
            return [f"{index}: {{{axis}, power}}"]
        x, power = _decimal(point[axis]), _decimal(point["power"])
        if x is None or power is None or (axis == "signal" and x != int(x)):
            return [f"{index}: numbers (the signal whole)"]
        if previous is not None and x <= previous:
            return [f"{index}.{axis}: above the point before ({previous})"]
        previous = x
    return []


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
        item: dict[str, Any] = {"startPeriod": period["start_period"]}
        if period.get("limit") is not None:
            item["limit"] = float(Decimal(str(period["limit"])))
        if period.get("number_phases") is not None:
            item["numberPhases"] = period["number_phases"]
        if ocpp_version != OCPP16 and period.get("phase_to_use") is not None:
            item["phaseToUse"] = period["phase_to_use"]
        if ocpp_version == OCPP21:
            item.update(_v2x_payload(period))
        result.append(item)
    return result


def _v2x_payload(period: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, key in V2X_FIELDS.items():
        value = period.get(name)
        if value is None:
            continue
        if name in NUMBERS:
            value = float(Decimal(str(value)))
        elif name in CURVES:
            value = [{k: float(Decimal(str(v))) for k, v in point.items()} for point in value]
            if name == "v2x_signal_watt_curve":
                value = [{**point, "signal": int(point["signal"])} for point in value]
        item[key] = value
    return item


def _schedule(profile: ChargingProfile, *, ocpp_version: str) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "chargingRateUnit": profile.charging_rate_unit,
        "chargingSchedulePeriod": _periods(profile, ocpp_version=ocpp_version),
    }
    if ocpp_version != OCPP16:
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
                limit=_optional_decimal(period.get("limit")),
                phases=period.get("number_phases"),
                phase_to_use=period.get("phase_to_use"),
                operation_mode=period.get("operation_mode") or "",
                setpoint=_optional_decimal(period.get("setpoint")),
                discharge_limit=_optional_decimal(period.get("discharge_limit")),
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
                "limit": _text(period.get("limit")),
                "number_phases": period.get("numberPhases"),
                **(
                    {
                        "operation_mode": period["operationMode"],
                        "setpoint": _text(period.get("setpoint")),
                        "discharge_limit": _text(period.get("dischargeLimit")),
                    }
                    if "operationMode" in period
                    else {}
                ),
            }
            for period in schedule.get("chargingSchedulePeriod", [])
        ],
    }

"""Charging profiles as the platform understands them, whatever the OCPP
version, and the composite schedule they make: the limit an EVSE (or the
whole charger) will apply over a time window.

Pure functions of plain values, so that the rules can be tested as tables:

* For each purpose, the profile with the highest stack level that gives a
  limit at a moment prevails. One whose schedule has ended (its duration),
  or that is outside its validity, gives none, and the next one down counts.
* On an EVSE, a profile for that EVSE comes before one for the whole charger
  (EVSE 0) of the same purpose. A TxProfile comes before the TxDefaultProfile.
* The charger's maximum (ChargingStationMaxProfile, 1.6
  ChargePointMaxProfile) and the external constraints cap the result: the
  composite limit is the lowest of them.
* Absolute schedules start at ``start_schedule`` (else at ``valid_from``, else
  at the window's start), Recurring ones at the latest daily or weekly
  repetition of it, Relative ones at the session's start (else the window's).
* Limits in amps and watts are compared in the unit asked for, converted at
  the nominal 230 V per phase with the period's number of phases (3 when not
  given).
* OCPP 2.1 (V2X): the session's profile (TxProfile, else TxDefaultProfile)
  gives the operation mode, setpoint and discharge limit. An Idle period
  limits to 0; a period without a limit (a setpoint mode) caps nothing; the
  setpoint is held within the composite limit and the discharge limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

STATION_MAX = "ChargingStationMaxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
PURPOSES = (STATION_MAX, EXTERNAL, TX_DEFAULT, TX)
ABSOLUTE, RECURRING, RELATIVE = "Absolute", "Recurring", "Relative"
DAILY, WEEKLY = "Daily", "Weekly"
AMPS, WATTS = "A", "W"
NOMINAL_VOLTS = Decimal(230)
DEFAULT_PHASES = 3
RECURRENCE = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}


IDLE = "Idle"


@dataclass(frozen=True)
class Period:
    start: int  # seconds from the schedule's start
    limit: Decimal | None  # None: a 2.1 operation mode that needs none
    phases: int | None = None
    phase_to_use: int | None = None
    operation_mode: str = ""  # 2.1; empty: ChargingOnly
    setpoint: Decimal | None = None  # negative: discharge
    discharge_limit: Decimal | None = None  # 0 or less


@dataclass(frozen=True)
class Profile:
    profile_id: int
    purpose: str
    stack_level: int
    kind: str
    unit: str
    periods: tuple[Period, ...]
    evse_id: int = 0
    recurrency: str = ""
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    start_schedule: datetime | None = None
    duration: int | None = None  # seconds; None: the last period lasts
    min_rate: Decimal | None = None


@dataclass(frozen=True)
class CompositePeriod:
    start: int  # seconds from the window's start
    limit: Decimal | None  # None: no profile limits it
    phases: int | None
    # Which profile sets the limit (None: none does).
    profile_id: int | None = None
    # 2.1, from the session's profile.
    operation_mode: str = ""
    setpoint: Decimal | None = None
    discharge_limit: Decimal | None = None


@dataclass
class Composite:
    start: datetime
    duration: int
    unit: str
    periods: list[CompositePeriod] = field(default_factory=list)


def _schedule_start(
    profile: Profile, at: datetime, session_start: datetime | None, window_start: datetime
) -> datetime | None:
    """When the schedule in force at ``at`` started (None: not yet)."""
    if profile.kind == RELATIVE:
        return session_start or window_start
    anchor = profile.start_schedule or profile.valid_from or window_start
    if profile.kind == RECURRING and profile.recurrency in RECURRENCE:
        step = RECURRENCE[profile.recurrency]
        if at < anchor:
            return None
        return anchor + ((at - anchor) // step) * step
    return anchor


def _period_at(
    profile: Profile, at: datetime, session_start: datetime | None, window_start: datetime
) -> Period | None:
    if profile.valid_from is not None and at < profile.valid_from:
        return None
    if profile.valid_to is not None and at >= profile.valid_to:
        return None
    start = _schedule_start(profile, at, session_start, window_start)
    if start is None or at < start:
        return None
    offset = (at - start).total_seconds()
    if profile.duration is not None and offset >= profile.duration:
        return None
    current = None
    for period in profile.periods:
        if period.start <= offset:
            current = period
    return current


def period_in_force(
    profile: Profile, at: datetime, session_start: datetime | None = None
) -> Period | None:
    """The profile's period at ``at`` (None: none applies then)."""
    return _period_at(profile, at, session_start, at)


def _in_unit(value: Decimal, period: Period, from_unit: str, to_unit: str) -> Decimal:
    """A rate of the period in ``to_unit`` (a converted one to 0.1 A or 1 W)."""
    if from_unit == to_unit:
        return value
    phases = Decimal(period.phases or DEFAULT_PHASES)
    if to_unit == WATTS:
        return (value * NOMINAL_VOLTS * phases).quantize(Decimal(1))
    return (value / (NOMINAL_VOLTS * phases)).quantize(Decimal("0.1"))


def _limit(period: Period, from_unit: str, to_unit: str) -> Decimal | None:
    if period.operation_mode == IDLE:
        return Decimal(0)
    return None if period.limit is None else _in_unit(period.limit, period, from_unit, to_unit)


def _optional(value: Decimal | None, period: Period, from_unit: str, to_unit: str):
    return None if value is None else _in_unit(value, period, from_unit, to_unit)


def _prevailing(
    profiles: list[Profile], at: datetime, session_start: datetime | None, window_start: datetime
) -> tuple[Profile, Period] | None:
    """The highest stack level giving a limit at ``at``."""
    for profile in sorted(profiles, key=lambda p: -p.stack_level):
        period = _period_at(profile, at, session_start, window_start)
        if period is not None:
            return profile, period
    return None


def _limit_at(
    profiles: list[Profile],
    *,
    evse_id: int,
    at: datetime,
    unit: str,
    session_start: datetime | None,
    window_start: datetime,
) -> CompositePeriod:
    def of(purpose: str, evse: int) -> list[Profile]:
        return [p for p in profiles if p.purpose == purpose and p.evse_id == evse]

    offset = int((at - window_start).total_seconds())
    candidates: list[tuple[Profile, Period]] = []
    caps = [STATION_MAX, EXTERNAL]
    for purpose in caps:
        found = _prevailing(of(purpose, 0), at, session_start, window_start)
        if found:
            candidates.append(found)
    session: tuple[Profile, Period] | None = None
    if evse_id:
        # The session's own limit: TxProfile, else TxDefaultProfile; the
        # EVSE's own before the charger-wide one.
        for purpose, evse in ((TX, evse_id), (TX_DEFAULT, evse_id), (TX_DEFAULT, 0)):
            session = _prevailing(of(purpose, evse), at, session_start, window_start)
            if session:
                candidates.append(session)
                break
    limit, phases, profile_id = None, None, None
    for profile, period in candidates:
        value = _limit(period, profile.unit, unit)
        if value is not None and (limit is None or value < limit):
            limit, phases, profile_id = value, period.phases, profile.profile_id
    if session is None:
        return CompositePeriod(offset, limit, phases, profile_id)
    profile, period = session
    mode = period.operation_mode
    discharge = _optional(period.discharge_limit, period, profile.unit, unit)
    setpoint = _optional(period.setpoint, period, profile.unit, unit)
    if setpoint is not None:
        if limit is not None:
            setpoint = min(setpoint, limit)
        setpoint = max(setpoint, discharge if discharge is not None else setpoint)
    if mode == IDLE:
        setpoint, discharge = None, None
    return CompositePeriod(offset, limit, phases, profile_id, mode, setpoint, discharge)


def _boundaries(
    profile: Profile, window_start: datetime, window_end: datetime, session_start: datetime | None
) -> set[datetime]:
    """Every moment in the window at which the profile's limit may change."""
    moments = {m for m in (profile.valid_from, profile.valid_to) if m is not None}
    if profile.kind == RELATIVE:
        starts = [session_start or window_start]
    else:
        anchor = profile.start_schedule or profile.valid_from or window_start
        starts = [anchor]
        if profile.kind == RECURRING and profile.recurrency in RECURRENCE:
            step = RECURRENCE[profile.recurrency]
            first = (
                anchor
                if window_start <= anchor
                else (anchor + ((window_start - anchor) // step) * step)
            )
            starts, moment = [], first
            while moment < window_end:
                starts.append(moment)
                moment += step
    for start in starts:
        moments.add(start)
        moments.update(start + timedelta(seconds=period.start) for period in profile.periods)
        if profile.duration is not None:
            moments.add(start + timedelta(seconds=profile.duration))
    return {m for m in moments if window_start < m < window_end}


def composite_schedule(
    profiles: list[Profile],
    *,
    evse_id: int,
    start: datetime,
    duration: int,
    unit: str,
    session_start: datetime | None = None,
) -> Composite:
    """The limit over ``duration`` seconds from ``start`` on an EVSE (0: the
    whole charger, capped by its maximum and external constraints only), in
    ``unit``, as periods where it changes."""
    end = start + timedelta(seconds=duration)
    moments = {start}
    for profile in profiles:
        moments |= _boundaries(profile, start, end, session_start)
    composite = Composite(start=start, duration=duration, unit=unit)
    for moment in sorted(moments):
        period = _limit_at(
            profiles,
            evse_id=evse_id,
            at=moment,
            unit=unit,
            session_start=session_start,
            window_start=start,
        )
        last = composite.periods[-1] if composite.periods else None
        if last is not None and replace(last, start=period.start) == period:
            continue
        composite.periods.append(period)
    return composite

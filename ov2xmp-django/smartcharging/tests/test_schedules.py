"""The composite schedule, as a table: stack levels, purposes, EVSE before
charger, recurring and relative profiles, validity, duration and units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from smartcharging.schedules import (
    EXTERNAL,
    STATION_MAX,
    TX,
    TX_DEFAULT,
    Period,
    Profile,
    composite_schedule,
)

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday
H = 3600


def profile(
    profile_id: int,
    purpose: str = TX_DEFAULT,
    *,
    level: int = 0,
    periods: tuple[tuple[int, str], ...] = ((0, "16"),),
    unit: str = "A",
    phases: int | None = None,
    kind: str = "Absolute",
    start: datetime | None = T0,
    **fields,
) -> Profile:
    return Profile(
        profile_id=profile_id,
        purpose=purpose,
        stack_level=level,
        kind=kind,
        unit=unit,
        periods=tuple(Period(s, Decimal(limit), phases) for s, limit in periods),
        start_schedule=None if kind == "Relative" else start,
        **fields,
    )


def v2x(profile_id: int, *periods: Period, level: int = 0, **fields) -> Profile:
    """A 2.1 TxProfile in watts with these periods."""
    return Profile(
        profile_id=profile_id,
        purpose=TX,
        stack_level=level,
        kind="Absolute",
        unit="W",
        periods=periods,
        evse_id=1,
        start_schedule=T0,
        **fields,
    )


def limits(profiles, *, evse_id=1, start=T0, duration=24 * H, unit="A", session_start=None):
    """[(seconds from start, limit, profile id), …] where the limit changes;
    with an operation mode (2.1), also the mode and the setpoint."""
    composite = composite_schedule(
        profiles,
        evse_id=evse_id,
        start=start,
        duration=duration,
        unit=unit,
        session_start=session_start,
    )
    return [
        (p.start, None if p.limit is None else str(p.limit), p.profile_id)
        + (
            (p.operation_mode, None if p.setpoint is None else str(p.setpoint))
            if p.operation_mode
            else ()
        )
        for p in composite.periods
    ]


CASES = {
    "nothing limits": ([], {}, [(0, None, None)]),
    "one default": ([profile(1)], {}, [(0, "16", 1)]),
    "periods of a day": (
        [profile(1, periods=((0, "32"), (8 * H, "10"), (18 * H, "32")))],
        {},
        [(0, "32", 1), (8 * H, "10", 1), (18 * H, "32", 1)],
    ),
    "a higher stack level prevails while it is valid": (
        [
            profile(1, level=0, periods=((0, "32"),)),
            profile(
                2,
                level=1,
                periods=((0, "6"),),
                valid_from=T0 + timedelta(hours=2),
                valid_to=T0 + timedelta(hours=4),
            ),
        ],
        {},
        [(0, "32", 1), (2 * H, "6", 2), (4 * H, "32", 1)],
    ),
    "a schedule that ends (duration) gives way to the one below": (
        [profile(1, periods=((0, "32"),)), profile(2, level=5, periods=((0, "8"),), duration=H)],
        {},
        [(0, "8", 2), (H, "32", 1)],
    ),
    "the charger's maximum caps the session's limit": (
        [
            profile(1, periods=((0, "32"),)),
            profile(2, STATION_MAX, periods=((0, "20"), (12 * H, "40")), evse_id=0),
        ],
        {},
        [(0, "20", 2), (12 * H, "32", 1)],
    ),
    "external constraints cap as well": (
        [profile(1, periods=((0, "32"),)), profile(2, EXTERNAL, periods=((0, "25"),), evse_id=0)],
        {},
        [(0, "25", 2)],
    ),
    "a TxProfile comes before the default, whatever its stack level": (
        [
            profile(1, level=9, periods=((0, "32"),)),
            profile(2, TX, periods=((0, "12"),), evse_id=1),
        ],
        {},
        [(0, "12", 2)],
    ),
    "the EVSE's own default comes before the charger-wide one": (
        [
            profile(1, level=9, periods=((0, "10"),), evse_id=0),
            profile(2, level=0, periods=((0, "20"),), evse_id=1),
        ],
        {},
        [(0, "20", 2)],
    ),
    "another EVSE's profile does not count": (
        [profile(1, periods=((0, "10"),), evse_id=2)],
        {},
        [(0, None, None)],
    ),
    "the whole charger: its maximum only": (
        [profile(1, periods=((0, "10"),)), profile(2, STATION_MAX, periods=((0, "63"),))],
        {"evse_id": 0},
        [(0, "63", 2)],
    ),
    "daily, from a first day long ago": (
        [
            profile(
                1,
                kind="Recurring",
                recurrency="Daily",
                start=T0 - timedelta(days=30),
                periods=((0, "32"), (17 * H, "8"), (21 * H, "32")),
            )
        ],
        {"duration": 48 * H},
        [(0, "32", 1), (17 * H, "8", 1), (21 * H, "32", 1), (41 * H, "8", 1), (45 * H, "32", 1)],
    ),
    "weekly: the week's pattern, seen on its second Monday": (
        [
            profile(
                1,
                kind="Recurring",
                recurrency="Weekly",
                start=T0 - timedelta(days=7),
                periods=((0, "10"), (5 * 24 * H, "32")),  # weekdays 10 A, weekend 32 A
            )
        ],
        {"duration": 7 * 24 * H},
        [(0, "10", 1), (5 * 24 * H, "32", 1)],
    ),
    "a recurring profile gives nothing before its first day": (
        [profile(1, kind="Recurring", recurrency="Daily", start=T0 + timedelta(hours=6))],
        {},
        [(0, None, None), (6 * H, "16", 1)],
    ),
    "relative to the session's start": (
        [
            profile(
                1, TX, kind="Relative", periods=((0, "32"), (H, "16")), duration=2 * H, evse_id=1
            )
        ],
        {"session_start": T0 + timedelta(minutes=30)},
        [(0, None, None), (30 * 60, "32", 1), (90 * 60, "16", 1), (150 * 60, None, None)],
    ),
    "amps in watts: 230 V times the phases (3 unless said)": (
        [
            profile(1, periods=((0, "16"),)),
            profile(2, level=1, periods=((0, "10"),), phases=1, valid_from=T0 + timedelta(hours=1)),
        ],
        {"unit": "W"},
        [(0, "11040", 1), (H, "2300", 2)],
    ),
    "2.1: an Idle period limits to 0; a setpoint period without a limit caps nothing": (
        [
            profile(1, STATION_MAX, unit="W", periods=((0, "11000"),), evse_id=0),
            v2x(2, Period(0, None, operation_mode="CentralSetpoint", setpoint=Decimal(-5000))),
            v2x(
                3,
                Period(0, None, operation_mode="Idle"),
                level=1,
                valid_from=T0 + timedelta(hours=2),
            ),
        ],
        {"unit": "W"},
        [(0, "11000", 1, "CentralSetpoint", "-5000"), (2 * H, "0", 3, "Idle", None)],
    ),
    "2.1: a setpoint is held within the caps and the discharge limit": (
        [
            profile(1, STATION_MAX, unit="W", periods=((0, "7000"),), evse_id=0),
            v2x(
                2,
                Period(0, None, operation_mode="CentralSetpoint", setpoint=Decimal(9000)),
                Period(
                    H,
                    None,
                    operation_mode="CentralSetpoint",
                    setpoint=Decimal(-9000),
                    discharge_limit=Decimal(-4000),
                ),
            ),
        ],
        {"unit": "W"},
        [(0, "7000", 1, "CentralSetpoint", "7000"), (H, "7000", 1, "CentralSetpoint", "-4000")],
    ),
    "watts in amps, compared with amps": (
        [
            profile(1, periods=((0, "16"),)),
            profile(2, STATION_MAX, unit="W", periods=((0, "6900"),), evse_id=0),
        ],
        {},
        [(0, "10.0", 2)],
    ),
}


@pytest.mark.parametrize(("profiles", "query", "expected"), CASES.values(), ids=CASES.keys())
def test_composite_schedule(profiles, query, expected):
    assert limits(profiles, **query) == expected

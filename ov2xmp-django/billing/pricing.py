"""The price of a charging session under a tariff: OCPI 2.2.1 semantics, in
the location's time zone, exact across midnight, DST changes and tariff
periods (docs/billing.md has worked examples that the tests check).

The session is cut into segments at every meter reading and at every moment
a restriction could change its answer: local midnights, each element's start
and end times, its duration limits, and the moments the energy crosses its
kWh limits. Within a segment nothing changes, so each dimension's price is
that of the first element whose restrictions hold there and that prices the
dimension. Energy between two readings is spread evenly over the time
between them. A segment is charging time when energy flows in it, else
parking time.

Money is Decimal. Quantities are rounded up to each component's step size
(per element and dimension, over the session), each dimension's cost is
rounded half-up to the currency's cents, and VAT is computed on the total
excluding VAT and rounded the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

ENERGY, FLAT, TIME, PARKING_TIME = "ENERGY", "FLAT", "TIME", "PARKING_TIME"
DIMENSIONS = (ENERGY, FLAT, TIME, PARKING_TIME)
CENT = Decimal("0.01")
WH_PER_KWH = Decimal(1000)
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class Restrictions:
    """When an element applies (OCPI TariffRestrictions). Times and dates are
    local to the location; end time and end date are exclusive."""

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_power_kw: Decimal | None = None
    max_power_kw: Decimal | None = None
    min_duration_seconds: int | None = None
    max_duration_seconds: int | None = None
    days_of_week: frozenset[int] = frozenset()  # 1 Monday … 7 Sunday; empty: every day


@dataclass(frozen=True)
class PriceComponent:
    dimension: str  # ENERGY (per kWh), FLAT (per session), TIME / PARKING_TIME (per hour)
    price: Decimal  # excluding VAT
    step_size: int = 1  # Wh for ENERGY, seconds for the times


@dataclass(frozen=True)
class Element:
    components: tuple[PriceComponent, ...]
    restrictions: Restrictions = Restrictions()

    def price_of(self, dimension: str) -> PriceComponent | None:
        return next((c for c in self.components if c.dimension == dimension), None)


@dataclass(frozen=True)
class Terms:
    """A tariff version's terms."""

    currency: str
    vat_percent: Decimal
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Reading:
    at: datetime
    energy_wh: Decimal  # the meter's import register


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    energy_wh: Decimal
    charging: bool
    elements: dict[str, int | None]  # dimension → index of the element pricing it


@dataclass
class Price:
    currency: str
    energy_wh: Decimal = Decimal(0)
    charging_seconds: Decimal = Decimal(0)
    parking_seconds: Decimal = Decimal(0)
    cost: dict[str, Decimal] = field(default_factory=dict)  # dimension → excl. VAT
    total_excl_vat: Decimal = Decimal(0)
    vat: Decimal = Decimal(0)
    total_incl_vat: Decimal = Decimal(0)
    segments: list[Segment] = field(default_factory=list)


def price_session(
    terms: Terms, *, time_zone: str, start: datetime, end: datetime, readings: Sequence[Reading]
) -> Price:
    """The price of a session from ``start`` to ``end`` (aware datetimes) with
    its energy register readings (at least the first and the last)."""
    # In UTC: arithmetic on two times of one zone ignores a DST change between them.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    readings = [Reading(reading.at.astimezone(UTC), reading.energy_wh) for reading in readings]
    if end < start:
        raise ValueError("the session ends before it starts")
    zone = ZoneInfo(time_zone)
    points = _energy_curve(start, end, readings)
    cuts = _cuts(terms, zone, start, end, points)
    segments = []
    for begin, finish in itertools.pairwise(cuts):
        energy = _energy_at(points, finish) - _energy_at(points, begin)
        segments.append(
            Segment(
                begin,
                finish,
                energy,
                energy > 0,
                _choose(
                    terms,
                    zone,
                    start,
                    begin,
                    finish,
                    energy,
                    _energy_at(points, begin) - points[0][1],
                ),
            )
        )
    return _total(terms, zone, start, segments)


# --- the session as a curve --------------------------------------------------------


def _energy_curve(
    start: datetime, end: datetime, readings: Sequence[Reading]
) -> list[tuple[datetime, Decimal]]:
    """(time, register) from start to end; flat before the first reading and
    after the last."""
    ordered = sorted((r for r in readings), key=lambda r: r.at)
    if not ordered:
        return [(start, Decimal(0)), (end, Decimal(0))]
    points = [(start, ordered[0].energy_wh)]
    points += [(r.at, r.energy_wh) for r in ordered if start < r.at < end]
    last = next((r.energy_wh for r in reversed(ordered) if r.at <= end), ordered[-1].energy_wh)
    points.append((end, last))
    return points


def _energy_at(points: list[tuple[datetime, Decimal]], moment: datetime) -> Decimal:
    for (t0, e0), (t1, e1) in itertools.pairwise(points):
        if t0 <= moment <= t1:
            span = (t1 - t0).total_seconds()
            if span == 0:
                return e1
            return e0 + (e1 - e0) * Decimal((moment - t0).total_seconds()) / Decimal(span)
    return points[-1][1]


def _moment_of_energy(points: list[tuple[datetime, Decimal]], wh: Decimal) -> datetime | None:
    """When the register first reaches ``wh`` (interpolated)."""
    for (t0, e0), (t1, e1) in itertools.pairwise(points):
        if e0 < wh <= e1:
            share = (wh - e0) / (e1 - e0)
            return t0 + timedelta(seconds=float(share) * (t1 - t0).total_seconds())
    return None


def _cuts(
    terms: Terms,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    points: list[tuple[datetime, Decimal]],
) -> list[datetime]:
    cuts = {start, end, *(moment for moment, _ in points)}
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    local_times = {time(0)}
    for element in terms.elements:
        restrictions = element.restrictions
        local_times |= {t for t in (restrictions.start_time, restrictions.end_time) if t}
        for seconds in (restrictions.min_duration_seconds, restrictions.max_duration_seconds):
            if seconds is not None:
                cuts.add(start + timedelta(seconds=seconds))
        for kwh in (restrictions.min_kwh, restrictions.max_kwh):
            if kwh is not None:
                moment = _moment_of_energy(points, points[0][1] + kwh * WH_PER_KWH)
                if moment is not None:
                    cuts.add(moment)
    day = first_day
    while day <= last_day:
        for local in local_times:
            cuts.add(datetime.combine(day, local, tzinfo=zone).astimezone(UTC))
        day += timedelta(days=1)
    return sorted(moment for moment in cuts if start <= moment <= end)


# --- which element prices what -------------------------------------------------------


def _holds(
    restrictions: Restrictions,
    zone: ZoneInfo,
    session_start: datetime,
    begin: datetime,
    finish: datetime,
    energy_wh: Decimal,
    used_wh: Decimal,
) -> bool:
    """Whether the restrictions hold over a segment (nothing changes inside
    one, so its middle decides for times, its start for amounts so far)."""
    middle = (begin + (finish - begin) / 2).astimezone(zone)
    clock, day = middle.time(), middle.date()
    if restrictions.start_time is not None or restrictions.end_time is not None:
        opens = restrictions.start_time or time(0)
        closes = restrictions.end_time or time(0)
        # Across midnight (22:00 to 06:00) when it closes before it opens.
        inside = opens <= clock < closes if opens < closes else clock >= opens or clock < closes
        if not inside:
            return False
    if restrictions.start_date is not None and day < restrictions.start_date:
        return False
    if restrictions.end_date is not None and day >= restrictions.end_date:
        return False
    if restrictions.days_of_week and day.isoweekday() not in restrictions.days_of_week:
        return False
    used_kwh = used_wh / WH_PER_KWH
    if restrictions.min_kwh is not None and used_kwh < restrictions.min_kwh:
        return False
    if restrictions.max_kwh is not None and used_kwh >= restrictions.max_kwh:
        return False
    elapsed = (begin - session_start).total_seconds()
    if (
        restrictions.min_duration_seconds is not None
        and elapsed < restrictions.min_duration_seconds
    ):
        return False
    if (
        restrictions.max_duration_seconds is not None
        and elapsed >= restrictions.max_duration_seconds
    ):
        return False
    seconds = Decimal((finish - begin).total_seconds())
    power_kw = energy_wh / WH_PER_KWH / (seconds / SECONDS_PER_HOUR) if seconds else Decimal(0)
    if restrictions.min_power_kw is not None and power_kw < restrictions.min_power_kw:
        return False
    return restrictions.max_power_kw is None or power_kw < restrictions.max_power_kw


def _choose(
    terms: Terms,
    zone: ZoneInfo,
    session_start: datetime,
    begin: datetime,
    finish: datetime,
    energy_wh: Decimal,
    used_wh: Decimal,
) -> dict[str, int | None]:
    chosen: dict[str, int | None] = {}
    for dimension in (ENERGY, TIME, PARKING_TIME):
        chosen[dimension] = next(
            (
                index
                for index, element in enumerate(terms.elements)
                if element.price_of(dimension) is not None
                and _holds(
                    element.restrictions, zone, session_start, begin, finish, energy_wh, used_wh
                )
            ),
            None,
        )
    return chosen


# --- totals --------------------------------------------------------------------------


def _round_up(quantity: Decimal, step: int) -> Decimal:
    if step <= 1:
        return quantity
    return (quantity / step).to_integral_value(rounding=ROUND_CEILING) * step


def _total(terms: Terms, zone: ZoneInfo, start: datetime, segments: list[Segment]) -> Price:
    price = Price(currency=terms.currency, segments=segments)
    # Quantities per (dimension, element), in Wh or seconds.
    quantities: dict[tuple[str, int], Decimal] = {}
    for segment in segments:
        seconds = Decimal((segment.end - segment.start).total_seconds())
        price.energy_wh += segment.energy_wh
        if segment.charging:
            price.charging_seconds += seconds
        else:
            price.parking_seconds += seconds
        for dimension, amount in (
            (ENERGY, segment.energy_wh),
            (TIME, seconds if segment.charging else Decimal(0)),
            (PARKING_TIME, Decimal(0) if segment.charging else seconds),
        ):
            index = segment.elements[dimension]
            if index is not None and amount:
                quantities[(dimension, index)] = (
                    quantities.get((dimension, index), Decimal(0)) + amount
                )
    costs = dict.fromkeys(DIMENSIONS, Decimal(0))
    for (dimension, index), quantity in quantities.items():
        component = terms.elements[index].price_of(dimension)
        assert component is not None
        billed = _round_up(quantity, component.step_size)
        per_unit = WH_PER_KWH if dimension == ENERGY else SECONDS_PER_HOUR
        costs[dimension] += billed / per_unit * component.price
    flat = next(
        (
            element.price_of(FLAT)
            for element in terms.elements
            if element.price_of(FLAT) is not None
            and _holds(element.restrictions, zone, start, start, start, Decimal(0), Decimal(0))
        ),
        None,
    )
    if flat is not None:
        costs[FLAT] = flat.price
    price.cost = {
        dimension: cost.quantize(CENT, ROUND_HALF_UP) for dimension, cost in costs.items()
    }
    price.total_excl_vat = sum(price.cost.values(), Decimal(0))
    price.vat = (price.total_excl_vat * terms.vat_percent / 100).quantize(CENT, ROUND_HALF_UP)
    price.total_incl_vat = price.total_excl_vat + price.vat
    return price


class CurrencyMismatch(ValueError):
    pass


def retail_price(
    *, cpo: Price, emsp: Price, vat_percent: Decimal, includes_cpo_cost: bool
) -> Price:
    """What the driver pays under an eMSP tariff: its own price, on top of
    the CPO's cost unless it ignores it (a flat subscription). Each
    dimension's cost is the sum of the two, already rounded to the cent; the
    VAT is the eMSP tariff's, on the sum."""
    if not includes_cpo_cost:
        return emsp
    if cpo.total_excl_vat and cpo.currency != emsp.currency:
        raise CurrencyMismatch(
            f"the CPO's cost is in {cpo.currency}, the eMSP tariff in {emsp.currency}"
        )
    cost = {
        dimension: cpo.cost.get(dimension, Decimal(0)) + emsp.cost.get(dimension, Decimal(0))
        for dimension in DIMENSIONS
    }
    price = Price(
        currency=emsp.currency,
        energy_wh=emsp.energy_wh,
        charging_seconds=emsp.charging_seconds,
        parking_seconds=emsp.parking_seconds,
        cost=cost,
        total_excl_vat=sum(cost.values(), Decimal(0)),
        segments=emsp.segments,
    )
    price.vat = (price.total_excl_vat * vat_percent / 100).quantize(CENT, ROUND_HALF_UP)
    price.total_incl_vat = price.total_excl_vat + price.vat
    return price

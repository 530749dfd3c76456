"""The pricing engine on worked examples (the same as docs/billing.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.pricing import (
    ENERGY,
    FLAT,
    PARKING_TIME,
    TIME,
    Element,
    PriceComponent,
    Reading,
    Restrictions,
    Terms,
    price_session,
)

LISBON = ZoneInfo("Europe/Lisbon")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LISBON)


def steady(start: datetime, end: datetime, kw: float, *, every_minutes: int = 15) -> list[Reading]:
    """Readings of a steady power from 0 Wh."""
    readings, start, end = [], start.astimezone(UTC), end.astimezone(UTC)
    moment = start
    while moment <= end:
        hours = Decimal((moment - start).total_seconds()) / 3600
        readings.append(
            Reading(moment, (Decimal(str(kw)) * 1000 * hours).quantize(Decimal("0.001")))
        )
        moment += timedelta(minutes=every_minutes)
    return readings


def terms(*elements: Element, vat: str = "23") -> Terms:
    return Terms("EUR", Decimal(vat), elements)


def energy(price: str, step: int = 1, **restrictions) -> Element:
    return Element((PriceComponent(ENERGY, Decimal(price), step),), Restrictions(**restrictions))


def test_example_1_energy_with_vat():
    start, end = local(2026, 3, 2, 10), local(2026, 3, 2, 11)
    price = price_session(
        terms(energy("0.30")),
        time_zone="Europe/Lisbon",
        start=start,
        end=end,
        readings=[Reading(start, Decimal(0)), Reading(end, Decimal(7400))],
    )
    assert price.energy_wh == Decimal(7400)
    assert price.cost[ENERGY] == Decimal("2.22")
    assert (price.total_excl_vat, price.vat, price.total_incl_vat) == (
        Decimal("2.22"),
        Decimal("0.51"),
        Decimal("2.73"),
    )


def test_example_2_day_and_night_energy_across_a_time_boundary():
    day = energy("0.30", start_time=time(7), end_time=time(22))
    night = energy("0.15")
    start, end = local(2026, 3, 2, 21), local(2026, 3, 2, 23)
    price = price_session(
        terms(day, night),
        time_zone="Europe/Lisbon",
        start=start,
        end=end,
        readings=steady(start, end, 11),
    )
    assert price.energy_wh == Decimal(22000)
    assert price.cost[ENERGY] == Decimal("4.95")  # 11 kWh x 0.30 + 11 kWh x 0.15


def test_example_3_time_across_midnight_on_the_night_the_clocks_go_back():
    """25 October 2026 in Lisbon: 02:00 becomes 01:00 again, so 23:00 to
    03:00 local time is five hours."""
    per_hour = Element((PriceComponent(TIME, Decimal("2.00")),))
    start = local(2026, 10, 24, 23)
    end = local(2026, 10, 25, 3)
    # Times in the local zone, as a charger's may be read: subtracting two of
    # them would ignore the hour lived twice.
    readings = [Reading(r.at.astimezone(LISBON), r.energy_wh) for r in steady(start, end, 7)]
    price = price_session(
        terms(per_hour), time_zone="Europe/Lisbon", start=start, end=end, readings=readings
    )
    hours = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600
    assert hours == 5  # 23:00 to 03:00 with one hour lived twice
    assert price.charging_seconds == Decimal(5 * 3600)
    assert price.cost[TIME] == Decimal("10.00")


def test_example_4_parking_time_after_charging():
    element = Element(
        (
            PriceComponent(ENERGY, Decimal("0.25")),
            PriceComponent(TIME, Decimal("1.00")),
            PriceComponent(PARKING_TIME, Decimal("5.00")),
        )
    )
    start, full, end = local(2026, 3, 2, 10), local(2026, 3, 2, 11), local(2026, 3, 2, 12)
    readings = [
        Reading(start, Decimal(0)),
        Reading(full, Decimal(10000)),
        Reading(end, Decimal(10000)),
    ]
    price = price_session(
        terms(element), time_zone="Europe/Lisbon", start=start, end=end, readings=readings
    )
    assert (price.charging_seconds, price.parking_seconds) == (Decimal(3600), Decimal(3600))
    assert (price.cost[ENERGY], price.cost[TIME], price.cost[PARKING_TIME]) == (
        Decimal("2.50"),
        Decimal("1.00"),
        Decimal("5.00"),
    )
    assert price.total_excl_vat == Decimal("8.50")


def test_example_5_the_first_10_kwh_cost_more():
    first = energy("0.40", max_kwh=Decimal(10))
    rest = energy("0.25", min_kwh=Decimal(10))
    start, end = local(2026, 3, 2, 10), local(2026, 3, 2, 11, 30)
    readings = [
        Reading(start, Decimal(5000)),
        Reading(end, Decimal(20000)),
    ]  # the register starts at 5 kWh
    price = price_session(
        terms(first, rest), time_zone="Europe/Lisbon", start=start, end=end, readings=readings
    )
    assert price.cost[ENERGY] == Decimal("5.25")  # 10 x 0.40 + 5 x 0.25


def test_example_6_a_session_fee_and_whole_kwh():
    element = Element(
        (PriceComponent(FLAT, Decimal("1.00")), PriceComponent(ENERGY, Decimal("0.30"), 1000))
    )
    start, end = local(2026, 3, 2, 10), local(2026, 3, 2, 11)
    price = price_session(
        terms(element),
        time_zone="Europe/Lisbon",
        start=start,
        end=end,
        readings=[Reading(start, Decimal(0)), Reading(end, Decimal(7400))],
    )
    assert (price.cost[FLAT], price.cost[ENERGY]) == (
        Decimal("1.00"),
        Decimal("2.40"),
    )  # 8 kWh billed


def test_example_7_time_is_free_for_two_hours_then_charged():
    free = Element((PriceComponent(TIME, Decimal(0)),), Restrictions(max_duration_seconds=7200))
    then = Element(
        (PriceComponent(TIME, Decimal("1.20")),), Restrictions(min_duration_seconds=7200)
    )
    start, end = local(2026, 3, 2, 10), local(2026, 3, 2, 13, 30)
    price = price_session(
        terms(free, then),
        time_zone="Europe/Lisbon",
        start=start,
        end=end,
        readings=steady(start, end, 3.7),
    )
    assert price.cost[TIME] == Decimal("1.80")  # 1.5 h x 1.20


def test_example_8_weekends_and_a_date_range():
    weekend = energy("0.20", days_of_week=frozenset({6, 7}))
    promotion = energy("0.10", start_date=date(2026, 3, 1), end_date=date(2026, 3, 2))
    normal = energy("0.35")
    tariff = terms(weekend, promotion, normal)
    # Saturday 28 February 23:00 to Sunday 1 March 01:00, then Monday 2 March.
    start, end = local(2026, 2, 28, 23), local(2026, 3, 1, 1)
    price = price_session(
        tariff, time_zone="Europe/Lisbon", start=start, end=end, readings=steady(start, end, 10)
    )
    assert price.cost[ENERGY] == Decimal("4.00")  # both days weekend: 20 kWh x 0.20
    start, end = local(2026, 3, 1, 23), local(2026, 3, 2, 1)
    price = price_session(
        tariff, time_zone="Europe/Lisbon", start=start, end=end, readings=steady(start, end, 10)
    )
    assert price.cost[ENERGY] == Decimal("5.50")  # Sunday 10 kWh x 0.20, Monday 10 kWh x 0.35


def test_a_segment_nothing_prices_costs_nothing_and_ends_are_checked():
    peak = energy("0.50", start_time=time(18), end_time=time(21))
    start, end = local(2026, 3, 2, 17), local(2026, 3, 2, 19)
    price = price_session(
        terms(peak), time_zone="Europe/Lisbon", start=start, end=end, readings=steady(start, end, 6)
    )
    assert price.cost[ENERGY] == Decimal("3.00")  # only 18:00-19:00: 6 kWh x 0.50
    with pytest.raises(ValueError, match="ends before it starts"):
        price_session(terms(peak), time_zone="Europe/Lisbon", start=end, end=start, readings=[])

"""The load manager's promises, as properties over many generated sites
(hypothesis), and a few cases by hand."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharging.allocation import Demand, allocate

watts = st.integers(min_value=0, max_value=50_000).map(Decimal)


@st.composite
def demands(draw) -> list[Demand]:
    count = draw(st.integers(min_value=0, max_value=40))
    result = []
    for key in range(count):
        maximum = draw(st.integers(min_value=0, max_value=22_000))
        minimum = draw(st.integers(min_value=0, max_value=max(maximum, 1)))
        priority = draw(st.integers(min_value=-9, max_value=9))
        result.append(Demand(key, Decimal(minimum), Decimal(maximum), priority))
    return result


@settings(max_examples=400, deadline=None)
@given(limit=watts, sessions=demands())
def test_never_above_the_limit_nor_a_sessions_maximum(limit, sessions):
    given_w = allocate(limit, sessions)
    assert sum(given_w.values(), Decimal(0)) <= limit
    for demand in sessions:
        assert Decimal(0) <= given_w[demand.key] <= demand.maximum_w
        assert given_w[demand.key] == given_w[demand.key].to_integral_value()


@settings(max_examples=400, deadline=None)
@given(limit=watts, sessions=demands())
def test_nobody_starves_when_the_minimums_fit(limit, sessions):
    minimums = sum((min(d.minimum_w, d.maximum_w) for d in sessions), Decimal(0))
    given_w = allocate(limit, sessions)
    if minimums <= limit:
        for demand in sessions:
            assert (
                given_w[demand.key] >= min(demand.minimum_w, demand.maximum_w).to_integral_value()
            )


@settings(max_examples=400, deadline=None)
@given(limit=watts, sessions=demands())
def test_power_is_not_left_unused_while_someone_wants_more(limit, sessions):
    given_w = allocate(limit, sessions)
    unused = limit - sum(given_w.values(), Decimal(0))
    served = [d for d in sessions if given_w[d.key] >= min(d.minimum_w, d.maximum_w)]
    wanting = [d for d in served if given_w[d.key] < d.maximum_w]
    if wanting:
        # Only rounding down (under a watt each) may be left over.
        assert unused < len(sessions) + 1


@settings(max_examples=200, deadline=None)
@given(
    limit=watts,
    size=st.integers(min_value=1, max_value=30),
    maximum=st.integers(min_value=1, max_value=22_000),
)
def test_equal_sessions_get_equal_shares(limit, size, maximum):
    sessions = [Demand(key, Decimal(0), Decimal(maximum)) for key in range(size)]
    shares = set(allocate(limit, sessions).values())
    assert max(shares) - min(shares) <= 1


def test_minimums_that_do_not_fit_pause_the_lowest_priority_first():
    sessions = [
        Demand("low", Decimal(4000), Decimal(11000), priority=-5),
        Demand("high", Decimal(4000), Decimal(11000), priority=5),
        Demand("mid", Decimal(4000), Decimal(11000), priority=0),
    ]
    # The 1,000 W left after two minimums go 15 : 10 (priority 5 : 0).
    assert allocate(Decimal(9000), sessions) == {
        "high": Decimal(4600),
        "mid": Decimal(4400),
        "low": Decimal(0),
    }


def test_the_rest_is_shared_by_weight_up_to_each_maximum():
    sessions = [
        Demand("priority 9", Decimal(0), Decimal(100_000), priority=9),
        Demand("priority -9", Decimal(0), Decimal(100_000), priority=-9),
        Demand("small car", Decimal(0), Decimal(1000), priority=9),
    ]
    # 1000 W fill the small car; 19 : 1 of the other 20,000 W.
    assert allocate(Decimal(21000), sessions) == {
        "priority 9": Decimal(19000),
        "priority -9": Decimal(1000),
        "small car": Decimal(1000),
    }


def test_the_docs_day_of_one_site():
    """docs/smart-charging.md's table: (limit, cars present) → each car's share."""
    # Three identical cars: up to 22 kW, the default minimum.
    cars = [Demand(n, Decimal(1380), Decimal(22000)) for n in range(3)]
    day = [
        (30000, 1, 22000),
        (30000, 2, 15000),
        (20000, 2, 10000),
        (20000, 3, 6666),
        (50000, 3, 16666),
    ]
    for limit, present, share in day:
        assert set(allocate(Decimal(limit), cars[:present]).values()) == {Decimal(share)}

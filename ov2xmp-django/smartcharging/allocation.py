"""Dividing a site's import limit among the sessions charging there.

A pure function, so that its promises can be tested as properties:

1. The allocations never add up to more than the limit.
2. No session gets more than its maximum (what its charger and EV take).
3. If the minimums all fit under the limit, every session gets at least its
   minimum: none starves. If they do not, the sessions of the highest
   priority keep theirs first, and the others are paused (0 W).
4. What is left after the minimums is shared by weight (``priority + 10``,
   from the OCPP 2.0.1 charging priority, -9 to 9): two sessions of the same
   priority and room get the same, one of priority 9 gets 19 times what one
   of priority -9 gets.
5. Allocations are whole watts, rounded down, so that rounding can only
   leave power unused.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

PRIORITY_OFFSET = 10


@dataclass(frozen=True)
class Demand:
    key: Hashable
    minimum_w: Decimal
    maximum_w: Decimal
    priority: int = 0  # -9 … 9

    @property
    def weight(self) -> int:
        return max(-9, min(9, self.priority)) + PRIORITY_OFFSET


def _floor(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_FLOOR)


def allocate(limit_w: Decimal, demands: list[Demand]) -> dict[Hashable, Decimal]:
    """Watts for each demand's key (see the module's promises)."""
    limit_w = max(Decimal(0), limit_w)
    allocation = {demand.key: Decimal(0) for demand in demands}
    served: list[Demand] = []
    left = limit_w
    # Minimums, highest priority first (then in the order given).
    for demand in sorted(demands, key=lambda d: -d.priority):
        minimum = min(demand.minimum_w, demand.maximum_w)
        if minimum <= left:
            allocation[demand.key] = minimum
            left -= minimum
            served.append(demand)
    # The rest by weight, each up to its maximum (water-filling).
    open_demands = [d for d in served if allocation[d.key] < d.maximum_w]
    while open_demands and left > 0:
        per_weight = left / sum(d.weight for d in open_demands)
        full = [d for d in open_demands if allocation[d.key] + d.weight * per_weight >= d.maximum_w]
        if not full:
            for demand in open_demands:
                allocation[demand.key] += demand.weight * per_weight
            left = Decimal(0)
            break
        for demand in full:
            left -= demand.maximum_w - allocation[demand.key]
            allocation[demand.key] = demand.maximum_w
        open_demands = [d for d in open_demands if d not in full]
    return {key: _floor(watts) for key, watts in allocation.items()}

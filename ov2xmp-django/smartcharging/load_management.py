"""Site load management: a load group's limit over the next day, divided
among its sessions (smartcharging/allocation.py) and sent to each as a
TxProfile through the one command path.

A group is rebalanced when a session on one of its chargers starts or ends,
and when its limits change (the API). The profiles are sent in amps to 1.6
chargers (converted at 230 V per phase, three phases, rounded down) and in
watts to 2.0.1 chargers, so that what is sent never adds up to more than
the limit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable
from datetime import datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q, QuerySet

from chargepoints.models import Connector
from smartcharging.allocation import Demand, allocate
from smartcharging.models import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    LoadGroup,
)
from smartcharging.schedules import NOMINAL_VOLTS
from transactions.models import Transaction, TransactionStatus

logger = logging.getLogger(__name__)

HORIZON = timedelta(days=1)
PHASES = 3
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def daily_limits_errors(value: Any) -> list[str]:
    """What is wrong with a group's daily limits (empty: nothing)."""
    if not isinstance(value, list):
        return ['A list: [{"from": "HH:MM", "max_import_w": watts}, …].']
    errors, seen = [], set()
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {"from", "max_import_w"}:
            errors.append(f'{index}: {{"from": "HH:MM", "max_import_w": watts}}')
            continue
        if not isinstance(entry["from"], str) or not _TIME.match(entry["from"]):
            errors.append(f"{index}.from: a time of day, HH:MM")
        elif entry["from"] in seen:
            errors.append(f"{index}.from: {entry['from']} is given twice")
        else:
            seen.add(entry["from"])
        watts = entry["max_import_w"]
        if not isinstance(watts, int) or isinstance(watts, bool) or watts < 0:
            errors.append(f"{index}.max_import_w: whole watts, 0 or more")
    return errors


def group_limit_periods(group: LoadGroup, *, start: datetime) -> list[tuple[int, Decimal]]:
    """The group's limit over the next day from ``start``: (seconds from
    start, watts) where it changes."""
    zone = ZoneInfo(group.location.time_zone if group.location else "UTC")
    local = start.astimezone(zone)
    entries = sorted(group.daily_limits, key=lambda entry: entry["from"])
    changes: list[tuple[datetime, Decimal]] = []
    for day in (local.date() - timedelta(days=1), local.date(), local.date() + timedelta(days=1)):
        midnight = datetime.combine(day, time(0), tzinfo=zone)
        changes.append((midnight, Decimal(group.max_import_w)))
        for entry in entries:
            hour, minute = map(int, entry["from"].split(":"))
            at = datetime.combine(day, time(hour, minute), tzinfo=zone)
            changes.append((at, Decimal(entry["max_import_w"])))
    end = start + HORIZON
    periods: list[tuple[int, Decimal]] = []
    for index, (at, watts) in enumerate(changes):
        following = changes[index + 1][0] if index + 1 < len(changes) else end
        if following <= start or at >= end or following <= at:
            continue
        offset = max(0, int((at - start).total_seconds()))
        if not periods or periods[-1][1] != watts:
            periods.append((offset, watts))
    return periods


def load_group_sessions(group: LoadGroup) -> QuerySet[Transaction]:
    chargers = Q(charge_point__in=group.charge_points.all())
    if group.location_id is not None:
        chargers |= Q(charge_point__location_id=group.location_id)
    return (
        Transaction.objects.filter(chargers, status=TransactionStatus.ACTIVE)
        .select_related("charge_point", "id_token")
        .order_by("started_at", "id")
    )


def load_groups_of(charge_point_id: str) -> QuerySet[LoadGroup]:
    return LoadGroup.objects.filter(
        Q(charge_points__id=charge_point_id) | Q(location__chargers__id=charge_point_id),
        enabled=True,
    ).distinct()


def _demand(group: LoadGroup, session: Transaction) -> Demand:
    connector = (
        Connector.objects.filter(
            evse__charge_point_id=session.charge_point_id, evse__evse_id=session.evse_id
        )
        .exclude(max_electric_power=None)
        .first()
    )
    known = connector.max_electric_power if connector is not None else None
    maximum = known if known is not None else group.session_maximum_w
    priority = session.id_token.charging_priority if session.id_token else None
    return Demand(
        key=session.pk,
        minimum_w=Decimal(group.session_minimum_w),
        maximum_w=Decimal(maximum),
        priority=priority or 0,
    )


def _in_amps(watts: Decimal) -> Decimal:
    return (watts / (NOMINAL_VOLTS * PHASES)).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)


def _profile_for(group: LoadGroup, session: Transaction) -> ChargingProfile:
    from smartcharging.services import charging_profile_next_id

    existing = ChargingProfile.objects.filter(load_group=group, transaction=session).first()
    if existing is not None:
        return existing
    return ChargingProfile(
        charge_point_id=session.charge_point_id,
        profile_id=charging_profile_next_id(charge_point_id=session.charge_point_id),
        load_group=group,
        transaction=session,
        evse_id=session.evse_id,
        purpose=ChargingProfilePurpose.TX,
        kind=ChargingProfileKind.ABSOLUTE,
    )


@transaction.atomic
def load_group_rebalance(*, group_id: int, at: datetime) -> list[Any]:
    """Divide the group's limit among its sessions for the next day and
    queue a TxProfile for each; the commands, to be dispatched."""
    from smartcharging.services import ProfileNotSendable, charging_profile_send

    group = (
        LoadGroup.objects.select_for_update(of=("self",))
        .select_related("location")
        .get(pk=group_id)
    )
    if not group.enabled:
        return []
    sessions = list(load_group_sessions(group))
    demands = [_demand(group, session) for session in sessions]
    shares: dict[Hashable, list[tuple[int, Decimal]]] = {session.pk: [] for session in sessions}
    for offset, limit in group_limit_periods(group, start=at):
        for key, watts in allocate(limit, demands).items():
            if not shares[key] or shares[key][-1][1] != watts:
                shares[key].append((offset, watts))
    commands = []
    for session in sessions:
        in_amps = session.charge_point.ocpp_version == "1.6"
        profile = _profile_for(group, session)
        profile.stack_level = group.stack_level
        profile.start_schedule = at
        profile.duration = int(HORIZON.total_seconds())
        profile.charging_rate_unit = ChargingRateUnit.AMPS if in_amps else ChargingRateUnit.WATTS
        profile.periods = [
            {
                "start_period": offset,
                "limit": str(_in_amps(watts) if in_amps else watts),
                "number_phases": PHASES,
            }
            for offset, watts in shares[session.pk]
        ]
        profile.save()
        try:
            commands.append(charging_profile_send(profile=profile, created_by=None, at=at))
        except ProfileNotSendable as error:
            logger.warning("%s: load group %s: %s", session.charge_point_id, group.name, error)
    group.rebalanced_at = at
    group.save(update_fields=["rebalanced_at"])
    logger.info("load group %s: %d sessions rebalanced", group.name, len(sessions))
    return commands

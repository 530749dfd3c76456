"""Site load management: a load group's limit over the next day, divided
among its sessions (smartcharging/allocation.py) and sent to each as a
TxProfile through the one command path.

A group is rebalanced when a session on one of its chargers starts or ends,
and when its limits change (the API). The profiles are sent in
the unit the charger allows (by default amps to 1.6 chargers, converted at
230 V per phase, three phases, rounded down, and watts to 2.0.1 chargers),
so that what is sent never adds up to more than the limit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable
from datetime import datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections, router, transaction
from django.db.models import Q, QuerySet

from chargepoints.models import ChargePoint, ConfigurationKey, Connector, DeviceModelVariable
from smartcharging.allocation import Demand, allocate
from smartcharging.models import (
    ChargingNeeds,
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    GridSignal,
    GridSignalKind,
    LoadGroup,
)
from smartcharging.schedules import NOMINAL_VOLTS
from smartcharging.v2x import mode_fields, session_mode
from transactions.models import PAUSED, Transaction, TransactionStatus

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


def _daily_changes(group: LoadGroup, start: datetime) -> list[tuple[datetime, Decimal]]:
    """When the group's own limit changes, from the day before ``start`` to
    the day after, in order."""
    zone = ZoneInfo(group.location.time_zone if group.location else "UTC")
    entries = sorted(group.daily_limits, key=lambda entry: entry["from"])
    changes: list[tuple[datetime, Decimal]] = []
    today = start.astimezone(zone).date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        changes.append((datetime.combine(day, time(0), tzinfo=zone), Decimal(group.max_import_w)))
        for entry in entries:
            hour, minute = map(int, entry["from"].split(":"))
            at = datetime.combine(day, time(hour, minute), tzinfo=zone)
            changes.append((at, Decimal(entry["max_import_w"])))
    return changes


def _limit_at(
    group: LoadGroup,
    moment: datetime,
    daily: list[tuple[datetime, Decimal]],
    signals: list[GridSignal],
) -> Decimal:
    """The group's own limit at ``moment``, lowered by the grid's signals in
    force then: a capacity, or a price at or above the group's threshold."""
    limit = [watts for at, watts in daily if at <= moment][-1]
    for signal in signals:
        if not signal.start <= moment < signal.end:
            continue
        if signal.kind == GridSignalKind.CAPACITY and signal.max_import_w is not None:
            limit = min(limit, Decimal(signal.max_import_w))
        elif (
            signal.kind == GridSignalKind.PRICE
            and group.expensive_price_per_kwh is not None
            and group.expensive_max_import_w is not None
            and signal.price_per_kwh is not None
            and signal.price_per_kwh >= group.expensive_price_per_kwh
        ):
            limit = min(limit, Decimal(group.expensive_max_import_w))
    return limit


def group_limit_periods(group: LoadGroup, *, start: datetime) -> list[tuple[int, Decimal]]:
    """The group's limit over the next day from ``start``: (seconds from
    start, watts) where it changes, the grid's signals applied."""
    end = start + HORIZON
    daily = _daily_changes(group, start)
    signals = list(group.signals.filter(start__lt=end, end__gt=start)) if group.pk else []
    moments = {start}
    moments |= {at for at, _ in daily if start < at < end}
    moments |= {m for s in signals for m in (s.start, s.end) if start < m < end}
    periods: list[tuple[int, Decimal]] = []
    for moment in sorted(moments):
        watts = _limit_at(group, moment, daily, signals)
        if not periods or periods[-1][1] != watts:
            periods.append((int((moment - start).total_seconds()), watts))
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


def load_group_ids_of(charge_point_id: str) -> list[int]:
    """The ids of the enabled load groups a charger is in: listed in the
    group, or at the group's location. In plain SQL: each session's start
    and end asks, and building the query through the ORM cost the csms more
    than running it (docs/performance.md)."""
    connection = connections[router.db_for_read(LoadGroup)]
    quote = connection.ops.quote_name
    members = LoadGroup.charge_points.through._meta

    def table(meta: Any) -> str:
        return str(quote(meta.db_table))

    def column(meta: Any, name: str) -> str:
        return str(quote(meta.get_field(name).column))

    groups, chargers = LoadGroup._meta, ChargePoint._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.{column(groups, 'id')} FROM {table(groups)} g"
            f" WHERE g.{column(groups, 'enabled')} AND ("
            f"EXISTS (SELECT 1 FROM {table(members)} m"
            f" WHERE m.{column(members, 'loadgroup')} = g.{column(groups, 'id')}"
            f" AND m.{column(members, 'chargepoint')} = %s)"
            f" OR g.{column(groups, 'location')} = (SELECT {column(chargers, 'location')}"
            f" FROM {table(chargers)} WHERE {column(chargers, 'id')} = %s)"
            f") ORDER BY 1",
            [charge_point_id, charge_point_id],
        )
        return [row[0] for row in cursor.fetchall()]


# Phases of an AC energy transfer, to turn the EV's currents into power.
TRANSFER_PHASES = {"AC_single_phase": 1, "AC_two_phase": 2}


def ev_power_range(needs: ChargingNeeds) -> tuple[Decimal | None, Decimal | None]:
    """The least and most power (W) the EV said it can charge with
    (NotifyEVChargingNeeds; None: not said)."""
    v2x = needs.v2x_charging_parameters or {}
    if v2x.get("min_charge_power") is not None or v2x.get("max_charge_power") is not None:
        return _watts(v2x.get("min_charge_power")), _watts(v2x.get("max_charge_power"))
    ac = needs.ac_charging_parameters or {}
    if ac:
        per_amp = NOMINAL_VOLTS * TRANSFER_PHASES.get(needs.requested_energy_transfer, PHASES)
        low, high = _watts(ac.get("ev_min_current")), _watts(ac.get("ev_max_current"))
        return (
            None if low is None else low * per_amp,
            None if high is None else high * per_amp,
        )
    dc = needs.dc_charging_parameters or {}
    return None, _watts(dc.get("ev_max_power"))


def _watts(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _demand(group: LoadGroup, session: Transaction) -> Demand:
    """What a session may get: between the group's minimum (or the EV's, if
    higher) and the least of its connector's (else the group's) maximum and
    the EV's (a paused EV: its minimum), at its vehicle's or token's priority."""
    known = (
        Connector.objects.filter(
            evse__charge_point_id=session.charge_point_id, evse__evse_id=session.evse_id
        )
        .exclude(max_electric_power=None)
        .values_list("max_electric_power", flat=True)
        .first()
    )
    maximum = Decimal(known if known is not None else group.session_maximum_w)
    minimum = Decimal(group.session_minimum_w)
    needs = session.charging_needs.order_by("-received_at", "-id").first()
    if needs is not None:
        ev_minimum, ev_maximum = ev_power_range(needs)
        if ev_maximum is not None:
            maximum = min(maximum, ev_maximum)
        if ev_minimum is not None:
            minimum = max(minimum, ev_minimum)
    if session.charging_state == PAUSED:
        # Only its minimum, so that it can resume; the rest goes to the others.
        maximum = min(maximum, minimum)
    return Demand(
        key=session.pk,
        minimum_w=min(minimum, maximum),
        maximum_w=maximum,
        priority=_priority(session),
    )


def _priority(session: Transaction) -> int:
    """The vehicle's preference (a vehicle whose EVCC id is the session's
    token, as with Autocharge), else the token's 2.0.1 charging priority."""
    from accounts.models import Vehicle

    if session.id_token_value:
        preferred = (
            Vehicle.objects.filter(evcc_id=session.id_token_value)
            .exclude(charging_priority=None)
            .values_list("charging_priority", flat=True)
            .first()
        )
        if preferred is not None:
            return preferred
    token = session.id_token.charging_priority if session.id_token else None
    return token or 0


def sends_amps(charger: Any) -> bool:
    """Whether the charger takes its profiles in amps: what it says it
    allows (1.6 ChargingScheduleAllowedChargingRateUnit, 2.0.1
    SmartChargingCtrlr.RateUnit), else amps for 1.6 and watts for 2.0.1."""
    if charger.ocpp_version == "1.6":
        key = ConfigurationKey.objects.filter(
            charge_point=charger, key="ChargingScheduleAllowedChargingRateUnit"
        ).first()
        allowed = {part.strip() for part in key.value.split(",")} if key else set()
        return not ("Power" in allowed and "Current" not in allowed)
    variable = DeviceModelVariable.objects.filter(
        charge_point=charger,
        component_name="SmartChargingCtrlr",
        variable_name="RateUnit",
        attribute_type="Actual",
    ).first()
    allowed = {part.strip() for part in variable.value.split(",")} if variable else set()
    return "A" in allowed and "W" not in allowed


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
        in_amps = sends_amps(session.charge_point)
        profile = _profile_for(group, session)
        profile.stack_level = group.stack_level
        profile.start_schedule = at
        profile.duration = int(HORIZON.total_seconds())
        profile.charging_rate_unit = ChargingRateUnit.AMPS if in_amps else ChargingRateUnit.WATTS
        mode = session_mode(profile)  # an operator's V2X mode stays (smartcharging/v2x.py)
        profile.periods = [
            mode_fields(
                {
                    "start_period": offset,
                    "limit": str(_in_amps(watts) if in_amps else watts),
                    "number_phases": PHASES,
                },
                mode,
            )
            for offset, watts in shares[session.pk]
        ]
        profile.save()
        try:
            commands.append(charging_profile_send(profile=profile, created_by=None, at=at))
        except ProfileNotSendable as error:
            logger.warning("%s: load group %s: %s", session.charge_point_id, group.name, error)
    # What the grid asked is now in what the chargers were told.
    group.signals.filter(start__lt=at + HORIZON, end__gt=at, applied_at=None).update(applied_at=at)
    group.rebalanced_at = at
    group.save(update_fields=["rebalanced_at"])
    logger.info("load group %s: %d sessions rebalanced", group.name, len(sessions))
    return commands


SIGNAL_FIELDS = ("kind", "start", "end", "max_import_w", "price_per_kwh", "currency")


@transaction.atomic
def grid_signal_receive(
    *, load_group: LoadGroup, source: str, signal_id: str, at: datetime, **fields: Any
) -> tuple[GridSignal, bool]:
    """Record a grid signal. The same one sent again changes nothing; one
    with the same id and other values corrects it. True when the limits may
    have changed, and the group is rebalanced once this commits."""
    from smartcharging.tasks import load_group_changed
    from updates.events import Event, Topic
    from updates.services import events_publish

    # What a signal leaves out is the field's empty value: "" or null.
    fields = {name: fields.get(name, "" if name == "currency" else None) for name in SIGNAL_FIELDS}
    signal, created = GridSignal.objects.get_or_create(
        load_group=load_group, source=source, signal_id=signal_id, defaults=fields
    )
    changed = created or any(getattr(signal, name) != fields[name] for name in SIGNAL_FIELDS)
    if not changed:
        return signal, False
    if not created:
        for name, value in fields.items():
            setattr(signal, name, value)
        signal.applied_at = None
        signal.save()
    group_id = load_group.pk
    transaction.on_commit(lambda: load_group_changed(group_id))
    events_publish(
        events=[
            Event(
                "grid_signal.received",
                at,
                (Topic("chargers"),),
                {"load_group_id": group_id, "grid_signal_id": signal.pk},
                {"kind": signal.kind, "source": source, "corrected": not created},
            )
        ]
    )
    logger.info(
        "load group %s: grid signal %s/%s (%s) %s",
        load_group.name,
        source,
        signal_id,
        signal.kind,
        "received" if created else "corrected",
    )
    return signal, True


def load_groups_due(*, at: datetime) -> list[int]:
    """Enabled groups whose profiles run out within the next 18 hours: sent
    over 6 hours ago (profiles last a day), or never."""
    stale = at - timedelta(hours=6)
    return list(
        LoadGroup.objects.filter(enabled=True)
        .filter(Q(rebalanced_at=None) | Q(rebalanced_at__lt=stale))
        .values_list("pk", flat=True)
    )

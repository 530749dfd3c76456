"""What the dashboard's pages show: reads only, one function per panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from billing.models import Cdr
from chargepoints.models import (
    ChargePoint,
    ConfigurationKey,
    Connector,
    DeviceModelVariable,
    StatusNotification,
)
from commands.models import Command
from locations.models import Location
from ocpp_messages.models import OcppMessage
from transactions.models import (
    ENERGY_REGISTER,
    MeterValue,
    Transaction,
    TransactionStatus,
    energy_in_wh,
)

FAULTED = "Faulted"
POWER_IMPORT = "Power.Active.Import"
WATTS_PER_UNIT = {"W": Decimal(1), "kW": Decimal(1000)}


@dataclass(frozen=True)
class NetworkTotals:
    chargers: int
    online: int
    offline: int
    faulted: int
    active_sessions: int
    energy_today_wh: Decimal


@dataclass(frozen=True)
class DailyTotal:
    day: date
    sessions: int
    energy_wh: Decimal


def _faulted_connector() -> Exists:
    return Exists(Connector.objects.filter(evse__charge_point=OuterRef("pk"), status=FAULTED))


def _delivered_wh() -> Any:
    """A session's energy so far (or in all), in Wh, as a database expression."""
    end = Coalesce(F("meter_stop_wh"), F("meter_last_wh"))
    return Coalesce(
        Sum(end - F("meter_start_wh"), output_field=DecimalField()),
        Decimal(0),
        output_field=DecimalField(),
    )


def network_totals(*, now: datetime) -> NetworkTotals:
    counts = ChargePoint.objects.aggregate(
        chargers=Count("pk"),
        online=Count("pk", filter=Q(is_connected=True)),
        faulted=Count("pk", filter=Q(status=FAULTED) | Q(_faulted_connector())),
    )
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    energy_today = Transaction.objects.filter(started_at__gte=day_start).aggregate(
        wh=_delivered_wh()
    )["wh"]
    return NetworkTotals(
        chargers=counts["chargers"],
        online=counts["online"],
        offline=counts["chargers"] - counts["online"],
        faulted=counts["faulted"],
        active_sessions=Transaction.objects.filter(status=TransactionStatus.ACTIVE).count(),
        energy_today_wh=Decimal(energy_today),
    )


def daily_totals(*, now: datetime, days: int) -> list[DailyTotal]:
    """Sessions and energy per day (UTC), by the day each session started; the
    last ``days`` days including today, days without sessions included."""
    first = (now - timedelta(days=days - 1)).date()
    rows = (
        Transaction.objects.filter(started_at__date__gte=first)
        .annotate(day=TruncDate("started_at"))
        .values("day")
        .annotate(sessions=Count("pk"), delivered_wh=_delivered_wh())
    )
    by_day = {row["day"]: row for row in rows}
    totals = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day)
        totals.append(
            DailyTotal(
                day=day,
                sessions=row["sessions"] if row else 0,
                energy_wh=Decimal(row["delivered_wh"]) if row else Decimal(0),
            )
        )
    return totals


def chargers_listed(*, search: str = "", state: str = "") -> QuerySet[ChargePoint]:
    """Chargers with their connectors and active sessions, for the list; ``state``
    is online, offline or faulted."""
    chargers = ChargePoint.objects.prefetch_related(
        Prefetch("evses__connectors", queryset=Connector.objects.order_by("connector_id")),
        Prefetch(
            "transactions",
            queryset=Transaction.objects.filter(status=TransactionStatus.ACTIVE),
            to_attr="active_sessions",
        ),
    ).order_by("id")
    if search:
        chargers = chargers.filter(
            Q(id__icontains=search) | Q(vendor__icontains=search) | Q(model__icontains=search)
        )
    if state == "online":
        chargers = chargers.filter(is_connected=True)
    elif state == "offline":
        chargers = chargers.filter(is_connected=False)
    elif state == "faulted":
        chargers = chargers.filter(Q(status=FAULTED) | Q(_faulted_connector()))
    return chargers


def charger_connectors(*, charge_point: ChargePoint) -> list[dict[str, Any]]:
    """Each connector with the session running on its EVSE, if any."""
    active = {
        session.evse_id: session
        for session in Transaction.objects.filter(
            charge_point=charge_point, status=TransactionStatus.ACTIVE
        ).order_by("started_at")
    }
    connectors = Connector.objects.filter(evse__charge_point=charge_point).select_related("evse")
    return [
        {"connector": connector, "session": active.get(connector.evse.evse_id)}
        for connector in connectors.order_by("evse__evse_id", "connector_id")
    ]


def charger_settings(*, charge_point: ChargePoint) -> QuerySet[Any]:
    """What the charger last reported of its configuration: 1.6 keys or 2.0.1
    device-model variables."""
    if charge_point.ocpp_version not in ("", "1.6"):
        return DeviceModelVariable.objects.filter(charge_point=charge_point).order_by(
            "component_name", "evse_id", "variable_name", "attribute_type"
        )
    return ConfigurationKey.objects.filter(charge_point=charge_point).order_by("key")


def charger_status_history(*, charge_point: ChargePoint, limit: int) -> QuerySet[Any]:
    return StatusNotification.objects.filter(charge_point=charge_point).order_by(
        "-timestamp", "-id"
    )[:limit]


def charger_commands(*, charge_point: ChargePoint, limit: int) -> QuerySet[Command]:
    return (
        Command.objects.filter(charge_point=charge_point)
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    )


def charger_frames(*, charge_point_id: str, limit: int) -> list[OcppMessage]:
    """The newest frames, oldest first (as a log reads)."""
    newest = OcppMessage.objects.filter(charge_point_id=charge_point_id).order_by(
        "-timestamp", "-id"
    )[:limit]
    return list(reversed(newest))


def sessions_active() -> QuerySet[Transaction]:
    return Transaction.objects.filter(status=TransactionStatus.ACTIVE).order_by("-started_at")


def sessions_past() -> QuerySet[Transaction]:
    """Ended sessions, each with its current CDR (``priced``, a list of at
    most one) once it is made."""
    return (
        Transaction.objects.exclude(status=TransactionStatus.ACTIVE)
        .prefetch_related(
            Prefetch("cdrs", queryset=Cdr.objects.filter(is_current=True), to_attr="priced")
        )
        .order_by("-started_at", "-id")
    )


@dataclass(frozen=True)
class SeriesPoint:
    at: datetime
    power_w: Decimal | None
    energy_wh: Decimal | None


def session_series(*, session: Transaction, limit: int) -> list[SeriesPoint]:
    """Power (W, summed over phases when only phases are reported) and the
    energy register (Wh) per reading time, the newest ``limit`` times."""
    samples = MeterValue.objects.filter(
        transaction=session, measurand__in=(POWER_IMPORT, ENERGY_REGISTER)
    ).exclude(numeric_value=None)
    times = list(
        samples.values_list("timestamp", flat=True).distinct().order_by("-timestamp")[:limit]
    )
    if not times:
        return []
    power: dict[datetime, dict[str, Decimal]] = {}
    energy: dict[datetime, Decimal] = {}
    for sample in samples.filter(timestamp__gte=min(times)).only(
        "timestamp", "measurand", "phase", "unit", "numeric_value"
    ):
        assert sample.numeric_value is not None
        if sample.measurand == POWER_IMPORT and sample.unit in ("", *WATTS_PER_UNIT):
            watts = sample.numeric_value * WATTS_PER_UNIT.get(sample.unit, Decimal(1))
            power.setdefault(sample.timestamp, {})[sample.phase] = watts
        elif sample.measurand == ENERGY_REGISTER and not sample.phase:
            wh = energy_in_wh(sample.numeric_value, sample.unit)
            if wh is not None:
                energy[sample.timestamp] = wh
    return [
        SeriesPoint(at=at, power_w=_total_power(power.get(at)), energy_wh=energy.get(at))
        for at in sorted(times)
    ]


def _total_power(by_phase: dict[str, Decimal] | None) -> Decimal | None:
    if not by_phase:
        return None
    if "" in by_phase:
        return by_phase[""]
    # Per phase (to neutral): the total is their sum.
    for phases in (("L1", "L2", "L3"), ("L1-N", "L2-N", "L3-N")):
        values = [by_phase[phase] for phase in phases if phase in by_phase]
        if values:
            return sum(values, Decimal(0))
    return None


def map_locations() -> list[dict[str, Any]]:
    """Locations with coordinates, and how many of their chargers are online
    and of their connectors free, for the map."""
    connected = Q(chargers__is_connected=True)
    rows = (
        Location.objects.exclude(latitude=None)
        .annotate(
            charger_count=Count("chargers", distinct=True),
            online=Count("chargers", filter=connected, distinct=True),
            available=Count(
                "chargers__evses__connectors",
                filter=connected & Q(chargers__evses__connectors__status="Available"),
                distinct=True,
            ),
        )
        .order_by("name", "id")
    )
    return [
        {
            "id": location.pk,
            "name": location.name,
            "address": f"{location.address}, {location.city}",
            "latitude": float(location.latitude),
            "longitude": float(location.longitude),
            "chargers": location.charger_count,
            "online": location.online,
            "available": location.available,
        }
        for location in rows
        if location.latitude is not None and location.longitude is not None
    ]


@dataclass(frozen=True)
class SessionShare:
    session: Transaction
    profile_status: str  # of the group's profile for it ("" before the first)
    share_w: Decimal | None  # what that profile allows now, in W
    operation_mode: str  # V2X, as the profile asks


@dataclass(frozen=True)
class LoadGroupNow:
    group: Any
    limit_w: Decimal | None  # None: the group is disabled
    shares: list[SessionShare]

    @property
    def shared_w(self) -> Decimal:
        return sum((s.share_w for s in self.shares if s.share_w is not None), Decimal(0))


def load_groups_now(*, at: datetime) -> list[LoadGroupNow]:
    """Each load group's limit now (the grid's signals applied) and what each
    of its running sessions is allowed now by the group's profile."""
    from smartcharging.load_management import group_limit_periods, load_group_sessions
    from smartcharging.models import ChargingProfile, LoadGroup
    from smartcharging.profiles import as_schedule_profile
    from smartcharging.schedules import AMPS, DEFAULT_PHASES, NOMINAL_VOLTS, period_in_force

    result = []
    for group in LoadGroup.objects.select_related("location").order_by("name"):
        profiles = {
            profile.transaction_id: profile
            for profile in ChargingProfile.objects.filter(load_group=group).exclude(
                transaction=None
            )
        }
        shares = []
        for session in load_group_sessions(group):
            profile = profiles.get(session.pk)
            share, mode = None, ""
            if profile is not None:
                period = period_in_force(as_schedule_profile(profile), at, session.started_at)
                if period is not None and period.limit is not None:
                    share = period.limit
                    if profile.charging_rate_unit == AMPS:
                        phases = period.phases or DEFAULT_PHASES
                        share = (share * NOMINAL_VOLTS * phases).quantize(Decimal(1))
                    mode = period.operation_mode
            shares.append(
                SessionShare(
                    session=session,
                    profile_status=profile.status if profile else "",
                    share_w=share,
                    operation_mode=mode,
                )
            )
        limit = group_limit_periods(group, start=at)[0][1] if group.enabled else None
        result.append(LoadGroupNow(group=group, limit_w=limit, shares=shares))
    return result


def grid_signals_recent(*, at: datetime, limit: int) -> QuerySet[Any]:
    """Signals in force or to come, then the latest past ones."""
    from smartcharging.models import GridSignal

    return GridSignal.objects.select_related("load_group").filter(end__gt=at - timedelta(days=1))[
        :limit
    ]


def der_alarms_recent(*, limit: int) -> QuerySet[Any]:
    from smartcharging.models import DerEvent, DerEventKind

    return DerEvent.objects.filter(kind=DerEventKind.ALARM).order_by("-timestamp", "-id")[:limit]

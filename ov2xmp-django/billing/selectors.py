"""Billing reads: which tariff version prices a session, and its readings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum

from billing.elements import terms_of
from billing.models import Current, PrepaidEntry, TariffVersion
from billing.pricing import Price, Reading, Terms, price_session
from chargepoints.models import Connector, PowerType
from transactions.models import ENERGY_REGISTER, MeterValue, Transaction, energy_in_wh

NO_TARIFF = Terms("", Decimal(0), ())


def _current_of(session: Transaction) -> str:
    connector = (
        Connector.objects.filter(
            evse__charge_point_id=session.charge_point_id, evse__evse_id=session.evse_id
        )
        .exclude(power_type="")
        .first()
    )
    if connector is None:
        return ""
    return Current.DC if connector.power_type == PowerType.DC else Current.AC


def tariff_version_in_force(*, session: Transaction, at: datetime) -> TariffVersion | None:
    """The most specific tariff that applies to the session's charger, and
    its version in force at ``at``: the charger's own; then its location's
    for the connector's current, then for both; then the general ones (for
    the current, then for both)."""
    charger = session.charge_point
    current = _current_of(session)
    scopes = [Q(tariff__charge_point=charger)]
    general = Q(tariff__charge_point=None, tariff__location=None)
    if charger.location_id is not None:
        location = Q(tariff__location_id=charger.location_id)
        if current:
            scopes.append(location & Q(tariff__current=current))
        scopes.append(location & Q(tariff__current=Current.ANY))
    if current:
        scopes.append(general & Q(tariff__current=current))
    scopes.append(general & Q(tariff__current=Current.ANY))
    for scope in scopes:
        version = (
            TariffVersion.objects.filter(scope, valid_from__lte=at)
            .select_related("tariff")
            .order_by("-valid_from", "-id")
            .first()
        )
        if version is not None:
            return version
    return None


def energy_readings(session: Transaction) -> list[Reading]:
    """The session's energy register readings, in Wh (signed or unreadable
    values left out)."""
    readings = []
    for timestamp, value, unit in (
        MeterValue.objects.filter(transaction=session, measurand=ENERGY_REGISTER, phase="")
        .exclude(numeric_value=None)
        .values_list("timestamp", "numeric_value", "unit")
    ):
        wh = None if value is None else energy_in_wh(value, unit)
        if wh is not None:
            readings.append(Reading(timestamp, wh))
    return readings


@dataclass(frozen=True)
class SessionPrice:
    version: TariffVersion | None
    time_zone: str
    until: datetime
    price: Price


def session_price(session: Transaction, *, until: datetime) -> SessionPrice:
    """What the session costs from its start until ``until`` (its end, or
    now for a running one), with the tariff version in force at its start."""
    location = session.charge_point.location
    time_zone = location.time_zone if location is not None else "UTC"
    version = tariff_version_in_force(session=session, at=session.started_at)
    terms = (
        terms_of(
            version.elements,
            currency=version.tariff.currency,
            vat_percent=version.tariff.vat_percent,
        )
        if version is not None
        else NO_TARIFF
    )
    readings = energy_readings(session)
    if session.meter_start_wh is not None:
        readings.insert(0, Reading(session.started_at, session.meter_start_wh))
    if session.meter_stop_wh is not None and session.stopped_at is not None:
        readings.append(Reading(session.stopped_at, session.meter_stop_wh))
    until = max(until, session.started_at)
    price = price_session(
        terms, time_zone=time_zone, start=session.started_at, end=until, readings=readings
    )
    return SessionPrice(version, time_zone, until, price)


def session_cost_so_far(session: Transaction) -> SessionPrice:
    """What the session costs up to its end, or, while it runs, up to its
    last meter reading (what is known; the time after it is not parking)."""
    if session.stopped_at is not None:
        return session_price(session, until=session.stopped_at)
    return session_price(session, until=session.meter_last_at or session.started_at)


def prepaid_balance(user: Any) -> Decimal | None:
    """What is left of a driver's prepaid balance, in their prepaid currency;
    None for a user without one."""
    if not user.prepaid_currency:
        return None
    total = PrepaidEntry.objects.filter(user=user, currency=user.prepaid_currency).aggregate(
        total=Sum("amount")
    )["total"]
    return total if total is not None else Decimal("0.00")

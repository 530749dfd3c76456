"""Billing reads: which tariff version prices a session, and its readings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum

from billing.elements import terms_of
from billing.models import Current, PrepaidEntry, TariffKind, TariffVersion
from billing.pricing import (
    DIMENSIONS,
    CurrencyMismatch,
    Price,
    Reading,
    Terms,
    price_session,
    retail_price,
)
from chargepoints.models import Connector, PowerType
from transactions.models import ENERGY_REGISTER, MeterValue, Transaction, energy_in_wh

logger = logging.getLogger(__name__)

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


def tariff_versions_in_force(
    *, session: Transaction, at: datetime, driver: Any = None
) -> tuple[TariffVersion | None, TariffVersion | None]:
    """The most specific CPO tariff and the most specific eMSP tariff that
    apply to the session, each with its version in force at ``at`` (one
    query for both). Where: the session's EVSE's own; the charger's own; then
    its location's for the connector's current, then for both; then the
    general ones (for the current, then for both). For eMSP tariffs, those of
    the driver come before those for every driver."""
    charger = session.charge_point
    current = _current_of(session)
    own = Q(tariff__charge_point=charger) & (
        Q(tariff__evse_id=None) | Q(tariff__evse_id=session.evse_id)
    )
    where = own | Q(tariff__charge_point=None, tariff__location=None)
    if charger.location_id is not None:
        where |= Q(tariff__location_id=charger.location_id)
    retail_for = Q(tariff__driver=None) | (Q(tariff__driver=driver) if driver is not None else Q())
    whose = Q(tariff__kind=TariffKind.CPO, tariff__driver=None) | (
        Q(tariff__kind=TariffKind.EMSP) & retail_for
    )
    candidates = (
        TariffVersion.objects.filter(where, whose, valid_from__lte=at)
        .filter(Q(tariff__current=Current.ANY) | Q(tariff__current=current))
        .select_related("tariff")
    )

    def rank(version: TariffVersion) -> tuple[int, int, float, int]:
        tariff = version.tariff
        if tariff.evse_id is not None:
            place = -1
        elif tariff.charge_point_id is not None:
            place = 0
        elif tariff.location_id is not None:
            place = 1 if tariff.current else 2
        else:
            place = 3 if tariff.current else 4
        return (0 if tariff.driver_id else 1, place, -version.valid_from.timestamp(), -version.pk)

    found = list(candidates)

    def best(kind: str) -> TariffVersion | None:
        return min((v for v in found if v.tariff.kind == kind), key=rank, default=None)

    return best(TariffKind.CPO), best(TariffKind.EMSP)


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
    # What the driver pays under an eMSP tariff (None: no eMSP tariff applies).
    retail_version: TariffVersion | None = None
    retail: Price | None = None


def _terms(version: TariffVersion | None) -> Terms:
    if version is None:
        return NO_TARIFF
    tariff = version.tariff
    return terms_of(version.elements, currency=tariff.currency, vat_percent=tariff.vat_percent)


def session_price(session: Transaction, *, until: datetime) -> SessionPrice:
    """What the session costs from its start until ``until`` (its end, or
    now for a running one), with the tariff versions in force at its start:
    the CPO's, and the eMSP's for its driver if one applies."""
    location = session.charge_point.location
    time_zone = location.time_zone if location is not None else "UTC"
    readings = energy_readings(session)
    if session.meter_start_wh is not None:
        readings.insert(0, Reading(session.started_at, session.meter_start_wh))
    if session.meter_stop_wh is not None and session.stopped_at is not None:
        readings.append(Reading(session.stopped_at, session.meter_stop_wh))
    until = max(until, session.started_at)

    def priced(version: TariffVersion | None) -> Price:
        return price_session(
            _terms(version),
            time_zone=time_zone,
            start=session.started_at,
            end=until,
            readings=readings,
        )

    driver = session.id_token.owner if session.id_token is not None else None
    version, retail_version = tariff_versions_in_force(
        session=session, at=session.started_at, driver=driver
    )
    price = priced(version)
    if retail_version is None:
        return SessionPrice(version, time_zone, until, price)
    tariff = retail_version.tariff
    try:
        retail = retail_price(
            cpo=price,
            emsp=priced(retail_version),
            vat_percent=tariff.vat_percent,
            includes_cpo_cost=tariff.includes_cpo_cost,
        )
    except CurrencyMismatch as error:
        logger.warning("session %s: no retail price from %r: %s", session.pk, tariff.name, error)
        return SessionPrice(version, time_zone, until, price)
    return SessionPrice(version, time_zone, until, price, retail_version, retail)


def retail_fields(priced: SessionPrice) -> dict[str, Any]:
    """The retail price as the CDR's (and the cost API's) fields; null
    amounts and no currency when no eMSP tariff applies."""
    retail = priced.retail
    return {
        "emsp_tariff_version": priced.retail_version,
        "retail_currency": retail.currency if retail else "",
        **{
            f"retail_cost_{dimension.lower()}": retail.cost[dimension] if retail else None
            for dimension in DIMENSIONS
        },
        "retail_total_excl_vat": retail.total_excl_vat if retail else None,
        "retail_vat": retail.vat if retail else None,
        "retail_total_incl_vat": retail.total_incl_vat if retail else None,
    }


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

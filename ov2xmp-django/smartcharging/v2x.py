"""V2X (OCPP 2.1): an operator switches a running session between operation
modes (charging only, following a setpoint that may discharge, idle).

The switch is a TxProfile for the session, sent through the one command path:
* when a load group already shares its site among the sessions, the group's
  profile for this session carries the mode, and its limits stay the share
  (a setpoint above the share is held at it), so that a mode can never take
  the site over its limit; the group's next rebalance keeps the mode;
* otherwise the session gets a profile of its own, one stack level above its
  other TxProfiles, so that it prevails.
The charger's answer sets the profile's status; the mode the charger then
runs in arrives in its TransactionEvents (``Transaction.operation_mode``).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction as db_transaction
from django.db.models import Max

from chargepoints.models import Connector
from commands.catalog import OCPP21
from smartcharging.models import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingProfileStatus,
    ChargingRateUnit,
)
from smartcharging.profiles import V2X_FIELDS
from smartcharging.schedules import NOMINAL_VOLTS
from transactions.models import Transaction, TransactionStatus

# The modes a session can be switched to with watts alone; the others need
# curves (frequency, signal) and go through /api/charging-profiles/.
SWITCHABLE_MODES = (
    "ChargingOnly",
    "CentralSetpoint",
    "Idle",
    "ExternalSetpoint",
    "ExternalLimits",
    "LocalLoadBalancing",
)
PHASES = 3


class ModeNotSwitchable(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _rate(watts: Decimal, in_amps: bool) -> Decimal:
    """Watts in the profile's unit: amps at 230 V on three phases, to 0.1 A
    towards zero (a limit or setpoint is never rounded beyond what was asked)."""
    if not in_amps:
        return watts
    return (watts / (NOMINAL_VOLTS * PHASES)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def mode_fields(period: dict[str, Any], mode: dict[str, Any]) -> dict[str, Any]:
    """``period`` with the V2X fields of ``mode`` instead of its own; a
    setpoint above the period's limit is held at it."""
    merged = {key: value for key, value in period.items() if key not in V2X_FIELDS}
    merged.update(mode)
    limit, setpoint = merged.get("limit"), merged.get("setpoint")
    if limit is not None and setpoint is not None and Decimal(setpoint) > Decimal(limit):
        merged["setpoint"] = str(limit)
    return merged


def session_mode(profile: ChargingProfile) -> dict[str, Any]:
    """The V2X fields a profile's first period carries (empty: none)."""
    first = profile.periods[0] if profile.periods else {}
    return {key: value for key, value in first.items() if key in V2X_FIELDS}


@db_transaction.atomic
def transaction_operation_mode_switch(
    *,
    transaction: Transaction,
    mode: str,
    setpoint_w: Decimal | None,
    discharge_limit_w: Decimal | None,
    limit_w: Decimal | None,
    created_by: Any,
    at: Any,
) -> tuple[ChargingProfile, Any]:
    """Queue the TxProfile that puts the session in ``mode``; the profile and
    its command, to be dispatched. Raises ModeNotSwitchable."""
    from smartcharging.load_management import sends_amps
    from smartcharging.services import ProfileNotSendable, charging_profile_send

    charger = transaction.charge_point
    if transaction.status != TransactionStatus.ACTIVE:
        raise ModeNotSwitchable({"transaction": ["The session has ended."]})
    if charger.ocpp_version != OCPP21:
        raise ModeNotSwitchable(
            {
                "transaction": [
                    "Operation modes (V2X) need an OCPP 2.1 charger; this one speaks "
                    f"{charger.ocpp_version or 'an unknown version'}."
                ]
            }
        )
    token = transaction.id_token
    discharging = any(watts is not None and watts < 0 for watts in (setpoint_w, discharge_limit_w))
    if discharging and token is not None and not token.may_discharge:
        raise ModeNotSwitchable(
            {"operation_mode": ["The session's token may not discharge (may_discharge is off)."]}
        )
    in_amps = sends_amps(charger)
    fields: dict[str, Any] = {"operation_mode": mode}
    if setpoint_w is not None:
        fields["setpoint"] = str(_rate(setpoint_w, in_amps))
    if discharge_limit_w is not None:
        fields["discharge_limit"] = str(_rate(discharge_limit_w, in_amps))

    profile = (
        ChargingProfile.objects.select_for_update()
        .filter(transaction=transaction, purpose=ChargingProfilePurpose.TX)
        .exclude(load_group=None)
        .first()
    )
    if profile is not None:  # the site's share stays the limit
        profile.periods = [mode_fields(period, fields) for period in profile.periods]
    else:
        profile = _own_profile(transaction, in_amps)
        limit = limit_w if limit_w is not None else _connector_maximum(transaction)
        period: dict[str, Any] = {"start_period": 0}
        if limit is not None:
            period["limit"] = str(_rate(limit, in_amps))
        elif mode == "ChargingOnly":
            raise ModeNotSwitchable(
                {"limit_w": ["ChargingOnly needs a limit: the connector's maximum is not known."]}
            )
        profile.periods = [mode_fields(period, fields)]
    profile.status = ChargingProfileStatus.DRAFT
    profile.save()
    try:
        command = charging_profile_send(profile=profile, created_by=created_by, at=at)
    except ProfileNotSendable as error:
        raise ModeNotSwitchable(error.errors) from error
    return profile, command


def _own_profile(transaction: Transaction, in_amps: bool) -> ChargingProfile:
    """The session's own operation-mode profile, or a new one above its other
    TxProfiles."""
    from smartcharging.services import charging_profile_next_id

    session_profiles = ChargingProfile.objects.filter(
        transaction=transaction, purpose=ChargingProfilePurpose.TX, load_group=None
    )
    unit = ChargingRateUnit.AMPS if in_amps else ChargingRateUnit.WATTS
    for profile in session_profiles.select_for_update().order_by("-stack_level"):
        if session_mode(profile):
            profile.charging_rate_unit = unit
            return profile
    highest = session_profiles.aggregate(highest=Max("stack_level"))["highest"]
    return ChargingProfile(
        charge_point_id=transaction.charge_point_id,
        profile_id=charging_profile_next_id(charge_point_id=transaction.charge_point_id),
        transaction=transaction,
        evse_id=transaction.evse_id,
        purpose=ChargingProfilePurpose.TX,
        kind=ChargingProfileKind.RELATIVE,
        stack_level=0 if highest is None else highest + 1,
        charging_rate_unit=unit,
    )


def _connector_maximum(transaction: Transaction) -> Decimal | None:
    maximum = (
        Connector.objects.filter(
            evse__charge_point_id=transaction.charge_point_id,
            evse__evse_id=transaction.evse_id,
        )
        .exclude(max_electric_power=None)
        .values_list("max_electric_power", flat=True)
        .first()
    )
    return None if maximum is None else Decimal(maximum)

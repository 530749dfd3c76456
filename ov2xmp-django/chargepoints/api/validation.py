from typing import Any

from rest_framework import serializers

from accounts.scoping import charger_in_scope
from chargepoints.models import ChargePoint


def known_charger(user: Any, charge_point_id: str) -> ChargePoint:
    """The charger a request names, if the user may see it. One outside the
    user's scope answers like an unknown one: its existence is not told."""
    charger = charger_in_scope(user, charge_point_id)
    if charger is None:
        raise serializers.ValidationError(f"Unknown charger {charge_point_id!r}.")
    return charger


def connected_charger(user: Any, charge_point_id: str) -> ChargePoint:
    """A charger that has connected at least once: its OCPP version decides
    which command to send."""
    charge_point = known_charger(user, charge_point_id)
    if not charge_point.ocpp_version:
        raise serializers.ValidationError(
            f"{charge_point_id} has never connected: its OCPP version is not known."
        )
    return charge_point

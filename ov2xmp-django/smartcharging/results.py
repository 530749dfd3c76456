"""What the charger's answers to SetChargingProfile and ClearChargingProfile
change: the status of the platform's profile (registered with the command
path's result handlers at start-up)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from commands.catalog import OCPP16, OCPP201
from commands.results import on_failure, on_result
from core.time import utc_now
from smartcharging.profiles import sent_profile_id
from smartcharging.services import charging_profile_record_answer

if TYPE_CHECKING:
    from commands.models import Command

ACTIONS = [
    (version, action)
    for version in (OCPP16, OCPP201)
    for action in ("SetChargingProfile", "ClearChargingProfile")
]


def _record(command: Command, status: str | None) -> None:
    profile_id = sent_profile_id(command.action, command.ocpp_version, command.request)
    if profile_id is None:  # ClearChargingProfile by purpose or stack level, not by id
        return
    charging_profile_record_answer(
        charge_point_id=command.charge_point_id,
        profile_id=profile_id,
        action=command.action,
        status=status,
        at=utc_now(),
    )


@on_result(*ACTIONS)
def _answered(command: Command, response: dict[str, Any]) -> None:
    _record(command, response.get("status"))


@on_failure(*ACTIONS)
def _failed(command: Command) -> None:
    if command.action == "SetChargingProfile":
        _record(command, None)

"""What the answers to ReserveNow and CancelReservation change for a
reservation (registered with commands/results.py when the app is ready)."""

from __future__ import annotations

from typing import Any

from commands.catalog import OCPP16, OCPP201
from commands.models import Command
from commands.results import on_failure, on_result
from core.time import utc_now
from reservations.services import (
    reservation_record_answer,
    reservation_record_cancel_answer,
    reservation_record_failure,
)

RESERVE_NOW = ((OCPP16, "ReserveNow"), (OCPP201, "ReserveNow"))
CANCEL_RESERVATION = ((OCPP16, "CancelReservation"), (OCPP201, "CancelReservation"))


@on_result(*RESERVE_NOW)
def _reserve_now_answered(command: Command, response: dict[str, Any]) -> None:
    reservation_record_answer(command=command, response=response, at=utc_now())


@on_failure(*RESERVE_NOW)
def _reserve_now_failed(command: Command) -> None:
    reservation_record_failure(command=command, at=utc_now())


@on_result(*CANCEL_RESERVATION)
def _cancel_answered(command: Command, response: dict[str, Any]) -> None:
    reservation_record_cancel_answer(command=command, response=response, at=utc_now())

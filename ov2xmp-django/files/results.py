"""What the answers to GetDiagnostics and GetLog change for a file request,
and those to UpdateFirmware for a firmware update (registered with
commands/results.py when the app is ready)."""

from __future__ import annotations

from typing import Any

from commands.catalog import OCPP16, OCPP201
from commands.models import Command
from commands.results import on_failure, on_result
from core.time import utc_now
from files.firmware import firmware_update_record_answer, firmware_update_record_failure
from files.services import file_request_record_answer, file_request_record_failure

UPLOAD_COMMANDS = ((OCPP16, "GetDiagnostics"), (OCPP16, "GetLog"), (OCPP201, "GetLog"))
FIRMWARE_COMMANDS = (
    (OCPP16, "UpdateFirmware"),
    (OCPP16, "SignedUpdateFirmware"),
    (OCPP201, "UpdateFirmware"),
)


@on_result(*UPLOAD_COMMANDS)
def _upload_answered(command: Command, response: dict[str, Any]) -> None:
    file_request_record_answer(command=command, response=response, at=utc_now())


@on_failure(*UPLOAD_COMMANDS)
def _upload_failed(command: Command) -> None:
    file_request_record_failure(command=command, at=utc_now())


@on_result(*FIRMWARE_COMMANDS)
def _firmware_answered(command: Command, response: dict[str, Any]) -> None:
    firmware_update_record_answer(command=command, response=response, at=utc_now())


@on_failure(*FIRMWARE_COMMANDS)
def _firmware_failed(command: Command) -> None:
    firmware_update_record_failure(command=command, at=utc_now())

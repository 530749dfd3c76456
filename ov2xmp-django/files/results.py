"""What the answers to GetDiagnostics and GetLog change for a file request
(registered with commands/results.py when the app is ready)."""

from __future__ import annotations

from typing import Any

from commands.catalog import OCPP16, OCPP201
from commands.models import Command
from commands.results import on_failure, on_result
from core.time import utc_now
from files.services import file_request_record_answer, file_request_record_failure

UPLOAD_COMMANDS = ((OCPP16, "GetDiagnostics"), (OCPP16, "GetLog"), (OCPP201, "GetLog"))


@on_result(*UPLOAD_COMMANDS)
def _upload_answered(command: Command, response: dict[str, Any]) -> None:
    file_request_record_answer(command=command, response=response, at=utc_now())


@on_failure(*UPLOAD_COMMANDS)
def _upload_failed(command: Command) -> None:
    file_request_record_failure(command=command, at=utc_now())

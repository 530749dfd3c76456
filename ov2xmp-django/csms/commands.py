"""The csms end of the command path: a command that reached the process
holding its charger is sent over that charger's connection and its outcome
recorded. Commands to one charger go one at a time (OCPP allows one open call
each way), in the order they arrived, each waiting its turn for a bounded time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from ocpp.messages import Call, MessageType
from websockets.exceptions import ConnectionClosed

from commands.catalog import command_spec
from commands.models import Command, CommandStatus
from commands.services import command_claim, command_finish, command_route
from core.time import utc_now
from csms.charge_point import db

if TYPE_CHECKING:
    from csms.charge_point import CsmsChargePoint

logger = logging.getLogger(__name__)


class CallErrorAnswer(Exception):
    """The charger answered with a CallError (any code, even one the spec lacks)."""

    def __init__(self, code: str, description: str, details: Any) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details


class InvalidAnswer(Exception):
    def __init__(self, payload: Any, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.payload = payload
        self.errors = errors


async def send_call(
    charge_point: CsmsChargePoint, *, action: str, payload: dict[str, Any], unique_id: str
) -> Any:
    """Send one OCPP call with exactly this payload and return the answer's
    payload as received. Raises TimeoutError, CallErrorAnswer, InvalidAnswer
    for an answer that breaks the schema, and ConnectionClosed."""
    spec = command_spec(charge_point.ocpp_version, action)
    frame = Call(unique_id=unique_id, action=action, payload=payload).to_json()
    timeout = charge_point._response_timeout
    async with charge_point._call_lock:  # route_message hands answers over while it is held
        await charge_point._send(frame)
        try:
            answer = await charge_point._get_specific_response(unique_id, timeout)
        except TimeoutError:
            raise TimeoutError(f"no answer within {timeout:g} s") from None
    if answer.message_type_id == MessageType.CallError:
        raise CallErrorAnswer(answer.error_code, answer.error_description, answer.error_details)
    errors = spec.response_errors(answer.payload)
    if errors:
        raise InvalidAnswer(answer.payload, errors)
    return answer.payload


async def command_execute(
    charge_point: CsmsChargePoint, command_id: uuid.UUID, *, hops: int = 0
) -> None:
    """Send a command over this connection when its turn comes, once. The turn
    is taken before anything else is awaited, so commands keep their order."""
    queue_timeout = settings.OV2XMP.command_queue_timeout
    try:
        await asyncio.wait_for(charge_point.command_lock.acquire(), queue_timeout)
    except asyncio.CancelledError:
        # The connection ended before its turn: still unsent, so it goes to
        # wherever the charger is now (or fails, or waits, as it asked).
        await db(command_route)(command_id=command_id, hops=hops)
        raise
    except TimeoutError:
        await _finish(
            command_id,
            CommandStatus.TIMED_OUT,
            description=f"waited more than {queue_timeout:g} s behind earlier commands",
            only_if_unsent=True,
        )
        return
    try:
        command = await db(command_claim)(command_id=command_id, at=utc_now())
        if command is None:
            return  # sent by another path, cancelled or expired meanwhile
        if command.ocpp_version != charge_point.ocpp_version:
            await _finish(
                command_id,
                CommandStatus.FAILED,
                description=f"the charger now speaks OCPP {charge_point.ocpp_version}, "
                f"not {command.ocpp_version}",
            )
            return
        await _send_and_record(charge_point, command)
    finally:
        charge_point.command_lock.release()


async def _send_and_record(charge_point: CsmsChargePoint, command: Command) -> None:
    try:
        answer = await send_call(
            charge_point, action=command.action, payload=command.request, unique_id=str(command.id)
        )
    except TimeoutError as error:
        await _finish(command.id, CommandStatus.TIMED_OUT, description=str(error))
    except CallErrorAnswer as error:
        await _finish(
            command.id,
            CommandStatus.CALL_ERROR,
            code=error.code,
            description=error.description,
            response=error.details or None,
        )
    except InvalidAnswer as error:
        await _finish(
            command.id,
            CommandStatus.FAILED,
            code="InvalidAnswer",
            description="the answer does not match the OCPP schema: "
            + json.dumps(error.errors, sort_keys=True),
            response=error.payload,
        )
    except (ConnectionClosed, asyncio.CancelledError) as error:
        # Cancelled: the connection ended (or the csms is stopping) while the
        # charger had the call; it may or may not have acted on it.
        await _finish(
            command.id,
            CommandStatus.FAILED,
            code="ConnectionClosed",
            description="the connection closed before the charger answered",
        )
        if isinstance(error, asyncio.CancelledError):
            raise
    else:
        await _finish(command.id, CommandStatus.ANSWERED, response=answer)


async def _finish(
    command_id: uuid.UUID,
    status: str,
    *,
    code: str = "",
    description: str = "",
    response: Any = None,
    only_if_unsent: bool = False,
) -> None:
    await db(command_finish)(
        command_id=command_id,
        status=status,
        response=response,
        error_code=code,
        error_description=description,
        at=utc_now(),
        only_if_unsent=only_if_unsent,
    )

"""What every version-specific ChargePoint class shares: frame logging, the
registration gate, and a defined CallError for every frame that cannot be
served (the ``ocpp`` library silently drops unparseable frames)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import ocpp.charge_point as library_charge_point
from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings
from ocpp import messages as library_messages
from ocpp.charge_point import _raise_key_error, remove_nones, serialize_as_dict
from ocpp.exceptions import OCPPError, PropertyConstraintViolationError, SecurityError
from ocpp.messages import Call, CallError, CallResult, MessageType, unpack, validate_payload

from chargepoints.models import RegistrationStatus
from chargepoints.services import (
    BootInfo,
    chargepoint_record_diagnostics_status,
    chargepoint_record_firmware_status,
    security_event_record,
)
from core.text import may_hold_unstorable, storable, unstorable_in
from core.time import format_timestamp, parse_timestamp, utc_now
from csms import key_case, validation
from csms.integers import refuse_out_of_range
from csms.message_log import FrameParts, MessageLog, frame_parts
from files.firmware import firmware_update_record_status
from files.services import file_request_record_upload_status
from ocpp_messages.models import Direction

if TYPE_CHECKING:
    from csms.batching import FrequentWrites

# The library validates each payload on the loop's thread pool by default.
# Under the GIL that runs nothing in parallel: it only adds a hand-off to a
# thread and back, which costs more than validating a typical payload, and
# makes validation queue behind the handlers' database work in that pool.
library_messages.ASYNC_VALIDATION = False
# And with schemas compiled to Python, which are many times faster.
validation.install()
# Payload keys converted (camelCase ↔ snake_case) once per key, not per message.
key_case.install()

logger = logging.getLogger(__name__)

# A charger whose registration is not Accepted may send only these.
ALLOWED_BEFORE_ACCEPTANCE = frozenset({"BootNotification"})
# last_seen_at is written at most this often for ordinary traffic.
LAST_SEEN_WRITE_SECONDS = 30.0
MAX_OPEN_CALLS = 64


def db(
    function: Callable[..., Any], *, executor: ThreadPoolExecutor | None = None
) -> SyncToAsync[..., Any]:
    """Run a sync service from a handler: on a thread of the event loop's
    pool (or of ``executor``), so that different chargers' database work
    overlaps (one charger's messages are still handled one at a time, in
    order), with stale database connections closed first, as Django does per
    request."""
    return database_sync_to_async(function, thread_sensitive=False, executor=executor)


class WebSocketLike(Protocol):
    async def recv(self) -> str | bytes: ...
    async def send(self, message: str) -> None: ...


class LoggedConnection:
    """The connection the ``ocpp`` library reads and writes, logging every frame
    and pairing each answer with the action of the request it answers."""

    def __init__(
        self,
        websocket: WebSocketLike,
        *,
        charge_point_id: str,
        ocpp_version: str,
        message_log: MessageLog,
    ) -> None:
        self._websocket = websocket
        self._charge_point_id = charge_point_id
        self._ocpp_version = ocpp_version
        self._log = message_log
        self._calls_received: dict[str, str] = {}
        self._calls_sent: dict[str, str] = {}

    async def recv(self) -> str:
        """The next frame; the charge point logs it (``received``) once it has
        decoded it, so that it is decoded once."""
        frame = await self._websocket.recv()
        if isinstance(frame, bytes):
            # OCPP-J uses text frames; decode a binary one rather than drop it.
            frame = frame.decode("utf-8", errors="replace")
        return frame

    def received(self, frame: str, parts: FrameParts) -> None:
        self._record(
            Direction.RECEIVED,
            frame,
            opened=self._calls_received,
            answered=self._calls_sent,
            parts=parts,
        )

    async def send(self, frame: str) -> None:
        await self._websocket.send(frame)
        self._record(Direction.SENT, frame, opened=self._calls_sent, answered=self._calls_received)

    async def send_answer(self, result: CallResult, frame: str) -> None:
        """Our answer to one of the charger's calls, logged from the payload in
        hand rather than decoded back from ``frame``, its JSON."""
        await self._websocket.send(frame)
        self._record(
            Direction.SENT,
            frame,
            opened=self._calls_sent,
            answered=self._calls_received,
            parts=(MessageType.CallResult, result.unique_id, "", result.payload, ""),
        )

    def _record(
        self,
        direction: Direction,
        frame: str,
        *,
        opened: dict[str, str],
        answered: dict[str, str],
        parts: FrameParts | None = None,
    ) -> None:
        kind, unique_id, action = self._log.record(
            charge_point_id=self._charge_point_id,
            direction=direction,
            frame=frame,
            ocpp_version=self._ocpp_version,
            action_for=answered,
            parts=parts,
        )
        if kind == MessageType.Call:
            if len(opened) >= MAX_OPEN_CALLS:
                opened.pop(next(iter(opened)))
            opened[unique_id] = action


class CsmsChargePoint:
    """Mixed into each version's ChargePoint class (before the library's)."""

    ocpp_version: ClassVar[str]
    # The library raises 2.0.1 spellings of some error codes; a version maps them.
    error_code_aliases: ClassVar[dict[str, str]] = {}

    id: str
    _ocpp_version: str
    _connection: LoggedConnection
    route_map: dict[str, dict[str, Any]]
    logger: logging.Logger
    _send: Callable[[str], Any]
    _response_queue: Any
    _call_lock: Any
    _response_timeout: float
    _get_specific_response: Callable[..., Any]

    def __init__(
        self,
        charge_point_id: str,
        connection: Any,
        *,
        registration_status: str,
        writes: FrequentWrites,
    ) -> None:
        super().__init__(  # type: ignore[call-arg]
            charge_point_id,
            connection,
            response_timeout=settings.OV2XMP.ocpp_response_timeout,
        )
        self.registration_status = registration_status
        # Heartbeat, StatusNotification and MeterValues: written in batches.
        self.writes = writes
        self._last_seen_written = time.monotonic()
        # Held by the command being sent; the others wait their turn in order.
        self.command_lock = asyncio.Lock()
        # Called once, when the charger is connected and Accepted: held
        # commands may go to it from then on.
        self.on_ready: Callable[[], None] | None = None
        self._ready_announced = False
        self._after_tasks: set[asyncio.Future[Any]] = set()

    def announce_ready_if_accepted(self) -> None:
        if self.accepted and not self._ready_announced:
            self._ready_announced = True
            if self.on_ready is not None:
                self.on_ready()

    @property
    def accepted(self) -> bool:
        return self.registration_status == RegistrationStatus.ACCEPTED

    async def route_message(self, raw_msg: str) -> None:
        try:
            decoded = json.loads(raw_msg)
        except ValueError:
            decoded = None
        parts = frame_parts(decoded)
        # The message log keeps it with U+FFFD in place of what cannot be stored.
        self._connection.received(raw_msg, parts)
        if may_hold_unstorable(raw_msg) and unstorable_in(decoded):
            if parts[0] == MessageType.Call:
                await self._refuse_unstorable(parts)
                return
            # An answer to one of our calls cannot be refused; a malformed
            # frame is answered as such below.
            logger.warning(
                "%s: NUL or unpaired surrogates replaced by U+FFFD in a frame: %r",
                self.id,
                raw_msg[:200],
            )
            decoded = storable(decoded)
            raw_msg = json.dumps(decoded)
        try:
            message = _unpack(raw_msg, decoded)
        except OCPPError as error:
            await self._answer_unparseable(raw_msg, error)
            return

        if message.message_type_id != MessageType.Call:
            if self._call_lock.locked():  # one of our calls awaits its answer
                self._response_queue.put_nowait(message)
            else:
                logger.warning("%s: answer to no request ignored: %r", self.id, raw_msg[:200])
            return

        if not self.accepted and message.action not in ALLOWED_BEFORE_ACCEPTANCE:
            logger.warning(
                "%s: %s refused: registration is %s",
                self.id,
                message.action,
                self.registration_status,
            )
            refusal = SecurityError(
                description=f"Registration is {self.registration_status}: send BootNotification "
                "and wait to be accepted"
            )
            await self._send(self._call_error(message.unique_id, refusal))
            return
        try:
            await self._handle_call(message)
        except OCPPError as error:
            logger.warning(
                "%s: %s %s answered %s: %s",
                self.id,
                message.action,
                message.unique_id,
                error.code,
                error.description,
            )
            await self._send(self._call_error(message.unique_id, error))
        except Exception:
            logger.exception("%s: %s %s failed", self.id, message.action, message.unique_id)
            await self._send(
                CallError(
                    message.unique_id, "InternalError", "An unexpected error occurred.", {}
                ).to_json()
            )
        else:
            await self._touch()
            self.announce_ready_if_accepted()

    async def _handle_call(self, msg: Call) -> Any:
        """The library's, for less per message: whether a handler takes the
        call's unique id is looked up once per handler (the library asks
        ``inspect`` on every call: 3 % of the csms's time under load), and
        the answer is logged from its payload, not decoded back from its JSON.
        Validation, conversions and errors are the library's, and an integer
        no column can hold is refused (csms.integers)."""
        try:
            handlers = self.route_map[msg.action]
        except KeyError:
            _raise_key_error(msg.action, self._ocpp_version)
            return None
        validated = not handlers.get("_skip_schema_validation", False)
        if validated:
            await validate_payload(msg, self._ocpp_version)
            refuse_out_of_range(msg.payload, msg.action, self._ocpp_version)
        snake_case_payload = library_charge_point.camel_to_snake_case(msg.payload)
        try:
            handler = handlers["_on_action"]
        except KeyError:
            _raise_key_error(msg.action, self._ocpp_version)
        try:
            if _takes_unique_id(handler):
                response = handler(**snake_case_payload, call_unique_id=msg.unique_id)
            else:
                response = handler(**snake_case_payload)
            if inspect.isawaitable(response):
                response = await response
        except Exception as error:
            self.logger.exception("Error while handling request '%s'", msg)
            await self._send(msg.create_call_error(error).to_json())
            return None
        payload = library_charge_point.snake_to_camel_case(
            remove_nones(serialize_as_dict(response))
        )
        result = msg.create_call_result(payload)
        if validated:
            await validate_payload(result, self._ocpp_version)
        await self._connection.send_answer(result, result.to_json())
        after = handlers.get("_after_action")
        if after is None:
            return response
        if _takes_unique_id(after):
            response = after(**snake_case_payload, call_unique_id=msg.unique_id)
        else:
            response = after(**snake_case_payload)
        if inspect.isawaitable(response):
            # As the library: a task, so that a call made after the answer cannot block.
            task = asyncio.ensure_future(response)
            self._after_tasks.add(task)
            task.add_done_callback(self._after_tasks.discard)
        return response

    async def _refuse_unstorable(self, parts: FrameParts) -> None:
        """A call with a string the database cannot store (core.text) is
        refused; nothing of it is stored but its line in the message log."""
        _, unique_id, action, _, _ = parts
        logger.warning(
            "%s: %s %s refused: a string holds NUL or an unpaired surrogate",
            self.id,
            action,
            unique_id,
        )
        refusal = PropertyConstraintViolationError(
            description="A string holds U+0000 (NUL) or an unpaired surrogate, "
            "which cannot be stored"
        )
        await self._send(self._call_error(unique_id, refusal))

    async def _answer_unparseable(self, raw_msg: str, error: OCPPError) -> None:
        """Answer a frame that is not valid OCPP-J with a CallError; if its id
        cannot be read, with the id ``-1`` (as OCPP-J 2.0.1 prescribes). Broken
        answers to our own calls get no answer, only a log line."""
        try:
            decoded = json.loads(raw_msg)
        except ValueError:
            decoded = None
        is_list = isinstance(decoded, list)
        if is_list and decoded and decoded[0] in (MessageType.CallResult, MessageType.CallError):
            logger.warning(
                "%s: malformed answer ignored: %s (%r)", self.id, error.description, raw_msg[:200]
            )
            return
        unique_id = "-1"
        if is_list and len(decoded) > 1 and isinstance(decoded[1], str):
            unique_id = decoded[1]
        logger.warning("%s: malformed frame answered %s: %r", self.id, error.code, raw_msg[:200])
        await self._send(self._call_error(unique_id, error))

    def _call_error(self, unique_id: str, error: OCPPError) -> str:
        code = self.error_code_aliases.get(error.code, error.code)
        details = error.details if isinstance(error.details, dict) else {}
        details = {k: v for k, v in details.items() if k != "ocpp_message"}
        return json.dumps(
            [MessageType.CallError, unique_id, code, error.description or "", details], default=str
        )

    async def _touch(self) -> None:
        now = time.monotonic()
        if now - self._last_seen_written >= LAST_SEEN_WRITE_SECONDS:
            self._last_seen_written = now
            await self.writes.seen.submit(self.id)

    def _mark_seen(self) -> None:
        """A handler wrote last_seen_at itself (boot, heartbeat)."""
        self._last_seen_written = time.monotonic()

    # What handlers of every version do alike; each returns what the answer needs.

    async def record_boot(self, boot: BootInfo) -> tuple[str, int, str]:
        """Store the boot data; returns (current time, interval, registration
        status) for the BootNotification answer."""
        now = utc_now()
        self.registration_status = await self.writes.boots.submit((self.id, boot))
        self._mark_seen()
        config = settings.OV2XMP
        interval = config.heartbeat_interval if self.accepted else config.boot_retry_interval
        return format_timestamp(now), interval, self.registration_status

    async def record_heartbeat(self) -> str:
        now = utc_now()
        await self.writes.heartbeats.submit(self.id)
        self._mark_seen()
        return format_timestamp(now)

    async def record_firmware_status(self, status: str, *, request_id: int | None = None) -> None:
        """On the charger, and on the firmware update it reports about."""
        now = utc_now()
        await db(chargepoint_record_firmware_status)(charge_point_id=self.id, status=status, at=now)
        await db(firmware_update_record_status)(
            charge_point_id=self.id, status=status, request_id=request_id, at=now
        )

    async def record_upload_status(
        self, status: str, *, action: str, request_id: int | None = None
    ) -> None:
        """Diagnostics (1.6 GetDiagnostics) or log (GetLog: 1.6 security
        extension, 2.0.1) upload: on the charger, and on the file request."""
        now = utc_now()
        await db(chargepoint_record_diagnostics_status)(
            charge_point_id=self.id, status=status, at=now
        )
        await db(file_request_record_upload_status)(
            charge_point_id=self.id, status=status, action=action, request_id=request_id, at=now
        )

    async def record_security_event(self, type: str, timestamp: str, tech_info: str) -> None:
        await db(security_event_record)(
            charge_point_id=self.id,
            type=type,
            timestamp=timestamp_field(timestamp, "timestamp", PropertyConstraintViolationError),
            tech_info=tech_info,
        )


def _unpack(raw_msg: str, decoded: Any) -> Call | CallResult | CallError:
    """The library's ``unpack`` of a frame already decoded from JSON: a call or
    an answer of the usual shape is made here; anything else goes to the
    library, which decides the error."""
    if isinstance(decoded, list):
        if len(decoded) == 4 and decoded[0] == MessageType.Call:
            return Call(*decoded[1:])
        if len(decoded) == 3 and decoded[0] == MessageType.CallResult:
            return CallResult(*decoded[1:])
    return unpack(raw_msg)


_unique_id_taken: dict[Any, bool] = {}


def _takes_unique_id(handler: Any) -> bool:
    function = getattr(handler, "__func__", handler)
    taken = _unique_id_taken.get(function)
    if taken is None:
        taken = _unique_id_taken[function] = (
            "call_unique_id" in inspect.signature(handler).parameters
        )
    return taken


def timestamp_field(value: str | None, field: str, error: type[OCPPError]) -> datetime:
    """A timestamp from a payload, or the given OCPP error naming the field."""
    if value is None:
        return utc_now()
    try:
        return parse_timestamp(value)
    except ValueError:
        raise error(description=f"{field}: {value!r} is not an RFC 3339 date-time") from None

"""The OCPP message log writer: frames are queued in memory by the connection
and written in batches, so that logging every frame costs one INSERT per batch
instead of one per frame, and never delays the answer to a charger."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from channels.db import database_sync_to_async

from chargepoints.security import request_redacted
from core.stopping import cancel_and_wait
from core.text import may_hold_unstorable, storable
from core.time import utc_now
from ocpp_messages.models import Direction, MessageType
from ocpp_messages.services import ocpp_messages_record

logger = logging.getLogger(__name__)

# Above this many unwritten frames (the database is down for long), the oldest
# are dropped with an error in the log rather than exhausting memory.
MAX_BACKLOG = 100_000
# How long closing waits for the flushing task to end before writing the last
# frames itself.
CLOSE_CANCEL_SECONDS = 2.0


FrameParts = tuple[int | None, str, str, Any, str]


def parse_frame(frame: str) -> FrameParts:
    """Split an OCPP-J frame into (message type, unique id, action, payload,
    error code); a frame that is not OCPP-J gives a type of ``None``."""
    try:
        message = json.loads(frame)
    except ValueError:
        return None, "", "", None, ""
    return frame_parts(message)


def frame_parts(message: Any) -> FrameParts:
    """``parse_frame`` of a frame already decoded from JSON."""
    if not isinstance(message, list) or len(message) < 3:
        return None, "", "", None, ""
    kind, unique_id = message[0], message[1]
    if not isinstance(unique_id, str):
        return None, "", "", None, ""
    if kind == MessageType.CALL and len(message) == 4 and isinstance(message[2], str):
        return MessageType.CALL, unique_id, message[2], message[3], ""
    if kind == MessageType.CALL_RESULT and len(message) == 3:
        return MessageType.CALL_RESULT, unique_id, "", message[2], ""
    if kind == MessageType.CALL_ERROR and len(message) >= 4:
        details = message[4] if len(message) > 4 else {}
        payload = {"errorDescription": message[3], "errorDetails": details}
        return MessageType.CALL_ERROR, unique_id, "", payload, str(message[2])
    return None, "", "", None, ""


class MessageLog:
    """Buffers frames and flushes them every ``flush_seconds`` (or sooner when a
    batch fills). ``start()`` starts the flushing task; ``close()`` writes what is
    left."""

    def __init__(self, *, flush_seconds: float, batch_size: int = 500) -> None:
        self._flush_seconds = flush_seconds
        self._batch_size = batch_size
        self._pending: list[dict[str, Any]] = []
        self._batch_full = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._writing = 0
        self.dropped = 0

    def record(
        self,
        *,
        charge_point_id: str,
        direction: Direction,
        frame: str,
        ocpp_version: str,
        action_for: dict[str, str] | None = None,
        parts: FrameParts | None = None,
    ) -> tuple[int | None, str, str]:
        """Queue one frame; returns its (type, unique id, action). An answer
        carries no action: ``action_for`` maps the ids of open requests to
        theirs, and the answered one is removed from it. ``parts`` are the
        frame's, where the caller has them already (``frame_parts``)."""
        kind, unique_id, action, payload, error_code = parts or parse_frame(frame)
        if may_hold_unstorable(frame):
            # One string the database cannot store would fail the whole batch.
            unique_id, action, payload, error_code, frame = storable(
                [unique_id, action, payload, error_code, frame]
            )
        if kind in (MessageType.CALL_RESULT, MessageType.CALL_ERROR) and action_for is not None:
            action = action_for.pop(unique_id, "")
        elif kind == MessageType.CALL:
            payload = request_redacted(action, payload)  # a charger's new password
        self._pending.append(
            {
                "charge_point_id": charge_point_id,
                "direction": direction,
                "message_type": kind,
                "unique_id": unique_id[:64],
                "action": action[:64],
                "payload": payload,
                "error_code": error_code[:64],
                "raw": frame if kind is None else "",
                "ocpp_version": ocpp_version,
                "timestamp": utc_now(),
            }
        )
        if len(self._pending) > MAX_BACKLOG:
            overflow = len(self._pending) - MAX_BACKLOG
            del self._pending[:overflow]
            self.dropped += overflow
            logger.error("message log backlog full: dropped %d oldest frames", overflow)
        if len(self._pending) >= self._batch_size:
            self._batch_full.set()
        return kind, unique_id, action

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ocpp-message-log")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._batch_full.wait(), self._flush_seconds)
            self._batch_full.clear()
            await self.flush()

    @property
    def unwritten(self) -> int:
        """Frames queued or being written."""
        return len(self._pending) + self._writing

    async def flush(self) -> None:
        async with self._flush_lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            self._writing = len(batch)
            try:
                await database_sync_to_async(ocpp_messages_record)(messages=batch)
            except Exception:
                # Keep the frames for the next attempt; they are the audit trail.
                logger.exception("message log: writing %d frames failed, will retry", len(batch))
                self._pending[:0] = batch
            finally:
                self._writing = 0

    async def close(self) -> None:
        if self._task is not None:
            # Cancelled again until it ends (core/stopping.py says why).
            await cancel_and_wait({self._task}, within=CLOSE_CANCEL_SECONDS)
            self._task = None
        await self.flush()

"""Writes of the frequent messages (Heartbeat, StatusNotification, MeterValues,
TransactionEvent(Updated)) and of connections coming and going (connect,
BootNotification, disconnect, held commands), many chargers' at once.

A charger has one call in flight and gets its answer only once what it sent
is committed. After a network outage a whole fleet reconnects at once, and
each reconnect writes the same few things.

Each ``Batcher`` writes what has arrived in one thread hop and one
transaction, while the next batch gathers: the per-message cost of Django's
ORM, the thread hop and the commit is shared by the whole batch. A batch's
first message waits a few milliseconds (``gather_seconds``) for others to
join it: a writer that took each message as it came wrote batches of one or
two at moderate load, whose fixed costs kept the machine busy and the
replies slow (docs/performance.md). The chargers in one batch are
all different (one call in flight each), so batches touch disjoint rows and
cannot deadlock one another.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import close_old_connections, connections

from chargepoints.services import (
    BootInfo,
    ConnectionReport,
    chargepoints_connect,
    chargepoints_disconnect,
    chargepoints_record_boot,
    chargepoints_record_heartbeat,
    chargepoints_touch,
)
from chargepoints.statuses import StatusReport, connector_record_statuses
from commands.services import commands_take_held
from core.time import utc_now
from transactions.meter_values import MeterValuesReport, meter_values_record
from transactions.transaction_updates import TransactionUpdate, transaction_updates_record

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# An upper bound, so that one batch's statements stay of a sensible size.
MAX_BATCH = 500
# A writer keeps its database connection from one batch to the next while
# batches keep coming: handing it back to the pool and taking it again cost
# a fifth of a small batch's CPU (docs/performance.md). It hands it back
# when no batch came for this long, and at least this often (the pool then
# replaces a connection past its age).
IDLE_RELEASE_SECONDS = 0.25
HOLD_AT_MOST_SECONDS = 60.0

Waiter = tuple[Item, asyncio.Future[Result]]
# A waiter with its item's result, or the exception writing it raised.
Outcome = tuple[Waiter[Item, Result], Any]


class Batcher(Generic[Item, Result]):
    """Collects items from many callers and writes them with ``write`` (a sync
    service taking a list and returning one result per item, in order), one
    batch at a time. ``submit`` returns its item's result once committed, or
    raises what writing it raised: a batch that fails is written again item by
    item, so one bad item fails alone.

    Each batcher writes on a thread of its own, which takes the next batch as
    soon as the last is committed and hands each caller its result directly.
    The event loop only queues items and wakes callers: under load it runs
    hundreds of handlers per turn, and a batch whose every step (start, each
    thread hop back, each caller's result) waited for a turn of the loop took
    several times as long as its statements (docs/performance.md)."""

    def __init__(
        self,
        write: Callable[[list[Item]], Sequence[Result]],
        *,
        name: str,
        gather_seconds: float = 0.0,
    ) -> None:
        self._write = write
        self.name = name
        # How long a batch's first item waits for others to join it.
        self.gather_seconds = gather_seconds
        self._writer: _Writer[Item, Result] | None = None
        self._waiting: set[asyncio.Future[Result]] = set()

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        if self._writer is None:
            self._writer = _Writer(self, loop)
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.add(future)
        self._writer.queue.put((item, future))
        try:
            return await future
        finally:
            self._waiting.discard(future)

    def write_batch(self, batch: list[Waiter[Item, Result]]) -> list[Outcome[Item, Result]]:
        """On the writer thread."""
        try:
            results = self._write([item for item, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                return [(batch[0], error)]
            logger.warning(
                "%s: a batch of %d failed (%s); writing each alone", self.name, len(batch), error
            )
            return [outcome for entry in batch for outcome in self.write_batch([entry])]
        return list(zip(batch, results, strict=True))

    def deliver(self, outcomes: list[Outcome[Item, Result]]) -> None:
        """On the loop: each caller its result. A caller may have gone (its
        connection closed); a failure nobody is left to receive is logged."""
        for (item, future), outcome in outcomes:
            if isinstance(outcome, Exception):
                if future.done():
                    logger.error("%s: writing %r failed", self.name, item, exc_info=outcome)
                else:
                    future.set_exception(outcome)
            elif not future.done():
                future.set_result(outcome)

    async def close(self) -> None:
        """Stop; callers still waiting are cancelled, items not yet written are
        dropped. A batch being written finishes on its thread."""
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        for future in self._waiting:
            future.cancel()
        self._waiting.clear()


class _Writer(Generic[Item, Result]):
    """The thread of one Batcher, until it is closed."""

    def __init__(self, batcher: Batcher[Item, Result], loop: asyncio.AbstractEventLoop) -> None:
        self.queue: queue.SimpleQueue[Waiter[Item, Result] | None] = queue.SimpleQueue()
        self._batcher = batcher
        self._loop = loop
        self._stopping = threading.Event()
        # When this thread last took a database connection, if it holds one.
        self._held_since: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"batch-{batcher.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.queue.put(None)

    def _next_batch(self) -> list[Waiter[Item, Result]]:
        try:
            first = self.queue.get(timeout=IDLE_RELEASE_SECONDS)
        except queue.Empty:
            self._release_connection()
            first = self.queue.get()
        if first is None:
            return []
        if self._batcher.gather_seconds:
            # Asleep, not waiting on the queue: items put meanwhile wake nobody.
            time.sleep(self._batcher.gather_seconds)
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                entry = self.queue.get_nowait()
            except queue.Empty:
                break
            if entry is None:
                break
            batch.append(entry)
        return batch

    def _write(self, batch: list[Waiter[Item, Result]]) -> list[Outcome[Item, Result]]:
        if self._held_since is None:
            self._held_since = time.monotonic()
        try:
            outcomes = self._batcher.write_batch(batch)
        except Exception as error:  # the connection itself: the thread goes on
            outcomes = [(entry, error) for entry in batch]
        if (
            # A connection that broke is replaced.
            any(isinstance(outcome, Exception) for _, outcome in outcomes)
            or time.monotonic() - self._held_since > HOLD_AT_MOST_SECONDS
            or others_wait_for_connections()
        ):
            self._release_connection()
        return outcomes

    def _release_connection(self) -> None:
        """As Django does after a request: the thread's connections that
        broke or outlived their age are closed (with a pool: given back)."""
        self._held_since = None
        try:
            close_old_connections()
        except Exception:  # closing a broken connection: the thread goes on
            logger.exception("%s: closing the database connection failed", self._batcher.name)

    def _run(self) -> None:
        try:
            while batch := self._next_batch():
                if self._stopping.is_set():
                    return
                try:
                    self._loop.call_soon_threadsafe(self._batcher.deliver, self._write(batch))
                except RuntimeError:  # the loop has closed: nobody to answer
                    return
        finally:
            connections.close_all()


def others_wait_for_connections() -> bool:
    """Whether another thread waits for a connection from a pool this thread
    holds one of (its connections are pooled: PostgreSQL). True if that
    cannot be told: a writer thread must not end on it."""
    try:
        for connection in connections.all(initialized_only=True):
            pool = getattr(connection, "pool", None)
            if pool is not None and pool.get_stats().get("requests_waiting", 0):
                return True
    except Exception:
        logger.exception("the database pool's state could not be read")
        return True
    return False


def _none_each(write: Callable[[list[Item]], object]) -> Callable[[list[Item]], list[None]]:
    """For a write whose callers wait only for the commit."""

    def written(items: list[Item]) -> list[None]:
        write(items)
        return [None] * len(items)

    return written


def _connects(reports: list[ConnectionReport]) -> list[str]:
    return chargepoints_connect(reports=reports, at=utc_now())


def _boots(boots: list[tuple[str, BootInfo]]) -> list[str]:
    return chargepoints_record_boot(boots=boots, at=utc_now())


def _disconnects(connections: list[tuple[str, str]]) -> None:
    chargepoints_disconnect(connections=connections, at=utc_now())


def _held_commands(charge_point_ids: list[str]) -> list[list[uuid.UUID]]:
    return commands_take_held(charge_point_ids=charge_point_ids, at=utc_now())


def _heartbeats(charge_point_ids: list[str]) -> None:
    chargepoints_record_heartbeat(charge_point_ids=charge_point_ids, at=utc_now())


def _seen(charge_point_ids: list[str]) -> None:
    chargepoints_touch(charge_point_ids=charge_point_ids, at=utc_now())


class FrequentWrites:
    """The batchers of one csms process, shared by all its connections."""

    def __init__(self, *, gather_seconds: float | None = None) -> None:
        """``gather_seconds``: the batches' (default: the setting)."""
        if gather_seconds is None:
            gather_seconds = settings.OV2XMP.batch_gather_seconds

        def batcher(write: Callable[[list[Any]], Sequence[Any]], name: str) -> Batcher[Any, Any]:
            return Batcher(write, name=name, gather_seconds=gather_seconds)

        # A new connection → its charger's registration status.
        self.connects: Batcher[ConnectionReport, str] = batcher(_connects, "connects")
        # (charger id, boot info) → the charger's registration status.
        self.boots: Batcher[tuple[str, BootInfo], str] = batcher(_boots, "boots")
        # (charger id, connection id) of connections that ended.
        self.disconnects: Batcher[tuple[str, str], None] = batcher(
            _none_each(_disconnects), "disconnects"
        )
        # charger id → the ids of its held commands, now taken.
        self.held_commands: Batcher[str, list[uuid.UUID]] = batcher(_held_commands, "held commands")
        self.heartbeats: Batcher[str, None] = batcher(_none_each(_heartbeats), "heartbeats")
        self.seen: Batcher[str, None] = batcher(_none_each(_seen), "last seen")
        self.statuses: Batcher[StatusReport, None] = batcher(
            _none_each(lambda reports: connector_record_statuses(reports=reports)), "statuses"
        )
        self.meter_values: Batcher[MeterValuesReport, None] = batcher(
            _none_each(lambda reports: meter_values_record(reports=reports)), "meter values"
        )
        # OCPP 2.0.1 TransactionEvent(Updated): a 2.0.1 charger's meter values.
        self.transaction_updates: Batcher[TransactionUpdate, None] = batcher(
            _none_each(lambda updates: transaction_updates_record(updates=updates)),
            "transaction updates",
        )

    async def close(self) -> None:
        for batcher in self.batchers():
            await batcher.close()

    def batchers(self) -> list[Batcher[Any, Any]]:
        return [value for value in vars(self).values() if isinstance(value, Batcher)]

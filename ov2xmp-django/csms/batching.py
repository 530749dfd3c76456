"""Writes of the frequent messages (Heartbeat, StatusNotification, MeterValues)
and of connections coming and going (connect, BootNotification, disconnect,
held commands), many chargers' at once.

A charger has one call in flight and gets its answer only once what it sent
is committed. After a network outage a whole fleet reconnects at once, and
each reconnect writes the same few things.

Each ``Batcher`` writes what has arrived in one thread hop and one
transaction, while the next batch gathers: at low load a batch is one message
(no added delay), under load the per-message cost of Django's ORM, the thread
hop and the commit is shared by the whole batch. The chargers in one batch are
all different (one call in flight each), so batches touch disjoint rows and
cannot deadlock one another.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from chargepoints.services import (
    BootInfo,
    ConnectionReport,
    StatusReport,
    chargepoints_connect,
    chargepoints_disconnect,
    chargepoints_record_boot,
    chargepoints_record_heartbeat,
    chargepoints_touch,
    connector_record_statuses,
)
from commands.services import commands_take_held
from core.time import utc_now
from csms.charge_point import db
from transactions.services import MeterValuesReport, meter_values_record

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# An upper bound, so that one batch's statements stay of a sensible size.
MAX_BATCH = 500
# Threads for FrequentWrites: more than it has batchers, and each batcher has
# at most one batch in flight, so no batch waits for a thread.
BATCH_THREADS = 16


class Batcher(Generic[Item, Result]):
    """Collects items from many callers and writes them with ``write`` (a sync
    service taking a list and returning one result per item, in order), one
    batch at a time. ``submit`` returns its item's result once committed, or
    raises what writing it raised: a batch that fails is written again item by
    item, so one bad item fails alone."""

    def __init__(
        self,
        write: Callable[[list[Item]], Sequence[Result]],
        *,
        name: str,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        self._write = db(write, executor=executor)
        self._name = name
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"batch-{self._name}")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._arrived.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            batch = self._pending[:MAX_BATCH]
            del self._pending[:MAX_BATCH]
            if not self._pending:
                self._arrived.clear()
            try:
                await self._write_batch(batch)
            finally:  # cancelled mid-batch: its callers must not wait forever
                for _, future in batch:
                    if not future.done():
                        future.cancel()

    async def _write_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as error:
            if len(batch) > 1:
                logger.warning(
                    "%s: a batch of %d failed (%s); writing each alone",
                    self._name,
                    len(batch),
                    error,
                )
                for entry in batch:
                    await self._write_batch([entry])
                return
            item, future = batch[0]
            if future.done():  # nobody left to raise it to: log it here
                logger.error("%s: writing %r failed", self._name, item, exc_info=error)
            else:
                future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # its caller may have gone (connection closed)
                future.set_result(result)

    async def close(self) -> None:
        """Stop; callers still waiting are cancelled."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for _, future in self._pending:
            future.cancel()
        self._pending.clear()


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

    def __init__(self) -> None:
        # Threads of their own, one per batcher (each writes one batch at a
        # time): in the loop's shared pool, a burst of slower per-message work
        # (StartTransaction, say) queued ahead of them delayed every heartbeat.
        self._executor = ThreadPoolExecutor(BATCH_THREADS, thread_name_prefix="batch-writes")
        batcher = functools.partial(Batcher, executor=self._executor)
        # A new connection → its charger's registration status.
        self.connects: Batcher[ConnectionReport, str] = batcher(_connects, name="connects")
        # (charger id, boot info) → the charger's registration status.
        self.boots: Batcher[tuple[str, BootInfo], str] = batcher(_boots, name="boots")
        # (charger id, connection id) of connections that ended.
        self.disconnects: Batcher[tuple[str, str], None] = batcher(
            _none_each(_disconnects), name="disconnects"
        )
        # charger id → the ids of its held commands, now taken.
        self.held_commands: Batcher[str, list[uuid.UUID]] = batcher(
            _held_commands, name="held commands"
        )
        self.heartbeats: Batcher[str, None] = batcher(_none_each(_heartbeats), name="heartbeats")
        self.seen: Batcher[str, None] = batcher(_none_each(_seen), name="last seen")
        self.statuses: Batcher[StatusReport, None] = batcher(
            _none_each(lambda reports: connector_record_statuses(reports=reports)),
            name="statuses",
        )
        self.meter_values: Batcher[MeterValuesReport, None] = batcher(
            _none_each(lambda reports: meter_values_record(reports=reports)), name="meter values"
        )

    async def close(self) -> None:
        for batcher in self.batchers():
            await batcher.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def batchers(self) -> list[Batcher[Any, Any]]:
        return [value for value in vars(self).values() if isinstance(value, Batcher)]

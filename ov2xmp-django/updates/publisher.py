"""Sends the events of this process to the channel layer, off the path of the
work that caused them.

Services hand events over once their transaction has committed
(``services.event_publish``); that only queues them. The publisher runs on an
event loop of the process (the csms's, daphne's, or a thread of its own in a
Celery worker), reads which groups have subscribers (``interest``) and sends
each event to those of its topics' groups that have.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer

from core.stopping import cancel_and_wait
from updates.events import Event, keyed_group_prefix
from updates.interest import Interest, interest

logger = logging.getLogger(__name__)

# The channel-layer message type the consumer handles (``UpdatesConsumer.update``).
MESSAGE_TYPE = "update"
# Events in one channel-layer message at most (Redis messages stay small).
EVENTS_PER_MESSAGE = 100
# How long stopping waits for the publisher to end.
STOP_SECONDS = 2.0


class Publisher:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pid = os.getpid()
        # Each group's messages are numbered per publisher, so that a consumer
        # sees when the channel layer dropped one (docs/live-updates.md).
        self.source = uuid.uuid4().hex[:16]
        self._numbers: dict[str, int] = {}
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._arrived = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def put(self, events: Iterable[Event]) -> None:
        """From any thread."""
        for event in events:
            self._events.put(event)
        if threading.get_ident() == self._loop_thread:
            self._arrived.set()
        else:
            # A closed loop: the process is stopping.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._arrived.set)

    def watches(self, kind: str) -> bool:
        """From any thread: whether a group of topics of ``kind`` (one that
        takes a key: ``frames``, say) has
        subscribers, as far as this publisher knew last (unknown before it
        runs: yes). Asking wakes the publisher, so that its knowledge stays as
        fresh as if the events had been published."""
        self.put(())
        if self._watched is None:
            return True
        return self._watched.any_wanted(keyed_group_prefix(kind))

    async def run(self) -> None:
        self._loop_thread = threading.get_ident()
        layer = get_channel_layer()
        watched = self._watched = interest()
        try:
            while True:
                await self._arrived.wait()
                self._arrived.clear()
                try:
                    await watched.refresh()
                except Exception:
                    logger.warning("live updates: reading the subscriptions failed", exc_info=True)
                await self._send(layer, self._by_group(watched))
        finally:
            await watched.close()

    def _by_group(self, watched: Interest) -> dict[str, list[dict[str, Any]]]:
        """What has queued, as the events each subscribed group is to get."""
        by_group: dict[str, list[dict[str, Any]]] = {}
        while not self._events.empty():
            event = self._events.get_nowait()
            for topic in event.topics:
                if watched.wanted(topic.group):
                    by_group.setdefault(topic.group, []).append(event.message(topic))
        return by_group

    async def _send(self, layer: BaseChannelLayer, by_group: dict[str, list[Any]]) -> None:
        """A group's events go in a few channel-layer messages, not one each: a
        consumer takes one message per turn of its event loop, and under load
        those turns are few (docs/performance.md)."""
        for group, events in by_group.items():
            for start in range(0, len(events), EVENTS_PER_MESSAGE):
                number = self._numbers.get(group, 0) + 1
                self._numbers[group] = number
                message = {
                    "type": MESSAGE_TYPE,
                    "group": group,
                    "source": self.source,
                    "number": number,
                    "events": events[start : start + EVENTS_PER_MESSAGE],
                }
                try:
                    await layer.group_send(group, message)
                except Exception:
                    logger.warning("live updates: sending to %s failed", group, exc_info=True)

    _loop_thread = -1
    _watched: Interest | None = None


_publisher: Publisher | None = None


def current() -> Publisher | None:
    return _publisher


def start(loop: asyncio.AbstractEventLoop | None = None) -> Publisher:
    """Start this process's publisher on ``loop`` (a running one), or on a
    thread and loop of its own. Once per process; later calls return it."""
    global _publisher
    # A forked child (a Celery pool process) inherits the parent's, not its thread.
    if _publisher is not None and _publisher.pid == os.getpid() and not _publisher.loop.is_closed():
        return _publisher
    if loop is None:
        loop = asyncio.new_event_loop()
        publisher = Publisher(loop)

        def serve() -> None:
            asyncio.set_event_loop(loop)
            publisher.task = loop.create_task(publisher.run())
            loop.run_forever()

        threading.Thread(target=serve, name="live-updates", daemon=True).start()
    else:
        publisher = Publisher(loop)
        publisher.task = loop.create_task(publisher.run())
    _publisher = publisher
    return publisher


async def stop() -> None:
    """Stop the publisher running on this loop (tests, server shutdown)."""
    global _publisher
    publisher = _publisher
    if publisher is None or publisher.loop is not asyncio.get_running_loop():
        return
    _publisher = None
    # Cancelled again until it ends: it talks to Redis (core/stopping.py).
    if publisher.task is not None and await cancel_and_wait({publisher.task}, within=STOP_SECONDS):
        logger.error("live updates: the publisher did not end when cancelled; abandoned")

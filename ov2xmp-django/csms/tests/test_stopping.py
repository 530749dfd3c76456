"""A csms server that is stopping ends in bounded time: a step that hangs is
abandoned, and the log says which (the processes themselves:
ov2xmp/tests/test_csms_stopping.py)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

from csms import message_log
from csms.server import CsmsServer, spawn
from ocpp_messages.models import Direction

# Without the bound, each stop below would take this long (or for ever, had
# the test not made its hang end by itself, for the sake of the other tests).
HANG_SECONDS = 6.0


async def timed_stop(server: CsmsServer, within: float) -> float:
    """The seconds ``server.stop(within)`` took (at most HANG_SECONDS + 2)."""
    started = time.monotonic()
    stopping = asyncio.ensure_future(server.stop(within))
    await asyncio.wait({stopping}, timeout=HANG_SECONDS + 2)
    return time.monotonic() - started


async def takes_one_cancellation_and_goes_on() -> None:
    """As a task talking to Redis may on Python 3.11 (core/stopping.py)."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()
    await asyncio.sleep(HANG_SECONDS)


async def deaf_to_cancellation(until: float) -> None:
    while time.monotonic() < until:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)


async def test_a_task_that_takes_a_cancellation_and_goes_on_is_cancelled_again(start_csms):
    server = await start_csms()
    spawn(server._tasks, takes_one_cancellation_and_goes_on(), "deaf once")
    assert await timed_stop(server, within=3.0) < 1.0


async def test_a_task_that_does_not_end_is_abandoned_with_a_log_line(start_csms, caplog):
    server = await start_csms()
    deaf_for = 2.0
    spawn(server._tasks, deaf_to_cancellation(time.monotonic() + deaf_for), "deaf")
    (deaf,) = [task for task in server._tasks if task.get_name() == "deaf"]
    assert await timed_stop(server, within=0.3) < deaf_for / 2
    assert "abandoned 1 background tasks that did not end when cancelled: deaf" in caplog.text
    await asyncio.wait({deaf}, timeout=deaf_for)  # before the next stop, the fixture's


async def test_a_last_message_log_write_that_hangs_is_abandoned(start_csms, monkeypatch, caplog):
    server = await start_csms(message_log_flush_seconds=60)
    written = threading.Event()
    released = threading.Event()

    def write_that_hangs(**kwargs: object) -> None:  # a table locked by someone else, say
        written.set()
        released.wait(HANG_SECONDS)

    monkeypatch.setattr(message_log, "ocpp_messages_record", write_that_hangs)
    server.message_log.record(
        charge_point_id="CP-1",
        direction=Direction.RECEIVED,
        frame='[2, "a", "Heartbeat", {}]',
        ocpp_version="1.6",
    )
    try:
        assert await timed_stop(server, within=0.5) < 2.0
        assert written.is_set()
        assert "abandoned writing the OCPP message log's last 1 frames" in caplog.text
    finally:
        released.set()

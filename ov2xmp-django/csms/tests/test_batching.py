from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import connection as db_connection
from django.db.backends.signals import connection_created

from chargepoints.models import ChargePoint
from chargepoints.tests.factories import ChargePointFactory
from csms import batching
from csms.batching import Batcher, FrequentWrites, others_wait_for_connections


class BlockingWrite:
    """A write function whose first call waits until released, so that
    items submitted meanwhile gather into the next batch."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.entered = threading.Event()

    def __call__(self, items: list[str]) -> list[str]:
        self.entered.set()
        if not self.batches:
            self.release.wait(10)
        if "bad" in items:
            raise ValueError("bad item")
        self.batches.append(list(items))
        return [item.upper() for item in items]


async def started(write: BlockingWrite, batcher: Batcher[str, str], item: str) -> asyncio.Task[str]:
    task = asyncio.create_task(batcher.submit(item))
    await asyncio.to_thread(write.entered.wait, 10)
    return task


async def test_items_arriving_during_a_write_are_written_together():
    write = BlockingWrite()
    batcher: Batcher[str, str] = Batcher(write, name="test")
    first = await started(write, batcher, "a")
    rest = [asyncio.create_task(batcher.submit(item)) for item in "bcde"]
    await asyncio.sleep(0.05)
    write.release.set()
    results = await asyncio.gather(first, *rest)
    assert write.batches == [["a"], ["b", "c", "d", "e"]]
    assert results == ["A", "B", "C", "D", "E"]  # each caller gets its own item's result
    await batcher.close()


class RecordingWrite:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, items: list[str]) -> list[str]:
        self.batches.append(list(items))
        return [item.upper() for item in items]


async def test_a_batch_waits_its_gather_time_for_more_items():
    write = RecordingWrite()
    batcher: Batcher[str, str] = Batcher(write, name="test", gather_seconds=0.5)
    first = asyncio.create_task(batcher.submit("a"))
    await asyncio.sleep(0.1)  # well within the first item's gather time
    assert await asyncio.gather(first, batcher.submit("b")) == ["A", "B"]
    assert write.batches == [["a", "b"]]
    await batcher.close()


async def test_without_a_gather_time_each_item_is_written_as_it_comes():
    write = RecordingWrite()
    batcher: Batcher[str, str] = Batcher(write, name="test")
    first = asyncio.create_task(batcher.submit("a"))
    await asyncio.sleep(0.1)
    assert await asyncio.gather(first, batcher.submit("b")) == ["A", "B"]
    assert write.batches == [["a"], ["b"]]
    await batcher.close()


async def test_frequent_writes_gather_for_the_configured_time(settings):
    settings.OV2XMP = dataclasses.replace(settings.OV2XMP, batch_gather_seconds=0.25)
    writes = FrequentWrites()
    assert {batcher.gather_seconds for batcher in writes.batchers()} == {0.25}
    assert len(writes.batchers()) == 9
    await writes.close()


async def test_a_failing_item_fails_alone(caplog):
    write = BlockingWrite()
    batcher: Batcher[str, str] = Batcher(write, name="test")
    first = await started(write, batcher, "a")
    good, bad, other = (asyncio.create_task(batcher.submit(item)) for item in ("b", "bad", "c"))
    await asyncio.sleep(0.05)
    write.release.set()
    assert await asyncio.gather(first, good, other) == ["A", "B", "C"]
    with pytest.raises(ValueError, match="bad item"):
        await bad
    assert write.batches == [["a"], ["b"], ["c"]]
    assert "test: a batch of 3 failed (bad item); writing each alone" in caplog.text
    await batcher.close()


async def test_closing_cancels_whoever_still_waits():
    write = BlockingWrite()
    batcher: Batcher[str, str] = Batcher(write, name="test")
    in_flight = await started(write, batcher, "a")
    queued = asyncio.create_task(batcher.submit("b"))
    await asyncio.sleep(0.05)
    await batcher.close()
    write.release.set()
    for waiter in (in_flight, queued):
        with pytest.raises(asyncio.CancelledError):
            await waiter


async def test_a_caller_that_gives_up_does_not_stop_the_others():
    write = BlockingWrite()
    batcher: Batcher[str, str] = Batcher(write, name="test")
    first = await started(write, batcher, "a")
    leaving = asyncio.create_task(batcher.submit("b"))
    staying = asyncio.create_task(batcher.submit("c"))
    await asyncio.sleep(0.05)
    leaving.cancel()
    write.release.set()
    await asyncio.gather(first, staying)
    # Written all the same: the caller's connection closed, its message arrived.
    assert write.batches == [["a"], ["b", "c"]]
    await batcher.close()


async def test_a_failure_whose_caller_has_gone_is_logged(caplog):
    write = BlockingWrite()
    batcher: Batcher[str, str] = Batcher(write, name="test")
    first = await started(write, batcher, "a")
    leaving = asyncio.create_task(batcher.submit("bad"))
    await asyncio.sleep(0.05)
    leaving.cancel()
    write.release.set()
    await first
    for _ in range(100):  # the batch after the first: written once "a" is
        if "test: writing 'bad' failed" in caplog.text:
            break
        await asyncio.sleep(0.05)
    await batcher.close()
    assert "test: writing 'bad' failed" in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_batched_writes_do_not_wait_behind_the_loops_shared_threads():
    """A burst of per-message work (StartTransaction, say) fills the loop's
    shared thread pool; heartbeats are still written and answered meanwhile."""
    charger = await sync_to_async(ChargePointFactory)()
    loop = asyncio.get_running_loop()
    release = threading.Event()
    busy = [loop.run_in_executor(None, release.wait, 10) for _ in range(64)]
    writes = FrequentWrites()
    try:
        await asyncio.wait_for(writes.heartbeats.submit(charger.id), 5)
        written = await ChargePoint.objects.aget(id=charger.id)
        assert written.last_heartbeat_at is not None
        assert not any(task.done() for task in busy)  # the shared pool was full throughout
    finally:
        release.set()
        await asyncio.gather(*busy)
        await writes.close()


class ConnectionsTaken:
    """Counts the database connections the writer thread takes (Django's
    ``connection_created``: each new connection, each one from the pool)."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> ConnectionsTaken:
        connection_created.connect(self.taken)
        return self

    def __exit__(self, *exc_info: object) -> None:
        connection_created.disconnect(self.taken)

    def taken(self, sender: object, **kwargs: object) -> None:
        if threading.current_thread().name.startswith("batch-"):
            self.count += 1


def querying(items: list[str]) -> list[str]:
    """A write that uses the database, failing on an item "bad"."""
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if "bad" in items:
        raise ValueError("bad item")
    return items


@pytest.mark.django_db(transaction=True)
async def test_a_writer_keeps_its_connection_while_batches_keep_coming():
    batcher: Batcher[str, str] = Batcher(querying, name="test")
    with ConnectionsTaken() as taken:
        for item in "abc":
            assert await batcher.submit(item) == item
    assert taken.count == 1
    await batcher.close()


@pytest.mark.django_db(transaction=True)
async def test_a_writer_gives_its_connection_back_when_idle_or_failing(monkeypatch):
    monkeypatch.setattr(batching, "IDLE_RELEASE_SECONDS", 0.05)
    batcher: Batcher[str, str] = Batcher(querying, name="test")
    with ConnectionsTaken() as taken:
        await batcher.submit("a")
        await asyncio.sleep(0.3)  # idle: given back
        await batcher.submit("b")
        assert taken.count == 2
        with pytest.raises(ValueError, match="bad item"):
            await batcher.submit("bad")  # failed: given back, in case it broke
        await batcher.submit("c")
        assert taken.count == 3
    await batcher.close()


@pytest.mark.django_db(transaction=True)
async def test_a_writer_gives_its_connection_back_when_it_holds_too_long(monkeypatch):
    monkeypatch.setattr(batching, "HOLD_AT_MOST_SECONDS", 0.0)
    batcher: Batcher[str, str] = Batcher(querying, name="test")
    with ConnectionsTaken() as taken:
        for item in "abc":
            await batcher.submit(item)
    assert taken.count == 3
    await batcher.close()


@pytest.mark.skipif(db_connection.vendor != "postgresql", reason="PostgreSQL's pool")
@pytest.mark.django_db(transaction=True)
def test_a_thread_waiting_for_the_pool_is_seen():
    pool = db_connection.pool
    assert not others_wait_for_connections()
    held = [pool.getconn() for _ in range(pool.max_size - pool.get_stats()["pool_size"])]
    held += [pool.getconn() for _ in range(pool.get_stats()["pool_available"])]
    waiting = threading.Thread(target=lambda: pool.putconn(pool.getconn(timeout=10)))
    waiting.start()
    try:
        deadline = time.monotonic() + 5
        while not others_wait_for_connections():
            assert time.monotonic() < deadline, "nobody seen waiting"
            time.sleep(0.01)
    finally:
        for connection in held:
            pool.putconn(connection)
        waiting.join()
    assert not others_wait_for_connections()


def test_a_pool_that_cannot_be_read_gets_the_connection_back(monkeypatch, caplog):
    def unreadable() -> object:
        raise RuntimeError("no pool")

    monkeypatch.setattr(batching.connections, "all", lambda **_: unreadable())
    assert others_wait_for_connections()
    assert "the database pool's state could not be read" in caplog.text

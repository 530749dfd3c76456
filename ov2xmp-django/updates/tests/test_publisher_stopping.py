"""Stopping the live-updates publisher ends, whatever it is doing with Redis
at that moment (core/stopping.py says why that needed care)."""

from __future__ import annotations

import asyncio

from ov2xmp.tests.test_services import REDIS_URL, needs_redis
from updates import interest as interest_module
from updates import publisher

TEST_REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/8"


@needs_redis
async def test_the_publisher_stops_while_it_reads_the_subscriptions(settings, monkeypatch):
    settings.REDIS_URL = TEST_REDIS_URL
    monkeypatch.setattr(interest_module, "REFRESH_SECONDS", 0.0)  # each wake reads Redis
    # Stopped a few turns of the loop after being woken, each time a little
    # later: at some of those moments redis-py is sending its command. On
    # Python 3.11 a single cancellation then went astray and stop() waited for ever.
    for turns in range(30):
        live = publisher.start(asyncio.get_running_loop())
        live.put(())
        for _ in range(turns):
            await asyncio.sleep(0)
        stopping = asyncio.ensure_future(publisher.stop())
        done, _ = await asyncio.wait({stopping}, timeout=3)
        assert stopping in done, f"stop() had not ended 3 s after {turns} turns"

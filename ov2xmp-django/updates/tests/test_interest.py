"""Events go only to groups somebody has announced interest in, as seen by
this process (embedded mode) or through Redis (distributed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import redis
from channels.layers import get_channel_layer

from ov2xmp.tests.test_services import REDIS_URL, needs_redis
from updates import interest as interest_module
from updates import publisher
from updates.events import Topic, charger_event
from updates.interest import Interest, interest

TEST_REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/11"


async def test_only_groups_with_announced_interest_receive_events(monkeypatch):
    live = publisher.start(asyncio.get_running_loop())
    layer = get_channel_layer()
    channel = await layer.new_channel("listener.")
    group = Topic("charger", "CP-QUIET").group
    await layer.group_add(group, channel)
    event = charger_event("charger.booted", charge_point_id="CP-QUIET", at=datetime.now(UTC))
    try:
        live.put([event])
        with pytest.raises(TimeoutError):  # nobody announced it: not sent
            await asyncio.wait_for(layer.receive(channel), 0.3)
        await interest().announce([group])
        live.put([event])
        message = await asyncio.wait_for(layer.receive(channel), 2)
        assert [event["type"] for event in message["events"]] == ["charger.booted"]
        assert message["events"][0]["topic"] == "charger:CP-QUIET"
        # What queued together goes together: one channel-layer message, in order.
        monkeypatch.setattr(publisher, "EVENTS_PER_MESSAGE", 2)
        live.put([event] * 3)
        first = await asyncio.wait_for(layer.receive(channel), 2)
        second = await asyncio.wait_for(layer.receive(channel), 2)
        assert (len(first["events"]), len(second["events"])) == (2, 1)
    finally:
        await layer.group_discard(group, channel)
        await publisher.stop()


async def test_an_announcement_expires(monkeypatch):
    monkeypatch.setattr(interest_module, "TTL_SECONDS", 0.1)
    watched = interest()
    await watched.announce(["updates.expiring"])
    assert watched.wanted("updates.expiring")
    await asyncio.sleep(0.2)
    assert not watched.wanted("updates.expiring")
    assert not watched.wanted("updates.never-announced")


@needs_redis
async def test_with_redis_every_process_sees_the_announcements(settings, monkeypatch):
    settings.REDIS_URL = TEST_REDIS_URL
    redis.Redis.from_url(TEST_REDIS_URL).delete(interest_module.REDIS_KEY)
    subscriber, publisher_side = Interest(), Interest()  # as in two processes
    try:
        assert subscriber.shared
        await subscriber.announce(["updates.charger.a"])
        await publisher_side.refresh()
        assert publisher_side.wanted("updates.charger.a")
        assert not publisher_side.wanted("updates.charger.b")

        monkeypatch.setattr(interest_module, "TTL_SECONDS", -1.0)  # announced already expired
        await subscriber.announce(["updates.charger.gone"])
        monkeypatch.setattr(interest_module, "REFRESH_SECONDS", 0.0)
        await publisher_side.refresh()
        assert not publisher_side.wanted("updates.charger.gone")
        stored = redis.Redis.from_url(TEST_REDIS_URL).hkeys(interest_module.REDIS_KEY)
        assert stored == [b"updates.charger.a"]  # the expired one was removed
    finally:
        await subscriber.close()
        await publisher_side.close()


async def test_frame_events_are_made_only_while_some_client_watches_frames(monkeypatch):
    from asgiref.sync import sync_to_async

    from ocpp_messages import services as log_services
    from updates.events import Topic

    made: list[object] = []
    monkeypatch.setattr(interest_module, "_local", {})  # no other test's subscriptions
    monkeypatch.setattr(log_services, "events_publish", lambda *, events: made.extend(events))
    monkeypatch.setattr(log_services, "insert_rows", lambda model, rows: None)
    live = publisher.start(asyncio.get_running_loop())
    frame = {"charge_point_id": "CP-F", "timestamp": datetime.now(UTC)}
    try:
        await asyncio.sleep(0)  # the publisher runs and knows the subscriptions
        assert live.watches("frames") is False
        await sync_to_async(log_services.ocpp_messages_record)(messages=[frame])
        assert made == []
        await interest().announce([Topic("frames", "CP-OTHER").group])
        assert live.watches("frames") is True
        await sync_to_async(log_services.ocpp_messages_record)(messages=[frame])
        assert len(made) == 1
    finally:
        await publisher.stop()

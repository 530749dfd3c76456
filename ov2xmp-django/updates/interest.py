"""Which groups have subscribers, so that events nobody watches cost nothing.

A channel layer cannot say whether a group has members without a round trip
per group (with Redis, two commands), and the csms would pay that for every
meter value. Instead, subscribers announce the groups they listen to, and a
publisher sends only to those. Embedded mode (one process, in-memory layer)
keeps the announcements in memory; with Redis they are fields of one hash,
each with its expiry, which publishers read every ``REFRESH_SECONDS``.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Iterable

from django.conf import settings
from redis.asyncio import Redis

# How stale a publisher's view of the subscribed groups may be.
REFRESH_SECONDS = 0.5
# An announcement lasts this long; a subscriber renews it well before.
TTL_SECONDS = 60.0
RENEW_SECONDS = 20.0
REDIS_KEY = "ov2xmp:updates:interest"

# Embedded mode: the announcements of this process (its only one).
_local: dict[str, float] = {}
_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Interest] = (
    weakref.WeakKeyDictionary()
)


def interest() -> Interest:
    """This loop's view (a Redis client serves the loop that made it)."""
    loop = asyncio.get_running_loop()
    if loop not in _by_loop:
        _by_loop[loop] = Interest()
    return _by_loop[loop]


class Interest:
    """Subscribed groups, as seen by this process."""

    def __init__(self) -> None:
        self._redis_url = settings.REDIS_URL
        self._expiry: dict[str, float] = {} if self._redis_url else _local
        self._read_at = 0.0
        self._client: Redis | None = None

    @property
    def shared(self) -> bool:
        """Announcements go through Redis (several processes)."""
        return bool(self._redis_url)

    def _redis(self) -> Redis:
        if self._client is None:
            self._client = Redis.from_url(self._redis_url or "")
        return self._client

    async def announce(self, groups: Iterable[str]) -> None:
        expiry = time.time() + TTL_SECONDS
        mapping = dict.fromkeys(groups, expiry)
        if not mapping:
            return
        if self.shared:
            await self._redis().hset(REDIS_KEY, mapping=dict(mapping))  # type: ignore[arg-type]
        else:
            self._expiry.update(mapping)

    async def refresh(self) -> None:
        """Re-read the announcements when the last reading is stale."""
        if not self.shared or time.monotonic() - self._read_at < REFRESH_SECONDS:
            return
        self._read_at = time.monotonic()
        fields = await self._redis().hgetall(REDIS_KEY)
        now = time.time()
        self._expiry = {
            key.decode() if isinstance(key, bytes) else key: float(value)
            for key, value in fields.items()
        }
        expired = [group for group, expiry in self._expiry.items() if expiry < now]
        if expired:
            await self._redis().hdel(REDIS_KEY, *expired)

    def wanted(self, group: str) -> bool:
        return self._expiry.get(group, 0.0) >= time.time()

    def any_wanted(self, prefix: str) -> bool:
        """Whether a group whose name starts with ``prefix`` is wanted; safe
        from another thread (should the groups change meanwhile: yes)."""
        now = time.time()
        try:
            return any(
                group.startswith(prefix) and expiry >= now
                for group, expiry in list(self._expiry.items())
            )
        except RuntimeError:  # changed while copied
            return True

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

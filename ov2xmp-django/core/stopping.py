"""Waits with a bound, for stopping a process: what has not ended in time is
left running (abandoned), and the caller logs what it was.

Cancelling a task once is not always enough on Python 3.11: there,
``asyncio.wait_for`` loses a cancellation that arrives just as what it awaits
completes (CPython gh-86296, fixed in 3.12), and redis-py sends every command
through it. A task talking to Redis (the channel layer's ``receive``, the
live-updates publisher) could take the cancellation and go on for ever, and a
csms process waiting for it never ended (docs/adr/0014).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any

# How often a task still running after its cancellation is cancelled again.
RECANCEL_SECONDS = 0.2


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], *, within: float
) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` and wait at most ``within`` seconds for them to end,
    cancelling again every ``RECANCEL_SECONDS`` those still running. Returns
    those that had not ended (abandoned)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(RECANCEL_SECONDS, remaining))
    return pending


async def finished_within(awaitable: Awaitable[Any], *, seconds: float) -> bool:
    """Whether ``awaitable`` finished within ``seconds`` (an exception
    it raised is raised here). If not, it is left running, not cancelled:
    what hangs may hang in its cancellation as well."""
    future = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({future}, timeout=max(seconds, 0.0))
    if not done:
        return False
    future.result()
    return True

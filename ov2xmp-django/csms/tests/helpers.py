from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], *, within: float = 5.0) -> T:
    """Await ``check`` until it returns a truthy value (server-side work such as
    marking a closed connection offline runs after the client has moved on)."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            assert result, f"condition not met within {within}s"
            return result
        await asyncio.sleep(0.02)


async def is_offline(charge_point_id: str) -> bool:
    from chargepoints.models import ChargePoint

    # The row may not exist yet: the server records the connection on a
    # thread of its own, possibly after the client has moved on.
    return await ChargePoint.objects.filter(id=charge_point_id, is_connected=False).aexists()


async def boot_201(charger) -> object:
    """Boot an OCPP 2.0.1 simulated charger (accepted unless told otherwise)."""
    from ocpp.v201 import call

    return await charger.call(
        call.BootNotification(
            charging_station={
                "model": "DC-150",
                "vendor_name": "Acme",
                "serial_number": "SN-201",
                "firmware_version": "4.5.6",
                "modem": {"iccid": "8931", "imsi": "2040"},
            },
            reason="PowerUp",
        )
    )


async def in_thread(function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run sync code (the API client, the ORM) in a worker thread of its own,
    as daphne runs a request, so that it may wait while the csms on this
    event loop works. Its database connection is closed at the end."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    def run() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await sync_to_async(run, thread_sensitive=False)()

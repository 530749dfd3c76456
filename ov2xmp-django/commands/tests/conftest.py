from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.v16 import call as call16

from commands.tests.charger import ANSWERING
from csms.server import CsmsServer
from csms.simulator import simulated_charger
from csms.tests.helpers import boot_201


async def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run sync code (the API client, the ORM) in a worker thread of its own,
    as daphne runs a request, so that it may wait while the csms on this
    event loop works."""

    def run() -> Any:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await sync_to_async(run, thread_sensitive=False)()


@pytest.fixture
def send(api):
    """POST a command through the API: ``await send("ocpp16", "Reset", "CP-1", {...})``."""

    async def send(
        segment: str, action: str, charge_point: str, payload: Any, **options: Any
    ) -> Any:
        body = {"charge_point": charge_point, "payload": payload, **options}
        return await in_thread(api.post, f"/api/commands/{segment}/{action}/", body)

    return send


@pytest.fixture
def connect():
    """Connect an answering charger to a CSMS and boot it (accepted)."""

    @contextlib.asynccontextmanager
    async def connect(
        server: CsmsServer, charge_point_id: str, version: str = "ocpp1.6", **options: Any
    ) -> AsyncIterator[Any]:
        async with simulated_charger(
            server.url, charge_point_id, subprotocols=(version,), simulators=ANSWERING, **options
        ) as charger:
            if version == "ocpp1.6":
                await charger.call(
                    call16.BootNotification(charge_point_model="M", charge_point_vendor="V")
                )
            else:
                await boot_201(charger)
            yield charger

    return connect

from __future__ import annotations

from typing import Any

import pytest

from commands.tests.charger import answering_charger
from csms.server import CsmsServer
from csms.tests.helpers import in_thread


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
    """Connect an answering charger to a CSMS server and boot it (accepted)."""

    def connect(server: CsmsServer, charge_point_id: str, version: str = "ocpp1.6", **options):
        return answering_charger(server.url, charge_point_id, version, **options)

    return connect

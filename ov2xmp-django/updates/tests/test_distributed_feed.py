"""Live updates in distributed mode: the feed client is connected to
``ov2xmp web``, the events come from the processes where things happen (the
csms holding the charger, the Celery worker routing a command, the web
process queuing it), through Redis."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from commands.tests.charger import answering_charger

# database_url is a fixture; pytestmark (slow, needs Redis and PostgreSQL) applies here too.
from commands.tests.test_distributed import (  # noqa: F401
    RESET,
    database_url,
    logged_in,
    prepared_env,
    pytestmark,
    stop_all,
)
from core.testing import free_port
from ov2xmp.tests.test_services import start


def test_events_reach_the_feed_from_every_process(tmp_path, database_url):  # noqa: F811
    env = prepared_env(tmp_path, database_url, redis_db=10)
    ocpp_port, api_port = free_port(), free_port()
    processes = [
        start(["csms", "--ocpp-port", str(ocpp_port)], env, "Stop with Ctrl+C"),
        start(["worker", "--pool", "solo"], env, "ready."),
        start(["web", "--api-port", str(api_port)], env, "Stop with Ctrl+C"),
    ]
    try:
        api = logged_in(api_port)
        asyncio.run(_scenario(api, api_port, f"ws://127.0.0.1:{ocpp_port}/ws/ocpp/"))
    finally:
        stop_all(processes)


async def _scenario(api, api_port: int, ocpp_url: str) -> None:
    feed_url = f"ws://127.0.0.1:{api_port}/ws/updates/?token={api.token}"
    async with connect(feed_url, open_timeout=10) as feed:
        assert json.loads(await feed.recv())["type"] == "authenticated"
        for topic in ("chargers", "commands"):
            await feed.send(json.dumps({"type": "subscribe", "topic": topic}))
            assert json.loads(await feed.recv()) == {"type": "subscribed", "topic": topic}

        async def next_event(kind: str) -> dict:
            while True:
                message = json.loads(await asyncio.wait_for(feed.recv(), 15))
                if message["type"] == kind:
                    return message

        # From the csms process.
        async with answering_charger(ocpp_url, "CP-D"):
            assert (await next_event("charger.connected"))["charger_id"] == "CP-D"
            status, body = await api.send("Reset", RESET)
            assert status == 200, body
            queued = await next_event("command.queued")  # from the web process
            finished = await next_event("command.finished")  # from the csms process
            assert queued["command_id"] == finished["command_id"] == body["id"]
            assert finished["data"] == {"action": "Reset", "status": "Answered"}
        assert (await next_event("charger.disconnected"))["charger_id"] == "CP-D"

        # Offline: the worker's routing task finds nobody holds it.
        status, body = await api.send("Reset", RESET)
        assert status == 409, body
        refused = await next_event("command.finished")
        assert (refused["command_id"], refused["data"]["status"]) == (body["id"], "NotConnected")

"""The command path in distributed mode, as deployed: PostgreSQL and Redis,
two ``ov2xmp csms`` processes, an ``ov2xmp worker`` (Celery) and the API in
``ov2xmp web``, each a separate OS process. The charger is a real websocket
client; the command goes API → task in the worker → Redis channel layer → the
csms process holding the charger → charger, and back through PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import redis
from django.conf import settings

from chargepoints.models import ChargePoint
from commands.tests.charger import answering_charger
from config.env import database_from_url
from core.testing import free_port
from ov2xmp.tests.test_services import REDIS_URL, needs_redis, run, service_env, start, stop

pytestmark = [
    pytest.mark.slow,
    needs_redis,
    # One run is enough: the test makes its own PostgreSQL database, so it
    # runs in the PostgreSQL pass of the suite only.
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="needs PostgreSQL (runs in the suite's PostgreSQL pass)",
    ),
]

RESET = {"type": "Soft"}


@pytest.fixture
def database_url() -> Iterator[str]:
    """A database of its own, shared by the test's processes, dropped after."""
    server = database_from_url(
        os.environ.get("OV2XMP_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ov2xmp")
    )
    name = f"ov2xmp_distributed_{uuid.uuid4().hex[:8]}"
    options = {
        "user": server["USER"],
        "password": server["PASSWORD"] or None,
        "host": server["HOST"] or None,
        "port": server["PORT"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **options) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    user = server["USER"]
    password = f":{server['PASSWORD']}" if server["PASSWORD"] else ""
    try:
        yield f"postgres://{user}{password}@{server['HOST']}:{server['PORT'] or 5432}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **options) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""

    def request(self, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {self.token}"} if self.token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    async def send(self, action: str, payload: Any, **options: Any) -> tuple[int, Any]:
        body = {"charge_point": "CP-D", "payload": payload, "wait": 15, **options}
        return await asyncio.to_thread(self.request, f"/api/commands/ocpp16/{action}/", body)

    async def get(self, path: str) -> Any:
        status, body = await asyncio.to_thread(self.request, path)
        assert status == 200, body
        return body


def prepared_env(tmp_path, database_url: str, *, redis_db: int) -> dict[str, str]:
    """The services' environment, on a migrated database with a user, and a
    Redis database of the test's own (tests may run side by side)."""
    redis_url = REDIS_URL.rsplit("/", 1)[0] + f"/{redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    env = service_env(tmp_path, OV2XMP_DATABASE_URL=database_url, OV2XMP_REDIS_URL=redis_url)
    migrated = run(["manage", "migrate", "--noinput"], env)
    assert migrated.returncode == 0, migrated.stderr
    created = run(
        [
            "manage",
            "shell",
            "-c",
            "from accounts.models import User; "
            "User.objects.create_superuser('ops', password='pw-ops-12345')",
        ],
        env,
    )
    assert created.returncode == 0, created.stderr
    return env


def logged_in(api_port: int) -> Api:
    api = Api(f"http://127.0.0.1:{api_port}")
    status, tokens = api.request("/api/token/", {"username": "ops", "password": "pw-ops-12345"})
    assert status == 200, tokens
    api.token = tokens["access"]
    return api


def stop_all(processes: list[Any]) -> list[int | None]:
    return [
        stop(process, signal.SIGTERM if process.args[1] != "worker" else signal.SIGINT)
        for process in processes
    ]


def test_commands_cross_processes_through_redis_and_postgresql(tmp_path, database_url):
    env = prepared_env(tmp_path, database_url, redis_db=14)
    ports = {name: free_port() for name in ("a", "b", "api")}
    processes = [
        start(["csms", "--ocpp-port", str(ports["a"])], env, "Stop with Ctrl+C"),
        start(["csms", "--ocpp-port", str(ports["b"])], env, "Stop with Ctrl+C"),
        start(["worker", "--pool", "solo"], env, "ready."),
        start(["web", "--api-port", str(ports["api"])], env, "Stop with Ctrl+C"),
    ]
    try:
        api = logged_in(ports["api"])
        asyncio.run(_scenario(api, *(f"ws://127.0.0.1:{ports[n]}/ws/ocpp/" for n in "ab")))
    finally:
        stop_all(processes)


def test_one_csms_command_in_several_processes_shares_the_port(tmp_path, database_url):
    """``ov2xmp csms --processes 2``: the chargers spread over both processes
    (one port), and each is reachable for commands wherever it landed."""
    env = prepared_env(tmp_path, database_url, redis_db=12)
    ocpp_port, api_port = free_port(), free_port()
    processes = [
        start(
            ["csms", "--processes", "2", "--ocpp-port", str(ocpp_port)],
            env,
            "(2 csms processes)",
        ),
        start(["worker", "--pool", "solo"], env, "ready."),
        start(["web", "--api-port", str(api_port)], env, "Stop with Ctrl+C"),
    ]
    try:
        api = logged_in(api_port)
        url = f"ws://127.0.0.1:{ocpp_port}/ws/ocpp/"
        channels = asyncio.run(_spread(api, url, database_url, 16))
    finally:
        exit_codes = stop_all(processes)
    assert len(channels) == 2, channels  # both processes took chargers
    assert exit_codes[0] == 0, exit_codes  # and stopped cleanly with their parent


async def _spread(api: Api, url: str, database_url: str, count: int) -> set[str]:
    """Connect ``count`` chargers at once, send each a Reset through the API;
    the csms channels that held them."""
    ids = [f"CP-P{n}" for n in range(count)]
    async with contextlib.AsyncExitStack() as stack:
        chargers = await asyncio.gather(
            *(stack.enter_async_context(answering_charger(url, cid)) for cid in ids)
        )
        for charger_id, charger in zip(ids, chargers, strict=True):
            body = {"charge_point": charger_id, "payload": RESET, "wait": 15}
            status, answer = await asyncio.to_thread(
                api.request, "/api/commands/ocpp16/Reset/", body
            )
            assert (status, answer["status"]) == (200, "Answered"), answer
            assert charger.requests("Reset") == [RESET]
        listed = await api.get(f"/api/chargepoints/?page_size={count}")
        rows = {row["id"]: row for row in listed["results"]}
        assert all(rows[cid]["is_connected"] for cid in ids), rows
        with psycopg.connect(database_url) as connection:
            held_by = connection.execute(
                f"SELECT csms_channel FROM {ChargePoint._meta.db_table} WHERE id = ANY(%s)",
                [ids],
            ).fetchall()
    assert all(channel for (channel,) in held_by), held_by
    return {channel for (channel,) in held_by}


async def _scenario(api: Api, url_a: str, url_b: str) -> None:
    # Through the process holding the charger.
    async with answering_charger(url_a, "CP-D") as charger:
        status, body = await api.send("Reset", RESET)
        assert (status, body["status"]) == (200, "Answered"), body
        assert charger.requests("Reset") == [RESET]

    # The charger moves to the other process: reachable there at once.
    async with answering_charger(url_b, "CP-D") as charger:
        charger.answers["GetConfiguration"] = {"configurationKey": []}
        status, body = await api.send("GetConfiguration", {})
        assert (status, body["status"]) == (200, "Answered"), body
        assert charger.requests("GetConfiguration") == [{}]

    # Offline: refused at once, or held until it reconnects (to either process).
    status, body = await api.send("Reset", RESET)
    assert (status, body["status"]) == (409, "NotConnected"), body
    status, held = await api.send("ClearCache", {}, hold_seconds=120)
    assert (status, held["status"]) == (202, "Held"), held
    async with answering_charger(url_a, "CP-D") as charger:
        for _ in range(200):
            outcome = await api.get(f"/api/commands/{held['id']}/")
            if outcome["status"] == "Answered":
                break
            await asyncio.sleep(0.05)
        assert outcome["status"] == "Answered", outcome
        # Delivered once, and only the held command.
        assert [action for action, _ in charger.received] == ["ClearCache"]

    listed = await api.get("/api/commands/?charge_point=CP-D")
    assert [row["status"] for row in listed["results"]] == [
        "Answered",
        "NotConnected",
        "Answered",
        "Answered",
    ]

"""``ov2xmp up`` started as a user starts it: a separate process, with a
simulated charger on its OCPP port and an HTTP client on its API."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from ocpp.v16 import call

from core.testing import free_port
from csms.simulator import simulated_charger
from ov2xmp.tests.platform import OV2XMP, Platform, http_put, start_platform, stop_platform

pytestmark = pytest.mark.slow


@pytest.fixture
def platform(tmp_path) -> Iterator[Platform]:
    started = start_platform(
        tmp_path, OV2XMP_ADMIN_USERNAME="root", OV2XMP_ADMIN_PASSWORD="a-long-secret-9"
    )
    try:
        yield started
    finally:
        if started.process.poll() is None:
            stop_platform(started)


def test_up_prints_where_everything_is(platform):
    text = "".join(platform.output)
    assert f"chargers: {platform.ocpp}<charger_id>" in text
    assert f"dashboard: {platform.api}/ " in text
    assert f"API:      {platform.api}/api/" in text
    assert f"Swagger:  {platform.api}/api/docs/" in text
    assert "Created administrator 'root' from OV2XMP_ADMIN_*" in text


def test_what_a_charger_reports_is_visible_in_the_api_within_a_second(platform):
    token = platform.request(
        "/api/token/", body={"username": "root", "password": "a-long-secret-9"}
    )["access"]

    async def charge() -> int:
        async with simulated_charger(platform.ocpp, "CP-E2E") as charger:
            await charger.call(
                call.BootNotification(charge_point_model="E2E", charge_point_vendor="Acme")
            )
            await charger.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
            )
            started = await charger.call(
                call.StartTransaction(
                    connector_id=1, id_tag="ANY", meter_start=100, timestamp="2026-11-23T10:00:00Z"
                )
            )
            await charger.call(
                call.StopTransaction(
                    meter_stop=1100,
                    timestamp="2026-11-23T11:00:00Z",
                    transaction_id=started.transaction_id,
                )
            )
            return int(started.transaction_id)

    transaction_id = asyncio.run(charge())
    reported = time.monotonic()

    charger = platform.request("/api/chargepoints/CP-E2E/", token=token)
    assert (charger["vendor"], charger["model"], charger["ocpp_version"]) == ("Acme", "E2E", "1.6")
    assert charger["evses"][0]["connectors"][0]["status"] == "Charging"
    session = platform.request(f"/api/transactions/{transaction_id}/", token=token)
    assert (session["status"], session["energy_wh"]) == ("Ended", "1000.000")
    while True:
        frames = platform.request("/api/ocpp-messages/?charge_point=CP-E2E", token=token)
        if frames["count"] == 8 or time.monotonic() - reported > 1:
            break
        time.sleep(0.05)
    assert frames["count"] == 8, "all 8 frames logged within a second"
    assert time.monotonic() - reported <= 1.5

    assert stop_platform(platform) == 0


def test_a_command_reaches_a_charger_and_its_answer_comes_back(platform):
    """The embedded path: a request thread of daphne, the in-process task, the
    in-memory channel layer and the csms on the same event loop."""
    from commands.tests.charger import answering_charger

    token = platform.request(
        "/api/token/", body={"username": "root", "password": "a-long-secret-9"}
    )["access"]

    async def reset() -> tuple[Any, list[Any]]:
        async with answering_charger(platform.ocpp, "CP-CMD") as charger:
            charger.answers["Reset"] = {"status": "Accepted"}
            answer = await asyncio.to_thread(
                platform.request,
                "/api/commands/ocpp16/Reset/",
                token=token,
                body={"charge_point": "CP-CMD", "payload": {"type": "Hard"}},
            )
            return answer, charger.received

    answer, received = asyncio.run(reset())
    assert (answer["status"], answer["response"]) == ("Answered", {"status": "Accepted"})
    assert received == [("Reset", {"type": "Hard"})]


def test_diagnostics_arrive_over_http_in_the_embedded_mode(tmp_path):
    from commands.tests.charger import answering_charger

    platform = start_platform(
        tmp_path,
        OV2XMP_ADMIN_USERNAME="root",
        OV2XMP_ADMIN_PASSWORD="a-long-secret-9",
        OV2XMP_UPLOAD_PROTOCOL="http",
    )
    try:
        token = platform.request(
            "/api/token/", body={"username": "root", "password": "a-long-secret-9"}
        )["access"]
        data = b"diagnostics\n" * 10_000

        async def diagnostics() -> Any:
            async with answering_charger(platform.ocpp, "CP-HTTP") as charger:
                charger.answers["GetDiagnostics"] = {"fileName": "diag.txt"}
                requested = await asyncio.to_thread(
                    platform.request,
                    "/api/file-requests/",
                    token=token,
                    body={"charge_point": "CP-HTTP", "kind": "Diagnostics"},
                )
                location = charger.requests("GetDiagnostics")[0]["location"]
                assert location.startswith("http://")
                assert await asyncio.to_thread(http_put, location, "diag.txt", data) == 201
                return requested

        requested = asyncio.run(diagnostics())
        done = platform.request(f"/api/file-requests/{requested['id']}/", token=token)
        assert done["status"] == "Received"
        assert (done["file"]["size"], done["file"]["sha256"]) == (
            len(data),
            hashlib.sha256(data).hexdigest(),
        )
    finally:
        stop_platform(platform)


def test_a_generated_admin_password_is_printed_once(tmp_path):
    first = start_platform(tmp_path)
    try:
        text = "".join(first.output)
        assert "Created administrator 'admin' with password: " in text
        password = text.split("with password: ", 1)[1].split()[0]
        token = first.request("/api/token/", body={"username": "admin", "password": password})
        assert token["access"]
    finally:
        assert stop_platform(first) == 0

    second = start_platform(tmp_path)
    try:
        assert "with password:" not in "".join(second.output)
    finally:
        assert stop_platform(second) == 0


def test_a_taken_port_is_reported(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = subprocess.run(
            [OV2XMP, "up", "--api-port", str(free_port()), "--ocpp-port", str(port)],
            env={k: v for k, v in os.environ.items() if not k.startswith("OV2XMP_")}
            | {"OV2XMP_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert completed.returncode != 0
    assert f"cannot listen for OCPP on 127.0.0.1:{port}" in completed.stderr


def test_a_bad_setting_stops_the_start_with_its_name(tmp_path):
    completed = subprocess.run(
        [OV2XMP, "up"],
        env={k: v for k, v in os.environ.items() if not k.startswith("OV2XMP_")}
        | {"OV2XMP_DATA_DIR": str(tmp_path), "OV2XMP_HEARTBEAT_INTERVAL": "often"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode != 0
    assert "OV2XMP_HEARTBEAT_INTERVAL='often': expected a whole number" in completed.stderr

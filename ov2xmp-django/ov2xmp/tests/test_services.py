"""Each ``ov2xmp`` service of the distributed mode, started as a process the
way the compose files start it."""

from __future__ import annotations

import asyncio
import ftplib
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
from ocpp.v16 import call

from core.testing import free_port
from csms.simulator import simulated_charger
from ov2xmp.tests.test_up import OV2XMP

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("OV2XMP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(
    not redis_answers() and os.environ.get("CI") != "true",
    reason=f"no Redis at {REDIS_URL} (set OV2XMP_TEST_REDIS_URL)",
)


def service_env(data_dir: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OV2XMP_")}
    return clean | {"OV2XMP_DATA_DIR": str(data_dir), **extra}


def run(arguments: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OV2XMP, *arguments], env=env, capture_output=True, text=True, timeout=120
    )


def start(arguments: list[str], env: dict[str, str], ready: str) -> subprocess.Popen[str]:
    """Start a service and wait (bounded) for the line that says it is ready."""
    process = subprocess.Popen(
        [OV2XMP, *arguments], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if ready in line:
            return process
    process.kill()
    raise AssertionError(f"{arguments} never said {ready!r}:\n{''.join(seen)}")


def stop(process: subprocess.Popen[str], signum: int = signal.SIGTERM) -> int | None:
    """Ask a service to stop; kill it if it has not within 30 s (returns None
    then, so that tests that check a clean shutdown fail)."""
    process.send_signal(signum)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def test_csms_and_web_run_as_separate_processes_on_one_database(tmp_path):
    env = service_env(tmp_path, OV2XMP_ADMIN_USERNAME="ops", OV2XMP_ADMIN_PASSWORD="pw-ops-12345")
    migrated = run(["manage", "migrate", "--noinput"], env)
    assert migrated.returncode == 0, migrated.stderr
    ocpp_port, api_port = free_port(), free_port()
    csms = start(["csms", "--ocpp-port", str(ocpp_port)], env, "Stop with Ctrl+C")
    web = start(["web", "--api-port", str(api_port)], env, "Stop with Ctrl+C")
    try:

        async def boot() -> str:
            url = f"ws://127.0.0.1:{ocpp_port}/ws/ocpp/"
            async with simulated_charger(url, "CP-DIST") as charger:
                reply = await charger.call(
                    call.BootNotification(charge_point_model="D", charge_point_vendor="V")
                )
                return str(reply.status)

        assert asyncio.run(boot()) == "Accepted"
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/api/", timeout=10) as response:
            assert response.status == 200
    finally:
        assert stop(csms) == 0
        stop(web)


def test_ftp_runs_as_a_process_of_its_own(tmp_path):
    env = service_env(tmp_path)
    migrated = run(["manage", "migrate", "--noinput"], env)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    ftp = start(["ftp", "--ftp-port", str(port)], env, "Stop with Ctrl+C")
    try:
        client = ftplib.FTP()
        greeting = client.connect("127.0.0.1", port, timeout=10)
        assert greeting.startswith("220 O-V2X-MP file service")
        with pytest.raises(ftplib.error_perm, match="530"):
            client.login("nobody", "nothing")
        client.close()
    finally:
        assert stop(ftp) == 0


def test_http_files_serves_uploads_and_nothing_else(tmp_path):
    env = service_env(tmp_path, OV2XMP_UPLOAD_MAX_BYTES="2048")
    migrated = run(["manage", "migrate", "--noinput"], env)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    server = start(["http-files", "--http-files-port", str(port)], env, "Stop with Ctrl+C")
    base = f"http://127.0.0.1:{port}"

    def status(path: str, **options: Any) -> int:
        request = urllib.request.Request(base + path, **options)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    try:
        assert status("/api/") == 404
        assert status("/files/upload/unone/x.bin", data=b"x", method="PUT") == 401
        # Refused by its declared size, before any credentials are looked at.
        assert status("/files/upload/unone/x.bin", data=b"x" * 4096, method="PUT") == 413
    finally:
        assert stop(server) == 0


def test_worker_without_a_broker_says_what_to_do(tmp_path):
    completed = run(["worker"], service_env(tmp_path))
    assert completed.returncode != 0
    assert "set OV2XMP_REDIS_URL" in completed.stderr


def test_csms_in_several_processes_needs_redis_and_a_fixed_port(tmp_path):
    alone = run(["csms", "--processes", "2", "--ocpp-port", "9999"], service_env(tmp_path))
    assert alone.returncode != 0
    assert "OV2XMP_CSMS_PROCESSES > 1 needs OV2XMP_REDIS_URL" in alone.stderr
    any_port = run(
        ["csms", "--processes", "2", "--ocpp-port", "0"],
        service_env(tmp_path, OV2XMP_REDIS_URL=REDIS_URL),
    )
    assert any_port.returncode != 0
    assert "needs a fixed OCPP port, not 0" in any_port.stderr


@needs_redis
def test_csms_processes_that_cannot_listen_stop_with_an_error(tmp_path):
    """The port is held by another program (without SO_REUSEPORT): every
    child fails to listen, and the parent says so and exits non-zero."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        completed = run(
            ["csms", "--processes", "2", "--ocpp-port", str(port)],
            service_env(tmp_path, OV2XMP_REDIS_URL=REDIS_URL),
        )
    assert completed.returncode != 0
    assert "cannot listen for OCPP" in completed.stderr
    assert "a csms process failed as it started" in completed.stderr
    assert time.monotonic() - started < 30  # not after the whole readiness wait


@needs_redis
def test_worker_and_beat_start_with_redis(tmp_path):
    env = service_env(tmp_path, OV2XMP_REDIS_URL=REDIS_URL)
    worker = start(["worker", "--concurrency", "1", "--pool", "solo"], env, "ready.")
    try:
        pong = run(["manage", "shell", "--verbosity", "0", "-c", PING_WORKERS], env)
        assert "pong" in pong.stdout, pong.stderr
    finally:
        stop(worker, signal.SIGINT)
    beat = start(["beat", "--schedule", str(tmp_path / "beat-schedule")], env, "beat: Starting")
    # Only the start is under test: Celery beat has been seen (once, in CI) to
    # ignore a SIGINT that arrives while it is still opening its schedule.
    stop(beat, signal.SIGTERM)


PING_WORKERS = "from config.celery import app; print(app.control.ping(timeout=5))"


@needs_redis
def test_redis_channel_layer_carries_messages(tmp_path):
    script = (
        "import asyncio; from channels.layers import get_channel_layer\n"
        "layer = get_channel_layer(); print(type(layer).__name__)\n"
        "async def roundtrip():\n"
        "    name = await layer.new_channel()\n"
        "    await layer.send(name, {'type': 'probe', 'n': 7})\n"
        "    print((await layer.receive(name))['n'])\n"
        "asyncio.run(roundtrip())"
    )
    env = service_env(tmp_path, OV2XMP_REDIS_URL=REDIS_URL)
    completed = run(["manage", "shell", "--verbosity", "0", "-c", script], env)
    assert completed.stdout.split() == ["RedisChannelLayer", "7"], completed.stderr


def test_a_health_check_of_a_service_that_is_down_fails_with_the_reason(tmp_path):
    port = free_port()
    down = run(["health", "csms", "--ocpp-port", str(port)], service_env(tmp_path))
    assert down.returncode == 1
    assert f"ov2xmp health csms: port {port}:" in down.stderr
    web = run(["health", "web", "--api-port", str(port)], service_env(tmp_path))
    assert web.returncode == 1
    assert "ov2xmp health web: /healthz/:" in web.stderr


def test_csms_ends_tls_itself_when_given_a_certificate(tmp_path):
    from websockets.exceptions import InvalidHandshake

    from csms.tests.tls import make_pki

    pki = make_pki(tmp_path / "pki")
    env = service_env(
        tmp_path,
        OV2XMP_OCPP_TLS_CERTIFICATE=str(pki.server_certificate),
        OV2XMP_OCPP_TLS_PRIVATE_KEY=str(pki.server_key),
    )
    assert run(["manage", "migrate", "--noinput"], env).returncode == 0
    port = free_port()
    csms = start(["csms", "--ocpp-port", str(port)], env, f"wss://127.0.0.1:{port}/ws/ocpp/")
    try:

        async def boot(url: str, **options) -> str:
            async with simulated_charger(url, "CP-TLS", **options) as charger:
                reply = await charger.call(
                    call.BootNotification(charge_point_model="T", charge_point_vendor="V")
                )
                return str(reply.status)

        tls = pki.client_context()
        assert asyncio.run(boot(f"wss://127.0.0.1:{port}/ws/ocpp/", ssl=tls)) == "Accepted"
        with pytest.raises(InvalidHandshake, match="did not receive a valid HTTP response"):
            asyncio.run(boot(f"ws://127.0.0.1:{port}/ws/ocpp/"))  # plain ws:// is not served
    finally:
        assert stop(csms) == 0


def test_a_serving_process_freezes_its_startup_objects_and_collects_less_often():
    import gc

    from ov2xmp.services import GC_THRESHOLDS, freeze_startup_objects

    before = gc.get_threshold()
    try:
        freeze_startup_objects()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert GC_THRESHOLDS[0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)

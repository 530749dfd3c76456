"""The distributed deployment behind the real Caddy, as docker-compose-prod.yml
runs it, each service a separate OS process on loopback: PostgreSQL and Redis
(this machine's), two csms processes on one port, the web process, a Celery
worker and beat, the FTP and HTTP file services, and Caddy with
caddy/Caddyfile-prod, its internal CA serving https://localhost.

Chargers connect over wss:// through Caddy with each security profile, an
operator provisions them and sends a command over HTTPS, a charger uploads
its diagnostics through Caddy, and a live-update client hears of it all."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import os
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from commands.tests.charger import answering_charger
from commands.tests.test_distributed import (  # noqa: F401  (database_url is a fixture)
    database_url,
    prepared_env,
    pytestmark,
)
from core.testing import free_port
from csms.tests.tls import make_pki
from ov2xmp.tests.platform import http_put
from ov2xmp.tests.test_services import run, start, stop

CADDY = shutil.which("caddy") or "/usr/bin/caddy"
REPOSITORY = Path(__file__).resolve().parents[3]
RESET = {"type": "Soft"}


@pytest.fixture
def caddy_binary() -> str:
    if not Path(CADDY).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Caddy at {CADDY} (.ci/run installs Debian's caddy)")
        pytest.skip("Debian's caddy is not installed: apt-get install caddy")
    return CADDY


class Https:
    """The API through Caddy, trusting Caddy's internal CA."""

    def __init__(self, base: str, context: ssl.SSLContext) -> None:
        self.base, self.context, self.token = base, context, ""

    def request(self, path: str, body: Any = None, method: str | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {self.token}"} if self.token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.context) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    async def call(self, path: str, body: Any = None) -> tuple[int, Any]:
        return await asyncio.to_thread(self.request, path, body)


def start_caddy(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start Caddy and wait until it serves HTTPS. Ports other than the HTTPS
    one (which the services already name) are chosen again if taken meanwhile:
    free_port() only says a port was free a moment ago."""
    log = tmp_path / "caddy.log"
    for _attempt in range(3):
        process = subprocess.Popen(
            [
                CADDY,
                "run",
                "--adapter",
                "caddyfile",
                "--config",
                str(REPOSITORY / "caddy/Caddyfile-prod"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        if _serving(process, env):
            return process
        process.kill()
        process.wait()
        if "address already in use" not in log.read_text():
            break
        env["OV2XMP_CADDY_HTTP_PORT"] = str(free_port())
        env["OV2XMP_CADDY_LEGACY_WS_PORT"] = str(free_port())
    raise AssertionError("Caddy did not start:\n" + log.read_text()[-3000:])


def _serving(process: subprocess.Popen[bytes], env: dict[str, str]) -> bool:
    root = Path(env["XDG_DATA_HOME"]) / "caddy/pki/authorities/local/root.crt"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if root.exists():
            with contextlib.suppress(OSError, ssl.SSLError):
                context = ssl.create_default_context(cafile=root)
                port = int(env["OV2XMP_CADDY_HTTPS_PORT"])
                urllib.request.urlopen(
                    f"https://localhost:{port}/login/", context=context, timeout=5
                )
                return True
        time.sleep(0.2)
    return False


def test_the_platform_behind_caddy_with_every_security_profile(
    tmp_path,
    database_url,  # noqa: F811
    caddy_binary,
):
    pki = make_pki(tmp_path / "pki")
    ports: dict[str, int] = {}
    for name in ("ocpp", "api", "files", "ftp", "https", "http", "legacy"):
        while (port := free_port()) in ports.values():  # the system may hand one out twice
            pass
        ports[name] = port
    public = f"https://localhost:{ports['https']}"
    env = prepared_env(tmp_path, database_url, redis_db=9) | {
        "OV2XMP_TRUSTED_PROXIES": "127.0.0.1",
        "OV2XMP_TRUST_PROXY_HEADERS": "true",
        "OV2XMP_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "OV2XMP_UPLOAD_PROTOCOL": "http",
        "OV2XMP_HTTP_FILES_PUBLIC_URL": public,
    }
    caddy_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "caddy-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "caddy-config"),
        "OV2XMP_PUBLIC_HOSTNAME": "localhost",
        "OV2XMP_CADDY_ADMIN": "off",
        "OV2XMP_CADDY_HTTPS_PORT": str(ports["https"]),
        "OV2XMP_CADDY_HTTP_PORT": str(ports["http"]),
        "OV2XMP_CHARGER_CERTIFICATES": "verify",
        "OV2XMP_LEGACY_WS": "on",
        "OV2XMP_CADDY_LEGACY_WS_PORT": str(ports["legacy"]),
        "OV2XMP_CHARGER_CA_CERTIFICATE": str(pki.ca.certificate_path),
        "OV2XMP_WEB_UPSTREAM": f"127.0.0.1:{ports['api']}",
        "OV2XMP_CSMS_UPSTREAM": f"127.0.0.1:{ports['ocpp']}",
        "OV2XMP_FILES_UPSTREAM": f"127.0.0.1:{ports['files']}",
    }
    services = [
        (["csms", "--processes", "2", "--ocpp-port", str(ports["ocpp"])], "csms processes)"),
        (["web", "--api-port", str(ports["api"])], "Stop with Ctrl+C"),
        (["worker", "--pool", "solo"], "ready."),
        (["beat", "--schedule", str(tmp_path / "beat-schedule")], "beat: Starting"),
        (["http-files", "--http-files-port", str(ports["files"])], "Stop with Ctrl+C"),
        (["ftp", "--ftp-port", str(ports["ftp"])], "Stop with Ctrl+C"),
    ]
    processes: list[subprocess.Popen[str]] = []
    caddy = None
    try:
        for arguments, ready in services:
            processes.append(start(arguments, env, ready))
        caddy = start_caddy(tmp_path, caddy_env)
        # The compose file's health checks, as Docker runs them.
        for service, flags in [
            ("web", ["--api-port", str(ports["api"])]),
            ("csms", ["--ocpp-port", str(ports["ocpp"])]),
            ("http-files", ["--http-files-port", str(ports["files"])]),
            ("ftp", ["--ftp-port", str(ports["ftp"])]),
            ("worker", []),
        ]:
            healthy = run(["health", service, *flags], env)
            assert healthy.returncode == 0, (service, healthy.stderr)
        root = Path(caddy_env["XDG_DATA_HOME"]) / "caddy/pki/authorities/local/root.crt"
        api = Https(public, ssl.create_default_context(cafile=root))
        with urllib.request.urlopen(public + "/login/", context=api.context) as page:
            assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
            assert page.headers["X-Content-Type-Options"] == "nosniff"
            assert page.headers["Server"] is None
        status, tokens = api.request("/api/token/", {"username": "ops", "password": "pw-ops-12345"})
        assert status == 200, tokens
        api.token = tokens["access"]
        asyncio.run(_scenario(api, public, root, pki))
        asyncio.run(_legacy_ws(f"ws://localhost:{caddy_env['OV2XMP_CADDY_LEGACY_WS_PORT']}"))
    finally:
        if caddy is not None:
            caddy.send_signal(signal.SIGTERM)
            caddy.wait(timeout=30)
        codes = [stop(process) for process in processes]
    assert None not in codes, f"a service did not stop in time: {codes}"


def basic(charger_id: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{charger_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def _scenario(api: Https, public: str, root: Path, pki: Any) -> None:
    port = urlsplit(public).port
    wss = public.replace("https://", "wss://") + "/ws/ocpp/"
    # Provisioned over HTTPS: one charger per profile.
    for charger_id, profile, extra in [
        ("CP-P1", 1, {"password": "p1-password-0123456"}),
        ("CP-P2", 2, {"generate_password": True}),
        ("CP-P3", 3, {}),
    ]:
        status, body = await api.call(
            "/api/chargepoints/", {"id": charger_id, "security_profile": profile, **extra}
        )
        assert status == 201, body
        if profile == 2:
            p2_password = body["generated_password"]

    charger_tls = ssl.create_default_context(cafile=root)  # trusts Caddy, no certificate

    def with_certificate(common_name: str) -> ssl.SSLContext:
        """A charger's TLS with its client certificate, trusting Caddy."""
        context = pki.client_context(common_name)
        context.load_verify_locations(cafile=root)
        return context

    feed_url = public.replace("https://", "wss://") + f"/ws/updates/?token={api.token}"
    async with connect(feed_url, ssl=charger_tls, open_timeout=10) as feed:
        assert json.loads(await feed.recv())["type"] == "authenticated"
        await feed.send(json.dumps({"type": "subscribe", "topic": "chargers"}))
        assert json.loads(await feed.recv()) == {"type": "subscribed", "topic": "chargers"}

        async def next_event(kind: str, charger_id: str) -> dict[str, Any]:
            while True:
                event = json.loads(await asyncio.wait_for(feed.recv(), 15))
                if event["type"] == kind and event.get("charger_id") == charger_id:
                    return event

        # Profile 1 and 2: Basic authentication through Caddy's TLS.
        async with answering_charger(
            wss, "CP-P1", ssl=charger_tls, additional_headers=basic("CP-P1", "p1-password-0123456")
        ):
            await next_event("charger.connected", "CP-P1")
        async with answering_charger(
            wss, "CP-P2", ssl=charger_tls, additional_headers=basic("CP-P2", p2_password)
        ):
            await next_event("charger.connected", "CP-P2")
        for charger_id, options, code in [
            ("CP-P2", {"additional_headers": basic("CP-P2", "wrong-password-000000")}, 401),
            ("CP-P3", {}, 403),  # no client certificate
            # A client's own subject header: Caddy replaces it.
            ("CP-P3", {"additional_headers": {"X-Client-Certificate-Subject": "CN=CP-P3"}}, 403),
            ("CP-P3", {"ssl": with_certificate("CP-P1")}, 403),  # another charger's
        ]:
            options = {"ssl": charger_tls, **options}
            with pytest.raises(InvalidStatus) as refusal:
                async with connect(wss + charger_id, subprotocols=["ocpp1.6"], **options):
                    pass
            assert refusal.value.response.status_code == code, (charger_id, options)

        # Profile 3: its own client certificate, presented to Caddy.
        async with answering_charger(wss, "CP-P3", ssl=with_certificate("CP-P3")) as charger:
            connected = await next_event("charger.connected", "CP-P3")
            assert connected["data"]["ocpp_version"] == "1.6"
            status, body = await api.call(
                "/api/commands/ocpp16/Reset/",
                {"charge_point": "CP-P3", "payload": RESET, "wait": 15},
            )
            assert (status, body["status"], body["response"]) == (
                200,
                "Answered",
                {"status": "Accepted"},
            )
            assert charger.requests("Reset") == [RESET]

            # Diagnostics uploaded through Caddy to the HTTP file service.
            charger.answers["GetDiagnostics"] = {"fileName": "diag.txt"}
            status, requested = await api.call(
                "/api/file-requests/", {"charge_point": "CP-P3", "kind": "Diagnostics"}
            )
            assert status in (200, 201, 202), requested  # 202: not answered yet
            for _ in range(150):
                if charger.requests("GetDiagnostics"):
                    break
                await asyncio.sleep(0.1)
            location = charger.requests("GetDiagnostics")[0]["location"]
            target = urlsplit(location)
            assert (target.scheme, target.hostname, target.port) == ("https", "localhost", port)
            data = b"diagnostics\n" * 1000
            put = functools.partial(http_put, location, "diag.txt", data, context=api.context)
            assert await asyncio.to_thread(put) == 201
            received = await next_event("file.received", "CP-P3")
            assert received["data"]["size"] == len(data)


async def _legacy_ws(legacy: str) -> None:
    """Plain ws:// for chargers without TLS: profile 1 connects, profile 2
    does not (the csms sees no TLS, whatever a client claims), and nothing
    but OCPP is served there."""
    password = "p1-password-0123456"
    async with answering_charger(
        legacy + "/ws/ocpp/", "CP-P1", additional_headers=basic("CP-P1", password)
    ) as charger:
        assert charger.requests("Reset") == []
    claims_tls = {"X-Forwarded-Proto": "https"} | basic("CP-P2", "whatever-0123456789")
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(
            legacy + "/ws/ocpp/CP-P2", subprotocols=["ocpp1.6"], additional_headers=claims_tls
        ):
            pass
    assert refusal.value.response.status_code == 403
    assert b"needs TLS" in refusal.value.response.body
    with pytest.raises(urllib.error.HTTPError) as not_here:
        await asyncio.to_thread(urllib.request.urlopen, legacy.replace("ws:", "http:") + "/api/")
    assert not_here.value.code == 404

"""``ov2xmp up`` started as a user starts it: a separate process on free
ports, stopped with Ctrl+C (SIGINT)."""

from __future__ import annotations

import base64
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.testing import free_port

OV2XMP = str(Path(sys.executable).with_name("ov2xmp"))


@dataclass
class Platform:
    process: subprocess.Popen[str]
    api: str
    ocpp: str
    output: list[str]

    def request(
        self, path: str, *, token: str | None = None, body: Any = None, method: str | None = None
    ) -> Any:
        request = urllib.request.Request(
            self.api + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


def start_platform(data_dir: Path, **env: str) -> Platform:
    api_port, ocpp_port = free_port(), free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        # The embedded default: nothing of the test run's database or broker.
        if not key.startswith("OV2XMP_")
    } | {"OV2XMP_DATA_DIR": str(data_dir), **env}
    process = subprocess.Popen(
        [
            OV2XMP,
            "up",
            "--api-port",
            str(api_port),
            "--ocpp-port",
            str(ocpp_port),
            "--ftp-port",
            str(free_port()),
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if line.startswith("Stop with Ctrl+C"):
            os.set_blocking(process.stdout.fileno(), False)
            return Platform(
                process=process,
                api=f"http://127.0.0.1:{api_port}",
                ocpp=f"ws://127.0.0.1:{ocpp_port}/ws/ocpp/",
                output=output,
            )
    process.kill()
    raise AssertionError("ov2xmp up did not start:\n" + "".join(output))


def stop_platform(platform: Platform) -> int:
    platform.process.send_signal(signal.SIGINT)
    return platform.process.wait(timeout=30)


def http_put(
    location: str, name: str, data: bytes, *, context: ssl.SSLContext | None = None
) -> int:
    """What a charger does with an HTTP upload location: PUT the file below
    it, with the URL's credentials as HTTP Basic."""
    url = urlsplit(location)
    plain = url._replace(netloc=f"{url.hostname}:{url.port}").geturl()
    token = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
    request = urllib.request.Request(
        plain + name, data=data, method="PUT", headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return int(response.status)

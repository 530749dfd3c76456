"""``ov2xmp health <service>``: is the service on this machine (container)
up? For container health checks; exit 0 when it is, else 1 with the reason.

* web: ``GET /healthz/`` answers 200, which needs the database;
* csms, ftp, http-files: their port accepts a connection;
* worker: the Celery worker of this host answers a ping through the broker.
"""

from __future__ import annotations

import json
import socket
import sys
import urllib.error
import urllib.request

from django.conf import settings

TIMEOUT_SECONDS = 5.0


def _local_address() -> str:
    bind = settings.OV2XMP.bind
    return "127.0.0.1" if bind in ("0.0.0.0", "", "::") else bind


def _accepts(port: int) -> str | None:
    try:
        socket.create_connection((_local_address(), port), timeout=TIMEOUT_SECONDS).close()
    except OSError as error:
        return f"port {port}: {error}"
    return None


def _web() -> str | None:
    # The Host the app answers to (the health check reaches it by address).
    hosts = [host for host in settings.ALLOWED_HOSTS if host != "*" and not host.startswith(".")]
    request = urllib.request.Request(
        f"http://{_local_address()}:{settings.OV2XMP.api_port}/healthz/",
        headers={"Host": hosts[0]} if hosts else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        return f"/healthz/ answered {error.code}: {error.read().decode(errors='replace')[:200]}"
    except (OSError, ValueError) as error:
        return f"/healthz/: {error}"
    return None if body.get("status") == "ok" else f"/healthz/ answered {body}"


def _worker() -> str | None:
    from config.celery import app

    node = f"celery@{socket.gethostname()}"
    replies = app.control.ping(destination=[node], timeout=TIMEOUT_SECONDS)
    return None if replies else f"{node} did not answer a ping"


def check(service: str) -> str | None:
    """None when healthy, else why not."""
    config = settings.OV2XMP
    checks = {
        "web": _web,
        "csms": lambda: _accepts(config.ocpp_port),
        "ftp": lambda: _accepts(config.ftp_port),
        "http-files": lambda: _accepts(config.http_files_port),
        "worker": _worker,
    }
    return checks[service]()


def run(service: str) -> None:
    problem = check(service)
    if problem is not None:
        sys.exit(f"ov2xmp health {service}: {problem}")
    print(f"ov2xmp health {service}: ok")

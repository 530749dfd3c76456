"""Small helpers for the test suites of every app."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any


def iso(moment: datetime) -> str:
    """A UTC datetime as OCPP and the API write it: RFC 3339 with a ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def listed(response: Any, field: str = "id") -> list[Any]:
    """One field of every row of a successful paginated list answer."""
    assert response.status_code == 200, response.content
    return [row[field] for row in response.json()["results"]]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

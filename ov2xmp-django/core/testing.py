"""Small helpers for the test suites of every app."""

from __future__ import annotations

import re
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


def generic_plan(sql: str) -> str:
    """PostgreSQL's generic plan of ``sql`` (a statement with ``%s`` or
    ``%(name)s`` placeholders), as ``EXPLAIN`` prints it: the plan a prepared
    statement keeps, made without its parameters' values."""
    from django.db import connection

    numbers: dict[str, int] = {}

    def numbered(placeholder: re.Match[str]) -> str:
        # Each %s is a parameter of its own; a name is one wherever it is.
        name = placeholder.group(1) or f"#{len(numbers)}"
        return f"${numbers.setdefault(name, len(numbers) + 1)}"

    statement = re.sub(r"%(?:\((\w+)\))?s", numbered, sql)
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE planned AS {statement}")
        try:
            nulls = ", ".join(["NULL"] * len(numbers))
            cursor.execute(f"EXPLAIN EXECUTE planned({nulls})")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE planned")
            cursor.execute("RESET plan_cache_mode")

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(value: str) -> datetime:
    """Parse an RFC 3339 timestamp as chargers send it; a timestamp without an
    offset is taken as UTC (as OCPP requires UTC). Raises ``ValueError``."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision and a ``Z``, as OCPP-J expects."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

"""Writes on the OCPP message log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.db import insert_rows
from ocpp_messages.models import OcppMessage
from updates.events import frame_event
from updates.services import events_publish


def ocpp_messages_record(*, messages: Sequence[dict[str, Any]]) -> int:
    """Store a batch of logged frames, each as {field: value}; returns how
    many. The log takes two rows per message handled: on PostgreSQL they go
    in with COPY."""
    insert_rows(OcppMessage, messages)
    events_publish(events=[frame_event(message) for message in messages])
    return len(messages)

"""Writes on the OCPP message log."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from core.db import insert_rows
from ocpp_messages.models import FRAME_FIELDS, OcppMessage
from updates.events import frame_event
from updates.services import events_publish, events_watched


def ocpp_messages_record(*, messages: Sequence[dict[str, Any]]) -> int:
    """Store a batch of logged frames, each as {field: value}; returns how
    many. The log takes two rows per message handled: on PostgreSQL they go
    in with COPY."""
    insert_rows(OcppMessage, messages)
    if not events_watched("frames"):
        return len(messages)
    events_publish(
        events=[
            frame_event(
                charge_point_id=message["charge_point_id"],
                at=message["timestamp"],
                data=functools.partial(_frame_data, message),
            )
            for message in messages
        ]
    )
    return len(messages)


def _frame_data(message: dict[str, Any]) -> dict[str, Any]:
    return {name: message.get(name) for name in FRAME_FIELDS}

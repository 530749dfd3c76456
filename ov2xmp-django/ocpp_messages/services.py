"""Writes on the OCPP message log."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connections, router

from ocpp_messages.models import OcppMessage

# What a logged frame stores, in COPY's column order.
COLUMNS = (
    "charge_point_id",
    "direction",
    "message_type",
    "unique_id",
    "action",
    "payload",
    "error_code",
    "raw",
    "ocpp_version",
    "timestamp",
)


def ocpp_messages_record(*, messages: Sequence[OcppMessage]) -> int:
    """Store a batch of logged frames; returns how many. On PostgreSQL with
    COPY, whose rows psycopg formats in C: the log takes two rows per message
    handled, and an INSERT's parameters are quoted in Python."""
    connection = connections[router.db_for_write(OcppMessage)]
    if connection.vendor != "postgresql":
        return len(OcppMessage.objects.bulk_create(messages, batch_size=500))
    table = connection.ops.quote_name(OcppMessage._meta.db_table)
    with connection.cursor() as cursor:
        copy_sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for message in messages:
                payload = None if message.payload is None else json.dumps(message.payload)
                copy.write_row(
                    [payload if name == "payload" else getattr(message, name) for name in COLUMNS]
                )
    return len(messages)

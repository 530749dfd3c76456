"""MeterValues messages of many chargers, written together (the csms batches
them; ADR 0012).

On PostgreSQL a batch is one statement, in autocommit: linking each sample to
its session, leaving out samples already stored, the insert and moving each
session's last reading forward all happen in the database. A batch's thread
needs the GIL back after every round trip, and while the event loop is busy
that takes up to a switch interval (5 ms) each time: the eight round trips of
the statements one by one (with BEGIN and COMMIT) made a batch take 50 to 80 ms
under load, of which 7 ms was CPU (docs/performance.md). Elsewhere (SQLite)
the same happens in a few ORM statements in one transaction.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db import transaction as db_transaction

from core.db import insert_rows, rows_as_json, rows_from_json, rows_where_any
from core.time import utc_now
from transactions.models import MeterValue, Transaction
from transactions.services import (
    MeterReading,
    _advance_last_readings,
    _flow,
    _meter_rows,
    _meter_values_data,
    _numeric,
    _register_wh,
)
from updates.events import meter_values_event
from updates.services import events_publish

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeterValuesReport:
    """One MeterValues message."""

    charge_point_id: str
    evse_id: int
    connector_id: int | None
    readings: list[MeterReading]
    ocpp_transaction_id: str | None = None


# What makes two samples the same measurement: a charger that did not get our
# answer before its connection dropped sends the same MeterValues again.
SAMPLE_IDENTITY = (
    "charge_point_id",
    "evse_id",
    "timestamp",
    "measurand",
    "phase",
    "unit",
    "context",
    "location",
    "format",
    "value",
)


def meter_values_record(*, reports: Sequence[MeterValuesReport]) -> int:
    """Store the readings of MeterValues messages (of many chargers at once, in
    a fixed number of statements), each linked to its transaction when it is
    known. Readings for an unknown transaction are kept, unlinked, and logged.
    Samples already stored are left out: MeterValues has no other guard
    against a charger resending a message whose answer it missed. Each
    session's last energy reading moves forward, never back (readings may
    arrive out of order). Returns how many samples were stored."""
    stored, sessions = meter_values_store(reports=reports)
    now = utc_now()
    linked = []
    for report in reports:
        session_id = None
        if report.ocpp_transaction_id is not None:
            session_id = sessions.get((report.charge_point_id, report.ocpp_transaction_id))
            if session_id is None:
                logger.warning(
                    "%s: meter values for unknown transaction %s kept unlinked",
                    report.charge_point_id,
                    report.ocpp_transaction_id,
                )
        linked.append((report, session_id))
    events_publish(
        events=[
            meter_values_event(
                charge_point_id=report.charge_point_id,
                transaction_id=session_id,
                at=now,
                data=functools.partial(
                    _meter_values_data,
                    evse_id=report.evse_id,
                    connector_id=report.connector_id,
                    readings=report.readings,
                ),
            )
            for report, session_id in linked
        ]
    )
    return stored


Sessions = dict[tuple[str, str], int]


def meter_values_store(*, reports: Sequence[MeterValuesReport]) -> tuple[int, Sessions]:
    """``meter_values_record`` without its events and warnings: (samples
    stored, session ids by (charger, OCPP id)). Also for the readings of
    2.0.1 TransactionEvents (``transactions.transaction_events``)."""
    connection = connections[router.db_for_write(MeterValue)]
    if connection.vendor == "postgresql":
        rows, stored, sessions = _record_in_one_statement(reports, connection)
    else:
        rows, stored, sessions = _record_in_a_transaction(reports)
    if stored < rows:
        logger.info("%d meter value(s) already stored, not added again", rows - stored)
    return stored, sessions


@db_transaction.atomic
def _record_in_a_transaction(reports: Sequence[MeterValuesReport]) -> tuple[int, int, Sessions]:
    """(samples given, samples stored, session ids by (charger, OCPP id))."""
    sessions = _transactions_for_update(
        {
            (r.charge_point_id, r.ocpp_transaction_id)
            for r in reports
            if r.ocpp_transaction_id is not None
        }
    )
    rows: list[dict[str, Any]] = []
    readings_of: list[tuple[Transaction, list[MeterReading]]] = []
    for report in reports:
        session = None
        if report.ocpp_transaction_id is not None:
            session = sessions.get((report.charge_point_id, report.ocpp_transaction_id))
            if session is not None:
                readings_of.append((session, report.readings))
        rows += _meter_rows(
            charge_point_id=report.charge_point_id,
            evse_id=report.evse_id,
            connector_id=report.connector_id,
            transaction=session,
            readings=report.readings,
        )
    fresh = _not_yet_stored(rows)
    insert_rows(MeterValue, fresh)
    _advance_last_readings(readings_of)
    return len(rows), len(fresh), {key: session.pk for key, session in sessions.items()}


def _transactions_for_update(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Transaction]:
    """The transactions named by (charger id, OCPP transaction id), locked."""
    if not keys:
        return {}
    found = rows_where_any(
        Transaction,
        where={
            "charge_point_id": {charger for charger, _ in keys},
            "ocpp_transaction_id": {ocpp_id for _, ocpp_id in keys},
        },
        lock=True,
    )
    by_key = {(t.charge_point_id, t.ocpp_transaction_id): t for t in found}
    return {key: by_key[key] for key in keys if key in by_key}


def _not_yet_stored(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows that are neither stored already nor repeated within ``rows``."""
    if not rows:
        return rows
    seen = set(
        MeterValue.objects.filter(
            charge_point_id__in={row["charge_point_id"] for row in rows},
            timestamp__in={row["timestamp"] for row in rows},
        ).values_list(*SAMPLE_IDENTITY)
    )
    fresh = []
    for row in rows:
        identity = tuple(row[field] for field in SAMPLE_IDENTITY)
        if identity not in seen:
            seen.add(identity)
            fresh.append(row)
    return fresh


# One row per sample, all in one JSON parameter (core.db.rows_from_json): the
# statement's text is the same for every batch, so PostgreSQL plans it once
# per connection (psycopg prepares a statement used five times).
SAMPLE_COLUMNS = (
    ("ord", "integer"),
    ("ts", "timestamptz"),
    ("measurand", "varchar"),
    ("phase", "varchar"),
    ("unit", "varchar"),
    ("context", "varchar"),
    ("location", "varchar"),
    ("format", "varchar"),
    ("value", "text"),
    ("signed", "jsonb"),
    ("num", "numeric"),
    ("wh", "numeric"),  # the energy register in Wh, where the sample is one
    ("flow", "varchar"),  # V2X: the session field of an export or power sample
    ("flowv", "numeric"),  # its value in Wh or W
)
# A MeterValues sample also names its charger, session, EVSE and connector.
_COLUMNS = (
    *SAMPLE_COLUMNS,
    ("cp", "varchar"),
    ("tx", "varchar"),
    ("evse", "integer"),
    ("conn", "integer"),
)
_IDENTITY = "cp, evse, ts, measurand, phase, unit, context, location, format, value"


def sample_rows(
    readings: Sequence[MeterReading], *, start: int, **fields: Any
) -> list[dict[str, Any]]:
    """The rows of ``SAMPLE_COLUMNS`` of ``readings``' samples, each with
    ``fields`` too, numbered (``ord``) from ``start``."""
    rows: list[dict[str, Any]] = []
    for reading in readings:
        for sample in reading.sampled_values:
            flow, flow_value = _flow(sample) or (None, None)
            rows.append(
                {
                    "ord": start + len(rows),
                    "ts": reading.timestamp,
                    "measurand": sample.measurand,
                    "phase": sample.phase,
                    "unit": sample.unit,
                    "context": sample.context,
                    "location": sample.location,
                    "format": sample.format,
                    "value": sample.value,
                    "signed": sample.signed_meter_value,
                    "num": _numeric(sample),
                    "wh": _register_wh(sample),
                    "flow": flow,
                    "flowv": flow_value,
                    **fields,
                }
            )
    return rows


def _newer(last: str, reading: str) -> str:
    """SQL: a reading at ``reading`` (NULL: none) is not older than ``last``."""
    return f"({reading} IS NOT NULL AND ({last} IS NULL OR {last} <= {reading}))"


def readings_sql(samples: str) -> str:
    """SQL: the CTEs that store the samples of the relation ``samples``
    (``SAMPLE_COLUMNS``, with ``sid``: the session's id or NULL, ``cp``,
    ``evse`` and ``conn``) and tell each session's new last readings
    (``changes``, for ``READINGS_SET`` where ``READINGS_ADVANCE``). Samples
    already stored, or twice in the batch, are left out: MeterValues has no
    other guard against a charger resending a message whose answer it
    missed. The time stored is the parameter ``%(now)s``.

    The look-up of stored samples is LATERAL, one index probe per sample,
    and ends in LIMIT 1, which keeps PostgreSQL from merging it into an
    anti-join: with a plan made while the table was small, every batch then
    read the whole table (docs/performance.md)."""
    meter_values = MeterValue._meta.db_table
    return f"""
fresh AS (
    SELECT DISTINCT ON ({_IDENTITY}) x.* FROM {samples} x
    LEFT JOIN LATERAL (
        SELECT 1 AS found FROM {meter_values} m
        WHERE m.charge_point_id = x.cp AND m.timestamp = x.ts AND m.evse_id = x.evse
            AND m.measurand = x.measurand AND m.phase = x.phase AND m.unit = x.unit
            AND m.context = x.context AND m.location = x.location AND m.format = x.format
            AND m.value = x.value
        LIMIT 1
    ) stored_before ON true
    WHERE stored_before.found IS NULL
    ORDER BY {_IDENTITY}, ord
),
stored AS (
    INSERT INTO {meter_values} (charge_point_id, transaction_id, evse_id, connector_id,
        timestamp, measurand, phase, unit, context, location, format, value,
        signed_meter_value, numeric_value, received_at)
    SELECT cp, sid, evse, conn, ts, measurand, phase, unit, context,
        location, format, value, signed, num, %(now)s
    FROM fresh
    ORDER BY ord
    RETURNING 1
),
latest AS (
    SELECT DISTINCT ON (sid) sid AS id, wh, ts FROM {samples}
    WHERE sid IS NOT NULL AND wh IS NOT NULL
    ORDER BY sid, ts DESC, ord DESC
),
flows AS (
    SELECT sid AS id, flow, flowv, ts, ord FROM {samples}
    WHERE sid IS NOT NULL AND flow IS NOT NULL
),
newest_flows AS (
    SELECT DISTINCT ON (id, flow) id, flow, flowv, ts FROM flows
    ORDER BY id, flow, ts DESC, ord DESC
),
flow_changes AS (
    SELECT id AS fid,
        max(flowv) FILTER (WHERE flow = 'export_last_wh') AS export_last,
        max(ts) FILTER (WHERE flow = 'export_last_wh') AS export_at,
        max(flowv) FILTER (WHERE flow = 'power_import_w') AS power_import,
        max(ts) FILTER (WHERE flow = 'power_import_w') AS power_import_at,
        max(flowv) FILTER (WHERE flow = 'power_export_w') AS power_export,
        max(ts) FILTER (WHERE flow = 'power_export_w') AS power_export_at,
        (SELECT min(f.flowv) FROM flows f
         WHERE f.id = n.id AND f.flow = 'export_last_wh') AS export_lowest
    FROM newest_flows n GROUP BY id
),
changes AS MATERIALIZED (
    SELECT coalesce(latest.id, fc.fid) AS cid, latest.wh, latest.ts, fc.*
    FROM latest FULL JOIN flow_changes fc ON fc.fid = latest.id
)"""


# The session ``t``'s last readings moved forward by its ``changes`` row
# ``c`` (NULL: none), never back, as ``_advance_last_readings`` moves them.
READINGS_SET = f"""
    meter_last_wh = CASE WHEN {_newer("t.meter_last_at", "c.ts")}
        THEN c.wh ELSE t.meter_last_wh END,
    meter_last_at = CASE WHEN {_newer("t.meter_last_at", "c.ts")}
        THEN c.ts ELSE t.meter_last_at END,
    export_start_wh = LEAST(t.export_start_wh, c.export_lowest),
    export_last_wh = CASE WHEN {_newer("t.flow_last_at", "c.export_at")}
        THEN c.export_last ELSE t.export_last_wh END,
    power_import_w = CASE WHEN {_newer("t.flow_last_at", "c.power_import_at")}
        THEN c.power_import ELSE t.power_import_w END,
    power_export_w = CASE WHEN {_newer("t.flow_last_at", "c.power_export_at")}
        THEN c.power_export ELSE t.power_export_w END,
    flow_last_at = GREATEST(t.flow_last_at, c.export_at, c.power_import_at, c.power_export_at)"""
READINGS_ADVANCE = f"({_newer('t.meter_last_at', 'c.ts')} OR c.fid IS NOT NULL)"


@functools.cache
def _statement() -> str:
    # The sessions are looked up LATERAL, one probe of the unique (charger,
    # OCPP id) index, which holds non-empty ids, per key: a join would let
    # the planner scan the table, and a prepared statement's generic plan
    # cannot know how few keys a batch has.
    sessions = Transaction._meta.db_table
    return f"""
WITH v AS ({rows_from_json(_COLUMNS, parameter="%(rows)s")}),
sessions AS (
    SELECT t.id, k.cp, k.tx FROM (SELECT DISTINCT cp, tx FROM v WHERE tx <> '') k
    CROSS JOIN LATERAL (
        SELECT id FROM {sessions}
        WHERE charge_point_id = k.cp AND ocpp_transaction_id = k.tx
            AND ocpp_transaction_id <> ''
        LIMIT 1
    ) t
),
samples AS NOT MATERIALIZED (
    SELECT v.*, s.id AS sid FROM v LEFT JOIN sessions s ON s.cp = v.cp AND s.tx = v.tx
),
{readings_sql("samples")},
advanced AS (
    UPDATE {sessions} t SET {READINGS_SET}, updated_at = %(now)s
    FROM changes c
    WHERE t.id = c.cid AND {READINGS_ADVANCE}
    RETURNING 1
)
SELECT (SELECT count(*) FROM stored), (SELECT count(*) FROM advanced),
    (SELECT coalesce(json_agg(json_build_array(cp, tx, id)), '[]') FROM sessions)
"""


def _record_in_one_statement(
    reports: Sequence[MeterValuesReport], connection: Any
) -> tuple[int, int, Sessions]:
    """As ``_record_in_a_transaction``, in one statement (its own transaction):
    the same samples stored, linked and compared, and the same readings
    chosen as last: the newest, the later one of a batch on a tie, only if
    not older than the session's (the session's row is locked by the update
    and the condition read again on its newest version)."""
    rows: list[dict[str, Any]] = []
    for report in reports:
        rows += sample_rows(
            report.readings,
            start=len(rows),
            cp=report.charge_point_id,
            tx=report.ocpp_transaction_id,
            evse=report.evse_id,
            conn=report.connector_id,
        )
    if not rows:
        return 0, 0, {}
    with connection.cursor() as cursor:
        cursor.execute(_statement(), {"rows": rows_as_json(rows), "now": utc_now()})
        stored, _, found = cursor.fetchone()
    sessions = {(charger, ocpp_id): pk for charger, ocpp_id, pk in found}
    return len(rows), stored, sessions

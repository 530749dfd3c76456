"""OCPP 2.0.1 TransactionEvent(Updated)s of many chargers, applied together
(the csms batches them, as it does MeterValues; ADR 0012).

A 2.0.1 charger sends its session's meter values in Updated events, so these
are its most frequent message. Applied one at a time, each took a thread hop,
a transaction and six statements built by the ORM: a fleet of 2.0.1 chargers
got a fifth of the answers a 1.6 fleet got (docs/performance.md). On
PostgreSQL a batch is one statement.

Only the plain case is batched: an Updated event of a running session that
brings readings and state the session already knows how to take (no token, no
reservation, no remote start, no operation mode, no facts the session lacks,
no pause or resume). Anything else, and a session not found, goes through
``transactions.transaction_events.transaction_event_record``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db import transaction as db_transaction

from core.db import (
    insert_rows,
    objects_from_rows,
    rows_as_json,
    rows_from_json,
    update_each,
    values_where_any,
    whole_row_columns,
)
from core.time import utc_now
from transactions.meter_values import (
    READINGS_ADVANCE,
    READINGS_SET,
    SAMPLE_COLUMNS,
    MeterValuesReport,
    _transactions_for_update,
    meter_values_store,
    readings_sql,
    sample_rows,
)
from transactions.models import PAUSED, Transaction, TransactionEvent, TransactionStatus
from transactions.services import _take_last_readings
from transactions.transaction_events import (
    TransactionEventData,
    _log_already_applied,
    _publish_event_applied,
    event_row,
    transaction_event_record,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransactionUpdate:
    """One TransactionEvent the csms found plain enough to batch
    (``batchable``); the batch checks the session's side."""

    charge_point_id: str
    event: TransactionEventData


def batchable(event: TransactionEventData) -> bool:
    """What the message alone says: an Updated event that carries no token,
    reservation, remote start or operation mode (whose effects are the
    single-event path's: authorization, linking, load management)."""
    return (
        event.event_type == "Updated"
        and not event.id_token_value
        and event.id_token_type is None
        and event.reservation_id is None
        and event.remote_start_id is None
        and not event.operation_mode
    )


def _plain_for(session: Transaction, event: TransactionEventData) -> bool:
    """What the session says: it runs, knows its EVSE and connector, started
    no later than the event, and neither pauses nor resumes with it. The
    statement (``_updates_statement``, ``is_plain``) says the same in SQL."""
    return (
        session.status == TransactionStatus.ACTIVE
        and (not event.evse_id or bool(session.evse_id))
        and (event.connector_id is None or session.connector_id is not None)
        and session.started_at <= event.timestamp
        and not (
            event.charging_state
            and PAUSED in (session.charging_state, event.charging_state)
            and session.charging_state != event.charging_state
        )
    )


def transaction_updates_record(*, updates: Sequence[TransactionUpdate]) -> None:
    """Apply TransactionEvent(Updated)s of many chargers: each seqNo once, its
    readings stored and the session's last readings moved forward, its seqNo
    and charging state if it is the newest. A session's first event of the
    batch is applied with the others if it is plain (``_plain_for``); the
    rest are applied one by one, after, as ``transaction_event_record`` does.

    On PostgreSQL the plain ones are one statement, in autocommit; elsewhere
    a transaction. Should a later event fail, the whole batch is written
    again event by event (csms.batching), which finds those already applied."""
    if not updates:
        return
    connection = connections[router.db_for_write(TransactionEvent)]
    if connection.vendor == "postgresql":
        applied, one_by_one = _updates_in_one_statement(updates, connection)
    else:
        applied, one_by_one = _updates_in_a_transaction(updates)
    for session, event in applied:
        _publish_event_applied(session, event, started_now=False, was_ended=False)
    for update in one_by_one:
        transaction_event_record(charge_point_id=update.charge_point_id, event=update.event)


Applied = list[tuple[Transaction, TransactionEventData]]


@db_transaction.atomic
def _updates_in_a_transaction(
    updates: Sequence[TransactionUpdate],
) -> tuple[Applied, list[TransactionUpdate]]:
    """The events applied together (with their sessions as they are now) and
    those left to apply one by one."""
    sessions = _transactions_for_update(
        {(update.charge_point_id, update.event.ocpp_transaction_id) for update in updates}
    )
    plain: Applied = []
    seen: set[int] = set()
    one_by_one: list[TransactionUpdate] = []
    for update in updates:
        event = update.event
        session = sessions.get((update.charge_point_id, event.ocpp_transaction_id))
        if session is None or session.pk in seen or not _plain_for(session, event):
            one_by_one.append(update)
        else:
            plain.append((session, event))
        if session is not None:
            seen.add(session.pk)
    applied = _record_events(plain)
    _record_event_readings(applied)
    return applied, one_by_one


def _record_events(plain: Applied) -> Applied:
    """Store the events (one per session) that are not stored already, and
    set each session's seqNo and charging state from its event if that is the
    newest; returns those stored."""
    if not plain:
        return []
    already = set(
        values_where_any(
            TransactionEvent,
            ["transaction_id", "seq_no"],
            where={
                "transaction_id": [session.pk for session, _ in plain],
                "seq_no": {event.seq_no for _, event in plain},
            },
        )
    )
    applied = []
    advanced = []
    now = utc_now()
    for session, event in plain:
        if (session.pk, event.seq_no) in already:
            _log_already_applied(session.charge_point_id, event)
            continue
        applied.append((session, event))
        if session.last_seq_no is None or event.seq_no > session.last_seq_no:
            session.last_seq_no = event.seq_no
            if event.charging_state:
                session.charging_state = event.charging_state
            session.updated_at = now
            advanced.append(session)
    insert_rows(TransactionEvent, [event_row(session, event) for session, event in applied])
    update_each(Transaction, advanced, ["last_seq_no", "charging_state", "updated_at"])
    return applied


def _record_event_readings(applied: Applied) -> None:
    """Store the events' readings as MeterValues are stored, which moves the
    sessions' last readings forward in the database; the session objects
    take the same readings, so that the events published tell them."""
    with_readings = [(session, event.readings) for session, event in applied if event.readings]
    if not with_readings:
        return
    meter_values_store(
        reports=[
            MeterValuesReport(
                charge_point_id=session.charge_point_id,
                evse_id=session.evse_id,
                connector_id=session.connector_id,
                readings=readings,
                ocpp_transaction_id=session.ocpp_transaction_id,
            )
            for session, readings in with_readings
        ]
    )
    _take_last_readings(with_readings)


# The events of a batch, all in one JSON parameter (core.db.rows_from_json),
# with the EVSE and connector each names, for ``_plain_for``; their samples
# in another, each with its event's ``ord``.
_UPDATE_COLUMNS = (
    ("ord", "integer"),
    ("cp", "varchar"),
    ("tx", "varchar"),
    ("seq_no", "integer"),
    ("event_type", "varchar"),
    ("trigger_reason", "varchar"),
    ("ts", "timestamptz"),
    ("offline", "boolean"),
    ("charging_state", "varchar"),
    ("stopped_reason", "varchar"),
    ("id_token_value", "varchar"),
    ("evse", "integer"),
    ("conn", "integer"),
)
_UPDATE_SAMPLE_COLUMNS = (*SAMPLE_COLUMNS, ("event", "integer"))
# Whether the event ``p`` is newer than any its session ``t`` has applied.
_NEWEST = "(t.last_seq_no IS NULL OR p.seq_no > t.last_seq_no)"


@functools.lru_cache(maxsize=64)
def _updates_statement(connection: Any) -> str:
    """``_updates_in_a_transaction`` as one statement. The sessions are
    locked first, each by a probe of the unique (charger, OCPP id) index (as
    transactions.meter_values looks them up), and ``plain`` is
    ``_plain_for`` on their locked rows. Events already stored are left out
    by the unique (session, seqNo) constraint, and with them their readings.
    A session's seqNo, charging state and last readings move in one update
    (a row updated twice in a statement keeps one of the two). Returns each
    plain event's ``ord``, whether it was stored, and then its session as it
    is now (NULLs if it was not)."""
    events, sessions = TransactionEvent._meta.db_table, Transaction._meta.db_table
    columns = functools.partial(whole_row_columns, Transaction, connection)
    return f"""
WITH e AS ({rows_from_json(_UPDATE_COLUMNS, parameter="%(events)s")}),
v AS MATERIALIZED ({rows_from_json(_UPDATE_SAMPLE_COLUMNS, parameter="%(samples)s")}),
locked AS (
    SELECT k.cp, k.tx, s.* FROM (SELECT DISTINCT cp, tx FROM e ORDER BY cp, tx) k
    CROSS JOIN LATERAL (
        SELECT {columns()} FROM {sessions}
        WHERE charge_point_id = k.cp AND ocpp_transaction_id = k.tx
            AND ocpp_transaction_id <> ''
        LIMIT 1
        FOR UPDATE
    ) s
),
firsts AS (
    SELECT DISTINCT ON (l.id) e.*, l.id AS sid,
        l.status = '{TransactionStatus.ACTIVE.value}'
        AND (coalesce(e.evse, 0) = 0 OR l.evse_id <> 0)
        AND (e.conn IS NULL OR l.connector_id IS NOT NULL)
        AND l.started_at <= e.ts
        AND NOT (e.charging_state <> ''
            AND '{PAUSED}' IN (l.charging_state, e.charging_state)
            AND l.charging_state <> e.charging_state) AS is_plain
    FROM e JOIN locked l ON l.cp = e.cp AND l.tx = e.tx
    ORDER BY l.id, e.ord
),
plain AS (SELECT * FROM firsts WHERE is_plain),
applied AS (
    INSERT INTO {events} (transaction_id, seq_no, event_type, trigger_reason, timestamp,
        offline, charging_state, stopped_reason, id_token_value, received_at)
    SELECT sid, seq_no, event_type, trigger_reason, ts, offline, charging_state,
        stopped_reason, id_token_value, %(now)s
    FROM plain
    ON CONFLICT (transaction_id, seq_no) DO NOTHING
    RETURNING transaction_id AS sid
),
taken AS MATERIALIZED (
    SELECT p.ord, p.sid, p.seq_no, p.charging_state,
        l.cp, l.evse_id AS evse, l.connector_id AS conn
    FROM plain p JOIN applied a ON a.sid = p.sid JOIN locked l ON l.id = p.sid
),
samples AS NOT MATERIALIZED (
    SELECT v.*, k.sid, k.cp, k.evse, k.conn FROM v JOIN taken k ON k.ord = v.event
),
{readings_sql("samples")},
advanced AS (
    UPDATE {sessions} t SET
        last_seq_no = CASE WHEN {_NEWEST} THEN p.seq_no ELSE t.last_seq_no END,
        charging_state = CASE WHEN {_NEWEST} AND p.charging_state <> ''
            THEN p.charging_state ELSE t.charging_state END,{READINGS_SET},
        updated_at = %(now)s
    FROM taken p LEFT JOIN changes c ON c.cid = p.sid
    WHERE t.id = p.sid AND ({_NEWEST} OR {READINGS_ADVANCE})
    RETURNING {columns(of="t")}
),
current AS (
    SELECT * FROM advanced
    UNION ALL
    SELECT {columns(of="l")} FROM locked l
    WHERE NOT EXISTS (SELECT 1 FROM advanced u WHERE u.id = l.id)
)
SELECT p.ord, k.sid IS NOT NULL, {columns(of="c")}
FROM plain p LEFT JOIN taken k ON k.sid = p.sid LEFT JOIN current c ON c.id = k.sid
ORDER BY p.ord
"""


def _updates_in_one_statement(
    updates: Sequence[TransactionUpdate], connection: Any
) -> tuple[Applied, list[TransactionUpdate]]:
    """As ``_updates_in_a_transaction``, in one statement (its own
    transaction): a batch used to take five round trips (BEGIN, the lock,
    the events, the readings, COMMIT), each a thread's wake-up on both sides,
    which cost more than the work at low rates (docs/performance.md)."""
    events: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    for index, update in enumerate(updates):
        event = update.event
        events.append(
            {
                "ord": index,
                "cp": update.charge_point_id,
                "tx": event.ocpp_transaction_id,
                "seq_no": event.seq_no,
                "event_type": event.event_type,
                "trigger_reason": event.trigger_reason,
                "ts": event.timestamp,
                "offline": event.offline,
                "charging_state": event.charging_state,
                "stopped_reason": event.stopped_reason,
                "id_token_value": event.id_token_value,
                "evse": event.evse_id,
                "conn": event.connector_id,
            }
        )
        samples += sample_rows(event.readings, start=len(samples), event=index)
    with connection.cursor() as cursor:
        cursor.execute(
            _updates_statement(connection),
            {"events": rows_as_json(events), "samples": rows_as_json(samples), "now": utc_now()},
        )
        rows = cursor.fetchall()
    stored = [row for row in rows if row[1]]
    sessions = objects_from_rows(Transaction, connection, [row[2:] for row in stored])
    for index, was_stored, *_ in rows:
        if not was_stored:
            _log_already_applied(updates[index].charge_point_id, updates[index].event)
    taken = {row[0] for row in rows}
    return (
        [(session, updates[row[0]].event) for row, session in zip(stored, sessions, strict=True)],
        [update for index, update in enumerate(updates) if index not in taken],
    )

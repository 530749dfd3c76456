"""OCPP 2.0.1 TransactionEvents: each one applied alone
(``transaction_event_record``), or the plain Updated ones of many chargers
together (``transaction_updates_record``; the csms batches them, as it does
MeterValues; ADR 0012).

A 2.0.1 charger sends its session's meter values in Updated events, so these
are its most frequent message. Applied one at a time, each took a thread hop,
a transaction and six statements built by the ORM: a fleet of 2.0.1 chargers
got a fifth of the answers a 1.6 fleet got (docs/performance.md). A batch is
one transaction with a fixed number of statements.

Only the plain case is batched: an Updated event of a running session that
brings readings and state the session already knows how to take (no token, no
reservation, no remote start, no operation mode, no facts the session lacks,
no pause or resume). Anything else, and a session not found, goes through
``transaction_event_record`` in the same transaction.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db import transaction as db_transaction

from commands.services import command_link_transaction
from core.db import (
    first_key,
    first_row,
    insert_rows,
    rows_as_json,
    rows_from_json,
    update_each,
    values_where_any,
)
from core.time import utc_now
from idtokens.selectors import Authorization, idtoken_authorize
from reservations.services import reservation_record_use
from transactions.meter_values import (
    MeterValuesReport,
    _transactions_for_update,
    meter_values_store,
)
from transactions.models import PAUSED, Transaction, TransactionEvent, TransactionStatus
from transactions.services import (
    MeterReading,
    _first_register_wh,
    _meter_values_data,
    _on_sessions_changed,
    _publish_transaction,
    _record_readings,
    _take_last_readings,
    transaction_start,
)
from updates.events import meter_values_event
from updates.services import events_publish

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransactionEventRecorded:
    transaction: Transaction
    authorization: Authorization | None
    duplicate: bool


@dataclass(frozen=True)
class TransactionEventData:
    """One OCPP 2.0.1 TransactionEvent, version-neutral enough for the service."""

    ocpp_transaction_id: str
    event_type: str  # Started, Updated or Ended
    seq_no: int
    timestamp: datetime
    trigger_reason: str
    offline: bool = False
    evse_id: int | None = None
    connector_id: int | None = None
    id_token_value: str = ""
    id_token_type: str | None = None
    charging_state: str = ""
    stopped_reason: str = ""
    remote_start_id: int | None = None
    reservation_id: int | None = None
    readings: list[MeterReading] = field(default_factory=list)
    ocpp_version: str = "2.0.1"
    operation_mode: str = ""  # 2.1


@db_transaction.atomic
def transaction_event_record(
    *, charge_point_id: str, event: TransactionEventData
) -> TransactionEventRecorded:
    """Apply an OCPP 2.0.1 TransactionEvent. Events may come late, out of order
    or twice (a charger resends its offline queue): each seqNo is applied once,
    state fields only from the newest event, and the first event seen of an
    unknown transaction starts it, whatever its type."""
    # Locked: the events of one session are applied one at a time.
    session = first_row(
        Transaction,
        where={
            "charge_point_id": charge_point_id,
            "ocpp_transaction_id": event.ocpp_transaction_id,
        },
        lock=True,
    )
    authorization = None
    started_now = session is None
    if session is None:
        started = transaction_start(
            charge_point_id=charge_point_id,
            ocpp_version=event.ocpp_version,
            evse_id=event.evse_id or 0,
            connector_id=event.connector_id,
            id_token_value=event.id_token_value,
            id_token_type=event.id_token_type,
            started_at=event.timestamp,
            meter_start_wh=_first_register_wh(event.readings),
            reservation_id=event.reservation_id,
            ocpp_transaction_id=event.ocpp_transaction_id,
        )
        session = started.transaction
        if event.id_token_value or event.id_token_type:
            authorization = started.authorization
    elif event.id_token_value:
        authorization = idtoken_authorize(
            value=event.id_token_value,
            type=event.id_token_type,
            at=event.timestamp,
            exclude_transaction_id=session.pk,
        )

    # The session's lock makes look-then-insert safe (the unique constraint
    # stays the backstop), at a fraction of get_or_create's cost per event.
    # A session started just now has no events yet.
    created = (
        started_now
        or first_key(TransactionEvent, where={"transaction_id": session.pk, "seq_no": event.seq_no})
        is None
    )
    if created:
        insert_rows(TransactionEvent, [event_row(session, event)])
    if not created:
        logger.info(
            "%s: TransactionEvent %s #%s already applied",
            charge_point_id,
            event.ocpp_transaction_id,
            event.seq_no,
        )
        return TransactionEventRecorded(
            transaction=session, authorization=authorization, duplicate=True
        )

    if event.readings:
        _record_readings(transaction=session, readings=event.readings)
    was_ended = session.status == TransactionStatus.ENDED
    _apply_event(session, event, authorization)
    _publish_event_applied(session, event, started_now=started_now, was_ended=was_ended)
    return TransactionEventRecorded(
        transaction=session, authorization=authorization, duplicate=False
    )


def event_row(session: Transaction, event: TransactionEventData) -> dict[str, Any]:
    """The TransactionEvent row of ``event`` (for ``insert_rows``)."""
    return {
        "transaction_id": session.pk,
        "seq_no": event.seq_no,
        "event_type": event.event_type,
        "trigger_reason": event.trigger_reason,
        "timestamp": event.timestamp,
        "offline": event.offline,
        "charging_state": event.charging_state,
        "stopped_reason": event.stopped_reason,
        "id_token_value": event.id_token_value,
    }


def _publish_event_applied(
    session: Transaction, event: TransactionEventData, *, started_now: bool, was_ended: bool
) -> None:
    """transaction.started went out with the session; now .ended, or .updated."""
    if session.status == TransactionStatus.ENDED and not was_ended:
        _publish_transaction(session, "transaction.ended", at=event.timestamp)
    elif not started_now:
        _publish_transaction(session, "transaction.updated", at=event.timestamp)
    if event.readings:
        events_publish(
            events=[
                meter_values_event(
                    charge_point_id=session.charge_point_id,
                    transaction_id=session.pk,
                    at=event.timestamp,
                    data=functools.partial(
                        _meter_values_data,
                        evse_id=session.evse_id,
                        connector_id=session.connector_id,
                        readings=event.readings,
                    ),
                )
            ]
        )


def _apply_event(
    session: Transaction, event: TransactionEventData, authorization: Authorization | None
) -> None:
    # Facts that arrive once, in whichever event carries them.
    if not session.evse_id and event.evse_id:
        session.evse_id = event.evse_id
    if session.connector_id is None and event.connector_id is not None:
        session.connector_id = event.connector_id
    if event.id_token_value and not session.id_token_value:
        session.id_token_value = event.id_token_value
        if authorization is not None:
            session.id_token = authorization.id_token
            session.authorization_status = authorization.status
    if event.remote_start_id is not None and event.remote_start_id != session.remote_start_id:
        session.remote_start_id = event.remote_start_id
        command_link_transaction(
            transaction=session, remote_start_id=event.remote_start_id, at=event.timestamp
        )
    # Again when the token comes after the reservation id: only the
    # reservation's own token uses it up (reservations.services).
    if event.reservation_id is not None and (
        event.reservation_id != session.reservation_id or event.id_token_value
    ):
        session.reservation_id = event.reservation_id
        reservation_record_use(
            charge_point_id=session.charge_point_id,
            reservation_id=event.reservation_id,
            transaction=session,
            at=event.timestamp,
        )
    session.started_at = min(session.started_at, event.timestamp)
    if event.event_type == "Started":
        # A Started that arrives after a later event still knows the meter at start.
        meter_start = _first_register_wh(event.readings)
        if meter_start is not None:
            session.meter_start_wh = meter_start

    # State that only the newest event may set.
    if session.last_seq_no is None or event.seq_no > session.last_seq_no:
        session.last_seq_no = event.seq_no
        if event.charging_state:
            if PAUSED in (session.charging_state, event.charging_state) and (
                session.charging_state != event.charging_state
            ):
                # A car that pauses or resumes changes what its site can share.
                _on_sessions_changed(session.charge_point_id)
            session.charging_state = event.charging_state
        if event.operation_mode:
            session.operation_mode = event.operation_mode

    if event.event_type == "Ended" and session.status != TransactionStatus.ENDED:
        session.status = TransactionStatus.ENDED
        session.stopped_at = event.timestamp
        # 2.0.1: a stoppedReason left out means Local.
        session.stop_reason = event.stopped_reason or "Local"
        session.stop_id_token_value = event.id_token_value
        session.meter_stop_wh = session.meter_last_wh
    session.save()


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
    no later than the event, and neither pauses nor resumes with it."""
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


@db_transaction.atomic
def transaction_updates_record(*, updates: Sequence[TransactionUpdate]) -> None:
    """Apply TransactionEvent(Updated)s of many chargers in one transaction:
    each seqNo once, its readings stored and the session's last readings
    moved forward, its seqNo and charging state if it is the newest. Events
    that are not plain are applied one by one, as ``transaction_event_record``
    does."""
    if not updates:
        return
    sessions = _transactions_for_update(
        {(update.charge_point_id, update.event.ocpp_transaction_id) for update in updates}
    )
    plain: list[tuple[Transaction, TransactionEventData]] = []
    in_plain: set[int] = set()
    one_by_one: list[TransactionUpdate] = []
    for update in updates:
        event = update.event
        session = sessions.get((update.charge_point_id, event.ocpp_transaction_id))
        # A session twice in a batch (a charger resending): the later alone.
        if session is None or not _plain_for(session, event) or session.pk in in_plain:
            one_by_one.append(update)
        else:
            plain.append((session, event))
            in_plain.add(session.pk)
    applied = _record_events(plain)
    _record_event_readings(applied)
    for session, event in applied:
        _publish_event_applied(session, event, started_now=False, was_ended=False)
    for update in one_by_one:
        transaction_event_record(charge_point_id=update.charge_point_id, event=update.event)


# The events of a batch, all in one JSON parameter (core.db.rows_from_json):
# each an ``event_row``, and whether it is its session's newest.
_EVENT_COLUMNS = (
    ("transaction_id", "bigint"),
    ("seq_no", "integer"),
    ("event_type", "varchar"),
    ("trigger_reason", "varchar"),
    ("timestamp", "timestamptz"),
    ("offline", "boolean"),
    ("charging_state", "varchar"),
    ("stopped_reason", "varchar"),
    ("id_token_value", "varchar"),
    ("newest", "boolean"),
)


@functools.cache
def _events_statement() -> str:
    # An event already stored (its session and seqNo: the unique constraint)
    # is left out and its session left alone; the insert tells which went in.
    events, sessions = TransactionEvent._meta.db_table, Transaction._meta.db_table
    return f"""
WITH v AS ({rows_from_json(_EVENT_COLUMNS)}),
applied AS (
    INSERT INTO {events} (transaction_id, seq_no, event_type, trigger_reason, timestamp,
        offline, charging_state, stopped_reason, id_token_value, received_at)
    SELECT transaction_id, seq_no, event_type, trigger_reason, timestamp, offline,
        charging_state, stopped_reason, id_token_value, %s
    FROM v
    ON CONFLICT (transaction_id, seq_no) DO NOTHING
    RETURNING transaction_id
),
advanced AS (
    UPDATE {sessions} t SET last_seq_no = v.seq_no,
        charging_state = CASE WHEN v.charging_state <> '' THEN v.charging_state
            ELSE t.charging_state END,
        updated_at = %s
    FROM v JOIN applied a ON a.transaction_id = v.transaction_id
    WHERE t.id = v.transaction_id AND v.newest
    RETURNING 1
)
SELECT coalesce(json_agg(transaction_id), '[]') FROM applied
"""


def _record_events(
    plain: list[tuple[Transaction, TransactionEventData]],
) -> list[tuple[Transaction, TransactionEventData]]:
    """Store the events (one per session) that are not stored already, and
    set each session's seqNo and charging state from its event if that is the
    newest; returns those stored. On PostgreSQL in one statement."""
    if not plain:
        return []
    newest = [
        session.last_seq_no is None or event.seq_no > session.last_seq_no
        for session, event in plain
    ]
    now = utc_now()
    connection = connections[router.db_for_write(TransactionEvent)]
    if connection.vendor == "postgresql":
        rows = [
            {**event_row(session, event), "newest": is_newest}
            for (session, event), is_newest in zip(plain, newest, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(_events_statement(), [rows_as_json(rows), now, now])
            stored = set(cursor.fetchone()[0])
    else:
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
        fresh = [(s, e) for s, e in plain if (s.pk, e.seq_no) not in already]
        insert_rows(TransactionEvent, [event_row(session, event) for session, event in fresh])
        stored = {session.pk for session, _ in fresh}
    applied = []
    advanced = []
    for (session, event), is_newest in zip(plain, newest, strict=True):
        if session.pk not in stored:
            logger.info(
                "%s: TransactionEvent %s #%s already applied",
                session.charge_point_id,
                event.ocpp_transaction_id,
                event.seq_no,
            )
            continue
        applied.append((session, event))
        if is_newest:
            session.last_seq_no = event.seq_no
            if event.charging_state:
                session.charging_state = event.charging_state
            session.updated_at = now
            advanced.append(session)
    if connection.vendor != "postgresql":
        update_each(Transaction, advanced, ["last_seq_no", "charging_state", "updated_at"])
    return applied


def _record_event_readings(applied: list[tuple[Transaction, TransactionEventData]]) -> None:
    """Store the events' readings as MeterValues are stored (one statement
    on PostgreSQL), which moves the sessions' last readings forward in the
    database; the session objects take the same readings, so that the
    events published tell them."""
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

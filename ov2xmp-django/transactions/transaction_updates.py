"""OCPP 2.0.1 TransactionEvent(Updated) of many chargers, written together
(the csms batches them, as it does MeterValues; ADR 0012).

A 2.0.1 charger sends its session's meter values in Updated events, so these
are its most frequent message. Applied one at a time, each took a thread hop,
a transaction and six statements built by the ORM: a fleet of 2.0.1 chargers
got a fifth of the answers a 1.6 fleet got (docs/performance.md). Here a
batch is one transaction with a fixed number of statements.

Only the plain case is batched: an Updated event of a running session that
brings readings and state the session already knows how to take (no token, no
reservation, no remote start, no operation mode, no facts the session lacks,
no pause or resume). Anything else, and a session not found, goes through
``transaction_event_record`` in the same transaction, as before.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction as db_transaction

from core.db import insert_rows, update_each
from core.time import utc_now
from transactions.meter_values import (
    MeterValuesReport,
    _transactions_for_update,
    meter_values_store,
)
from transactions.models import PAUSED, Transaction, TransactionEvent, TransactionStatus
from transactions.services import (
    TransactionEventData,
    _meter_values_data,
    _publish_transaction,
    transaction_event_record,
)
from updates.events import meter_values_event
from updates.services import events_publish

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
    applied = set(
        TransactionEvent.objects.filter(
            transaction_id__in=[session.pk for session in sessions.values()],
            seq_no__in={update.event.seq_no for update in updates},
        ).values_list("transaction_id", "seq_no")
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
        elif (session.pk, event.seq_no) in applied:
            logger.info(
                "%s: TransactionEvent %s #%s already applied",
                update.charge_point_id,
                event.ocpp_transaction_id,
                event.seq_no,
            )
        else:
            plain.append((session, event))
            in_plain.add(session.pk)
    _apply(plain)
    for update in one_by_one:
        transaction_event_record(charge_point_id=update.charge_point_id, event=update.event)


def _apply(plain: list[tuple[Transaction, TransactionEventData]]) -> None:
    if not plain:
        return
    insert_rows(
        TransactionEvent,
        [
            {
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
            for session, event in plain
        ],
    )
    reports = [
        MeterValuesReport(
            charge_point_id=session.charge_point_id,
            evse_id=session.evse_id,
            connector_id=session.connector_id,
            readings=event.readings,
            ocpp_transaction_id=session.ocpp_transaction_id,
        )
        for session, event in plain
        if event.readings
    ]
    if reports:
        # As MeterValues are stored (one statement on PostgreSQL), which
        # moves the sessions' last readings in the database: the events
        # published below tell the new ones.
        meter_values_store(reports=reports)
        by_id = {session.pk: session for session, _ in plain}
        for pk, wh, at in Transaction.objects.filter(pk__in=by_id).values_list(
            "pk", "meter_last_wh", "meter_last_at"
        ):
            by_id[pk].meter_last_wh, by_id[pk].meter_last_at = wh, at
    # State only the newest event may set.
    newer = []
    now = utc_now()
    for session, event in plain:
        if session.last_seq_no is None or event.seq_no > session.last_seq_no:
            session.last_seq_no = event.seq_no
            if event.charging_state:
                session.charging_state = event.charging_state
            session.updated_at = now
            newer.append(session)
    update_each(Transaction, newer, ["last_seq_no", "charging_state", "updated_at"])
    for session, event in plain:
        _publish_transaction(session, "transaction.updated", at=event.timestamp)
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
            for session, event in plain
            if event.readings
        ]
    )

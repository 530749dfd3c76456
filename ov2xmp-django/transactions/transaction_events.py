"""OCPP 2.0.1 TransactionEvents, each applied alone
(``transaction_event_record``): any type, any state of its session, in or
out of order, once per seqNo. The plain Updated ones of many chargers are
applied together by ``transactions.transaction_updates``.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction as db_transaction

from commands.services import command_link_transaction
from core.db import first_key, first_row, insert_rows
from idtokens.selectors import Authorization, idtoken_authorize
from reservations.services import reservation_record_use
from transactions.models import PAUSED, Transaction, TransactionEvent, TransactionStatus
from transactions.services import (
    MeterReading,
    _first_register_wh,
    _meter_values_data,
    _on_sessions_changed,
    _publish_transaction,
    _record_readings,
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
        _log_already_applied(charge_point_id, event)
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


def _log_already_applied(charge_point_id: str, event: TransactionEventData) -> None:
    logger.info(
        "%s: TransactionEvent %s #%s already applied",
        charge_point_id,
        event.ocpp_transaction_id,
        event.seq_no,
    )

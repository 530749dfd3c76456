"""Writes on transactions and meter values, shared by every OCPP version
(a 1.6 StartTransaction and a 2.0.1 TransactionEvent(Started) meet here)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction as db_transaction

from commands.services import command_link_transaction
from core.db import decimal_fits, first_key, first_row, insert_rows, update_each
from core.time import format_timestamp, utc_now
from idtokens.selectors import Authorization, idtoken_authorize
from reservations.services import reservation_record_use
from transactions.models import (
    ENERGY_REGISTER,
    EXPORT_REGISTER,
    POWER_EXPORT,
    POWER_IMPORT,
    MeterValue,
    Transaction,
    TransactionStatus,
    energy_in_wh,
    power_in_w,
)
from updates.events import transaction_event
from updates.services import events_publish

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SampledValue:
    value: str
    measurand: str = ENERGY_REGISTER
    phase: str = ""
    unit: str = ""
    context: str = ""
    location: str = ""
    format: str = ""
    signed_meter_value: dict[str, Any] | None = None


@dataclass(frozen=True)
class MeterReading:
    timestamp: datetime
    sampled_values: list[SampledValue] = field(default_factory=list)


@dataclass(frozen=True)
class TransactionStarted:
    transaction: Transaction
    authorization: Authorization


@dataclass(frozen=True)
class TransactionStopped:
    transaction: Transaction | None
    authorization: Authorization | None


def _numeric(sample: SampledValue) -> Decimal | None:
    """The sample's number, where it is one that ``MeterValue.numeric_value``
    can hold (the sample's text is kept either way)."""
    if sample.format == "SignedData":
        return None
    try:
        number = Decimal(sample.value.strip())
    except InvalidOperation:
        return None
    return number if decimal_fits(MeterValue._meta.get_field("numeric_value"), number) else None


def _in_session_field(value: Decimal | None, field_name: str) -> Decimal | None:
    """``value``, where the session's field can hold it; else None (the
    reading is not used as the session's)."""
    if value is None or not decimal_fits(Transaction._meta.get_field(field_name), value):
        return None
    return value


# Measurand → (session field, conversion) for the flows a V2X session reports.
FLOW_FIELDS = {
    EXPORT_REGISTER: ("export_last_wh", energy_in_wh),
    POWER_IMPORT: ("power_import_w", power_in_w),
    POWER_EXPORT: ("power_export_w", power_in_w),
}
FLOW_COLUMNS = [
    "export_start_wh",
    "export_last_wh",
    "power_import_w",
    "power_export_w",
    "flow_last_at",
]


def _register_wh(sample: SampledValue) -> Decimal | None:
    """The reading in Wh, if ``sample`` is the energy import register."""
    if sample.measurand != ENERGY_REGISTER or sample.phase:
        return None
    number = _numeric(sample)
    wh = None if number is None else energy_in_wh(number, sample.unit)
    return _in_session_field(wh, "meter_last_wh")


# No savepoint inside another transaction (a TransactionEvent's): an error
# fails that one whole anyway, and a savepoint costs two round trips.
@db_transaction.atomic(savepoint=False)
def transaction_start(
    *,
    charge_point_id: str,
    ocpp_version: str,
    evse_id: int,
    connector_id: int | None,
    id_token_value: str,
    started_at: datetime,
    meter_start_wh: Decimal | None,
    reservation_id: int | None = None,
    ocpp_transaction_id: str | None = None,
    id_token_type: str | None = None,
) -> TransactionStarted:
    """Record that a session started. The session is recorded whatever the
    token's status (the charger has started it; OCPP expects the CSMS to keep
    it), and the status is returned for the charger to act on.

    A repeated start (a charger resending after a reconnect) returns the
    transaction already recorded instead of a second one.
    """
    if ocpp_transaction_id is not None:
        same: dict[str, Any] = {
            "charge_point_id": charge_point_id,
            "ocpp_transaction_id": ocpp_transaction_id,
        }
    else:
        same = {
            "charge_point_id": charge_point_id,
            "evse_id": evse_id,
            "connector_id": connector_id,
            "id_token_value": id_token_value,
            "started_at": started_at,
        }
        if meter_start_wh is not None:
            same["meter_start_wh"] = meter_start_wh
    found_pk = first_key(Transaction, where=same)
    if found_pk is not None:
        found = Transaction.objects.get(pk=found_pk)
        logger.info("%s: repeated start of transaction %s", charge_point_id, found.pk)
        authorization = idtoken_authorize(
            value=id_token_value, type=id_token_type, at=started_at, exclude_transaction_id=found.pk
        )
        return TransactionStarted(transaction=found, authorization=authorization)

    authorization = idtoken_authorize(value=id_token_value, type=id_token_type, at=started_at)
    started = Transaction.objects.create(
        charge_point_id=charge_point_id,
        ocpp_version=ocpp_version,
        ocpp_transaction_id=ocpp_transaction_id or "",
        evse_id=evse_id,
        connector_id=connector_id,
        id_token=authorization.id_token,
        id_token_value=id_token_value,
        authorization_status=authorization.status,
        reservation_id=reservation_id,
        started_at=started_at,
        meter_start_wh=meter_start_wh,
        meter_last_wh=meter_start_wh,
        meter_last_at=started_at if meter_start_wh is not None else None,
    )
    if ocpp_transaction_id is None:
        # OCPP 1.6: the CSMS assigns the id; the primary key is unique already.
        started.ocpp_transaction_id = str(started.pk)
        Transaction.objects.filter(pk=started.pk).update(ocpp_transaction_id=str(started.pk))
        command_link_transaction(transaction=started, at=started_at)
    if reservation_id is not None:
        reservation_record_use(
            charge_point_id=charge_point_id,
            reservation_id=reservation_id,
            transaction=started,
            at=started_at,
        )
    _publish_transaction(started, "transaction.started", at=started_at)
    return TransactionStarted(transaction=started, authorization=authorization)


def _on_sessions_changed(charge_point_id: str) -> None:
    # Load management builds on transactions, not the reverse.
    from smartcharging.tasks import sessions_changed

    db_transaction.on_commit(lambda: sessions_changed(charge_point_id))


def _publish_transaction(session: Transaction, kind: str, *, at: datetime) -> None:
    # Billing builds on transactions, not the reverse.
    from billing.tasks import session_ended

    session_id = session.pk
    if kind == "transaction.ended":
        db_transaction.on_commit(lambda: session_ended(session_id))
    if kind in ("transaction.started", "transaction.ended"):
        _on_sessions_changed(session.charge_point_id)
    events_publish(
        events=[
            transaction_event(
                kind,
                charge_point_id=session.charge_point_id,
                transaction_id=session.pk,
                at=at,
                evse_id=session.evse_id,
                connector_id=session.connector_id,
                status=session.status,
                charging_state=session.charging_state,
                id_token=session.id_token_value,
                # As the API writes decimals: a string.
                meter_last_wh=None if session.meter_last_wh is None else str(session.meter_last_wh),
            )
        ]
    )


STOP_FIELDS = [
    "status",
    "stopped_at",
    "stop_reason",
    "stop_id_token_value",
    "meter_stop_wh",
    "meter_last_wh",
    "meter_last_at",
    "updated_at",
]


@db_transaction.atomic
def transaction_stop(
    *,
    charge_point_id: str,
    ocpp_transaction_id: str,
    stopped_at: datetime,
    meter_stop_wh: Decimal | None,
    reason: str = "",
    id_token_value: str = "",
    readings: list[MeterReading] | None = None,
) -> TransactionStopped:
    """Record that a session ended, with the meter readings sent along.

    An unknown transaction is logged and answered (the charger must be able to
    clear its queue); a repeated stop changes nothing.
    """
    authorization = (
        idtoken_authorize(value=id_token_value, at=stopped_at, check_concurrency=False)
        if id_token_value
        else None
    )
    stopped = first_row(
        Transaction,
        where={"charge_point_id": charge_point_id, "ocpp_transaction_id": ocpp_transaction_id},
        lock=True,
    )
    if stopped is None:
        logger.warning(
            "%s: stop of unknown transaction %s ignored", charge_point_id, ocpp_transaction_id
        )
        return TransactionStopped(transaction=None, authorization=authorization)
    if stopped.status == TransactionStatus.ENDED:
        logger.info("%s: repeated stop of transaction %s", charge_point_id, ocpp_transaction_id)
        return TransactionStopped(transaction=stopped, authorization=authorization)

    if readings:
        _record_readings(transaction=stopped, readings=readings)
    stopped.status = TransactionStatus.ENDED
    stopped.stopped_at = stopped_at
    stopped.stop_reason = reason
    stopped.stop_id_token_value = id_token_value
    stopped.meter_stop_wh = meter_stop_wh
    if meter_stop_wh is not None:
        stopped.meter_last_wh = meter_stop_wh
        stopped.meter_last_at = stopped_at
    stopped.save(update_fields=[*STOP_FIELDS, *FLOW_COLUMNS])
    _publish_transaction(stopped, "transaction.ended", at=stopped_at)
    return TransactionStopped(transaction=stopped, authorization=authorization)


def _meter_values_data(
    *, evse_id: int | None, connector_id: int | None, readings: list[MeterReading]
) -> dict[str, Any]:
    return {
        "evse_id": evse_id,
        "connector_id": connector_id,
        "readings": [
            {
                "timestamp": format_timestamp(reading.timestamp),
                "sampled_values": [
                    {
                        "measurand": sample.measurand,
                        "value": sample.value,
                        "unit": sample.unit,
                        "phase": sample.phase,
                        "location": sample.location,
                    }
                    for sample in reading.sampled_values
                ],
            }
            for reading in readings
        ],
    }


def _meter_rows(
    *,
    charge_point_id: str,
    evse_id: int,
    connector_id: int | None,
    transaction: Transaction | None,
    readings: list[MeterReading],
) -> list[dict[str, Any]]:
    """One row ({field: value}) per sampled value."""
    transaction_id = None if transaction is None else transaction.pk
    return [
        {
            "charge_point_id": charge_point_id,
            "transaction_id": transaction_id,
            "evse_id": evse_id,
            "connector_id": connector_id,
            "timestamp": reading.timestamp,
            "measurand": sample.measurand,
            "phase": sample.phase,
            "unit": sample.unit,
            "context": sample.context,
            "location": sample.location,
            "format": sample.format,
            "value": sample.value,
            "signed_meter_value": sample.signed_meter_value,
            "numeric_value": _numeric(sample),
        }
        for reading in readings
        for sample in reading.sampled_values
    ]


def _record_readings(*, transaction: Transaction, readings: list[MeterReading]) -> None:
    """Readings sent along with a stop or a TransactionEvent (these messages
    have their own guard against a resend). The session object takes its new
    last readings; the caller saves it (with ``FLOW_COLUMNS``), in the same
    statement as the rest of its changes."""
    insert_rows(
        MeterValue,
        _meter_rows(
            charge_point_id=transaction.charge_point_id,
            evse_id=transaction.evse_id,
            connector_id=transaction.connector_id,
            transaction=transaction,
            readings=readings,
        ),
    )
    _take_last_readings([(transaction, readings)])


def _flow(sample: SampledValue) -> tuple[str, Decimal] | None:
    """(session field, value) for a whole-meter export register or power sample."""
    target = FLOW_FIELDS.get(sample.measurand)
    if target is None or sample.phase:
        return None
    field_name, in_unit = target
    number = _numeric(sample)
    value = _in_session_field(None if number is None else in_unit(number, sample.unit), field_name)
    return None if value is None else (field_name, value)


def _advance_last_readings(readings_of: list[tuple[Transaction, list[MeterReading]]]) -> None:
    """Move each session's last readings forward (never back: readings may
    arrive out of order), in one statement: the import register; and for V2X
    each flow (export register, power each way) to its newest reading not
    older than the session's last flow reading, the export start to the
    lowest export reading."""
    changed, flows = _take_last_readings(readings_of)
    if changed:
        now = utc_now()
        for session in changed:
            session.updated_at = now
        fields = ["meter_last_wh", "meter_last_at", "updated_at"]
        update_each(Transaction, changed, fields + FLOW_COLUMNS if flows else fields)


def _take_last_readings(
    readings_of: list[tuple[Transaction, list[MeterReading]]],
) -> tuple[list[Transaction], bool]:
    """``_advance_last_readings`` on the session objects only: the sessions
    changed, and whether a flow changed. Also for objects whose rows the
    meter-values statement has moved forward already (the same rule, in SQL:
    transactions.meter_values), so that they tell the new readings without
    being read again."""
    # A session's readings of the whole batch together (a batch may hold
    # several of its messages), so that each flow takes the batch's newest.
    grouped: dict[int, tuple[Transaction, list[MeterReading]]] = {}
    for session, readings in readings_of:
        grouped.setdefault(session.pk, (session, []))[1].extend(readings)
    changed: dict[int, Transaction] = {}
    flows = False
    for session, readings in grouped.values():
        before = session.flow_last_at
        newest: dict[str, tuple[datetime, Decimal]] = {}
        for reading in readings:
            at = reading.timestamp
            for sample in reading.sampled_values:
                wh = _register_wh(sample)
                if wh is not None:
                    if session.meter_last_at is None or session.meter_last_at <= at:
                        session.meter_last_wh, session.meter_last_at = wh, at
                        changed[session.pk] = session
                    continue
                flow = _flow(sample)
                if flow is None:
                    continue
                field_name, value = flow
                if field_name == "export_last_wh" and (
                    session.export_start_wh is None or value < session.export_start_wh
                ):
                    session.export_start_wh = value  # a register only grows
                    changed[session.pk] = session
                    flows = True
                if (before is None or before <= at) and (
                    field_name not in newest or newest[field_name][0] <= at
                ):
                    newest[field_name] = (at, value)
        for field_name, (at, value) in newest.items():
            setattr(session, field_name, value)
            if session.flow_last_at is None or session.flow_last_at < at:
                session.flow_last_at = at
            changed[session.pk] = session
            flows = True
    return list(changed.values()), flows


def _first_register_wh(readings: list[MeterReading]) -> Decimal | None:
    for reading in sorted(readings, key=lambda r: r.timestamp):
        for sample in reading.sampled_values:
            wh = _register_wh(sample)
            if wh is not None:
                return wh
    return None

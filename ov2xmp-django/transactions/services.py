"""Writes on transactions and meter values, shared by every OCPP version
(a 1.6 StartTransaction and a 2.0.1 TransactionEvent(Started) meet here)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction as db_transaction

from idtokens.selectors import Authorization, idtoken_authorize
from transactions.models import ENERGY_REGISTER, MeterValue, Transaction, TransactionStatus

logger = logging.getLogger(__name__)

WH_PER_UNIT = {"Wh": Decimal(1), "kWh": Decimal(1000)}


@dataclass(frozen=True)
class SampledValue:
    value: str
    measurand: str = ENERGY_REGISTER
    phase: str = ""
    unit: str = ""
    context: str = ""
    location: str = ""
    format: str = ""


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
    if sample.format == "SignedData":
        return None
    try:
        number = Decimal(sample.value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _register_wh(sample: SampledValue) -> Decimal | None:
    """The reading in Wh, if ``sample`` is the energy import register."""
    if sample.measurand != ENERGY_REGISTER or sample.phase:
        return None
    number = _numeric(sample)
    factor = WH_PER_UNIT.get(sample.unit or "Wh")
    if number is None or factor is None:
        return None
    return number * factor


@db_transaction.atomic
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
) -> TransactionStarted:
    """Record that a session started. The session is recorded whatever the
    token's status (the charger has started it; OCPP expects the CSMS to keep
    it), and the status is returned for the charger to act on.

    A repeated start (a charger resending after a reconnect) returns the
    transaction already recorded instead of a second one.
    """
    existing = Transaction.objects.filter(
        charge_point_id=charge_point_id,
        evse_id=evse_id,
        connector_id=connector_id,
        id_token_value=id_token_value,
        started_at=started_at,
    )
    if ocpp_transaction_id is not None:
        existing = Transaction.objects.filter(
            charge_point_id=charge_point_id, ocpp_transaction_id=ocpp_transaction_id
        )
    elif meter_start_wh is not None:
        existing = existing.filter(meter_start_wh=meter_start_wh)
    found = existing.first()
    if found is not None:
        logger.info("%s: repeated start of transaction %s", charge_point_id, found.pk)
        authorization = idtoken_authorize(
            value=id_token_value, at=started_at, exclude_transaction_id=found.pk
        )
        return TransactionStarted(transaction=found, authorization=authorization)

    authorization = idtoken_authorize(value=id_token_value, at=started_at)
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
        started.save(update_fields=["ocpp_transaction_id"])
    return TransactionStarted(transaction=started, authorization=authorization)


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
    stopped = (
        Transaction.objects.select_for_update()
        .filter(charge_point_id=charge_point_id, ocpp_transaction_id=ocpp_transaction_id)
        .first()
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
        _record_readings(
            charge_point_id=charge_point_id,
            evse_id=stopped.evse_id,
            connector_id=stopped.connector_id,
            transaction=stopped,
            readings=readings,
        )
        stopped.refresh_from_db()
    stopped.status = TransactionStatus.ENDED
    stopped.stopped_at = stopped_at
    stopped.stop_reason = reason
    stopped.stop_id_token_value = id_token_value
    stopped.meter_stop_wh = meter_stop_wh
    if meter_stop_wh is not None:
        stopped.meter_last_wh = meter_stop_wh
        stopped.meter_last_at = stopped_at
    stopped.save()
    return TransactionStopped(transaction=stopped, authorization=authorization)


@db_transaction.atomic
def meter_values_record(
    *,
    charge_point_id: str,
    evse_id: int,
    connector_id: int | None,
    readings: list[MeterReading],
    ocpp_transaction_id: str | None = None,
) -> list[MeterValue]:
    """Store meter readings, linked to their transaction when it is known.
    Readings for an unknown transaction are kept, unlinked, and logged."""
    linked = None
    if ocpp_transaction_id is not None:
        linked = (
            Transaction.objects.select_for_update()
            .filter(charge_point_id=charge_point_id, ocpp_transaction_id=ocpp_transaction_id)
            .first()
        )
        if linked is None:
            logger.warning(
                "%s: meter values for unknown transaction %s kept unlinked",
                charge_point_id,
                ocpp_transaction_id,
            )
    return _record_readings(
        charge_point_id=charge_point_id,
        evse_id=evse_id,
        connector_id=connector_id,
        transaction=linked,
        readings=readings,
    )


def _record_readings(
    *,
    charge_point_id: str,
    evse_id: int,
    connector_id: int | None,
    transaction: Transaction | None,
    readings: list[MeterReading],
) -> list[MeterValue]:
    rows = [
        MeterValue(
            charge_point_id=charge_point_id,
            transaction=transaction,
            evse_id=evse_id,
            connector_id=connector_id,
            timestamp=reading.timestamp,
            measurand=sample.measurand,
            phase=sample.phase,
            unit=sample.unit,
            context=sample.context,
            location=sample.location,
            format=sample.format,
            value=sample.value,
            numeric_value=_numeric(sample),
        )
        for reading in readings
        for sample in reading.sampled_values
    ]
    created = MeterValue.objects.bulk_create(rows)
    if transaction is not None:
        _advance_last_reading(transaction, readings)
    return created


def _advance_last_reading(transaction: Transaction, readings: list[MeterReading]) -> None:
    latest = None
    for reading in readings:
        for sample in reading.sampled_values:
            wh = _register_wh(sample)
            if wh is not None and (latest is None or reading.timestamp >= latest[0]):
                latest = (reading.timestamp, wh)
    if latest is None:
        return
    at, wh = latest
    if transaction.meter_last_at is None or transaction.meter_last_at <= at:
        Transaction.objects.filter(pk=transaction.pk).update(meter_last_wh=wh, meter_last_at=at)

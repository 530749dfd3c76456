"""Writes on reservations. Version-neutral: the platform makes a reservation
and sends ReserveNow (OCPP 1.6 or 2.0.1 payload), records the charger's
answer, cancels it (CancelReservation), expires it; OCPP 2.0.1 reports how a
reservation ended (ReservationStatusUpdate); a transaction of either version
that names a reservation uses it, if its token is the one it was made for."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction as db_transaction
from django.db.models import Max

from chargepoints.models import ChargePoint
from commands.catalog import OCPP16, command_spec
from commands.models import Command
from commands.services import command_create
from core.time import format_timestamp, parse_timestamp
from reservations.models import ACTIVE_STATUSES, Reservation, ReservationStatus
from updates.events import charger_event
from updates.services import events_publish

if TYPE_CHECKING:
    from idtokens.models import IdToken
    from transactions.models import Transaction

logger = logging.getLogger(__name__)

# ReserveNow answers (both versions spell them alike).
RESERVE_ANSWERS = {
    ReservationStatus.ACCEPTED,
    ReservationStatus.FAULTED,
    ReservationStatus.OCCUPIED,
    ReservationStatus.REJECTED,
    ReservationStatus.UNAVAILABLE,
}


def _publish(reservation: Reservation, *, at: datetime) -> None:
    """reservation.status on the charger's topics: made, answered, cancelled,
    expired, removed or used."""
    events_publish(
        events=[
            charger_event(
                "reservation.status",
                charge_point_id=reservation.charge_point_id,
                at=at,
                reservation=reservation.pk,
                reservation_id=reservation.reservation_id,
                evse_id=reservation.evse_id,
                status=reservation.status,
                expires_at=format_timestamp(reservation.expires_at)
                if reservation.expires_at
                else None,
            )
        ]
    )


def reserve_now_payload(
    *,
    ocpp_version: str,
    reservation_id: int,
    evse_id: int | None,
    expires_at: datetime,
    id_token_value: str,
    id_token_type: str,
    group_value: str = "",
    group_type: str = "",
    connector_type: str = "",
) -> dict[str, Any]:
    """The ReserveNow request of the charger's version. A 1.6 connector N is
    EVSE N (ADR 0005); no EVSE is connector 0, any connector."""
    if ocpp_version == OCPP16:
        payload: dict[str, Any] = {
            "connectorId": evse_id or 0,
            "expiryDate": format_timestamp(expires_at),
            "idTag": id_token_value,
            "reservationId": reservation_id,
        }
        if group_value:
            payload["parentIdTag"] = group_value
        return payload
    payload = {
        "id": reservation_id,
        "expiryDateTime": format_timestamp(expires_at),
        "idToken": {"idToken": id_token_value, "type": id_token_type},
    }
    if evse_id:
        payload["evseId"] = evse_id
    if connector_type:
        payload["connectorType"] = connector_type
    if group_value:
        payload["groupIdToken"] = {"idToken": group_value, "type": group_type}
    return payload


def reservation_payload_errors(*, ocpp_version: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What the OCPP schema finds wrong in a ReserveNow payload, by field."""
    return command_spec(ocpp_version, "ReserveNow").request_errors(payload)


@db_transaction.atomic
def reservation_create(
    *,
    charge_point_id: str,
    evse_id: int | None,
    id_token: IdToken,
    group: IdToken | None,
    expires_at: datetime,
    connector_type: str = "",
    created_by: Any = None,
    at: datetime,
) -> Reservation:
    """A Pending reservation with the next reservation id of its charger, and
    the ReserveNow that asks for it (created, not sent: the caller dispatches
    it). The charger's answer sets the status (``reservation_record_answer``)."""
    # The charger's row, locked: two reservations made at once get two ids.
    charge_point = ChargePoint.objects.select_for_update().get(id=charge_point_id)
    last = Reservation.objects.filter(charge_point=charge_point).aggregate(
        last=Max("reservation_id")
    )["last"]
    reservation_id = max(last or 0, 0) + 1
    payload = reserve_now_payload(
        ocpp_version=charge_point.ocpp_version,
        reservation_id=reservation_id,
        evse_id=evse_id,
        expires_at=expires_at,
        id_token_value=id_token.value,
        id_token_type=id_token.type,
        group_value=group.value if group else "",
        group_type=group.type if group else "",
        connector_type=connector_type,
    )
    errors = reservation_payload_errors(ocpp_version=charge_point.ocpp_version, payload=payload)
    if errors:  # the API checked the input: a bug, not bad input
        raise ValueError(f"ReserveNow payload invalid: {errors}")
    command = command_create(
        charge_point_id=charge_point.id,
        spec=command_spec(charge_point.ocpp_version, "ReserveNow"),
        payload=payload,
        created_by=created_by,
        at=at,
    )
    reservation = Reservation.objects.create(
        charge_point=charge_point,
        reservation_id=reservation_id,
        evse_id=evse_id,
        connector_type=connector_type,
        id_token_value=id_token.value,
        id_token_type=id_token.type,
        group_id_token_value=group.value if group else "",
        expires_at=expires_at,
        status=ReservationStatus.PENDING,
        status_at=at,
        command=command,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    _publish(reservation, at=at)
    return reservation


def _reserve_now_fields(command: Command) -> dict[str, Any]:
    """What a ReserveNow request says, version-neutral."""
    request = command.request
    if command.ocpp_version == OCPP16:
        return {
            "evse_id": request.get("connectorId") or None,
            "expires_at": parse_timestamp(request["expiryDate"]),
            "id_token_value": request["idTag"],
            "id_token_type": "",
            "group_id_token_value": request.get("parentIdTag", ""),
            "connector_type": "",
        }
    return {
        "evse_id": request.get("evseId") or None,
        "expires_at": parse_timestamp(request["expiryDateTime"]),
        "id_token_value": request["idToken"]["idToken"],
        "id_token_type": request["idToken"]["type"],
        "group_id_token_value": (request.get("groupIdToken") or {}).get("idToken", ""),
        "connector_type": request.get("connectorType", ""),
    }


def _reservation_id(command: Command) -> int:
    return int(command.request["reservationId" if command.ocpp_version == OCPP16 else "id"])


def reservation_record_answer(
    *, command: Command, response: dict[str, Any], at: datetime
) -> Reservation:
    """The charger's answer to ReserveNow. A ReserveNow sent straight through
    /api/commands/ makes (or, with the id of an existing one, replaces, as
    OCPP has it) the reservation it names, so that every reservation a
    charger holds is listed."""
    fields = _reserve_now_fields(command)
    reservation, _ = Reservation.objects.update_or_create(
        charge_point_id=command.charge_point_id,
        reservation_id=_reservation_id(command),
        defaults={
            **fields,
            "status": response.get("status", ReservationStatus.REJECTED),
            "status_at": at,
            "command": command,
            "transaction": None,
        },
        create_defaults={
            **fields,
            "status": response.get("status", ReservationStatus.REJECTED),
            "status_at": at,
            "command": command,
            "created_by": command.created_by,
        },
    )
    logger.info(
        "%s: reservation %s %s",
        command.charge_point_id,
        reservation.reservation_id,
        reservation.status,
    )
    _publish(reservation, at=at)
    return reservation


def reservation_record_failure(*, command: Command, at: datetime) -> None:
    """ReserveNow got no answer: the reservation the platform made for it failed."""
    for reservation in Reservation.objects.filter(
        command=command, status=ReservationStatus.PENDING
    ):
        reservation.status = ReservationStatus.FAILED
        reservation.status_at = at
        reservation.save(update_fields=["status", "status_at", "updated_at"])
        _publish(reservation, at=at)


@db_transaction.atomic
def reservation_cancel_start(*, reservation: Reservation, created_by: Any, at: datetime) -> Command:
    """The CancelReservation for a reservation (created, not sent)."""
    charge_point = reservation.charge_point
    command = command_create(
        charge_point_id=charge_point.id,
        spec=command_spec(charge_point.ocpp_version, "CancelReservation"),
        payload={"reservationId": reservation.reservation_id},
        created_by=created_by,
        at=at,
    )
    reservation.cancel_command = command
    reservation.save(update_fields=["cancel_command", "updated_at"])
    return command


def reservation_record_cancel_answer(
    *, command: Command, response: dict[str, Any], at: datetime
) -> Reservation | None:
    """Accepted: the reservation is Cancelled. Rejected (the charger has no
    such reservation) changes nothing: the answer stays on the command."""
    reservation = Reservation.objects.filter(
        charge_point_id=command.charge_point_id,
        reservation_id=command.request["reservationId"],
    ).first()
    if reservation is None:
        logger.warning(
            "%s: CancelReservation of unknown reservation %s answered %s",
            command.charge_point_id,
            command.request["reservationId"],
            response.get("status"),
        )
        return None
    if response.get("status") == "Accepted" and reservation.status in (
        *ACTIVE_STATUSES,
        ReservationStatus.PENDING,
    ):
        reservation.status = ReservationStatus.CANCELLED
        reservation.status_at = at
        reservation.save(update_fields=["status", "status_at", "updated_at"])
        _publish(reservation, at=at)
    return reservation


def reservations_expire(*, at: datetime) -> int:
    """Accepted reservations past their expiry are Expired (the charger frees
    the EVSE itself; OCPP 1.6 does not tell the CSMS). Returns how many."""
    expired = 0
    due = Reservation.objects.filter(status__in=ACTIVE_STATUSES, expires_at__lte=at)
    for pk in due.values_list("pk", flat=True):
        with db_transaction.atomic():
            # Conditional: a transaction or an update of the charger may have
            # ended it meanwhile.
            reservation = (
                Reservation.objects.select_for_update()
                .filter(pk=pk, status__in=ACTIVE_STATUSES, expires_at__lte=at)
                .first()
            )
            if reservation is None:
                continue
            reservation.status = ReservationStatus.EXPIRED
            reservation.status_at = at
            reservation.save(update_fields=["status", "status_at", "updated_at"])
            _publish(reservation, at=at)
            expired += 1
    if expired:
        logger.info("%s reservation(s) expired", expired)
    return expired


def reservation_record_status_update(
    *, charge_point_id: str, reservation_id: int, status: str, at: datetime
) -> Reservation:
    """A charger says a reservation ended (Expired or Removed). One the
    platform does not know (made before a database restore, or by another
    CSMS) is kept all the same, so that the charger's word is not lost."""
    reservation, created = Reservation.objects.update_or_create(
        charge_point_id=charge_point_id,
        reservation_id=reservation_id,
        defaults={"status": status, "status_at": at},
    )
    if created:
        logger.warning(
            "%s: status %s of unknown reservation %s kept", charge_point_id, status, reservation_id
        )
    _publish(reservation, at=at)
    return reservation


def _made_for(reservation: Reservation, transaction: Transaction) -> bool:
    """Whether the session's token is the one the reservation holds the EVSE
    for, or one of its group (OCPP: parentIdTag / groupIdToken)."""
    if not reservation.id_token_value:
        return True  # not known here (a charger's own report): nothing to check
    value = transaction.id_token_value
    if value == reservation.id_token_value:
        return True
    group = reservation.group_id_token_value
    token = transaction.id_token
    return bool(
        group and token is not None and token.parent is not None and token.parent.value == group
    )


def reservation_record_use(
    *, charge_point_id: str, reservation_id: int, transaction: Transaction, at: datetime
) -> bool:
    """A transaction started on a reservation: it is used up, if the session's
    token is the reservation's (or of its group). Another token's session, or
    one whose token is not known yet, leaves it as it is, with a warning.
    Unknown reservations are left alone (the transaction keeps the id)."""
    reservation = (
        Reservation.objects.select_for_update()
        .filter(charge_point_id=charge_point_id, reservation_id=reservation_id)
        .first()
    )
    if reservation is None:
        logger.warning(
            "%s: transaction %s names unknown reservation %s",
            charge_point_id,
            transaction.pk,
            reservation_id,
        )
        return False
    if reservation.transaction_id == transaction.pk:
        return True
    if not transaction.id_token_value and reservation.id_token_value:
        logger.info(
            "%s: transaction %s names reservation %s before its token is known",
            charge_point_id,
            transaction.pk,
            reservation_id,
        )
        return False
    if not _made_for(reservation, transaction):
        logger.warning(
            "%s: transaction %s of token %s names reservation %s of token %s: not counted as used",
            charge_point_id,
            transaction.pk,
            transaction.id_token_value,
            reservation_id,
            reservation.id_token_value,
        )
        return False
    reservation.status = ReservationStatus.USED
    reservation.status_at = at
    reservation.transaction = transaction
    reservation.save(update_fields=["status", "status_at", "transaction", "updated_at"])
    _publish(reservation, at=at)
    return True

"""Writes of the command path: create, route, claim, finish.

A command is sent at most once: whoever moves it from Queued/Held to Sent in
one conditional UPDATE (``command_claim``) sends it; every other path that
would send it (a duplicate task, a held delivery racing a direct one) finds
it claimed and does nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.db import transaction

from chargepoints.models import ChargePoint
from chargepoints.security import request_redacted
from commands.catalog import CommandSpec
from commands.models import UNSENT_STATUSES, Command, CommandStatus
from commands.results import apply_failure, apply_result
from core.db import first_key, update_one_returning
from core.time import utc_now
from updates.events import command_event
from updates.services import events_publish

logger = logging.getLogger(__name__)

# The channel-layer message a csms process acts on.
EXECUTE_MESSAGE = "command.execute"
OUTCOME_MESSAGE = "command.finished"
# A command passed on more often than this between csms processes (their
# records of who holds the charger keep changing) is given up as not connected.
MAX_HOPS = 3
# These request fields name what later messages of the charger refer back to.
REQUEST_ID_FIELDS = ("requestId", "remoteStartId")


def command_create(
    *,
    charge_point_id: str,
    spec: CommandSpec,
    payload: dict[str, Any],
    hold_seconds: int = 0,
    created_by: Any = None,
    at: datetime | None = None,
) -> Command:
    """A new Queued command (the payload is already valid for ``spec``)."""
    at = at or utc_now()
    request_id = next(
        (payload[name] for name in REQUEST_ID_FIELDS if isinstance(payload.get(name), int)), None
    )
    command = Command.objects.create(
        charge_point_id=charge_point_id,
        ocpp_version=spec.ocpp_version,
        action=spec.action,
        request=payload,
        hold_until=at + timedelta(seconds=hold_seconds) if hold_seconds else None,
        request_id=request_id,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    _publish(command, "command.queued", at=at)
    return command


def _publish(command: Command, kind: str, *, at: datetime) -> None:
    events_publish(
        events=[
            command_event(
                kind,
                command_id=command.id,
                charge_point_id=command.charge_point_id,
                at=at,
                action=command.action,
                status=command.status,
            )
        ]
    )


def command_route(*, command_id: uuid.UUID, not_via: str = "", hops: int = 0) -> Command:
    """Send a Queued or Held command to the csms process that holds its
    charger's connection. A charger that is not connected fails the command
    (NotConnected), unless it asked to be held: then it waits (Held) for the
    reconnect, until it expires. ``not_via`` is the channel of a csms process
    that found it does not hold the charger after all."""
    command = Command.objects.select_related("charge_point").get(id=command_id)
    if command.status not in UNSENT_STATUSES:
        return command
    channel = command.charge_point.csms_channel
    if channel and channel != not_via and hops < MAX_HOPS:
        return _send_to_csms(command, channel, hops)

    now = utc_now()
    if command.hold_until is None:
        return command_finish(
            command_id=command.id,
            status=CommandStatus.NOT_CONNECTED,
            error_description=f"{command.charge_point_id} is not connected",
            at=now,
            only_if_unsent=True,
        )
    if command.hold_until <= now:
        return command_finish(
            command_id=command.id,
            status=CommandStatus.EXPIRED,
            error_description=f"{command.charge_point_id} did not reconnect in time",
            at=now,
            only_if_unsent=True,
        )
    if Command.objects.filter(id=command.id, status=CommandStatus.QUEUED).update(
        status=CommandStatus.HELD
    ):
        # A caller waiting for the outcome stops waiting at Held.
        transaction.on_commit(lambda: _announce_outcome(command.id, CommandStatus.HELD))
    # The charger may have connected meanwhile, after its csms process looked
    # for held commands: look once more, so that none is left behind.
    channel = ChargePoint.objects.values_list("csms_channel", flat=True).get(
        id=command.charge_point_id
    )
    command.refresh_from_db()
    if channel and channel != not_via and command.status == CommandStatus.HELD:
        return _send_to_csms(command, channel, hops)
    return command


def _send_to_csms(command: Command, channel: str, hops: int) -> Command:
    message = {
        "type": EXECUTE_MESSAGE,
        "command_id": str(command.id),
        "charge_point_id": command.charge_point_id,
        "hops": hops + 1,
    }
    try:
        async_to_sync(get_channel_layer().send)(channel, message)
    except ChannelFull:
        return command_finish(
            command_id=command.id,
            status=CommandStatus.FAILED,
            error_description="the csms process holding the charger has too many commands queued",
            at=utc_now(),
            only_if_unsent=True,
        )
    return command


def outcome_group(command_id: uuid.UUID) -> str:
    """The channel-layer group told when a command has ended or is held (see
    ``selectors.await_outcome``)."""
    return f"command-finished.{command_id}"


def _announce_outcome(command_id: uuid.UUID, status: str) -> None:
    """Wake whoever waits for this command's outcome, in any process. Only a
    wake-up: the outcome itself is read from the database, and a lost
    announcement costs the waiter a little time, nothing else."""
    try:
        async_to_sync(get_channel_layer().group_send)(
            outcome_group(command_id), {"type": OUTCOME_MESSAGE, "status": status}
        )
    except Exception:
        logger.warning("command %s: announcing it %s failed", command_id, status, exc_info=True)


def command_claim(*, command_id: uuid.UUID, at: datetime) -> Command | None:
    """Take an unsent command for sending now; None when it is no longer
    unsent (claimed by another path, cancelled or expired)."""
    command = update_one_returning(
        Command,
        command_id,
        where_in={"status": UNSENT_STATUSES},
        values={"status": CommandStatus.SENT, "sent_at": at},
    )
    if command is None:
        return None
    _publish(command, "command.sent", at=at)
    return command


def command_finish(
    *,
    command_id: uuid.UUID,
    status: str,
    at: datetime,
    response: Any = None,
    error_code: str = "",
    error_description: str = "",
    only_if_unsent: bool = False,
) -> Command:
    """Record how a command ended and, for an answer, what it changes in the
    domain (configuration values, local list version, …). With
    ``only_if_unsent`` a command that has been sent meanwhile is left alone."""
    with transaction.atomic():
        # Ended only if it is still pending, as one statement: the update
        # locks the row, and a concurrent end waits for this one's commit.
        command = update_one_returning(
            Command,
            command_id,
            where_in={
                "status": UNSENT_STATUSES
                if only_if_unsent
                else (*UNSENT_STATUSES, CommandStatus.SENT)
            },
            values={
                "status": status,
                "response": response,
                "error_code": error_code,
                "error_description": error_description,
                "finished_at": at,
            },
        )
        if command is None:  # ended already, or sent meanwhile: as it stands
            return Command.objects.get(id=command_id)
        if status == CommandStatus.ANSWERED:
            apply_result(command)
        else:
            apply_failure(command)
        redacted = request_redacted(command.action, command.request)
        if redacted is not command.request:
            # A charger's password stays on record only until it is sent.
            command.request = redacted
            command.save(update_fields=["request"])
        transaction.on_commit(lambda: _announce_outcome(command.id, status))
        _publish(command, "command.finished", at=at)
    logger.info(
        "%s: %s %s %s%s",
        command.charge_point_id,
        command.action,
        command.id,
        status,
        f": {error_code} {error_description}".rstrip() if error_code or error_description else "",
    )
    return command


def command_cancel(*, command_id: uuid.UUID, at: datetime) -> Command:
    """Cancel a command that has not been sent yet (queued or held)."""
    return command_finish(
        command_id=command_id,
        status=CommandStatus.CANCELLED,
        error_description="cancelled before it was sent",
        at=at,
        only_if_unsent=True,
    )


@transaction.atomic
def commands_take_held(*, charge_point_ids: Sequence[str], at: datetime) -> list[list[uuid.UUID]]:
    """The held commands of chargers that have just become reachable, oldest
    first, one list per charger in the order given; those whose hold has run
    out are marked Expired instead."""
    commands_expire_held(at=at, charge_point_ids=charge_point_ids)
    held: dict[str, list[uuid.UUID]] = {charge_point_id: [] for charge_point_id in charge_point_ids}
    for command_id, charge_point_id in (
        Command.objects.filter(charge_point_id__in=charge_point_ids, status=CommandStatus.HELD)
        .order_by("created_at")
        .values_list("id", "charge_point_id")
    ):
        held[charge_point_id].append(command_id)
    return [held[charge_point_id] for charge_point_id in charge_point_ids]


def commands_expire_held(*, at: datetime, charge_point_ids: Sequence[str] | None = None) -> int:
    held = Command.objects.filter(status=CommandStatus.HELD, hold_until__lte=at)
    if charge_point_ids is not None:
        held = held.filter(charge_point_id__in=charge_point_ids)
    return _finish_each(
        held,
        status=CommandStatus.EXPIRED,
        at=at,
        why="the charger did not reconnect before the hold expired",
        only_if_unsent=True,
    )


def _finish_each(
    commands: Any, *, status: str, at: datetime, why: str, only_if_unsent: bool
) -> int:
    """Finish these commands one by one through ``command_finish``, so that
    what waits on them hears it and their failure handlers run (a
    reservation, a charging profile); how many it finished."""
    finished = 0
    for command_id in list(commands.values_list("id", flat=True)):
        command = command_finish(
            command_id=command_id,
            status=status,
            at=at,
            error_description=why,
            only_if_unsent=only_if_unsent,
        )
        finished += command.status == status
    return finished


def commands_fail_stranded(*, at: datetime, queued_for: timedelta, sent_for: timedelta) -> int:
    """Commands that no csms process took up, or whose csms process stopped
    before the answer (it crashed with the charger still recorded as its own),
    are failed rather than left pending for ever."""
    why = "stranded: the csms process holding the charger did not finish it"
    queued = Command.objects.filter(status=CommandStatus.QUEUED, created_at__lte=at - queued_for)
    sent = Command.objects.filter(status=CommandStatus.SENT, sent_at__lte=at - sent_for)
    return _finish_each(
        queued, status=CommandStatus.FAILED, at=at, why=why, only_if_unsent=True
    ) + _finish_each(sent, status=CommandStatus.FAILED, at=at, why=why, only_if_unsent=False)


# A 1.6 RemoteStartTransaction is linked to a session that starts within this
# time, on the same charger, with the same idTag (1.6 has no remoteStartId).
REMOTE_START_LINK_WINDOW = timedelta(minutes=10)


def command_link_transaction(
    *, transaction: Any, remote_start_id: int | None = None, at: datetime
) -> Command | None:
    """Link a session that has just started to the remote start that caused
    it: by remoteStartId (2.0.1), or by charger, idTag and time (1.6)."""
    candidates = Command.objects.filter(
        charge_point_id=transaction.charge_point_id,
        status=CommandStatus.ANSWERED,
        transaction__isnull=True,
    )
    if remote_start_id is not None:
        candidates = candidates.filter(action="RequestStartTransaction", request_id=remote_start_id)
    elif transaction.ocpp_version == "1.6" and transaction.id_token_value:
        since = at - REMOTE_START_LINK_WINDOW
        # Most sessions have no remote start to link: ask the cheap question
        # first (every 1.6 start asks it), the one on the payloads only then.
        answered_remote_start = first_key(
            Command,
            where={
                "charge_point_id": transaction.charge_point_id,
                "status": CommandStatus.ANSWERED,
                "transaction_id": None,
                "action": "RemoteStartTransaction",
            },
            since=("created_at", since),
        )
        if answered_remote_start is None:
            return None
        candidates = candidates.filter(
            action="RemoteStartTransaction",
            request__idTag=transaction.id_token_value,
            response__status="Accepted",
            created_at__gte=since,
        )
    else:
        return None
    # The key alone: most sessions have no remote start to link.
    command_id = candidates.order_by("-created_at").values_list("pk", flat=True).first()
    if command_id is None:
        return None
    command = Command.objects.get(pk=command_id)
    command.transaction = transaction
    command.save(update_fields=["transaction"])
    return command


def command_dispatch_queue(*, command: Command) -> bool:
    """Hand a new command to the dispatch task. False if the task queue is
    down: the command is then recorded as Failed, never sent."""
    from commands.tasks import command_dispatch  # the task wraps these services

    try:
        command_dispatch.delay(str(command.id))
    except Exception as error:
        logger.exception("command %s: could not queue the dispatch task", command.id)
        command_finish(
            command_id=command.id,
            status=CommandStatus.FAILED,
            error_description=f"task queue unavailable: {error}",
            at=utc_now(),
            only_if_unsent=True,
        )
        return False
    return True

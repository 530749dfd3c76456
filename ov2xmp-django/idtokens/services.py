"""Writes on id tokens: the local authorization list each charger holds.

The platform builds a charger's list from the IdToken table: the tokens of
the charger's ``local_list_group`` (the group token and the tokens whose
group it is), or, without one, every token. Each goes on the list with its
status (a blocked card is refused offline too), expiry and group. A Full
update sends the whole list; a Differential one what changed since the
version the charger holds (changed and new tokens, and removals). A
Differential answered VersionMismatch is repaired by a Full update, sent at
once through the same command path.

Versions of the list are version-neutral entries (``value``, ``type``,
``status``, ``expires_at``, ``group_value``, ``group_type``); the OCPP 1.6
(``idTag`` / ``idTagInfo``) or 2.0.1 (``idToken`` / ``idTokenInfo``) payload
is made from them when sent.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max, Q

from chargepoints.models import ChargePoint, ConfigurationKey, DeviceModelVariable
from commands.catalog import OCPP16, OCPP21, OCPP201, command_spec
from commands.models import Command
from commands.services import command_create, command_dispatch_queue
from core.time import format_timestamp
from idtokens.models import (
    IdToken,
    IdTokenStatus,
    IdTokenType,
    LocalListUpdate,
    LocalListUpdateStatus,
    LocalListUpdateType,
)
from updates.events import charger_event
from updates.services import events_publish

logger = logging.getLogger(__name__)

# The longest token each version carries (1.6 idTag: CiString20; 2.0.1
# idToken: identifierString 36).
MAX_TOKEN_LENGTH = {OCPP16: 20, OCPP201: 36, OCPP21: 36}
# The list version field of SendLocalList.
VERSION_FIELD = {OCPP16: "listVersion", OCPP201: "versionNumber", OCPP21: "versionNumber"}
SEND_ANSWERS = {
    LocalListUpdateStatus.ACCEPTED,
    LocalListUpdateStatus.FAILED,
    LocalListUpdateStatus.NOT_SUPPORTED,
    LocalListUpdateStatus.VERSION_MISMATCH,
}

Entry = dict[str, Any]


class LocalListRefused(ValueError):
    """The update cannot go to this charger as it is (too long for what it
    says it takes); the message says why."""


@dataclass(frozen=True)
class LocalListLimits:
    """What a charger says it takes, where it has said (None: not reported)."""

    items_per_message: int | None = None
    bytes_per_message: int | None = None
    max_entries: int | None = None


def _entry(token: IdToken, *, at: datetime) -> Entry:
    status = token.status
    if status == IdTokenStatus.ACCEPTED and token.expires_at and token.expires_at <= at:
        status = IdTokenStatus.EXPIRED
    parent = token.parent
    return {
        "value": token.value,
        "type": token.type,
        "status": status,
        "expires_at": format_timestamp(token.expires_at) if token.expires_at else None,
        "group_value": parent.value if parent else "",
        "group_type": parent.type if parent else "",
    }


def local_list_entries(*, charge_point: ChargePoint, at: datetime) -> list[Entry]:
    """The list the charger should hold now, one entry per token, in order."""
    tokens = IdToken.objects.select_related("parent").exclude(type=IdTokenType.NO_AUTHORIZATION)
    group_id = charge_point.local_list_group_id
    if group_id is not None:
        tokens = tokens.filter(Q(pk=group_id) | Q(parent_id=group_id))
    longest = MAX_TOKEN_LENGTH[charge_point.ocpp_version]
    entries: list[Entry] = []
    seen: set[Any] = set()
    for token in tokens.order_by("value", "type", "pk"):
        entry = _entry(token, at=at)
        key = _key(entry, charge_point.ocpp_version)
        if len(token.value) > longest or key in seen:
            # 1.6 knows no types: the first token of a value stands for it.
            logger.info(
                "%s: token %s (%s) left off the local list",
                charge_point.id,
                token.value,
                token.type,
            )
            continue
        if len(entry["group_value"]) > longest:
            entry["group_value"] = entry["group_type"] = ""
        seen.add(key)
        entries.append(entry)
    return entries


def _key(entry: Entry, ocpp_version: str) -> Any:
    return entry["value"] if ocpp_version == OCPP16 else (entry["value"], entry["type"])


def local_list_difference(*, old: list[Entry], new: list[Entry], ocpp_version: str) -> list[Entry]:
    """The Differential update from ``old`` to ``new``: new and changed
    entries, and removals (status None) for tokens no longer on it."""
    before = {_key(entry, ocpp_version): entry for entry in old}
    after = {_key(entry, ocpp_version): entry for entry in new}
    changes = [entry for key, entry in after.items() if before.get(key) != entry]
    removals = [
        {**entry, "status": None, "expires_at": None, "group_value": "", "group_type": ""}
        for key, entry in before.items()
        if key not in after
    ]
    return changes + removals


def local_list_payload(
    *, ocpp_version: str, version_number: int, update_type: str, entries: list[Entry]
) -> dict[str, Any]:
    """The SendLocalList request of the charger's version."""
    items = []
    for entry in entries:
        if ocpp_version == OCPP16:
            item: dict[str, Any] = {"idTag": entry["value"]}
            if entry["status"] is not None:
                info: dict[str, Any] = {"status": entry["status"]}
                if entry["expires_at"]:
                    info["expiryDate"] = entry["expires_at"]
                if entry["group_value"]:
                    info["parentIdTag"] = entry["group_value"]
                item["idTagInfo"] = info
        else:
            item = {"idToken": {"idToken": entry["value"], "type": entry["type"]}}
            if entry["status"] is not None:
                info = {"status": entry["status"]}
                if entry["expires_at"]:
                    info["cacheExpiryDateTime"] = entry["expires_at"]
                if entry["group_value"]:
                    info["groupIdToken"] = {
                        "idToken": entry["group_value"],
                        "type": entry["group_type"],
                    }
                item["idTokenInfo"] = info
        items.append(item)
    payload: dict[str, Any] = {
        VERSION_FIELD[ocpp_version]: version_number,
        "updateType": update_type,
    }
    if items:
        payload["localAuthorizationList"] = items
    return payload


def _integer(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def local_list_limits(*, charge_point: ChargePoint) -> LocalListLimits:
    """The limits the charger reported: 1.6 configuration keys
    SendLocalListMaxLength and LocalAuthListMaxLength; 2.0.1 device model
    LocalAuthListCtrlr.ItemsPerMessage, BytesPerMessage and Entries' maxLimit."""
    if charge_point.ocpp_version == OCPP16:
        keys = dict(
            ConfigurationKey.objects.filter(
                charge_point=charge_point,
                key__in=["SendLocalListMaxLength", "LocalAuthListMaxLength"],
            ).values_list("key", "value")
        )
        return LocalListLimits(
            items_per_message=_integer(keys.get("SendLocalListMaxLength")),
            max_entries=_integer(keys.get("LocalAuthListMaxLength")),
        )
    variables = {
        variable.variable_name: variable
        for variable in DeviceModelVariable.objects.filter(
            charge_point=charge_point,
            component_name="LocalAuthListCtrlr",
            variable_name__in=["ItemsPerMessage", "BytesPerMessage", "Entries"],
            attribute_type="Actual",
        )
    }

    def actual(name: str) -> int | None:
        variable = variables.get(name)
        return _integer(variable.value) if variable else None

    entries = variables.get("Entries")
    characteristics = (entries.characteristics or {}) if entries else {}
    return LocalListLimits(
        items_per_message=actual("ItemsPerMessage"),
        bytes_per_message=actual("BytesPerMessage"),
        max_entries=_integer(characteristics.get("maxLimit")),
    )


def _check_limits(
    charge_point: ChargePoint,
    *,
    full_list: list[Entry],
    entries: list[Entry],
    payload: dict[str, Any],
) -> None:
    limits = local_list_limits(charge_point=charge_point)
    names = (
        ("SendLocalListMaxLength", "LocalAuthListMaxLength", "")
        if charge_point.ocpp_version == OCPP16
        else (
            "LocalAuthListCtrlr.ItemsPerMessage",
            "LocalAuthListCtrlr.Entries maxLimit",
            "LocalAuthListCtrlr.BytesPerMessage",
        )
    )
    if limits.max_entries is not None and len(full_list) > limits.max_entries:
        raise LocalListRefused(
            f"The list has {len(full_list)} tokens; {charge_point.id} holds at most "
            f"{limits.max_entries} ({names[1]}). Choose a smaller group (local_list_group)."
        )
    if limits.items_per_message is not None and len(entries) > limits.items_per_message:
        raise LocalListRefused(
            f"The update has {len(entries)} tokens; {charge_point.id} takes at most "
            f"{limits.items_per_message} per message ({names[0]})."
        )
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    if limits.bytes_per_message is not None and size > limits.bytes_per_message:
        raise LocalListRefused(
            f"The update is {size} bytes; {charge_point.id} takes at most "
            f"{limits.bytes_per_message} per message ({names[2]})."
        )


def local_list_held(*, charge_point: ChargePoint) -> LocalListUpdate | None:
    """The platform's update that made the list the charger holds now: the
    newest accepted one of the charger's version. None when the charger's
    version is not one the platform sent (or not known)."""
    if charge_point.local_list_version is None:
        return None
    return (
        LocalListUpdate.objects.filter(
            charge_point=charge_point,
            version_number=charge_point.local_list_version,
            status=LocalListUpdateStatus.ACCEPTED,
        )
        .order_by("-created_at", "-pk")
        .first()
    )


@transaction.atomic
def local_list_update_start(
    *,
    charge_point_id: str,
    update_type: str,
    created_by: Any = None,
    recovers: LocalListUpdate | None = None,
    at: datetime,
) -> LocalListUpdate:
    """Compute the update, check it against the charger's limits
    (``LocalListRefused``), and create it with its SendLocalList command under
    a new version number (not sent: the caller dispatches it). A Differential
    update for a charger whose list the platform does not know (its version
    was not sent by the platform, or is unknown) is sent Full."""
    charge_point = ChargePoint.objects.select_for_update().get(id=charge_point_id)
    full_list = local_list_entries(charge_point=charge_point, at=at)
    entries = full_list
    if update_type == LocalListUpdateType.DIFFERENTIAL:
        if charge_point.local_list_version == 0:
            held: list[Entry] | None = []  # version 0: no list installed
        else:
            update = local_list_held(charge_point=charge_point)
            held = update.full_list if update is not None else None
        if held is None:
            logger.info(
                "%s: list version %s not known here: sending the whole list",
                charge_point.id,
                charge_point.local_list_version,
            )
            update_type = LocalListUpdateType.FULL
        else:
            entries = local_list_difference(
                old=held, new=full_list, ocpp_version=charge_point.ocpp_version
            )
    last = LocalListUpdate.objects.filter(charge_point=charge_point).aggregate(
        last=Max("version_number")
    )["last"]
    version_number = max(last or 0, charge_point.local_list_version or 0) + 1
    payload = local_list_payload(
        ocpp_version=charge_point.ocpp_version,
        version_number=version_number,
        update_type=update_type,
        entries=entries,
    )
    _check_limits(charge_point, full_list=full_list, entries=entries, payload=payload)
    spec = command_spec(charge_point.ocpp_version, "SendLocalList")
    errors = spec.request_errors(payload)
    if errors:  # made from stored tokens: a bug, not bad input
        raise ValueError(f"SendLocalList payload invalid: {errors}")
    command = command_create(
        charge_point_id=charge_point.id,
        spec=spec,
        payload=payload,
        created_by=created_by,
        at=at,
    )
    update = LocalListUpdate.objects.create(
        charge_point=charge_point,
        version_number=version_number,
        update_type=update_type,
        entries=entries,
        full_list=full_list,
        status_at=at,
        recovers=recovers,
        command=command,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    return update


def _publish(update: LocalListUpdate, *, at: datetime) -> None:
    events_publish(
        events=[
            charger_event(
                "local_list.status",
                charge_point_id=update.charge_point_id,
                at=at,
                local_list_update=update.pk,
                version_number=update.version_number,
                update_type=update.update_type,
                status=update.status,
            )
        ]
    )


def _dispatch_on_commit(command: Command) -> None:
    """Send a command the platform made itself once the transaction that made
    it commits (the Celery task, as for one made through the API)."""
    transaction.on_commit(lambda: command_dispatch_queue(command=command))


def local_list_update_record_answer(
    *, command: Command, response: dict[str, Any], at: datetime
) -> LocalListUpdate | None:
    """The charger's answer to SendLocalList. Accepted: it holds the version
    (``local_list_version``). VersionMismatch to a Differential update: the
    platform sends the whole list at once."""
    status = response.get("status")
    if status == LocalListUpdateStatus.ACCEPTED:
        ChargePoint.objects.filter(id=command.charge_point_id).update(
            local_list_version=command.request[VERSION_FIELD[command.ocpp_version]]
        )
    update = LocalListUpdate.objects.filter(command=command).first()
    if update is None:
        return None  # sent directly through /api/commands/
    update.status = status if status in SEND_ANSWERS else LocalListUpdateStatus.FAILED
    update.status_at = at
    update.save(update_fields=["status", "status_at"])
    _publish(update, at=at)
    if status != LocalListUpdateStatus.ACCEPTED:
        logger.warning(
            "%s: local list version %s (%s) answered %s",
            update.charge_point_id,
            update.version_number,
            update.update_type,
            status,
        )
    if (
        status == LocalListUpdateStatus.VERSION_MISMATCH
        and update.update_type == LocalListUpdateType.DIFFERENTIAL
    ):
        _recover(update, at=at)
    return update


def _recover(update: LocalListUpdate, *, at: datetime) -> None:
    # The charger's list is not the one the difference was made from: what
    # it holds is unknown, so it gets the whole list.
    try:
        with transaction.atomic():
            recovery = local_list_update_start(
                charge_point_id=update.charge_point_id,
                update_type=LocalListUpdateType.FULL,
                created_by=update.created_by,
                recovers=update,
                at=at,
            )
    except LocalListRefused as error:
        logger.warning(
            "%s: version mismatch, and the whole list cannot be sent: %s",
            update.charge_point_id,
            error,
        )
        return
    logger.info(
        "%s: version mismatch on local list version %s: sending the whole list as version %s",
        update.charge_point_id,
        update.version_number,
        recovery.version_number,
    )
    assert recovery.command is not None
    _dispatch_on_commit(recovery.command)


def local_list_update_record_failure(*, command: Command, at: datetime) -> None:
    """SendLocalList got no answer (not connected, timed out, CallError)."""
    update = LocalListUpdate.objects.filter(command=command).first()
    if update is not None and update.status == LocalListUpdateStatus.PENDING:
        update.status = LocalListUpdateStatus.NOT_ANSWERED
        update.status_at = at
        update.save(update_fields=["status", "status_at"])
        _publish(update, at=at)

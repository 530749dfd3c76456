"""What an answered command changes in the domain, beyond its own row.

Each function takes the answered command (request and response as the OCPP
JSON, camelCase) and runs inside the transaction that records the answer.
Commands without an entry here change nothing else (their answer is kept on
the command; their effects arrive as the charger's own messages).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction

from chargepoints.models import ChargePoint, ConfigurationKey, DeviceModelVariable
from chargepoints.security import (
    REDACTED,
    chargepoint_set_password,
    is_password_variable,
    password_sent,
)
from chargepoints.services import variable_address
from commands.catalog import OCPP16, OCPP201, version_family
from core.time import utc_now

if TYPE_CHECKING:
    from commands.models import Command

logger = logging.getLogger(__name__)

ResultHandler = Callable[["Command", dict[str, Any]], None]
FailureHandler = Callable[["Command"], None]
_HANDLERS: dict[tuple[str, str], ResultHandler] = {}
_FAILURE_HANDLERS: dict[tuple[str, str], FailureHandler] = {}
ACCEPTED = ("Accepted", "RebootRequired")


def on_result(*keys: tuple[str, str]) -> Callable[[ResultHandler], ResultHandler]:
    def register(handler: ResultHandler) -> ResultHandler:
        for key in keys:
            _HANDLERS[key] = handler
        return handler

    return register


def on_failure(*keys: tuple[str, str]) -> Callable[[FailureHandler], FailureHandler]:
    """For a command that ended without an answer (not connected, timed out,
    CallError, …)."""

    def register(handler: FailureHandler) -> FailureHandler:
        for key in keys:
            _FAILURE_HANDLERS[key] = handler
        return handler

    return register


def _handler(handlers: dict[tuple[str, str], Any], command: Command) -> Any:
    for version in version_family(command.ocpp_version):
        if (version, command.action) in handlers:
            return handlers[(version, command.action)]
    return None


def apply_failure(command: Command) -> None:
    handler = _handler(_FAILURE_HANDLERS, command)
    if handler is None:
        return
    try:
        with transaction.atomic():
            handler(command)
    except Exception:
        logger.exception(
            "%s: recording the failure of %s %s failed",
            command.charge_point_id,
            command.action,
            command.id,
        )


def apply_result(command: Command) -> None:
    """Apply an answer to the domain. A failure here is logged and leaves the
    answer recorded: the charger did answer, whatever this code makes of it."""
    handler = _handler(_HANDLERS, command)
    if handler is None or not isinstance(command.response, dict):
        return
    try:
        with transaction.atomic():
            handler(command, command.response)
    except Exception:
        logger.exception(
            "%s: applying the answer to %s %s failed",
            command.charge_point_id,
            command.action,
            command.id,
        )


@on_result((OCPP16, "GetConfiguration"))
def _configuration_read(command: Command, response: dict[str, Any]) -> None:
    for item in response.get("configurationKey", []):
        ConfigurationKey.objects.update_or_create(
            charge_point_id=command.charge_point_id,
            key=item["key"],
            defaults={
                "value": item.get("value", ""),
                "readonly": item.get("readonly"),
                "reboot_required": False,
            },
        )
    # Keys the charger does not know are no longer its keys.
    unknown = response.get("unknownKey", [])
    if unknown:
        ConfigurationKey.objects.filter(
            charge_point_id=command.charge_point_id, key__in=unknown
        ).delete()


def _record_password(command: Command) -> bool:
    """A new Basic password the charger accepted becomes the one it must log
    in with; True if the command set one."""
    password = password_sent(command.action, command.request)
    if password is None:
        return False
    chargepoint_set_password(
        charge_point_id=command.charge_point_id, password=password, at=utc_now()
    )
    logger.info("%s: new Basic password recorded (%s)", command.charge_point_id, command.action)
    return True


@on_result((OCPP16, "ChangeConfiguration"))
def _configuration_changed(command: Command, response: dict[str, Any]) -> None:
    status = response.get("status")
    if status in ACCEPTED:
        secret = _record_password(command)
        ConfigurationKey.objects.update_or_create(
            charge_point_id=command.charge_point_id,
            key=command.request["key"],
            defaults={
                "value": REDACTED if secret else command.request["value"],
                "readonly": False,
                "reboot_required": status == "RebootRequired",
            },
        )


def _address(item: dict[str, Any]) -> dict[str, Any]:
    """Which device-model attribute a GetVariables / SetVariables item names."""
    return {
        **variable_address(item, connector_key="connectorId"),
        "attribute_type": item.get("attributeType", "Actual"),
    }


@on_result((OCPP201, "GetVariables"))
def _variables_read(command: Command, response: dict[str, Any]) -> None:
    for result in response.get("getVariableResult", []):
        if result.get("attributeStatus") == "Accepted":
            DeviceModelVariable.objects.update_or_create(
                charge_point_id=command.charge_point_id,
                **_address(result),
                defaults={"value": result.get("attributeValue", "")},
            )


@on_result((OCPP201, "SetVariables"))
def _variables_set(command: Command, response: dict[str, Any]) -> None:
    requested = {
        tuple(_address(item).values()): item["attributeValue"]
        for item in command.request.get("setVariableData", [])
    }
    for result in response.get("setVariableResult", []):
        if result.get("attributeStatus") not in ACCEPTED:
            continue
        address = _address(result)
        value = requested.get(tuple(address.values()))
        if is_password_variable(result):
            _record_password(command)
            value = REDACTED
        if value is not None:
            DeviceModelVariable.objects.update_or_create(
                charge_point_id=command.charge_point_id, **address, defaults={"value": value}
            )


# The list version's field: listVersion in 1.6, versionNumber in 2.0.1.
LIST_VERSION_FIELD = {OCPP16: "listVersion", OCPP201: "versionNumber"}


@on_result((OCPP16, "SendLocalList"), (OCPP201, "SendLocalList"))
def _local_list_sent(command: Command, response: dict[str, Any]) -> None:
    """Accepted: the charger holds the version; the platform's own update
    (idtokens.services) records the answer, and repairs a version mismatch."""
    from idtokens.services import local_list_update_record_answer

    local_list_update_record_answer(command=command, response=response, at=utc_now())


@on_failure((OCPP16, "SendLocalList"), (OCPP201, "SendLocalList"))
def _local_list_not_sent(command: Command) -> None:
    from idtokens.services import local_list_update_record_failure

    local_list_update_record_failure(command=command, at=utc_now())


@on_result((OCPP16, "GetLocalListVersion"), (OCPP201, "GetLocalListVersion"))
def _local_list_version_read(command: Command, response: dict[str, Any]) -> None:
    ChargePoint.objects.filter(id=command.charge_point_id).update(
        local_list_version=response[LIST_VERSION_FIELD[command.ocpp_version]]
    )


@on_result((OCPP201, "RequestStartTransaction"))
def _remote_start_answered(command: Command, response: dict[str, Any]) -> None:
    """A charger that had already started a session (authorized before the
    remote start) names it in the answer."""
    from transactions.models import Transaction

    transaction_id = response.get("transactionId")
    if response.get("status") == "Accepted" and transaction_id:
        command.transaction = Transaction.objects.filter(
            charge_point_id=command.charge_point_id, ocpp_transaction_id=transaction_id
        ).first()
        command.save(update_fields=["transaction"])

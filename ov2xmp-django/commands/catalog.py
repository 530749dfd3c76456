"""Every command the CSMS can send, per OCPP version, described once.

A ``CommandSpec`` is the single description of a command that the API (request
validation, OpenAPI schema), the Celery task and the csms (the frame sent, the
answer checked) all use. The payload travels unchanged as the OCPP JSON object,
in the spec's own camelCase, from the REST request to the charger and back:
no layer renames a field, so no layer can rename one wrongly. Adding a command
is adding its action name here; the ``ocpp`` library supplies its schemas.
"""

from __future__ import annotations

import copy
import decimal
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jsonschema import Draft4Validator
from ocpp.messages import MessageType, get_validator

OCPP16 = "1.6"
OCPP201 = "2.0.1"
OCPP21 = "2.1"
VERSIONS = (OCPP16, OCPP201, OCPP21)
# OCPP 2.1 extends 2.0.1: where 2.1 has nothing of its own, the 2.0.1 code
# (handlers of answers, forms, translations) serves it.
BASE_VERSION = {OCPP21: OCPP201}

# The URL segment of each version (``/api/commands/<segment>/<Action>/``) and
# the websocket subprotocol the charger speaks it with.
URL_SEGMENTS = {OCPP16: "ocpp16", OCPP201: "ocpp201", OCPP21: "ocpp21"}
SUBPROTOCOLS = {OCPP16: "ocpp1.6", OCPP201: "ocpp2.0.1", OCPP21: "ocpp2.1"}


def version_family(ocpp_version: str) -> tuple[str, ...]:
    """The version, then the one whose code serves it where it has none."""
    base = BASE_VERSION.get(ocpp_version)
    return (ocpp_version, base) if base else (ocpp_version,)


OCPP16_ACTIONS = (
    "CancelReservation",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "DataTransfer",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetLocalListVersion",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
    # The OCPP 1.6 security extension (Improved security for OCPP 1.6-J).
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "SignedUpdateFirmware",
)

OCPP201_ACTIONS = (
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ClearCache",
    "ClearChargingProfile",
    "ClearDisplayMessage",
    "ClearVariableMonitoring",
    "CostUpdated",
    "CustomerInformation",
    "DataTransfer",
    "DeleteCertificate",
    "GetBaseReport",
    "GetChargingProfiles",
    "GetCompositeSchedule",
    "GetDisplayMessages",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "GetMonitoringReport",
    "GetReport",
    "GetTransactionStatus",
    "GetVariables",
    "InstallCertificate",
    "PublishFirmware",
    "RequestStartTransaction",
    "RequestStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SetDisplayMessage",
    "SetMonitoringBase",
    "SetMonitoringLevel",
    "SetNetworkProfile",
    "SetVariableMonitoring",
    "SetVariables",
    "TriggerMessage",
    "UnlockConnector",
    "UnpublishFirmware",
    "UpdateFirmware",
)

# 2.1 keeps every 2.0.1 command and adds these (V2X, DER, tariffs, streams).
OCPP21_ACTIONS = tuple(
    sorted(
        (
            *OCPP201_ACTIONS,
            "AFRRSignal",
            "AdjustPeriodicEventStream",
            "ChangeTransactionTariff",
            "ClearDERControl",
            "ClearTariffs",
            "GetDERControl",
            "GetPeriodicEventStream",
            "GetTariffs",
            "NotifyAllowedEnergyTransfer",
            "RequestBatterySwap",
            "SetDERControl",
            "SetDefaultTariff",
            "UpdateDynamicSchedule",
            "UsePriorityCharging",
        )
    )
)

# OCPP 1.6 schemas limit some numbers to one decimal (multipleOf 0.1), which
# only a decimal parse can check exactly; the ocpp library does the same.
_DECIMAL_REQUESTS = {(OCPP16, "SetChargingProfile"), (OCPP16, "RemoteStartTransaction")}
_DECIMAL_RESPONSES = {(OCPP16, "GetCompositeSchedule")}

# Schema keys that mean nothing to an OpenAPI reader (or are invalid there).
_NOT_OPENAPI = {"$schema", "$id", "id", "definitions", "javaType", "comment", "additionalItems"}


@dataclass(frozen=True)
class CommandSpec:
    ocpp_version: str
    action: str

    @property
    def url_segment(self) -> str:
        return URL_SEGMENTS[self.ocpp_version]

    @cached_property
    def request_validator(self) -> Draft4Validator:
        return self._validator(MessageType.Call)

    @cached_property
    def response_validator(self) -> Draft4Validator:
        return self._validator(MessageType.CallResult)

    def _decimals(self, message_type: int) -> bool:
        key = (self.ocpp_version, self.action)
        return key in (
            _DECIMAL_REQUESTS if message_type == MessageType.Call else _DECIMAL_RESPONSES
        )

    def _validator(self, message_type: int) -> Draft4Validator:
        parse_float = decimal.Decimal if self._decimals(message_type) else float
        return get_validator(message_type, self.action, self.ocpp_version, parse_float=parse_float)

    def request_errors(self, payload: Any) -> dict[str, list[str]]:
        """What is wrong with a request payload, by JSON path (empty: valid)."""
        return _errors(self.request_validator, payload, self._decimals(MessageType.Call))

    def response_errors(self, payload: Any) -> dict[str, list[str]]:
        return _errors(self.response_validator, payload, self._decimals(MessageType.CallResult))

    def request_schema(self) -> dict[str, Any]:
        """The request schema as an OpenAPI 3 schema object (references resolved)."""
        return openapi_schema(self.request_validator.schema)

    def response_schema(self) -> dict[str, Any]:
        return openapi_schema(self.response_validator.schema)


def _errors(validator: Draft4Validator, payload: Any, decimals: bool) -> dict[str, list[str]]:
    if decimals:
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(payload):
        path = ".".join(str(part) for part in error.absolute_path) or "(payload)"
        errors.setdefault(path, []).append(error.message)
    return errors


def openapi_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema (draft 4/6, with local ``$ref`` s) as an inline OpenAPI
    schema: references resolved, keys OpenAPI does not know dropped."""
    definitions = schema.get("definitions", {})

    def resolve(node: Any) -> Any:
        """``node`` is a schema; its keys are keywords, except under "properties"."""
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return resolve(copy.deepcopy(definitions[name]))
        resolved = {}
        for key, value in node.items():
            if key == "properties":
                resolved[key] = {name: resolve(sub) for name, sub in value.items()}
            elif key not in _NOT_OPENAPI and not (
                # "additionalProperties: false" on a string enum is noise.
                key == "additionalProperties" and node.get("type") != "object"
            ):
                resolved[key] = resolve(value)
        return resolved

    return resolve(schema)


def _build() -> dict[tuple[str, str], CommandSpec]:
    specs = [CommandSpec(OCPP16, action) for action in OCPP16_ACTIONS]
    specs += [CommandSpec(OCPP201, action) for action in OCPP201_ACTIONS]
    specs += [CommandSpec(OCPP21, action) for action in OCPP21_ACTIONS]
    return {(spec.ocpp_version, spec.action): spec for spec in specs}


COMMANDS: dict[tuple[str, str], CommandSpec] = _build()


def command_spec(ocpp_version: str, action: str) -> CommandSpec:
    """The spec of a command; KeyError for one this CSMS does not send."""
    return COMMANDS[(ocpp_version, action)]

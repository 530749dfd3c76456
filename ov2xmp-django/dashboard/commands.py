"""The commands the charger page offers, as forms. Each form sends its OCPP
payload to the command API (the one command path); the choices of a field come
from the command's OCPP schema, so they cannot drift from what the API accepts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from commands.catalog import COMMANDS, OCPP16, OCPP21, OCPP201, CommandSpec

TEXT, INTEGER, CHOICE, KEYS = "text", "integer", "choice", "keys"


@dataclass(frozen=True)
class FormField:
    path: str  # where the value goes in the payload: "evse.id", "getVariableData.0.variable.name"
    label: str
    kind: str = TEXT  # KEYS: a comma-separated list of strings
    required: bool = True
    default: str = ""


@dataclass(frozen=True)
class CommandForm:
    label: str
    action: str
    fields: tuple[FormField, ...]
    fresh_id: str = ""  # a field to fill with a new random id on each page load
    ocpp_version: str = ""

    @property
    def spec(self) -> CommandSpec:
        return COMMANDS[(self.ocpp_version, self.action)]

    @property
    def url(self) -> str:
        return f"/api/commands/{self.spec.url_segment}/{self.action}/"

    def inputs(self) -> list[dict[str, Any]]:
        """The fields as the template renders them."""
        rendered = []
        for form_field in self.fields:
            default = form_field.default
            if form_field.path == self.fresh_id:
                default = str(1 + secrets.randbelow(2**31 - 1))
            rendered.append(
                {
                    "field": form_field,
                    "name": form_field.path,
                    "default": default,
                    "choices": (
                        _choices(self.ocpp_version, self.action, form_field.path)
                        if form_field.kind == CHOICE
                        else ()
                    ),
                }
            )
        return rendered


@cache
def _choices(ocpp_version: str, action: str, path: str) -> tuple[str, ...]:
    """The enum of the request schema at ``path``."""
    node = COMMANDS[(ocpp_version, action)].request_schema()
    for part in path.split("."):
        node = node["items"] if part.isdigit() else node["properties"][part]
    return tuple(node["enum"])


def _forms(version: str, *forms: CommandForm) -> tuple[CommandForm, ...]:
    return tuple(replace(form, ocpp_version=version) for form in forms)


_CONNECTOR = FormField("connectorId", "Connector", INTEGER)
_EVSE = FormField("evseId", "EVSE", INTEGER)

FORMS = {
    OCPP16: _forms(
        OCPP16,
        CommandForm("Reset", "Reset", (FormField("type", "Type", CHOICE, default="Soft"),)),
        CommandForm("Unlock connector", "UnlockConnector", (_CONNECTOR,)),
        CommandForm(
            "Remote start",
            "RemoteStartTransaction",
            (FormField("idTag", "Id tag"), FormField("connectorId", "Connector", INTEGER, False)),
        ),
        CommandForm(
            "Remote stop",
            "RemoteStopTransaction",
            (FormField("transactionId", "Transaction id (the charger's)", INTEGER),),
        ),
        CommandForm(
            "Change availability",
            "ChangeAvailability",
            (
                FormField("connectorId", "Connector (0: the whole charger)", INTEGER, default="0"),
                FormField("type", "Availability", CHOICE),
            ),
        ),
        CommandForm(
            "Trigger message",
            "TriggerMessage",
            (
                FormField("requestedMessage", "Message", CHOICE),
                FormField("connectorId", "Connector", INTEGER, False),
            ),
        ),
        CommandForm(
            "Get configuration",
            "GetConfiguration",
            (FormField("key", "Keys (comma-separated; empty: all)", KEYS, False),),
        ),
    ),
    OCPP201: _forms(
        OCPP201,
        CommandForm(
            "Reset",
            "Reset",
            (
                FormField("type", "Type", CHOICE, default="OnIdle"),
                FormField("evseId", "EVSE (empty: the whole charger)", INTEGER, False),
            ),
        ),
        CommandForm(
            "Unlock connector",
            "UnlockConnector",
            (_EVSE, FormField("connectorId", "Connector", INTEGER, default="1")),
        ),
        CommandForm(
            "Remote start",
            "RequestStartTransaction",
            (
                FormField("idToken.idToken", "Id token"),
                FormField("idToken.type", "Token type", CHOICE, default="ISO14443"),
                FormField("evseId", "EVSE", INTEGER, False),
                FormField("remoteStartId", "Remote start id", INTEGER),
            ),
            fresh_id="remoteStartId",
        ),
        CommandForm(
            "Remote stop",
            "RequestStopTransaction",
            (FormField("transactionId", "Transaction id (the charger's)"),),
        ),
        CommandForm(
            "Change availability",
            "ChangeAvailability",
            (
                FormField("operationalStatus", "Availability", CHOICE),
                FormField("evse.id", "EVSE (empty: the whole charger)", INTEGER, False),
                FormField("evse.connectorId", "Connector", INTEGER, False),
            ),
        ),
        CommandForm(
            "Trigger message",
            "TriggerMessage",
            (
                FormField("requestedMessage", "Message", CHOICE),
                FormField("evse.id", "EVSE", INTEGER, False),
            ),
        ),
        CommandForm(
            "Get variables",
            "GetVariables",
            (
                FormField("getVariableData.0.component.name", "Component", default="OCPPCommCtrlr"),
                FormField(
                    "getVariableData.0.variable.name", "Variable", default="HeartbeatInterval"
                ),
            ),
        ),
        CommandForm(
            "Get base report",
            "GetBaseReport",
            (
                FormField("reportBase", "Report", CHOICE, default="FullInventory"),
                FormField("requestId", "Request id", INTEGER),
            ),
            fresh_id="requestId",
        ),
    ),
}


# 2.1 keeps the 2.0.1 commands: the same forms, sent as 2.1 commands.
FORMS[OCPP21] = _forms(OCPP21, *FORMS[OCPP201])


def command_forms(ocpp_version: str) -> tuple[CommandForm, ...]:
    """The forms for a charger of this version (1.6 for one that never said)."""
    return FORMS.get(ocpp_version, FORMS[OCPP16])

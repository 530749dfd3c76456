"""A charger's Basic password changed through the command API (1.6
ChangeConfiguration AuthorizationKey, 2.0.1 SetVariables BasicAuthPassword):
recorded when the charger accepts it, and kept out of every log."""

from __future__ import annotations

import base64

from asgiref.sync import sync_to_async

from chargepoints.models import ChargePoint, ConfigurationKey, DeviceModelVariable, SecurityProfile
from chargepoints.security import REDACTED, password_hash, password_matches
from chargepoints.tests.factories import ChargePointFactory
from commands.models import Command
from ocpp_messages.models import OcppMessage

OLD, NEW = "old-password-0123456789", "new-password-9876543210"
PASSWORD_201 = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}


def basic(charger_id: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{charger_id}:{password}".encode()).decode()
    return {"additional_headers": {"Authorization": f"Basic {token}"}}


@sync_to_async
def provision(charger_id: str) -> None:
    ChargePointFactory(
        id=charger_id, security_profile=SecurityProfile.BASIC_AUTH, password_hash=password_hash(OLD)
    )


async def stored_hash(charger_id: str) -> str:
    return (await ChargePoint.objects.aget(id=charger_id)).password_hash


async def logged_payloads(csms, charger_id: str, action: str) -> list:
    await csms.message_log.flush()
    return [
        message.payload
        async for message in OcppMessage.objects.filter(
            charge_point_id=charger_id, action=action, message_type=2
        )
    ]


async def test_an_accepted_authorization_key_becomes_the_chargers_password(
    csms, connect, send, api
):
    await provision("CP-1")
    async with connect(csms, "CP-1", **basic("CP-1", OLD)) as charger:
        charger.answers["ChangeConfiguration"] = {"status": "Accepted"}
        response = await send(
            "ocpp16", "ChangeConfiguration", "CP-1", {"key": "AuthorizationKey", "value": NEW}
        )
        assert charger.requests("ChangeConfiguration") == [
            {"key": "AuthorizationKey", "value": NEW}
        ]
    assert response.status_code == 200
    assert password_matches(NEW, await stored_hash("CP-1"))
    # Nowhere on record: the command, the configuration keys, the message log.
    command = await Command.objects.aget(id=response.json()["id"])
    assert command.request == {"key": "AuthorizationKey", "value": REDACTED}
    assert response.json()["request"]["value"] == REDACTED
    key = await ConfigurationKey.objects.aget(charge_point_id="CP-1", key="AuthorizationKey")
    assert key.value == REDACTED
    assert await logged_payloads(csms, "CP-1", "ChangeConfiguration") == [
        {"key": "AuthorizationKey", "value": REDACTED}
    ]
    # The charger logs in with the new one from now on.
    async with connect(csms, "CP-1", **basic("CP-1", NEW)):
        pass


async def test_a_rejected_authorization_key_changes_nothing_but_is_not_kept(csms, connect, send):
    await provision("CP-1")
    async with connect(csms, "CP-1", **basic("CP-1", OLD)) as charger:
        charger.answers["ChangeConfiguration"] = {"status": "Rejected"}
        response = await send(
            "ocpp16", "ChangeConfiguration", "CP-1", {"key": "AuthorizationKey", "value": NEW}
        )
    assert password_matches(OLD, await stored_hash("CP-1"))
    assert response.json()["request"]["value"] == REDACTED


async def test_other_configuration_keys_are_kept_as_sent(csms, connect, send):
    async with connect(csms, "CP-1") as charger:
        charger.answers["ChangeConfiguration"] = {"status": "Accepted"}
        response = await send(
            "ocpp16", "ChangeConfiguration", "CP-1", {"key": "HeartbeatInterval", "value": "60"}
        )
    assert response.json()["request"] == {"key": "HeartbeatInterval", "value": "60"}
    assert await logged_payloads(csms, "CP-1", "ChangeConfiguration") == [
        {"key": "HeartbeatInterval", "value": "60"}
    ]


async def test_an_accepted_basic_auth_password_variable_is_recorded_201(csms, connect, send):
    await provision("CP-2")
    interval = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    async with connect(csms, "CP-2", "ocpp2.0.1", **basic("CP-2", OLD)) as charger:
        charger.answers["SetVariables"] = {
            "setVariableResult": [
                {**PASSWORD_201, "attributeStatus": "Accepted"},
                {**interval, "attributeStatus": "Accepted"},
            ]
        }
        response = await send(
            "ocpp201",
            "SetVariables",
            "CP-2",
            {
                "setVariableData": [
                    {**PASSWORD_201, "attributeValue": NEW},
                    {**interval, "attributeValue": "60"},
                ]
            },
        )
    assert response.status_code == 200
    assert password_matches(NEW, await stored_hash("CP-2"))
    sent = response.json()["request"]["setVariableData"]
    assert [item["attributeValue"] for item in sent] == [REDACTED, "60"]
    values = {
        variable.variable_name: variable.value
        async for variable in DeviceModelVariable.objects.filter(charge_point_id="CP-2")
    }
    assert values == {"BasicAuthPassword": REDACTED, "HeartbeatInterval": "60"}
    logged = await logged_payloads(csms, "CP-2", "SetVariables")
    assert [item["attributeValue"] for item in logged[0]["setVariableData"]] == [REDACTED, "60"]

"""Local authorization lists through the API, against real websocket
chargers of both OCPP versions: Full and Differential updates built from the
id tokens, each answer, the recovery from a VersionMismatch,
GetLocalListVersion, the chargers' limits, and who may do it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from chargepoints.models import ChargePoint, ConfigurationKey, DeviceModelVariable
from commands.tests.conftest import connect  # noqa: F401  (fixture)
from core.time import format_timestamp, utc_now
from csms.tests.helpers import in_thread
from idtokens.models import IdToken, LocalListUpdate

pytestmark = pytest.mark.django_db(transaction=True)

V16, V201 = "ocpp1.6", "ocpp2.0.1"


async def send(api, charge_point: str, update_type: str, **body: Any) -> Any:
    return await in_thread(
        api.post,
        f"/api/chargepoints/{charge_point}/local-list/",
        {"update_type": update_type, **body},
    )


async def some_tokens() -> dict[str, IdToken]:
    expiry = (utc_now() + timedelta(days=30)).replace(microsecond=0)
    group = await IdToken.objects.acreate(value="FLEET", type="Central")
    return {
        "group": group,
        "card": await IdToken.objects.acreate(
            value="CARD-1", type="ISO14443", parent=group, expires_at=expiry
        ),
        "blocked": await IdToken.objects.acreate(value="STOLEN", status="Blocked"),
        "free": await IdToken.objects.acreate(value="FREE", type="NoAuthorization"),
    }


async def test_full_list_16(csms, connect, api):  # noqa: F811
    made = await some_tokens()
    expiry = format_timestamp(made["card"].expires_at)
    async with connect(csms, "CP-1") as charger:
        charger.answers["SendLocalList"] = {"status": "Accepted"}
        response = await send(api, "CP-1", "Full")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["version_number"], body["update_type"], body["status"]) == (1, "Full", "Accepted")
    # Every token but NoAuthorization, each with its status, expiry and group.
    assert charger.requests("SendLocalList") == [
        {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idTag": "CARD-1",
                    "idTagInfo": {
                        "status": "Accepted",
                        "expiryDate": expiry,
                        "parentIdTag": "FLEET",
                    },
                },
                {"idTag": "FLEET", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "STOLEN", "idTagInfo": {"status": "Blocked"}},
            ],
        }
    ]
    assert (await ChargePoint.objects.aget(id="CP-1")).local_list_version == 1
    listed = (await in_thread(api.get, "/api/chargepoints/CP-1/local-list/")).json()
    assert listed["local_list_version"] == 1
    assert listed["held_update"] == body["id"]
    assert [entry["value"] for entry in listed["entries"]] == ["CARD-1", "FLEET", "STOLEN"]


async def test_differential_list_201_sends_what_changed(csms, connect, api):  # noqa: F811
    made = await some_tokens()
    async with connect(csms, "CP-2", V201) as charger:
        charger.answers["SendLocalList"] = {"status": "Accepted"}
        full = await send(api, "CP-2", "Full")
        await IdToken.objects.filter(pk=made["card"].pk).aupdate(status="Blocked")
        await IdToken.objects.filter(pk=made["blocked"].pk).adelete()
        await IdToken.objects.acreate(value="NEW", type="eMAID")
        differential = await send(api, "CP-2", "Differential")
    assert (full.status_code, differential.status_code) == (201, 201)
    first, second = charger.requests("SendLocalList")
    assert first["updateType"] == "Full"
    assert first["localAuthorizationList"][0]["idTokenInfo"]["groupIdToken"] == {
        "idToken": "FLEET",
        "type": "Central",
    }
    assert second["versionNumber"] == 2
    assert second["updateType"] == "Differential"
    assert second["localAuthorizationList"] == [
        {
            "idToken": {"idToken": "CARD-1", "type": "ISO14443"},
            "idTokenInfo": {
                "status": "Blocked",
                "cacheExpiryDateTime": format_timestamp(made["card"].expires_at),
                "groupIdToken": {"idToken": "FLEET", "type": "Central"},
            },
        },
        {"idToken": {"idToken": "NEW", "type": "eMAID"}, "idTokenInfo": {"status": "Accepted"}},
        # Removed from the table: removed from the list (no idTokenInfo).
        {"idToken": {"idToken": "STOLEN", "type": "ISO14443"}},
    ]
    assert (await ChargePoint.objects.aget(id="CP-2")).local_list_version == 2


# OCPP 2.0.1 has no NotSupported answer to SendLocalList.
@pytest.mark.parametrize(
    ("version", "answer"), [(V16, "Failed"), (V16, "NotSupported"), (V201, "Failed")]
)
async def test_refusals_are_recorded_and_reported(csms, connect, api, version, answer):  # noqa: F811
    await some_tokens()
    async with connect(csms, "CP-3", version) as charger:
        charger.answers["SendLocalList"] = {"status": answer}
        response = await send(api, "CP-3", "Full")
    assert response.status_code == 201
    assert response.json()["status"] == answer
    assert response.json()["command"]["response"] == {"status": answer}
    assert (await LocalListUpdate.objects.aget()).status == answer
    assert (await ChargePoint.objects.aget(id="CP-3")).local_list_version is None


@pytest.mark.parametrize("version", [V16, V201])
async def test_a_version_mismatch_is_repaired_with_the_full_list(csms, connect, api, version):  # noqa: F811
    await some_tokens()
    async with connect(csms, "CP-4", version) as charger:
        charger.answers["SendLocalList"] = {"status": "Accepted"}
        await send(api, "CP-4", "Full")
        # The charger lost its list meanwhile (a factory reset, say).
        charger.answers["SendLocalList"] = lambda request: {
            "status": "VersionMismatch" if request["updateType"] == "Differential" else "Accepted"
        }
        await IdToken.objects.acreate(value="NEW")
        response = await send(api, "CP-4", "Differential")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["update_type"], body["status"], body["version_number"]) == ("Full", "Accepted", 3)
    mismatched = await LocalListUpdate.objects.aget(pk=body["recovers"])
    assert (mismatched.update_type, mismatched.status, mismatched.version_number) == (
        "Differential",
        "VersionMismatch",
        2,
    )
    kinds = [request["updateType"] for request in charger.requests("SendLocalList")]
    assert kinds == ["Full", "Differential", "Full"]
    last = charger.requests("SendLocalList")[-1]
    assert len(last["localAuthorizationList"]) == 4  # the whole list, NEW included
    assert (await ChargePoint.objects.aget(id="CP-4")).local_list_version == 3


async def test_a_differential_for_an_unknown_version_is_sent_full(csms, connect, api):  # noqa: F811
    await some_tokens()
    await ChargePoint.objects.acreate(id="CP-5", local_list_version=17)
    async with connect(csms, "CP-5") as charger:
        charger.answers["SendLocalList"] = {"status": "Accepted"}
        response = await send(api, "CP-5", "Differential")
    assert response.json()["update_type"] == "Full"
    assert charger.requests("SendLocalList")[0]["listVersion"] == 18


@pytest.mark.parametrize("version", [V16, V201])
async def test_get_local_list_version_is_recorded(csms, connect, api, version):  # noqa: F811
    field = "listVersion" if version == V16 else "versionNumber"
    async with connect(csms, "CP-6", version) as charger:
        charger.answers["GetLocalListVersion"] = {field: 42}
        response = await in_thread(api.post, "/api/chargepoints/CP-6/local-list-version/", {})
    assert response.status_code == 200, response.content
    assert response.json()["local_list_version"] == 42
    assert response.json()["command"]["action"] == "GetLocalListVersion"
    assert (await ChargePoint.objects.aget(id="CP-6")).local_list_version == 42


async def test_the_group_of_a_charger_chooses_its_tokens(csms, connect, api):  # noqa: F811
    made = await some_tokens()
    async with connect(csms, "CP-7") as charger:
        patched = await in_thread(
            api.patch, "/api/chargepoints/CP-7/", {"local_list_group": made["group"].pk}
        )
        charger.answers["SendLocalList"] = {"status": "Accepted"}
        await send(api, "CP-7", "Full")
    assert patched.status_code == 200, patched.content
    [sent] = charger.requests("SendLocalList")
    assert [item["idTag"] for item in sent["localAuthorizationList"]] == ["CARD-1", "FLEET"]


async def test_limits_the_charger_reported_refuse_a_longer_list(csms, connect, api):  # noqa: F811
    await some_tokens()  # three tokens go on the list
    async with connect(csms, "CP-8") as c16, connect(csms, "CP-9", V201) as c201:
        await ConfigurationKey.objects.acreate(
            charge_point_id="CP-8", key="SendLocalListMaxLength", value="2"
        )
        too_many = await send(api, "CP-8", "Full")
        await DeviceModelVariable.objects.acreate(
            charge_point_id="CP-9",
            component_name="LocalAuthListCtrlr",
            variable_name="BytesPerMessage",
            value="100",
        )
        too_big = await send(api, "CP-9", "Full")
        await DeviceModelVariable.objects.filter(charge_point_id="CP-9").aupdate(value="4000")
        await DeviceModelVariable.objects.acreate(
            charge_point_id="CP-9",
            component_name="LocalAuthListCtrlr",
            variable_name="Entries",
            value="0",
            characteristics={"maxLimit": 2},
        )
        too_long = await send(api, "CP-9", "Full")
    assert too_many.status_code == 409
    assert "at most 2 per message (SendLocalListMaxLength)" in too_many.json()["detail"]
    assert too_big.status_code == 409
    assert "LocalAuthListCtrlr.BytesPerMessage" in too_big.json()["detail"]
    assert too_long.status_code == 409
    assert "holds at most 2 (LocalAuthListCtrlr.Entries maxLimit)" in too_long.json()["detail"]
    assert c16.requests("SendLocalList") == c201.requests("SendLocalList") == []
    assert await LocalListUpdate.objects.acount() == 0


async def test_who_may_send_and_read_lists(csms, connect):  # noqa: F811
    await some_tokens()
    await ChargePoint.objects.acreate(id="CP-OTHER", vendor="Other", ocpp_version="1.6")

    def client_of(role: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(UserFactory(username=f"u-{role}", role=role, vendor_name="V"))
        return client

    first_line = await in_thread(client_of, Role.FIRST_LINE_SUPPORT)
    vendor = await in_thread(client_of, Role.CHARGE_POINT_VENDOR)
    second_line = await in_thread(client_of, Role.SECOND_LINE_SUPPORT)
    async with connect(csms, "CP-1") as charger:  # vendor "V"
        charger.answers["SendLocalList"] = {"status": "Accepted"}
        charger.answers["GetLocalListVersion"] = {"listVersion": 3}
        refused = await send(first_line, "CP-1", "Full")
        read = await in_thread(first_line.get, "/api/chargepoints/CP-1/local-list/")
        sent = await send(second_line, "CP-1", "Full")
        own = await in_thread(vendor.post, "/api/chargepoints/CP-1/local-list-version/", {})
        other = await in_thread(vendor.post, "/api/chargepoints/CP-OTHER/local-list-version/", {})
        unknown = await send(second_line, "CP-NONE", "Full")
    assert refused.status_code == 403
    assert read.status_code == 200
    assert sent.status_code == 201
    assert own.status_code == 200
    assert other.status_code == 404  # outside the vendor's scope: as if it did not exist
    assert unknown.status_code == 404
    assert len(charger.requests("SendLocalList")) == 1


async def test_an_offline_charger_is_reported(csms, api):
    await some_tokens()
    await ChargePoint.objects.acreate(id="CP-OFF", ocpp_version="2.0.1")
    response = await send(api, "CP-OFF", "Full")
    never = await ChargePoint.objects.acreate(id="CP-NEW")
    unversioned = await send(api, never.id, "Full")
    assert response.status_code == 409
    assert (response.json()["status"], response.json()["command"]["status"]) == (
        "NotAnswered",
        "NotConnected",
    )
    assert unversioned.status_code == 409
    assert "never connected" in unversioned.json()["detail"]

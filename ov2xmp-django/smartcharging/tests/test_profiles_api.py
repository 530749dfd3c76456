"""Charging profiles through the API, sent to real websocket chargers of
both versions: stored, checked, sent, answered, cleared; and the composite
schedule the platform expects beside the one the charger reports."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from chargepoints.tests.factories import ChargePointFactory
from commands.tests.charger import answering_charger
from csms.tests.helpers import in_thread
from smartcharging.models import ChargingProfile, ChargingProfileStatus

pytestmark = pytest.mark.django_db(transaction=True)

DAY_AND_NIGHT = {
    "charge_point": "CP-1",
    "evse_id": 1,
    "stack_level": 1,
    "purpose": "TxDefaultProfile",
    "kind": "Recurring",
    "recurrency_kind": "Daily",
    "start_schedule": "2026-06-01T00:00:00Z",
    "charging_rate_unit": "A",
    "periods": [
        {"start_period": 0, "limit": "32.0"},
        {"start_period": 28800, "limit": "10.0"},
        {"start_period": 64800, "limit": "32.0"},
    ],
}
VERSIONS = [("ocpp1.6", "1.6"), ("ocpp2.0.1", "2.0.1")]


@sync_to_async
def technician() -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(username="tech", role=Role.SECOND_LINE_SUPPORT))
    return client


async def call(client: APIClient, method: str, path: str, body: Any = None) -> Any:
    return await in_thread(getattr(client, method), path, body, format="json")


@pytest.mark.parametrize(("subprotocol", "version"), VERSIONS)
async def test_a_profile_is_stored_sent_accepted_and_cleared(csms, subprotocol, version):
    api = await technician()
    async with answering_charger(csms.url, "CP-1", subprotocol) as charger:
        charger.answers["SetChargingProfile"] = {"status": "Accepted"}
        charger.answers["ClearChargingProfile"] = {"status": "Accepted"}
        created = await call(api, "post", "/api/charging-profiles/", DAY_AND_NIGHT)
        assert created.status_code == 201, created.content
        assert (created.json()["profile_id"], created.json()["status"]) == (1, "Draft")
        url = f"/api/charging-profiles/{created.json()['id']}/"
        sent = await call(api, "post", url + "send/", {"wait": 5})
        assert sent.status_code == 200, sent.content
        assert (sent.json()["status"], sent.json()["answer"]) == (
            "Accepted",
            {"status": "Accepted"},
        )
        action, request = charger.received[-1]
        assert action == "SetChargingProfile"
        periods = (
            request["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
            if version == "1.6"
            else request["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
        )
        assert [p["limit"] for p in periods] == [32, 10, 32]
        cleared = await call(api, "post", url + "clear/", {"wait": 5})
        assert cleared.json()["status"] == "Cleared"
        assert charger.received[-1][0] == "ClearChargingProfile"


async def test_a_refusal_and_an_offline_charger_are_the_profiles_status(csms):
    api = await technician()
    async with answering_charger(csms.url, "CP-1") as charger:
        charger.answers["SetChargingProfile"] = {"status": "Rejected"}
        created = await call(api, "post", "/api/charging-profiles/", DAY_AND_NIGHT)
        sent = await call(api, "post", f"/api/charging-profiles/{created.json()['id']}/send/")
    assert sent.json()["status"] == "Rejected"
    # Offline now: the command fails at once, and so does the delivery.
    again = await call(api, "post", f"/api/charging-profiles/{created.json()['id']}/send/")
    assert again.status_code == 409
    assert again.json()["status"] == "Failed"


async def test_the_composite_schedule_expected_beside_the_reported(csms):
    api = await technician()
    reported = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-06-02T06:00:00Z",
        "chargingSchedule": {
            "duration": 7200,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 32.0},
                {"startPeriod": 7200, "limit": 10.0},
            ],
        },
    }
    async with answering_charger(csms.url, "CP-1") as charger:
        charger.answers["SetChargingProfile"] = {"status": "Accepted"}
        charger.answers["GetCompositeSchedule"] = reported
        created = await call(api, "post", "/api/charging-profiles/", DAY_AND_NIGHT)
        await call(api, "post", f"/api/charging-profiles/{created.json()['id']}/send/")
        side_by_side = await call(
            api,
            "post",
            "/api/chargepoints/CP-1/composite-schedule/",
            {"evse_id": 1, "duration": 10800, "unit": "A"},
        )
        only_ours = await in_thread(
            api.get,
            "/api/chargepoints/CP-1/composite-schedule/",
            {"evse_id": 1, "start": "2026-06-02T06:00:00Z", "duration": 10800, "unit": "W"},
        )
    body = side_by_side.json()
    assert side_by_side.status_code == 200, body
    # Computed from the charger's own start: 06:00, 32 A until 08:00, then 10 A.
    assert body["expected"]["start"] == "2026-06-02T06:00:00.000Z"
    assert [(p["start_period"], p["limit"]) for p in body["expected"]["periods"]] == [
        (0, "32.0"),
        (7200, "10.0"),
    ]
    assert body["reported"]["command_status"] == "Answered"
    assert [(p["start_period"], p["limit"]) for p in body["reported"]["schedule"]["periods"]] == [
        (0, "32.0"),
        (7200, "10.0"),
    ]
    assert charger.received[-1] == (
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 10800, "chargingRateUnit": "A"},
    )
    # In watts: 32 A and 10 A on three phases of 230 V.
    watts = [(p["start_period"], p["limit"]) for p in only_ours.json()["expected"]["periods"]]
    assert watts == [(0, "22080"), (7200, "6900")]
    assert "reported" not in only_ours.json()


@sync_to_async
def stored(**fields) -> ChargingProfile:
    values = {
        "charge_point": ChargePointFactory(id="CP-1"),
        "profile_id": 1,
        "evse_id": 1,
        "stack_level": 1,
        "purpose": "TxDefaultProfile",
        "kind": "Absolute",
        "charging_rate_unit": "A",
        "periods": [{"start_period": 0, "limit": "16"}],
        **fields,
    }
    return ChargingProfile.objects.create(**values)


async def test_a_second_profile_on_the_same_stack_level_is_refused(db):
    await stored(status=ChargingProfileStatus.ACCEPTED)
    api = await technician()
    clash = await call(api, "post", "/api/charging-profiles/", DAY_AND_NIGHT)
    assert clash.status_code == 400
    assert "Profile 1" in clash.json()["stack_level"][0]
    other_level = await call(
        api, "post", "/api/charging-profiles/", {**DAY_AND_NIGHT, "stack_level": 2}
    )
    assert other_level.status_code == 201
    assert other_level.json()["profile_id"] == 2


async def test_what_cannot_be_sent_or_deleted_says_why(db):
    held = await stored(status=ChargingProfileStatus.ACCEPTED)
    external = await stored(
        profile_id=2, purpose="ChargingStationExternalConstraints", evse_id=0, stack_level=3
    )
    api = await technician()
    deleted = await call(api, "delete", f"/api/charging-profiles/{held.pk}/")
    assert deleted.status_code == 409
    refused = await call(api, "post", f"/api/charging-profiles/{external.pk}/send/")
    assert refused.status_code == 400
    assert "purpose" in refused.json()


async def test_first_line_support_leaves_profiles_to_the_second_line(db):
    profile = await stored()

    @sync_to_async
    def helpdesk() -> APIClient:
        client = APIClient()
        client.force_authenticate(UserFactory(username="desk", role=Role.FIRST_LINE_SUPPORT))
        return client

    api = await helpdesk()
    assert (await in_thread(api.get, "/api/charging-profiles/")).status_code == 403
    assert (
        await call(api, "post", f"/api/charging-profiles/{profile.pk}/send/")
    ).status_code == 403
    assert (await call(api, "post", "/api/charging-profiles/", DAY_AND_NIGHT)).status_code == 403

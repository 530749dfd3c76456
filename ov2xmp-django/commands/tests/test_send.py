"""The command path's behaviour: answers, failures, waiting, holding, order."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from django.conf import settings

from chargepoints.models import ChargePoint
from commands.models import Command, CommandStatus
from commands.tasks import commands_expire
from commands.tests.charger import NO_ANSWER, CallErrorAnswer
from core.time import utc_now
from csms.tests.helpers import eventually, in_thread

RESET = {"type": "Soft"}


async def test_an_answer_comes_back_with_200_and_is_stored(csms, connect, send, api):
    async with connect(csms, "CP-1") as charger:
        charger.answers["Reset"] = {"status": "Rejected"}
        response = await send("ocpp16", "Reset", "CP-1", RESET)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "Answered"
    assert body["response"] == {"status": "Rejected"}
    assert body["created_by"] == "operator"
    assert response["Location"] == body["url"]
    detail = await in_thread(api.get, body["url"])
    assert detail.json()["response"] == {"status": "Rejected"}
    assert charger.requests("Reset") == [RESET]


async def test_an_answer_with_text_the_database_cannot_store_is_kept_with_replacements(
    csms, connect, send
):
    transfer = {"vendorId": "V", "data": "ping"}
    async with connect(csms, "CP-1") as charger:
        charger.answers["DataTransfer"] = {"status": "Accepted", "data": "a\x00b\ud800"}
        response = await send("ocpp16", "DataTransfer", "CP-1", transfer)
    assert response.status_code == 200, response.content
    assert response.json()["response"] == {"status": "Accepted", "data": "a\ufffdb\ufffd"}


async def test_the_message_log_shows_the_command_under_its_id(csms, connect, send):
    from ocpp_messages.models import OcppMessage

    async with connect(csms, "CP-1") as charger:
        charger.answers["Reset"] = {"status": "Accepted"}
        body = (await send("ocpp16", "Reset", "CP-1", RESET)).json()

    async def logged():
        return await OcppMessage.objects.filter(unique_id=body["id"]).acount() == 2

    await eventually(logged)


async def test_an_invalid_payload_is_refused_with_field_errors_before_sending(csms, connect, send):
    async with connect(csms, "CP-1") as charger:
        response = await send("ocpp16", "Reset", "CP-1", {"type": "Sideways", "extra": 1})
        wrong_type = await send("ocpp16", "ChangeConfiguration", "CP-1", {"key": 5})
        not_object = await send("ocpp16", "Reset", "CP-1", ["Soft"])
        unknown = await send("ocpp16", "Reset", "NOPE", RESET)
        bad_wait = await send("ocpp16", "Reset", "CP-1", RESET, wait=600)
    assert response.status_code == 400
    errors = response.json()["payload"]
    assert "Sideways" in errors["type"][0]
    assert "extra" in errors["(payload)"][0]
    assert wrong_type.status_code == 400
    assert set(wrong_type.json()["payload"]) == {"key", "(payload)"}  # type; value missing
    assert not_object.status_code == 400
    assert unknown.status_code == 400
    assert "Unknown charger" in unknown.json()["charge_point"][0]
    assert bad_wait.status_code == 400
    assert "wait" in bad_wait.json()
    assert charger.received == []
    assert await Command.objects.acount() == 0


async def test_a_command_of_the_other_version_is_refused(csms, connect, send):
    async with connect(csms, "CP-201", "ocpp2.0.1"):
        response = await send("ocpp16", "Reset", "CP-201", RESET)
    assert response.status_code == 409
    assert "/api/commands/ocpp201/Reset/" in response.json()["detail"]


async def test_an_offline_charger_fails_fast_with_409(csms, connect, send):
    async with connect(csms, "CP-1"):
        pass
    response = await send("ocpp16", "Reset", "CP-1", RESET)
    assert response.status_code == 409
    assert response.json()["status"] == "NotConnected"
    assert "not connected" in response.json()["error_description"]


async def test_a_call_error_is_shown_with_its_code_and_description(csms, connect, send):
    async with connect(csms, "CP-1") as charger:
        charger.answers["Reset"] = CallErrorAnswer(
            "NotImplemented", "no resets here", {"why": "policy"}
        )
        response = await send("ocpp16", "Reset", "CP-1", RESET)
    assert response.status_code == 502
    body = response.json()
    assert (body["status"], body["error_code"], body["error_description"]) == (
        "CallError",
        "NotImplemented",
        "no resets here",
    )
    assert body["response"] == {"why": "policy"}


async def test_an_answer_that_breaks_the_schema_fails_and_is_kept(csms, connect, send):
    async with connect(csms, "CP-1") as charger:
        charger.answers["Reset"] = {"status": "Maybe"}
        response = await send("ocpp16", "Reset", "CP-1", RESET)
    assert response.status_code == 502
    body = response.json()
    assert body["status"] == "Failed"
    assert body["error_code"] == "InvalidAnswer"
    assert body["response"] == {"status": "Maybe"}


async def test_no_answer_in_time_is_504(start_csms, connect, send):
    csms = await start_csms(ocpp_response_timeout=0.3)
    async with connect(csms, "CP-1") as charger:
        charger.answers["Reset"] = NO_ANSWER
        response = await send("ocpp16", "Reset", "CP-1", RESET)
        # The connection still works for the next command.
        charger.answers["ClearCache"] = {"status": "Accepted"}
        after = await send("ocpp16", "ClearCache", "CP-1", {})
    assert response.status_code == 504
    assert response.json()["status"] == "TimedOut"
    assert "no answer within 0.3 s" in response.json()["error_description"]
    assert after.status_code == 200


async def test_without_waiting_202_and_the_outcome_at_the_location(csms, connect, send, api):
    async with connect(csms, "CP-1") as charger:
        charger.delay = 0.3
        response = await send("ocpp16", "Reset", "CP-1", RESET, wait=0)
        assert response.status_code == 202
        assert response.json()["status"] in ("Queued", "Sent")

        async def answered():
            detail = (await in_thread(api.get, response["Location"])).json()
            return detail if detail["status"] == "Answered" else None

        detail = await eventually(answered)
    assert detail["response"] == {"status": "Accepted"}
    assert detail["sent_at"]
    assert detail["finished_at"]


async def test_a_closed_connection_fails_the_command_it_was_answering(csms, connect, send):
    async with connect(csms, "CP-1") as charger:
        charger.answers["Reset"] = NO_ANSWER
        response = await send("ocpp16", "Reset", "CP-1", RESET, wait=0)
        await eventually(lambda: _status_is(response.json()["id"], CommandStatus.SENT))
    # The server notices the closed socket on its own time; under load, slowly.
    await eventually(lambda: _status_is(response.json()["id"], CommandStatus.FAILED), within=15)
    command = await Command.objects.aget(id=response.json()["id"])
    assert command.error_code == "ConnectionClosed"


async def _status_is(command_id, status) -> bool:
    return (await Command.objects.aget(id=command_id)).status == status


async def test_commands_go_one_at_a_time_in_the_order_sent(csms, connect, send):
    keys = [f"Key{n}" for n in range(6)]
    async with connect(csms, "CP-1") as charger:
        charger.delay = 0.05
        responses = [
            await send("ocpp16", "GetConfiguration", "CP-1", {"key": [key]}, wait=0) for key in keys
        ]
        for response in responses:
            await eventually(lambda r=response: _status_is(r.json()["id"], "Answered"))
    assert [payload["key"][0] for payload in charger.requests("GetConfiguration")] == keys
    assert charger.most_open_calls == 1


async def test_a_command_waits_its_turn_only_so_long(start_csms, connect, send):
    csms = await start_csms(command_queue_timeout=0.2)
    async with connect(csms, "CP-1") as charger:
        charger.delay = 0.6
        first = await send("ocpp16", "Reset", "CP-1", RESET, wait=0)
        second = await send("ocpp16", "ClearCache", "CP-1", {}, wait=2)
        await eventually(lambda: _status_is(first.json()["id"], "Answered"))
    assert second.status_code == 504
    assert "behind earlier commands" in second.json()["error_description"]
    assert charger.requests("ClearCache") == []


async def test_a_held_command_is_delivered_when_the_charger_reconnects(csms, connect, send, api):
    async with connect(csms, "CP-1"):
        pass
    response = await send("ocpp16", "Reset", "CP-1", RESET, hold_seconds=600)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "Held"
    assert body["hold_until"]
    async with connect(csms, "CP-1") as charger:
        await eventually(lambda: _status_is(body["id"], "Answered"))
    assert charger.requests("Reset") == [RESET]


async def test_a_held_command_expires_if_the_charger_stays_away(csms, connect, send):
    async with connect(csms, "CP-1"):
        pass
    response = await send("ocpp16", "Reset", "CP-1", RESET, hold_seconds=60)
    await Command.objects.filter(id=response.json()["id"]).aupdate(
        hold_until=utc_now() - timedelta(seconds=1)
    )
    await in_thread(commands_expire.delay)
    command = await Command.objects.aget(id=response.json()["id"])
    assert command.status == CommandStatus.EXPIRED
    async with connect(csms, "CP-1") as charger:
        await asyncio.sleep(0.2)
    assert charger.requests("Reset") == []


async def test_a_held_command_can_be_cancelled(csms, connect, send, api):
    async with connect(csms, "CP-1"):
        pass
    body = (await send("ocpp16", "Reset", "CP-1", RESET, hold_seconds=600)).json()
    cancelled = await in_thread(api.post, f"/api/commands/{body['id']}/cancel/")
    again = await in_thread(api.post, f"/api/commands/{body['id']}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "Cancelled"
    assert again.status_code == 409
    async with connect(csms, "CP-1") as charger:
        await asyncio.sleep(0.2)
    assert charger.requests("Reset") == []


async def test_held_commands_wait_for_a_pending_charger_to_be_accepted(start_csms, connect, send):
    csms = await start_csms(unknown_chargers="pending")
    async with connect(csms, "CP-NEW"):
        pass
    body = (await send("ocpp16", "Reset", "CP-NEW", RESET, hold_seconds=600)).json()
    async with connect(csms, "CP-NEW") as charger:
        await asyncio.sleep(0.3)
        assert charger.requests("Reset") == []
        charge_point = await ChargePoint.objects.aget(id="CP-NEW")
        charge_point.registration_status = "Accepted"
        await charge_point.asave()
        from ocpp.v16 import call

        await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        await eventually(lambda: _status_is(body["id"], "Answered"))


async def test_stranded_commands_fail_rather_than_stay_pending(csms, connect, send):
    async with connect(csms, "CP-1"):
        pass
    charge_point = await ChargePoint.objects.aget(id="CP-1")
    command = await Command.objects.acreate(
        charge_point=charge_point, ocpp_version="1.6", action="Reset", request=RESET
    )
    config = settings.OV2XMP
    old = utc_now() - timedelta(seconds=config.command_queue_timeout + 120)
    await Command.objects.filter(id=command.id).aupdate(created_at=old)
    await in_thread(commands_expire.delay)
    await command.arefresh_from_db()
    assert command.status == CommandStatus.FAILED
    assert "stranded" in command.error_description


async def test_the_command_list_filters_by_charger_action_status_and_sender(
    csms, connect, send, api
):
    async with connect(csms, "CP-1") as charger:
        charger.answers["Reset"] = {"status": "Accepted"}
        await send("ocpp16", "Reset", "CP-1", RESET)
        await send("ocpp16", "ClearCache", "CP-1", {})
    await send("ocpp16", "Reset", "CP-1", RESET)  # offline now

    async def listed(query: str) -> list[tuple[str, str]]:
        rows = (await in_thread(api.get, f"/api/commands/?{query}")).json()["results"]
        return [(row["action"], row["status"]) for row in rows]

    assert await listed("action=Reset") == [("Reset", "NotConnected"), ("Reset", "Answered")]
    assert await listed("status=Answered&charge_point=CP-1") == [
        ("ClearCache", "Answered"),
        ("Reset", "Answered"),
    ]
    assert await listed("charge_point=CP-2") == []
    assert len(await listed("created_by=operator")) == 3
    assert await listed("created_by=nobody") == []
    since = (utc_now() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert await listed(f"created_at_after={since}") == []


async def test_sending_needs_the_permission_of_the_commands_category(csms, connect, db):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    from accounts.models import User

    user = await in_thread(User.objects.create_user, username="viewer", password="pass-123")
    client = APIClient()
    await in_thread(client.force_authenticate, user)

    def grant(codename: str) -> None:
        user.user_permissions.add(Permission.objects.get(codename=codename))
        client.force_authenticate(User.objects.get(pk=user.pk))  # no cached permissions

    def reset() -> Any:
        return client.post(
            "/api/commands/ocpp16/Reset/", {"charge_point": "CP-1", "payload": RESET}, format="json"
        )

    async with connect(csms, "CP-1") as charger:
        charger.answers["Reset"] = {"status": "Accepted"}
        refused = await in_thread(reset)
        listing = await in_thread(client.get, "/api/commands/")
        await in_thread(grant, "add_command")
        await in_thread(grant, "send_configure")
        still_refused = await in_thread(reset)
        assert charger.received == []
        await in_thread(grant, "send_operate")
        sent = await in_thread(reset)
    assert (refused.status_code, listing.status_code) == (403, 403)
    assert "commands.send_operate" in refused.json()["detail"]
    assert still_refused.status_code == 403
    assert (sent.status_code, sent.json()["response"]) == (200, {"status": "Accepted"})


def test_a_queue_that_is_down_answers_503_and_records_the_command_failed(api, monkeypatch):
    from commands.tasks import command_dispatch

    ChargePoint.objects.create(id="CP-Q", ocpp_version="1.6")

    def broker_down(*args: Any) -> None:
        raise ConnectionError("redis is away")

    monkeypatch.setattr(command_dispatch, "delay", broker_down)
    response = api.post(
        "/api/commands/ocpp16/Reset/", {"charge_point": "CP-Q", "payload": RESET}, format="json"
    )
    assert response.status_code == 503
    command = Command.objects.get(charge_point_id="CP-Q")
    assert command.status == CommandStatus.FAILED
    assert "redis is away" in command.error_description

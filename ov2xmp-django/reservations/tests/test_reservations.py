"""Reservations through the API, against real websocket chargers of both
OCPP versions: ReserveNow with each answer, CancelReservation, expiry by the
periodic task, use by the right and the wrong token, what chargers and
connectors show, and the API's refusals."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from chargepoints.models import ChargePoint
from commands.tests.conftest import connect  # noqa: F401  (fixture)
from core.testing import iso
from core.time import parse_timestamp, utc_now
from csms.tests.helpers import in_thread
from idtokens.models import IdToken
from reservations import services as reservation_services
from reservations import tasks
from reservations.models import Reservation
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)

V16, V201 = "ocpp1.6", "ocpp2.0.1"
ANSWERS = ["Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"]


def later(minutes: int = 30) -> str:
    """A time to expire at, in whole seconds (sent to chargers with milliseconds)."""
    return iso((utc_now() + timedelta(minutes=minutes)).replace(microsecond=0))


async def tokens() -> tuple[IdToken, IdToken, IdToken]:
    """A group token, a card of that group, and a card of nobody's group."""
    group = await IdToken.objects.acreate(value="FLEET", type="Central")
    card = await IdToken.objects.acreate(value="CARD-1", type="ISO14443", parent=group)
    other = await IdToken.objects.acreate(value="CARD-2", type="ISO14443")
    return group, card, other


async def reserve(api, **body: Any) -> Any:
    return await in_thread(api.post, "/api/reservations/", body)


@pytest.mark.parametrize("answer", ANSWERS)
async def test_reserve_now_16_records_each_answer(csms, connect, api, answer):  # noqa: F811
    await tokens()
    expires = later()
    async with connect(csms, "CP-1") as charger:
        charger.answers["ReserveNow"] = {"status": answer}
        first = await reserve(
            api, charge_point="CP-1", evse_id=2, id_token="CARD-1", expires_at=expires
        )
        second = await reserve(api, charge_point="CP-1", id_token="CARD-2", expires_at=expires)
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["reservation_id"], body["status"], body["evse_id"]) == (1, answer, 2)
    assert body["command"]["response"] == {"status": answer}
    # The platform allocated the ids, and built the 1.6 payload from the request.
    assert charger.requests("ReserveNow") == [
        {
            "connectorId": 2,
            "expiryDate": expires.replace("Z", ".000Z"),
            "idTag": "CARD-1",
            "reservationId": 1,
            "parentIdTag": "FLEET",
        },
        {
            "connectorId": 0,
            "expiryDate": expires.replace("Z", ".000Z"),
            "idTag": "CARD-2",
            "reservationId": 2,
        },
    ]
    assert second.json()["reservation_id"] == 2
    stored = await Reservation.objects.aget(charge_point_id="CP-1", reservation_id=1)
    assert (stored.status, stored.id_token_value, stored.group_id_token_value) == (
        answer,
        "CARD-1",
        "FLEET",
    )


@pytest.mark.parametrize("answer", ANSWERS)
async def test_reserve_now_201_records_each_answer(csms, connect, api, answer):  # noqa: F811
    await tokens()
    async with connect(csms, "CP-2", V201) as charger:
        charger.answers["ReserveNow"] = {"status": answer}
        response = await reserve(
            api,
            charge_point="CP-2",
            evse_id=1,
            id_token="CARD-1",
            connector_type="cCCS2",
            expires_at=later(),
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == answer
    [sent] = charger.requests("ReserveNow")
    assert {key: value for key, value in sent.items() if key != "expiryDateTime"} == {
        "id": 1,
        "idToken": {"idToken": "CARD-1", "type": "ISO14443"},
        "evseId": 1,
        "connectorType": "cCCS2",
        "groupIdToken": {"idToken": "FLEET", "type": "Central"},
    }
    stored = await Reservation.objects.aget(charge_point_id="CP-2")
    assert (stored.status, stored.connector_type, stored.id_token_type) == (
        answer,
        "cCCS2",
        "ISO14443",
    )


@pytest.mark.parametrize("version", [V16, V201])
async def test_cancel_accepted_and_rejected(csms, connect, api, version):  # noqa: F811
    await tokens()
    async with connect(csms, "CP-3", version) as charger:
        charger.answers["ReserveNow"] = {"status": "Accepted"}
        made = (
            await reserve(api, charge_point="CP-3", id_token="CARD-1", expires_at=later())
        ).json()
        another = (
            await reserve(api, charge_point="CP-3", id_token="CARD-2", expires_at=later())
        ).json()
        charger.answers["CancelReservation"] = {"status": "Accepted"}
        cancelled = await in_thread(api.post, f"/api/reservations/{made['id']}/cancel/", {})
        again = await in_thread(api.post, f"/api/reservations/{made['id']}/cancel/", {})
        charger.answers["CancelReservation"] = {"status": "Rejected"}
        refused = await in_thread(api.post, f"/api/reservations/{another['id']}/cancel/", {})
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "Cancelled"
    assert again.status_code == 409  # only accepted ones are cancelled: nothing sent
    assert refused.status_code == 409
    assert refused.json()["status"] == "Accepted"
    assert refused.json()["cancel_command"]["response"] == {"status": "Rejected"}
    assert charger.requests("CancelReservation") == [
        {"reservationId": made["reservation_id"]},
        {"reservationId": another["reservation_id"]},
    ]


async def test_offline_unknown_and_never_connected_chargers(csms, api):
    await tokens()
    await ChargePoint.objects.acreate(id="CP-OFF", ocpp_version="1.6")
    await ChargePoint.objects.acreate(id="CP-NEW")
    offline = await reserve(api, charge_point="CP-OFF", id_token="CARD-1", expires_at=later())
    unknown = await reserve(api, charge_point="CP-NONE", id_token="CARD-1", expires_at=later())
    never = await reserve(api, charge_point="CP-NEW", id_token="CARD-1", expires_at=later())
    assert offline.status_code == 409
    assert offline.json()["status"] == "Failed"
    assert offline.json()["command"]["status"] == "NotConnected"
    assert unknown.status_code == 400
    assert unknown.json() == {"charge_point": ["Unknown charger 'CP-NONE'."]}
    assert never.status_code == 400
    assert "never connected" in never.json()["charge_point"][0]


async def test_bad_input_names_the_field(csms, connect, api):  # noqa: F811
    await tokens()
    await IdToken.objects.acreate(value="STOLEN", status="Blocked")
    await IdToken.objects.acreate(value="X" * 21)
    async with connect(csms, "CP-16") as charger, connect(csms, "CP-201", V201):
        await charger.call(
            call16.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )
        cases = {
            "expires_at": {"charge_point": "CP-16", "id_token": "CARD-1"},
            "id_token": {"charge_point": "CP-16", "id_token": "NOBODY", "expires_at": later()},
        }
        answers = {field: await reserve(api, **body) for field, body in cases.items()}
        past = await reserve(
            api, charge_point="CP-16", id_token="CARD-1", expires_at=iso(utc_now())
        )
        blocked = await reserve(api, charge_point="CP-16", id_token="STOLEN", expires_at=later())
        too_long = await reserve(api, charge_point="CP-16", id_token="X" * 21, expires_at=later())
        no_evse = await reserve(
            api, charge_point="CP-16", evse_id=7, id_token="CARD-1", expires_at=later()
        )
        type_16 = await reserve(
            api,
            charge_point="CP-16",
            connector_type="cType2",
            id_token="CARD-1",
            expires_at=later(),
        )
        connector_201 = await reserve(
            api, charge_point="CP-201", connector_id=1, id_token="CARD-1", expires_at=later()
        )
        bad_group = await reserve(
            api,
            charge_point="CP-16",
            id_token="CARD-1",
            group_id_token="NO-GROUP",
            expires_at=later(),
        )
    for field, response in answers.items():
        assert response.status_code == 400
        assert field in response.json(), response.json()
    for field, response in [
        ("expires_at", past),
        ("id_token", blocked),
        ("id_token", too_long),
        ("evse_id", no_evse),
        ("connector_type", type_16),
        ("connector_id", connector_201),
        ("group_id_token", bad_group),
    ]:
        assert response.status_code == 400, (field, response.content)
        assert field in response.json(), (field, response.json())
    assert "Blocked" in blocked.json()["id_token"][0]
    assert charger.requests("ReserveNow") == []
    assert await Reservation.objects.acount() == 0


@pytest.mark.parametrize("role", [Role.CDR_MANAGER, Role.CMS_MANAGER, Role.CHARGE_POINT_VENDOR])
async def test_roles_without_the_permissions_are_refused(csms, connect, role):  # noqa: F811
    await tokens()
    user = await in_thread(UserFactory, username=f"u-{role}", role=role, vendor_name="V")
    client = APIClient()
    client.force_authenticate(user)
    async with connect(csms, "CP-1") as charger:
        response = await in_thread(
            client.post,
            "/api/reservations/",
            {"charge_point": "CP-1", "id_token": "CARD-1", "expires_at": later()},
            format="json",
        )
    assert response.status_code == 403
    assert charger.requests("ReserveNow") == []


async def test_first_line_support_reserves_and_cancels(csms, connect):  # noqa: F811
    await tokens()
    user = await in_thread(UserFactory, username="helpdesk", role=Role.FIRST_LINE_SUPPORT)
    client = APIClient()
    client.force_authenticate(user)
    async with connect(csms, "CP-1") as charger:
        charger.answers["ReserveNow"] = {"status": "Accepted"}
        charger.answers["CancelReservation"] = {"status": "Accepted"}
        made = await in_thread(
            client.post,
            "/api/reservations/",
            {"charge_point": "CP-1", "id_token": "CARD-1", "expires_at": later()},
            format="json",
        )
        cancelled = await in_thread(
            client.post, f"/api/reservations/{made.json()['id']}/cancel/", {}, format="json"
        )
    assert (made.status_code, cancelled.status_code) == (201, 200)
    assert made.json()["created_by"] == "helpdesk"


async def test_the_periodic_task_expires_accepted_reservations(csms, connect, api, monkeypatch):  # noqa: F811
    assert settings.CELERY_BEAT_SCHEDULE["reservations-expire"]["task"] == (
        "reservations.tasks.reservations_expire"
    )
    await tokens()
    async with connect(csms, "CP-1") as charger:
        charger.answers["ReserveNow"] = {"status": "Accepted"}
        soon = (
            await reserve(api, charge_point="CP-1", id_token="CARD-1", expires_at=later(10))
        ).json()
        charger.answers["ReserveNow"] = {"status": "Occupied"}
        refused = (
            await reserve(api, charge_point="CP-1", id_token="CARD-2", expires_at=later(10))
        ).json()
    charger_row = await ChargePoint.objects.aget(id="CP-1")
    published: list[Any] = []
    monkeypatch.setattr(
        reservation_services, "events_publish", lambda *, events: published.extend(events)
    )

    async def run_at(minutes: int) -> dict[int, str]:
        monkeypatch.setattr(tasks, "utc_now", lambda: utc_now() + timedelta(minutes=minutes))
        await in_thread(tasks.reservations_expire.apply)
        return {r.pk: r.status async for r in Reservation.objects.filter(charge_point=charger_row)}

    assert await run_at(5) == {soon["id"]: "Accepted", refused["id"]: "Occupied"}
    assert await run_at(11) == {soon["id"]: "Expired", refused["id"]: "Occupied"}
    [event] = published
    message = event.message(event.topics[1])
    assert (message["type"], message["topic"]) == ("reservation.status", "charger:CP-1")
    assert message["data"]["status"] == "Expired"
    assert message["data"]["reservation_id"] == soon["reservation_id"]


async def test_a_16_reservation_is_used_by_its_token_or_group_only(csms, connect, api, caplog):  # noqa: F811
    _, card, _ = await tokens()
    await IdToken.objects.acreate(value="CARD-3", parent_id=card.parent_id)
    async with connect(csms, "CP-1") as charger:
        charger.answers["ReserveNow"] = {"status": "Accepted"}
        mine = (
            await reserve(
                api, charge_point="CP-1", evse_id=1, id_token="CARD-1", expires_at=later()
            )
        ).json()
        solo = (
            await reserve(
                api,
                charge_point="CP-1",
                evse_id=2,
                id_token="CARD-2",
                expires_at=later(),
            )
        ).json()

        async def start(connector: int, tag: str, reservation_id: int) -> int:
            started = await charger.call(
                call16.StartTransaction(
                    connector_id=connector,
                    id_tag=tag,
                    meter_start=0,
                    timestamp=iso(utc_now()),
                    reservation_id=reservation_id,
                )
            )
            return started.transaction_id

        with caplog.at_level(logging.WARNING, logger="reservations.services"):
            await start(2, "CARD-1", solo["reservation_id"])  # not CARD-2's group
        statuses_after_wrong = {r.reservation_id: r.status async for r in Reservation.objects.all()}
        group_tx = await start(1, "CARD-3", mine["reservation_id"])  # CARD-1's group
    assert statuses_after_wrong == {
        mine["reservation_id"]: "Accepted",
        solo["reservation_id"]: "Accepted",
    }
    assert "not counted as used" in caplog.text
    used = await Reservation.objects.aget(reservation_id=mine["reservation_id"])
    assert (used.status, used.transaction_id) == ("Used", group_tx)


async def test_a_201_reservation_is_used_by_its_token_only(csms, connect, api, caplog):  # noqa: F811
    await tokens()

    def event(tx: str, seq: int, token: str, reservation_id: int, kind: str = "Started") -> Any:
        return call201.TransactionEvent(
            event_type=kind,
            timestamp=iso(utc_now()),
            trigger_reason="Authorized",
            seq_no=seq,
            transaction_info={"transaction_id": tx},
            evse={"id": 1, "connector_id": 1},
            id_token={"id_token": token, "type": "ISO14443"},
            reservation_id=reservation_id,
        )

    async with connect(csms, "CP-2", V201) as charger:
        charger.answers["ReserveNow"] = {"status": "Accepted"}
        made = (
            await reserve(
                api, charge_point="CP-2", evse_id=1, id_token="CARD-1", expires_at=later()
            )
        ).json()
        with caplog.at_level(logging.WARNING, logger="reservations.services"):
            await charger.call(event("TX-WRONG", 0, "CARD-2", made["reservation_id"]))
        wrong = await Reservation.objects.aget(pk=made["id"])
        await charger.call(event("TX-RIGHT", 0, "CARD-1", made["reservation_id"]))
    assert wrong.status == "Accepted"
    assert "not counted as used" in caplog.text
    used = await Reservation.objects.select_related("transaction").aget(pk=made["id"])
    assert used.status == "Used"
    assert used.transaction.ocpp_transaction_id == "TX-RIGHT"
    # The wrong token's session keeps the id it named.
    assert (await Transaction.objects.aget(ocpp_transaction_id="TX-WRONG")).reservation_id == (
        made["reservation_id"]
    )


async def test_chargers_and_connectors_show_their_active_reservation(csms, connect, api):  # noqa: F811
    await tokens()
    async with connect(csms, "CP-2", V201) as charger:
        charger.answers["ReserveNow"] = {"status": "Accepted"}
        for evse in (1, 2):
            await charger.call(
                call201.StatusNotification(
                    timestamp=iso(utc_now()),
                    connector_status="Available",
                    evse_id=evse,
                    connector_id=1,
                )
            )
        made = (
            await reserve(
                api, charge_point="CP-2", evse_id=1, id_token="CARD-1", expires_at=later()
            )
        ).json()
        anywhere = (
            await reserve(api, charge_point="CP-2", id_token="CARD-2", expires_at=later())
        ).json()
        # The charger says the connector is reserved; the platform shows what it says.
        await charger.call(
            call201.StatusNotification(
                timestamp=iso(utc_now()), connector_status="Reserved", evse_id=1, connector_id=1
            )
        )
        connectors = (await in_thread(api.get, "/api/connectors/?charge_point=CP-2")).json()
        detail = (await in_thread(api.get, "/api/chargepoints/CP-2/")).json()
    by_evse = {c["evse_id"]: c for c in connectors["results"]}
    assert by_evse[1]["status"] == "Reserved"
    assert by_evse[1]["reservation"]["reservation_id"] == made["reservation_id"]
    assert by_evse[2]["status"] == "Available"
    assert by_evse[2]["reservation"] is None
    assert [(r["id"], r["evse_id"]) for r in detail["active_reservations"]] == [
        (made["id"], 1),
        (anywhere["id"], None),
    ]
    nested = {evse["evse_id"]: evse["connectors"][0] for evse in detail["evses"]}
    assert nested[1]["reservation"]["id"] == made["id"]
    await Reservation.objects.filter(pk=made["id"]).aupdate(status="Expired")
    connectors = (await in_thread(api.get, "/api/connectors/?charge_point=CP-2")).json()
    assert all(c["reservation"] is None for c in connectors["results"])


async def test_a_reserve_now_sent_as_a_command_is_recorded_too(csms, connect, api):  # noqa: F811
    expires = later()
    payload = {"connectorId": 1, "expiryDate": expires, "idTag": "ANY-TAG", "reservationId": 77}
    async with connect(csms, "CP-1") as charger:
        charger.answers["ReserveNow"] = {"status": "Accepted"}
        sent = await in_thread(
            api.post,
            "/api/commands/ocpp16/ReserveNow/",
            {"charge_point": "CP-1", "payload": payload},
        )
        charger.answers["CancelReservation"] = {"status": "Accepted"}
        await in_thread(
            api.post,
            "/api/commands/ocpp16/CancelReservation/",
            {"charge_point": "CP-1", "payload": {"reservationId": 77}},
        )
    assert sent.status_code == 200
    stored = await Reservation.objects.aget(charge_point_id="CP-1", reservation_id=77)
    assert (stored.status, stored.evse_id, stored.id_token_value) == ("Cancelled", 1, "ANY-TAG")
    assert stored.expires_at == parse_timestamp(expires)

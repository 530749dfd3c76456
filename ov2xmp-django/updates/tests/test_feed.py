"""The live-update feed end to end: a real csms, chargers that are real
websocket clients, and feed clients on the ASGI application."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission
from ocpp.v16 import call
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from chargepoints.tests.factories import ChargePointFactory
from config.asgi import application
from csms.simulator import simulated_charger
from updates import consumers

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def token_for(username: str, *, superuser: bool = True, lifetime: timedelta | None = None) -> str:
    user, _ = User.objects.get_or_create(username=username, defaults={"is_superuser": superuser})
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


async def feed(token: str | None = None) -> WebsocketCommunicator:
    path = "/ws/updates/" + (f"?token={token}" if token else "")
    client = WebsocketCommunicator(application, path)
    connected, _ = await client.connect()
    assert connected
    if token:
        assert (await client.receive_json_from())["type"] == "authenticated"
    return client


async def subscribe(client: WebsocketCommunicator, topic: str) -> dict:
    await client.send_json_to({"type": "subscribe", "topic": topic})
    return await client.receive_json_from()


async def next_event(client: WebsocketCommunicator, kind: str) -> dict:
    """The next event of this type (others, of the same topics, may come first)."""
    while True:
        message = await client.receive_json_from(timeout=5)
        if message["type"] == kind:
            return message


async def test_a_subscriber_sees_chargers_connect_boot_and_disconnect(csms):
    client = await feed(await token_for("operator"))
    assert await subscribe(client, "chargers") == {"type": "subscribed", "topic": "chargers"}
    async with simulated_charger(csms.url, "CP-LIVE") as charger:
        connected = await next_event(client, "charger.connected")
        await charger.call(
            call.BootNotification(charge_point_model="M", charge_point_vendor="Acme")
        )
        booted = await next_event(client, "charger.booted")
    disconnected = await next_event(client, "charger.disconnected")
    assert connected["charger_id"] == "CP-LIVE"
    assert (connected["schema"], connected["topic"]) == (1, "chargers")
    assert connected["data"] == {"ocpp_version": "1.6", "registration_status": "Accepted"}
    assert connected["at"].endswith("Z")
    assert booted["data"]["vendor"] == "Acme"
    assert disconnected["charger_id"] == "CP-LIVE"
    await client.disconnect()


async def test_a_charger_topic_carries_statuses_sessions_and_meter_values(csms):
    await sync_to_async(ChargePointFactory)(id="CP-SESSION")
    client = await feed(await token_for("operator"))
    await subscribe(client, "charger:CP-SESSION")
    async with simulated_charger(csms.url, "CP-SESSION") as charger:
        await charger.call(
            call.BootNotification(charge_point_model="M", charge_point_vendor="Acme")
        )
        await charger.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing")
        )
        status = await next_event(client, "connector.status")
        started = await charger.call(
            call.StartTransaction(
                connector_id=1, id_tag="TAG", meter_start=1000, timestamp="2026-11-24T10:00:00Z"
            )
        )
        session = await next_event(client, "transaction.started")
        session_feed = await feed(await token_for("operator"))
        topic = f"transaction:{session['transaction_id']}"
        assert (await subscribe(session_feed, topic))["type"] == "subscribed"
        await charger.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=started.transaction_id,
                meter_value=[
                    {
                        "timestamp": "2026-11-24T10:05:00Z",
                        "sampledValue": [{"value": "1500", "unit": "Wh"}],
                    }
                ],
            )
        )
        for client_of_it in (client, session_feed):
            values = await next_event(client_of_it, "meter_values")
            assert values["transaction_id"] == session["transaction_id"]
            assert values["data"]["readings"][0]["sampled_values"][0]["value"] == "1500"
        await charger.call(
            call.StopTransaction(
                meter_stop=2000,
                timestamp="2026-11-24T10:30:00Z",
                transaction_id=started.transaction_id,
            )
        )
        ended = await next_event(session_feed, "transaction.ended")
    assert status["data"] == {
        "evse_id": 1,
        "connector_id": 1,
        "status": "Preparing",
        "error_code": "NoError",
    }
    assert session["data"]["id_token"] == "TAG"
    assert ended["data"]["status"] == "Ended"
    await client.disconnect()
    await session_feed.disconnect()


async def test_events_reach_only_the_subscribers_of_their_topics(csms):
    await sync_to_async(ChargePointFactory)(id="CP-A")
    await sync_to_async(ChargePointFactory)(id="CP-B")
    token = await token_for("operator")
    of_a, of_b = await feed(token), await feed(token)
    await subscribe(of_a, "charger:CP-A")
    await subscribe(of_b, "charger:CP-B")
    async with simulated_charger(csms.url, "CP-A"):
        assert (await next_event(of_a, "charger.connected"))["charger_id"] == "CP-A"
        assert await of_b.receive_nothing(timeout=0.3)
    await next_event(of_a, "charger.disconnected")
    await of_a.send_json_to({"type": "unsubscribe", "topic": "charger:CP-A"})
    assert await of_a.receive_json_from() == {"type": "unsubscribed", "topic": "charger:CP-A"}
    async with simulated_charger(csms.url, "CP-A"):
        assert await of_a.receive_nothing(timeout=0.3)
    await of_a.disconnect()
    await of_b.disconnect()


async def test_an_anonymous_connection_is_closed_at_its_first_request(csms):
    client = await feed()
    await client.send_json_to({"type": "subscribe", "topic": "chargers"})
    assert (await client.receive_json_from())["error"] == "unauthenticated"
    assert (await client.receive_output())["code"] == consumers.CLOSE_UNAUTHENTICATED


async def test_an_anonymous_connection_is_closed_when_it_does_not_authenticate(csms, monkeypatch):
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.2)
    client = await feed()
    assert (await client.receive_json_from())["detail"] == "authentication timed out"
    assert (await client.receive_output())["code"] == consumers.CLOSE_UNAUTHENTICATED


async def test_a_bad_token_in_the_address_is_refused_at_the_handshake(csms):
    client = WebsocketCommunicator(application, "/ws/updates/?token=not-a-jwt")
    connected, _ = await client.connect()
    assert not connected


async def test_the_first_message_may_authenticate(csms):
    client = await feed()
    await client.send_json_to({"type": "authenticate", "token": await token_for("operator")})
    assert (await client.receive_json_from())["user"] == "operator"
    assert (await subscribe(client, "commands"))["type"] == "subscribed"
    await client.disconnect()


async def test_a_bad_token_in_the_first_message_closes_the_connection(csms):
    client = await feed()
    await client.send_json_to({"type": "authenticate", "token": "forged"})
    assert (await client.receive_json_from())["detail"] == "invalid or expired token"
    assert (await client.receive_output())["code"] == consumers.CLOSE_UNAUTHENTICATED


async def test_the_connection_closes_when_its_token_expires(csms):
    # Two seconds: the expiry is a whole second, so "one" may be a tenth.
    client = await feed(await token_for("operator", lifetime=timedelta(seconds=2)))
    message = await client.receive_json_from(timeout=5)
    assert message == {"type": "error", "error": "unauthenticated", "detail": "token expired"}
    assert (await client.receive_output())["code"] == consumers.CLOSE_UNAUTHENTICATED


async def test_a_fresh_token_keeps_the_connection_open(csms):
    client = await feed(await token_for("operator", lifetime=timedelta(seconds=2)))
    await client.send_json_to({"type": "authenticate", "token": await token_for("operator")})
    assert (await client.receive_json_from())["type"] == "authenticated"
    assert await client.receive_nothing(timeout=2.5)  # past the first token's expiry
    await client.send_json_to({"type": "authenticate", "token": await token_for("someone")})
    refused = await client.receive_json_from()
    assert refused["error"] == "authentication_failed"
    await client.disconnect()


async def test_topics_need_the_permission_to_view_what_they_show(csms):
    client = await feed(await token_for("support", superuser=False))
    refused = await subscribe(client, "chargers")
    assert refused == {
        "type": "error",
        "error": "forbidden",
        "detail": "needs the permission chargepoints.view_chargepoint",
        "topic": "chargers",
    }

    @sync_to_async
    def grant() -> None:
        user = User.objects.get(username="support")
        user.user_permissions.add(Permission.objects.get(codename="view_chargepoint"))

    await grant()
    client = await feed(await token_for("support"))
    assert (await subscribe(client, "chargers"))["type"] == "subscribed"
    assert (await subscribe(client, "commands"))["error"] == "forbidden"
    await client.disconnect()


@pytest.mark.parametrize(
    ("topic", "error"),
    [
        ("everything", "invalid_topic"),
        ("charger", "invalid_topic"),
        ("chargers:CP-1", "invalid_topic"),
        (42, "invalid_topic"),
        ("charger:" + "x" * 65, "invalid_topic"),
        ("charger:NOBODY", "not_found"),
        ("transaction:999999", "not_found"),
        ("transaction:abc", "not_found"),
    ],
)
async def test_bad_topics_get_an_error_and_the_connection_stays(csms, topic, error):
    client = await feed(await token_for("operator"))
    answer = await subscribe(client, topic)
    assert (answer["type"], answer["error"], answer["topic"]) == ("error", error, topic)
    assert (await subscribe(client, "chargers"))["type"] == "subscribed"
    await client.disconnect()


async def test_malformed_and_unknown_messages_get_an_error(csms):
    client = await feed(await token_for("operator"))
    await client.send_to(text_data="{not json")
    assert (await client.receive_json_from())["error"] == "malformed"
    await client.send_to(bytes_data=b"\x00")
    assert (await client.receive_json_from())["error"] == "malformed"
    await client.send_json_to({"type": "shout"})
    assert (await client.receive_json_from())["error"] == "unknown_message"
    await client.send_json_to(["subscribe"])
    assert (await client.receive_json_from())["error"] == "unknown_message"
    await client.disconnect()


async def test_other_websocket_paths_are_refused(csms):
    client = WebsocketCommunicator(application, "/ws/elsewhere/")
    connected, _ = await client.connect()
    assert not connected


async def test_an_event_is_published_only_once_its_transaction_commits(csms):
    from django.db import transaction

    from commands.catalog import command_spec
    from commands.services import command_create

    await sync_to_async(ChargePointFactory)(id="CP-CMD")
    client = await feed(await token_for("operator"))
    await subscribe(client, "commands")

    @sync_to_async
    def create(*, roll_back: bool) -> None:
        try:
            with transaction.atomic():
                command_create(
                    charge_point_id="CP-CMD",
                    spec=command_spec("1.6", "Reset"),
                    payload={"type": "Soft"},
                )
                if roll_back:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    await create(roll_back=True)
    assert await client.receive_nothing(timeout=0.3)
    await create(roll_back=False)
    queued = await next_event(client, "command.queued")
    assert (queued["charger_id"], queued["data"]) == (
        "CP-CMD",
        {"action": "Reset", "status": "Queued"},
    )
    await client.disconnect()
    await asyncio.sleep(0)


async def test_a_201_session_reports_its_updates_meter_values_and_end(csms):
    from ocpp.v201 import call as call201

    from csms.tests.helpers import boot_201

    await sync_to_async(ChargePointFactory)(id="CP-201E")
    client = await feed(await token_for("operator"))
    await subscribe(client, "charger:CP-201E")

    def event(event_type: str, seq_no: int, **fields) -> call201.TransactionEvent:
        return call201.TransactionEvent(
            event_type=event_type,
            timestamp=f"2026-11-24T10:0{seq_no}:00Z",
            trigger_reason="ChargingStateChanged",
            seq_no=seq_no,
            transaction_info={"transaction_id": "TX-LIVE", **fields.pop("info", {})},
            **fields,
        )

    reading = [{"timestamp": "2026-11-24T10:01:00Z", "sampled_value": [{"value": 1234.5}]}]
    async with simulated_charger(csms.url, "CP-201E", subprotocols=("ocpp2.0.1",)) as charger:
        await boot_201(charger)
        await charger.call(event("Started", 0, evse={"id": 1, "connector_id": 1}))
        started = await next_event(client, "transaction.started")
        await charger.call(
            event("Updated", 1, info={"charging_state": "Charging"}, meter_value=reading)
        )
        updated = await next_event(client, "transaction.updated")
        values = await next_event(client, "meter_values")
        await charger.call(event("Ended", 2, info={"stopped_reason": "EVDisconnected"}))
        ended = await next_event(client, "transaction.ended")
    assert started["transaction_id"] == updated["transaction_id"] == ended["transaction_id"]
    assert updated["data"]["charging_state"] == "Charging"
    assert values["data"]["readings"][0]["sampled_values"][0]["value"] == "1234.5"
    assert (ended["data"]["status"], ended["at"]) == ("Ended", "2026-11-24T10:02:00.000Z")
    await client.disconnect()


async def test_heartbeats_and_the_frame_log_are_published(csms):
    await sync_to_async(ChargePointFactory)(id="CP-FRAMES")
    client = await feed(await token_for("operator"))
    await subscribe(client, "charger:CP-FRAMES")
    await subscribe(client, "frames:CP-FRAMES")
    async with simulated_charger(csms.url, "CP-FRAMES") as charger:
        await charger.call(call.Heartbeat())
        # The two topics' events may come in either order: keep them all.
        events: dict[str, list[dict]] = {"charger.heartbeat": [], "ocpp.frame": []}
        while len(events["charger.heartbeat"]) < 1 or len(events["ocpp.frame"]) < 2:
            message = await client.receive_json_from(timeout=5)
            events.setdefault(message["type"], []).append(message)
    (heartbeat,) = events["charger.heartbeat"]
    received, answered = events["ocpp.frame"]
    assert heartbeat["charger_id"] == "CP-FRAMES"
    assert (received["data"]["direction"], received["data"]["action"]) == ("received", "Heartbeat")
    assert received["data"]["message_type"] == 2
    assert (answered["data"]["direction"], answered["data"]["message_type"]) == ("sent", 3)
    assert answered["data"]["unique_id"] == received["data"]["unique_id"]
    await client.disconnect()


async def test_a_received_upload_is_published(csms, settings, tmp_path):
    import dataclasses

    from core.time import utc_now
    from files.models import FileKind
    from files.services import file_request_create, file_request_receive

    settings.OV2XMP = dataclasses.replace(settings.OV2XMP, files_dir=tmp_path / "files")
    await sync_to_async(ChargePointFactory)(id="CP-UP")
    client = await feed(await token_for("operator"))
    await subscribe(client, "charger:CP-UP")
    source = tmp_path / "upload"
    source.write_bytes(b"log lines")

    @sync_to_async
    def upload():
        request, _ = file_request_create(
            charge_point_id="CP-UP", kind=FileKind.DIAGNOSTICS, at=utc_now()
        )
        return request, file_request_receive(
            request_id=request.pk, source=source, name="diag.log", at=utc_now()
        )

    request, stored = await upload()
    received = await next_event(client, "file.received")
    assert received["data"] == {
        "file_id": stored.pk,
        "file_request_id": request.pk,
        "file_kind": "Diagnostics",
        "name": "diag.log",
        "size": 9,
    }
    await client.disconnect()


async def test_subscriptions_are_bounded(csms, monkeypatch):
    monkeypatch.setattr(consumers, "MAX_SUBSCRIPTIONS", 1)
    client = await feed(await token_for("operator"))
    assert (await subscribe(client, "chargers"))["type"] == "subscribed"
    assert (await subscribe(client, "chargers"))["type"] == "subscribed"  # again: no new one
    assert (await subscribe(client, "commands"))["error"] == "too_many_subscriptions"
    await client.disconnect()


async def test_a_channel_layer_failure_is_answered_and_the_connection_stays(csms, monkeypatch):
    client = await feed(await token_for("operator"))

    async def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is down")

    from channels.layers import get_channel_layer

    monkeypatch.setattr(get_channel_layer(), "group_add", unreachable)
    failed = await subscribe(client, "chargers")
    assert (failed["error"], failed["topic"]) == ("unavailable", "chargers")
    monkeypatch.undo()
    assert (await subscribe(client, "chargers"))["type"] == "subscribed"
    await client.disconnect()


async def test_a_replaced_connection_ending_late_is_no_disconnect(csms):
    """The charger reconnected (to another csms process, say) before its old
    connection's end was recorded: it is still online, so no disconnect."""
    from chargepoints.services import chargepoints_connect, chargepoints_disconnect
    from chargepoints.tests.test_connections import T0, connecting

    await sync_to_async(ChargePointFactory)(id="CP-TWICE")
    client = await feed(await token_for("operator"))
    await subscribe(client, "charger:CP-TWICE")
    await sync_to_async(chargepoints_connect)(reports=[connecting("CP-TWICE", "new")], at=T0)
    await next_event(client, "charger.connected")
    await sync_to_async(chargepoints_disconnect)(connections=[("CP-TWICE", "old")], at=T0)
    assert await client.receive_nothing(timeout=0.5)
    await sync_to_async(chargepoints_disconnect)(connections=[("CP-TWICE", "new")], at=T0)
    assert (await next_event(client, "charger.disconnected"))["charger_id"] == "CP-TWICE"
    await client.disconnect()


async def send_to_group(topic: str, *, source: str, number: int) -> None:
    from channels.layers import get_channel_layer

    from updates.events import Topic

    group = Topic.parse(topic).group
    event = {"type": "charger.heartbeat", "schema": 1, "number": number, "topic": topic}
    message = {"type": "update", "group": group, "source": source, "number": number}
    await get_channel_layer().group_send(group, message | {"events": [event]})


async def test_a_client_is_told_when_messages_of_a_topic_were_lost(csms):
    client = await feed(await token_for("operator"))
    await subscribe(client, "chargers")
    for number in (1, 2, 5):
        await send_to_group("chargers", source="publisher-a", number=number)
    await send_to_group(
        "chargers", source="publisher-b", number=7
    )  # another process: its own count
    await send_to_group("chargers", source="publisher-a", number=6)

    received = [await client.receive_json_from() for _ in range(6)]

    assert [(message["type"], message.get("number")) for message in received] == [
        ("charger.heartbeat", 1),
        ("charger.heartbeat", 2),
        ("events_lost", None),
        ("charger.heartbeat", 5),
        ("charger.heartbeat", 7),
        ("charger.heartbeat", 6),
    ]
    assert received[2] == {"type": "events_lost", "topic": "chargers"}
    await client.disconnect()


async def test_a_client_that_reads_too_slowly_hears_that_it_lost_events(
    csms, settings, monkeypatch
):
    """A channel that holds two messages, and ten sent before the client reads
    one: the layer drops the rest, and the client is told."""
    from channels.layers import channel_layers
    from django.utils import timezone

    from updates import publisher
    from updates.events import charger_event

    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 2}}
    }
    channel_layers.backends.clear()
    monkeypatch.setattr(publisher, "EVENTS_PER_MESSAGE", 1)
    await publisher.stop()
    publisher.start(asyncio.get_running_loop())
    try:
        client = await feed(await token_for("operator"))
        await subscribe(client, "chargers")
        publisher.current().put(
            charger_event("charger.heartbeat", charge_point_id=f"CP-{n}", at=timezone.now())
            for n in range(10)
        )
        await client.receive_nothing(timeout=0.5)  # the client catches up
        # A loss shows with the next message that gets through.
        publisher.current().put(
            [charger_event("charger.heartbeat", charge_point_id="CP-LAST", at=timezone.now())]
        )
        received = []
        while not received or received[-1].get("charger_id") != "CP-LAST":
            received.append(await client.receive_json_from())
        heartbeats = [message for message in received if message["type"] == "charger.heartbeat"]
        assert len(heartbeats) < 11  # the layer dropped some
        assert {"type": "events_lost", "topic": "chargers"} in received
        await client.disconnect()
    finally:
        await publisher.stop()
        channel_layers.backends.clear()

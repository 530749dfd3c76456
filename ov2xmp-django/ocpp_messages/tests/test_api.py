"""REST API of the OCPP message log (read-only)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargepoints.tests.factories import T0
from core.testing import iso, listed
from ocpp_messages.models import Direction, MessageType, OcppMessage

pytestmark = pytest.mark.django_db


def message(minutes: int, **fields) -> OcppMessage:
    values = {
        "charge_point_id": "CP-1",
        "direction": Direction.RECEIVED,
        "message_type": MessageType.CALL,
        "unique_id": f"id-{minutes}",
        "action": "Heartbeat",
        "payload": {},
        "ocpp_version": "1.6",
        "timestamp": T0 + timedelta(minutes=minutes),
        **fields,
    }
    return OcppMessage.objects.create(**values)


@pytest.fixture
def log():
    return {
        "boot": message(0, action="BootNotification", payload={"chargePointVendor": "Acme"}),
        "boot_reply": message(
            1,
            direction=Direction.SENT,
            message_type=MessageType.CALL_RESULT,
            unique_id="id-0",
            action="BootNotification",
            payload={"status": "Accepted"},
        ),
        "reset": message(
            2,
            charge_point_id="CP-2",
            direction=Direction.SENT,
            action="Reset",
            payload={"type": "Soft"},
        ),
        "reset_error": message(
            3,
            charge_point_id="CP-2",
            message_type=MessageType.CALL_ERROR,
            action="Reset",
            error_code="NotImplemented",
            payload={},
        ),
        "garbage": message(
            4, message_type=None, action="", unique_id="", payload=None, raw="[2, broken"
        ),
    }


def test_list_is_newest_first(api, log):
    assert listed(api.get("/api/ocpp-messages/")) == [
        log["garbage"].pk,
        log["reset_error"].pk,
        log["reset"].pk,
        log["boot_reply"].pk,
        log["boot"].pk,
    ]


def test_same_timestamp_is_ordered_newest_id_first(api):
    first = message(0)
    second = message(0)
    assert listed(api.get("/api/ocpp-messages/")) == [second.pk, first.pk]


def test_fields(api, log):
    row = api.get(f"/api/ocpp-messages/{log['boot_reply'].pk}/").json()
    assert row == {
        "id": log["boot_reply"].pk,
        "charge_point_id": "CP-1",
        "direction": "sent",
        "message_type": 3,
        "unique_id": "id-0",
        "action": "BootNotification",
        "payload": {"status": "Accepted"},
        "error_code": "",
        "raw": "",
        "ocpp_version": "1.6",
        "timestamp": iso(T0 + timedelta(minutes=1)),
    }
    garbage = api.get(f"/api/ocpp-messages/{log['garbage'].pk}/").json()
    assert (garbage["message_type"], garbage["payload"], garbage["raw"]) == (
        None,
        None,
        "[2, broken",
    )


def test_filter_by_charge_point(api, log):
    assert listed(api.get("/api/ocpp-messages/?charge_point=CP-2")) == [
        log["reset_error"].pk,
        log["reset"].pk,
    ]
    # The log keeps frames of chargers that are not (or no longer) stored.
    assert listed(api.get("/api/ocpp-messages/?charge_point=GONE")) == []


def test_filter_by_action(api, log):
    assert listed(api.get("/api/ocpp-messages/?action=BootNotification")) == [
        log["boot_reply"].pk,
        log["boot"].pk,
    ]


def test_filter_by_direction(api, log):
    assert listed(api.get("/api/ocpp-messages/?direction=sent")) == [
        log["reset"].pk,
        log["boot_reply"].pk,
    ]
    response = api.get("/api/ocpp-messages/?direction=sideways")
    assert response.status_code == 400
    assert "direction" in response.json()


def test_filter_by_message_type(api, log):
    assert listed(api.get("/api/ocpp-messages/?message_type=4")) == [log["reset_error"].pk]
    assert listed(api.get("/api/ocpp-messages/?message_type=3")) == [log["boot_reply"].pk]
    response = api.get("/api/ocpp-messages/?message_type=7")
    assert response.status_code == 400
    assert "message_type" in response.json()


def test_filters_combine(api, log):
    response = api.get("/api/ocpp-messages/?charge_point=CP-2&action=Reset&direction=received")
    assert listed(response) == [log["reset_error"].pk]


def test_filter_by_timestamp_range(api, log):
    response = api.get(
        "/api/ocpp-messages/",
        {
            "timestamp_after": iso(T0 + timedelta(minutes=1)),
            "timestamp_before": iso(T0 + timedelta(minutes=3)),
        },
    )
    assert listed(response) == [log["reset_error"].pk, log["reset"].pk, log["boot_reply"].pk]
    response = api.get("/api/ocpp-messages/?timestamp_after=2026-13-45T99:00:00Z")
    assert response.status_code == 400
    assert "timestamp" in response.json()


def test_ordering_oldest_first(api, log):
    assert listed(api.get("/api/ocpp-messages/?ordering=timestamp&charge_point=CP-2")) == [
        log["reset"].pk,
        log["reset_error"].pk,
    ]


def test_log_is_read_only(api, log):
    frame = log["boot"]
    payload = {"charge_point_id": "CP-1", "direction": "sent", "timestamp": iso(T0)}
    assert api.post("/api/ocpp-messages/", payload).status_code == 405
    assert api.put(f"/api/ocpp-messages/{frame.pk}/", payload).status_code == 405
    assert api.patch(f"/api/ocpp-messages/{frame.pk}/", {"action": "X"}).status_code == 405
    assert api.delete(f"/api/ocpp-messages/{frame.pk}/").status_code == 405
    assert OcppMessage.objects.count() == 5
    frame.refresh_from_db()
    assert frame.action == "BootNotification"


def test_log_is_paginated(api):
    for minute in range(3):
        message(minute)
    body = api.get("/api/ocpp-messages/?page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None

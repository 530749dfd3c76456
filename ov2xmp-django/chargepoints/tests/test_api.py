"""REST API of charge points, connectors and status notifications."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chargepoints.models import (
    ChargePoint,
    ChargerReport,
    DisplayMessage,
    RegistrationStatus,
    SecurityEvent,
    StatusNotification,
    VariableMonitor,
)
from chargepoints.tests.factories import (
    T0,
    ChargePointFactory,
    ConnectorFactory,
    EvseFactory,
    StatusNotificationFactory,
)
from core.testing import iso, listed
from transactions.models import Transaction
from transactions.tests.factories import MeterValueFactory, TransactionFactory

pytestmark = pytest.mark.django_db


# --- Charge points: create --------------------------------------------------------------------


def test_create_a_charge_point(api):
    response = api.post(
        "/api/chargepoints/",
        {"id": "CP-NEW", "registration_status": "Pending", "description": "Car park, level 2"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == "CP-NEW"
    assert body["registration_status"] == "Pending"
    assert body["is_connected"] is False
    assert body["evses"] == []
    stored = ChargePoint.objects.get(id="CP-NEW")
    assert (stored.registration_status, stored.description) == ("Pending", "Car park, level 2")


def test_create_defaults_to_accepted(api):
    response = api.post("/api/chargepoints/", {"id": "CP-DEFAULT"})
    assert response.status_code == 201, response.content
    assert response.json()["registration_status"] == RegistrationStatus.ACCEPTED


@pytest.mark.parametrize("bad_id", ["CP 1", "x" * 49, "", "CP/1", "CP#1", "Ladesäule"])
def test_create_refuses_an_invalid_id(api, bad_id):
    response = api.post("/api/chargepoints/", {"id": bad_id})
    assert response.status_code == 400
    assert "id" in response.json()
    assert not ChargePoint.objects.exists()


def test_create_accepts_the_longest_id_and_every_allowed_character(api):
    for charger_id in ["x" * 48, "A.B-1:2", "a*b_c=d+e|f@g"]:
        response = api.post("/api/chargepoints/", {"id": charger_id})
        assert response.status_code == 201, (charger_id, response.content)


def test_create_refuses_a_duplicate_id(api):
    ChargePointFactory(id="CP-1")
    response = api.post("/api/chargepoints/", {"id": "CP-1"})
    assert response.status_code == 400
    assert "id" in response.json()


def test_create_refuses_an_unknown_registration_status(api):
    response = api.post("/api/chargepoints/", {"id": "CP-1", "registration_status": "Maybe"})
    assert response.status_code == 400
    assert "registration_status" in response.json()


def test_create_ignores_reported_fields(api):
    response = api.post(
        "/api/chargepoints/",
        {"id": "CP-1", "vendor": "Forged", "is_connected": True, "status": "Faulted"},
    )
    assert response.status_code == 201, response.content
    stored = ChargePoint.objects.get(id="CP-1")
    assert (stored.vendor, stored.is_connected, stored.status) == ("", False, "")


# --- Charge points: update --------------------------------------------------------------------


def test_reported_fields_are_read_only_on_patch(api):
    ChargePointFactory(id="CP-1", vendor="Acme", is_connected=False, firmware_version="1.0")
    response = api.patch(
        "/api/chargepoints/CP-1/",
        {
            "vendor": "Forged",
            "is_connected": True,
            "firmware_version": "9.9",
            "last_seen_at": iso(T0),
            "description": "Entrance",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["vendor"], body["is_connected"], body["firmware_version"]) == (
        "Acme",
        False,
        "1.0",
    )
    assert body["last_seen_at"] is None
    stored = ChargePoint.objects.get(id="CP-1")
    assert (stored.vendor, stored.is_connected, stored.firmware_version) == ("Acme", False, "1.0")
    assert stored.description == "Entrance"


def test_patch_registration_status(api):
    ChargePointFactory(id="CP-1", registration_status="Pending")
    response = api.patch("/api/chargepoints/CP-1/", {"registration_status": "Rejected"})
    assert response.status_code == 200, response.content
    assert response.json()["registration_status"] == "Rejected"
    assert ChargePoint.objects.get(id="CP-1").registration_status == "Rejected"


def test_patch_refuses_an_unknown_registration_status(api):
    ChargePointFactory(id="CP-1", registration_status="Pending")
    response = api.patch("/api/chargepoints/CP-1/", {"registration_status": "accepted-ish"})
    assert response.status_code == 400
    assert "registration_status" in response.json()
    assert ChargePoint.objects.get(id="CP-1").registration_status == "Pending"


def test_patch_cannot_change_the_id(api):
    ChargePointFactory(id="CP-1")
    response = api.patch("/api/chargepoints/CP-1/", {"id": "CP-2"})
    assert response.status_code == 400
    assert "id" in response.json()
    assert list(ChargePoint.objects.values_list("id", flat=True)) == ["CP-1"]


def test_put_cannot_change_the_id(api):
    ChargePointFactory(id="CP-1")
    response = api.put("/api/chargepoints/CP-1/", {"id": "CP-2", "registration_status": "Accepted"})
    assert response.status_code == 400
    assert "id" in response.json()
    assert list(ChargePoint.objects.values_list("id", flat=True)) == ["CP-1"]


def test_put_with_the_same_id_updates(api):
    ChargePointFactory(id="CP-1", registration_status="Pending")
    response = api.put(
        "/api/chargepoints/CP-1/",
        {"id": "CP-1", "registration_status": "Accepted", "description": "Yard"},
    )
    assert response.status_code == 200, response.content
    stored = ChargePoint.objects.get(id="CP-1")
    assert (stored.registration_status, stored.description) == ("Accepted", "Yard")


def test_patch_with_the_same_id_is_fine(api):
    ChargePointFactory(id="CP-1")
    response = api.patch("/api/chargepoints/CP-1/", {"id": "CP-1", "description": "Same"})
    assert response.status_code == 200, response.content
    assert ChargePoint.objects.get(id="CP-1").description == "Same"


# --- Charge points: read ----------------------------------------------------------------------


def test_detail_nests_evses_with_their_connectors(api):
    charger = ChargePointFactory(id="CP-1")
    evse1 = EvseFactory(charge_point=charger, evse_id=1)
    evse2 = EvseFactory(charge_point=charger, evse_id=2)
    ConnectorFactory(evse=evse1, connector_id=1, status="Charging")
    ConnectorFactory(evse=evse1, connector_id=2, status="Available")
    ConnectorFactory(evse=evse2, connector_id=1, status="Faulted")
    EvseFactory(evse_id=1)  # another charger's EVSE

    response = api.get("/api/chargepoints/CP-1/")
    assert response.status_code == 200
    evses = response.json()["evses"]
    assert [evse["evse_id"] for evse in evses] == [1, 2]
    assert [(c["connector_id"], c["status"]) for c in evses[0]["connectors"]] == [
        (1, "Charging"),
        (2, "Available"),
    ]
    assert [(c["connector_id"], c["status"]) for c in evses[1]["connectors"]] == [(1, "Faulted")]
    assert evses[1]["connectors"][0]["charge_point"] == "CP-1"
    assert evses[1]["connectors"][0]["evse_id"] == 2


@pytest.mark.parametrize("charger_id", ["A.B-1:2", "cp.example.com", "a*b_c=d+e|f@g", "x" * 48])
def test_ids_with_allowed_punctuation_can_be_retrieved_and_changed(api, charger_id):
    ChargePointFactory(id=charger_id)
    url = f"/api/chargepoints/{quote(charger_id, safe='')}/"
    response = api.get(url)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == charger_id
    assert api.patch(url, {"description": "found"}).status_code == 200
    assert ChargePoint.objects.get(id=charger_id).description == "found"


def test_unknown_charge_point_is_404(api):
    assert api.get("/api/chargepoints/NOPE/").status_code == 404


# --- Charge points: delete --------------------------------------------------------------------


def test_delete_a_charge_point_without_transactions(api):
    charger = ChargePointFactory(id="CP-1")
    ConnectorFactory(evse=EvseFactory(charge_point=charger))
    StatusNotificationFactory(charge_point=charger)
    response = api.delete("/api/chargepoints/CP-1/")
    assert response.status_code == 204
    assert not ChargePoint.objects.exists()
    assert not StatusNotification.objects.exists()


def test_delete_a_charge_point_with_a_transaction_is_refused_with_409(api):
    charger = ChargePointFactory(id="CP-1")
    transaction = TransactionFactory(charge_point=charger)
    MeterValueFactory(transaction=transaction)
    response = api.delete("/api/chargepoints/CP-1/")
    assert response.status_code == 409
    assert "transactions" in response.json()["detail"]
    assert ChargePoint.objects.filter(id="CP-1").exists()
    assert Transaction.objects.filter(pk=transaction.pk).exists()
    assert transaction.meter_values.count() == 1


# --- Charge points: filters, ordering, pagination ---------------------------------------------


def test_filter_by_is_connected(api):
    ChargePointFactory(id="CP-ON", is_connected=True)
    ChargePointFactory(id="CP-OFF", is_connected=False)
    assert listed(api.get("/api/chargepoints/?is_connected=true")) == ["CP-ON"]
    assert listed(api.get("/api/chargepoints/?is_connected=false")) == ["CP-OFF"]


def test_filter_by_registration_status(api):
    ChargePointFactory(id="CP-A", registration_status="Accepted")
    ChargePointFactory(id="CP-P", registration_status="Pending")
    ChargePointFactory(id="CP-R", registration_status="Rejected")
    assert listed(api.get("/api/chargepoints/?registration_status=Pending")) == ["CP-P"]
    response = api.get("/api/chargepoints/?registration_status=Unknown")
    assert response.status_code == 400
    assert "registration_status" in response.json()


def test_filter_by_vendor_icontains(api):
    ChargePointFactory(id="CP-1", vendor="ABB")
    ChargePointFactory(id="CP-2", vendor="Alfen")
    ChargePointFactory(id="CP-3", vendor="SuperAbbey")
    assert listed(api.get("/api/chargepoints/?vendor__icontains=abb")) == ["CP-1", "CP-3"]
    assert listed(api.get("/api/chargepoints/?vendor=ABB")) == ["CP-1"]


def test_ordering_by_last_seen_newest_first(api):
    ChargePointFactory(id="CP-OLD", last_seen_at=T0)
    ChargePointFactory(id="CP-NEW", last_seen_at=T0 + timedelta(hours=2))
    ChargePointFactory(id="CP-MID", last_seen_at=T0 + timedelta(hours=1))
    assert listed(api.get("/api/chargepoints/?ordering=-last_seen_at")) == [
        "CP-NEW",
        "CP-MID",
        "CP-OLD",
    ]
    assert listed(api.get("/api/chargepoints/?ordering=last_seen_at")) == [
        "CP-OLD",
        "CP-MID",
        "CP-NEW",
    ]


def test_never_seen_chargers_come_last_in_both_directions(api):
    ChargePointFactory(id="CP-NEVER", last_seen_at=None)
    ChargePointFactory(id="CP-OLD", last_seen_at=T0)
    ChargePointFactory(id="CP-NEW", last_seen_at=T0 + timedelta(hours=1))
    newest_first = listed(api.get("/api/chargepoints/?ordering=-last_seen_at"))
    oldest_first = listed(api.get("/api/chargepoints/?ordering=last_seen_at"))
    assert newest_first == ["CP-NEW", "CP-OLD", "CP-NEVER"]
    assert oldest_first == ["CP-OLD", "CP-NEW", "CP-NEVER"]


def test_default_order_is_by_id(api):
    for charger_id in ["CP-B", "CP-C", "CP-A"]:
        ChargePointFactory(id=charger_id)
    assert listed(api.get("/api/chargepoints/")) == ["CP-A", "CP-B", "CP-C"]


def test_pagination(api):
    for number in range(5):
        ChargePointFactory(id=f"CP-{number}")
    response = api.get("/api/chargepoints/?page_size=2")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert [row["id"] for row in body["results"]] == ["CP-0", "CP-1"]
    assert body["previous"] is None
    assert "page=2" in body["next"]
    assert "page_size=2" in body["next"]

    last = api.get("/api/chargepoints/?page_size=2&page=3").json()
    assert [row["id"] for row in last["results"]] == ["CP-4"]
    assert last["next"] is None
    assert api.get("/api/chargepoints/?page_size=2&page=4").status_code == 404


def test_page_size_is_capped(api):
    ChargePointFactory(id="CP-1")
    response = api.get("/api/chargepoints/?page_size=100000")
    assert response.status_code == 200
    assert response.json()["count"] == 1


# --- Connectors -------------------------------------------------------------------------------


@pytest.fixture
def connectors():
    cp1 = ChargePointFactory(id="CP-1")
    cp2 = ChargePointFactory(id="CP-2")
    return {
        "cp1-e1": ConnectorFactory(
            evse=EvseFactory(charge_point=cp1, evse_id=1), status="Charging"
        ),
        "cp1-e2": ConnectorFactory(
            evse=EvseFactory(charge_point=cp1, evse_id=2), status="Available"
        ),
        "cp2-e1": ConnectorFactory(
            evse=EvseFactory(charge_point=cp2, evse_id=1), status="Available"
        ),
    }


def test_connectors_list(api, connectors):
    response = api.get("/api/connectors/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["charge_point"], row["evse_id"], row["connector_id"]) for row in rows] == [
        ("CP-1", 1, 1),
        ("CP-1", 2, 1),
        ("CP-2", 1, 1),
    ]


def test_connectors_filter_by_charge_point(api, connectors):
    assert listed(api.get("/api/connectors/?charge_point=CP-1")) == [
        connectors["cp1-e1"].pk,
        connectors["cp1-e2"].pk,
    ]
    assert listed(api.get("/api/connectors/?charge_point=NOPE")) == []


def test_connectors_filter_by_evse_id(api, connectors):
    assert listed(api.get("/api/connectors/?evse_id=2")) == [connectors["cp1-e2"].pk]
    assert listed(api.get("/api/connectors/?charge_point=CP-2&evse_id=1")) == [
        connectors["cp2-e1"].pk
    ]


def test_connectors_filter_by_status(api, connectors):
    assert listed(api.get("/api/connectors/?status=Available")) == [
        connectors["cp1-e2"].pk,
        connectors["cp2-e1"].pk,
    ]


def test_connectors_are_made_by_chargers_and_their_status_is_reported(api, connectors):
    connector = connectors["cp1-e1"]
    assert api.post("/api/connectors/", {"connector_id": 3}).status_code == 405
    assert api.delete(f"/api/connectors/{connector.pk}/").status_code == 405
    response = api.patch(f"/api/connectors/{connector.pk}/", {"status": "Faulted"})
    assert response.status_code == 200  # what a connector is may be set, not its status
    connector.refresh_from_db()
    assert connector.status == "Charging"


# --- Status notifications ---------------------------------------------------------------------


@pytest.fixture
def notifications():
    cp1 = ChargePointFactory(id="CP-1")
    cp2 = ChargePointFactory(id="CP-2")
    return [
        StatusNotificationFactory(charge_point=cp1, evse_id=1, status="Available", timestamp=T0),
        StatusNotificationFactory(
            charge_point=cp1, evse_id=1, status="Charging", timestamp=T0 + timedelta(hours=1)
        ),
        StatusNotificationFactory(
            charge_point=cp1, evse_id=2, status="Faulted", timestamp=T0 + timedelta(hours=2)
        ),
        StatusNotificationFactory(
            charge_point=cp2, evse_id=1, status="Available", timestamp=T0 + timedelta(hours=3)
        ),
    ]


def test_status_notifications_newest_first(api, notifications):
    assert listed(api.get("/api/status-notifications/")) == [n.pk for n in reversed(notifications)]


def test_status_notifications_filter_by_charge_point_evse_and_status(api, notifications):
    n0, n1, n2, n3 = notifications
    assert listed(api.get("/api/status-notifications/?charge_point=CP-1")) == [n2.pk, n1.pk, n0.pk]
    assert listed(api.get("/api/status-notifications/?charge_point=CP-1&evse_id=1")) == [
        n1.pk,
        n0.pk,
    ]
    assert listed(api.get("/api/status-notifications/?status=Available")) == [n3.pk, n0.pk]


def test_status_notifications_filter_by_timestamp_range(api, notifications):
    n0, n1, n2, n3 = notifications
    after = iso(T0 + timedelta(hours=1))
    before = iso(T0 + timedelta(hours=2))
    assert listed(api.get(f"/api/status-notifications/?timestamp_after={after}")) == [
        n3.pk,
        n2.pk,
        n1.pk,
    ]
    assert listed(api.get(f"/api/status-notifications/?timestamp_before={before}")) == [
        n2.pk,
        n1.pk,
        n0.pk,
    ]
    response = api.get(
        "/api/status-notifications/",
        {"timestamp_after": after, "timestamp_before": before},
    )
    assert listed(response) == [n2.pk, n1.pk]


def test_status_notifications_timestamp_with_an_offset(api, notifications):
    _, n1, n2, n3 = notifications
    # 14:30+02:00 is 12:30Z: only the notifications from 13:00Z on are after it.
    response = api.get(
        "/api/status-notifications/", {"timestamp_after": "2026-01-15T14:30:00+02:00"}
    )
    assert listed(response) == [n3.pk, n2.pk, n1.pk]


@pytest.mark.parametrize("param", ["timestamp_after", "timestamp_before"])
def test_malformed_timestamp_filter_is_400(api, notifications, param):
    response = api.get("/api/status-notifications/", {param: "yesterday"})
    assert response.status_code == 400
    assert "timestamp" in response.json()


def test_malformed_evse_id_filter_is_400(api, notifications):
    response = api.get("/api/status-notifications/?evse_id=one")
    assert response.status_code == 400
    assert "evse_id" in response.json()


def test_status_notifications_are_read_only(api, notifications):
    response = api.post(
        "/api/status-notifications/",
        {"charge_point": "CP-1", "evse_id": 1, "status": "Available", "timestamp": iso(T0)},
    )
    assert response.status_code == 405
    assert api.delete(f"/api/status-notifications/{notifications[0].pk}/").status_code == 405
    assert StatusNotification.objects.count() == 4


# --- Query counts -----------------------------------------------------------------------------


def queries_for(api, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(path).status_code == 200
    return len(captured)


def add_charger(charger_id: str) -> None:
    charger = ChargePointFactory(id=charger_id)
    for evse_id in (1, 2):
        ConnectorFactory(evse=EvseFactory(charge_point=charger, evse_id=evse_id))
        StatusNotificationFactory(charge_point=charger, evse_id=evse_id)


@pytest.mark.parametrize(
    "path", ["/api/chargepoints/", "/api/connectors/", "/api/status-notifications/"]
)
def test_lists_need_a_constant_number_of_queries(api, path):
    add_charger("CP-0")
    one = queries_for(api, path)
    for number in range(1, 6):
        add_charger(f"CP-{number}")
    assert queries_for(api, path) == one


def test_security_events_list_newest_first_and_filter(api):
    cp1, cp2 = ChargePointFactory(id="CP-1"), ChargePointFactory(id="CP-2")
    SecurityEvent.objects.create(charge_point=cp1, type="FirmwareUpdated", timestamp=T0)
    later = SecurityEvent.objects.create(
        charge_point=cp1, type="TamperDetectionActivated", timestamp=T0 + timedelta(hours=1)
    )
    SecurityEvent.objects.create(charge_point=cp2, type="FirmwareUpdated", timestamp=T0)
    assert listed(api.get("/api/security-events/?charge_point=CP-1"), "type") == [
        "TamperDetectionActivated",
        "FirmwareUpdated",
    ]
    assert listed(api.get("/api/security-events/?type=TamperDetectionActivated")) == [later.pk]
    assert api.post("/api/security-events/", {}).status_code == 405


def test_charger_reports_filter_by_kind_and_show_customer_text(api):
    cp = ChargePointFactory(id="CP-1")
    ChargerReport.objects.create(charge_point=cp, kind="DeviceModel", request_id=1, generated_at=T0)
    customer = ChargerReport.objects.create(
        charge_point=cp,
        kind="CustomerInformation",
        request_id=1,
        generated_at=T0,
        text_parts={"10": "c", "2": "b", "0": "a"},
    )
    response = api.get("/api/charger-reports/?kind=CustomerInformation")
    assert listed(response) == [customer.pk]
    assert response.json()["results"][0]["text"] == "abc"  # by seqNo as a number
    assert api.get("/api/charger-reports/?kind=Nonsense").status_code == 400
    assert api.post("/api/charger-reports/", {}).status_code == 405


def test_variable_monitors_and_display_messages_are_listed_per_charger(api):
    cp1, cp2 = ChargePointFactory(id="CP-1"), ChargePointFactory(id="CP-2")
    for cp in (cp1, cp2):
        VariableMonitor.objects.create(
            charge_point=cp,
            monitor_id=1,
            component_name="EVSE",
            variable_name="Power",
            type="Delta",
            value=100,
            severity=5,
        )
        DisplayMessage.objects.create(
            charge_point=cp,
            message_id=1,
            priority="InFront",
            message_format="UTF8",
            message_content=f"Hello from {cp.id}",
            request_id=1,
        )
    assert listed(api.get("/api/variable-monitors/?charge_point=CP-2"), "charge_point") == ["CP-2"]
    assert listed(api.get("/api/display-messages/?charge_point=CP-1"), "message_content") == [
        "Hello from CP-1"
    ]
    assert api.delete("/api/display-messages/1/").status_code == 405

"""Session and meter value exports (/api/exports/sessions.<format>,
/api/exports/meter-values.<format>): each format read back with a real
reader, each filter, who may export, bad input. What all exports share
(streaming, ASGI, temporary files, the schema) is tested with the CDRs in
billing/tests/test_exports.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from chargepoints.models import OcppVersion
from chargepoints.tests.factories import ChargePointFactory
from core.tests.export_helpers import client_with, read_csv, read_json, read_xlsx
from idtokens.tests.factories import IdTokenFactory
from locations.tests.factories import LocationFactory
from transactions.models import ENERGY_REGISTER, TransactionStatus
from transactions.tests.factories import MeterValueFactory, TransactionFactory

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
SESSIONS = "/api/exports/sessions.{}"
VALUES = "/api/exports/meter-values.{}"


@pytest.fixture
def data(db):
    """Maria's finished session at Lisboa (CP-1) with its readings, and an
    anonymous running one on CP-2, which stands nowhere."""
    lisboa = LocationFactory(name="Lisboa Centro")
    ChargePointFactory(id="CP-1", location=lisboa)
    ChargePointFactory(id="CP-2", ocpp_version=OcppVersion.V201)
    maria = User.objects.create_user(username="maria", password="maria-pass-123")
    tag = IdTokenFactory(value="TAG-MARIA", owner=maria)
    ended = TransactionFactory(
        charge_point_id="CP-1",
        ocpp_transaction_id="17",
        evse_id=1,
        connector_id=1,
        id_token=tag,
        id_token_value="TAG-MARIA",
        status=TransactionStatus.ENDED,
        started_at=T0,
        stopped_at=T0 + timedelta(hours=1),
        stop_reason="Local",
        stop_id_token_value="TAG-MARIA",
        meter_start_wh=Decimal("1000.000"),
        meter_stop_wh=Decimal("8400.500"),
        meter_last_wh=Decimal("8400.500"),
        meter_last_at=T0 + timedelta(hours=1),
    )
    running = TransactionFactory(
        charge_point_id="CP-2",
        ocpp_transaction_id="b8f0c3a2-0001",
        ocpp_version=OcppVersion.V201,
        evse_id=2,
        connector_id=None,
        id_token_value="04A2B3C4",
        started_at=T0 + timedelta(days=1),
        meter_start_wh=Decimal(0),
        meter_last_wh=Decimal("1234.567"),
        meter_last_at=T0 + timedelta(days=1, minutes=30),
        remote_start_id=7,
        export_start_wh=Decimal(100),
        export_last_wh=Decimal("600.25"),
        operation_mode="CentralSetpoint",
    )

    def value(session, minutes: int, text: str, **fields):
        numeric = fields.pop("numeric_value") if "numeric_value" in fields else Decimal(text)
        return MeterValueFactory(
            transaction=session,
            evse_id=session.evse_id,
            connector_id=session.connector_id,
            timestamp=session.started_at + timedelta(minutes=minutes),
            value=text,
            numeric_value=numeric,
            **fields,
        )

    values = {
        # Made out of order: the export sorts by session, then time.
        "current": value(
            ended, 30, "16.2", measurand="Current.Import", phase="L1", unit="A", location="Outlet"
        ),
        "start": value(ended, 0, "1000", context="Transaction.Begin"),
        "middle": value(ended, 30, "4000.5"),
        "signed": value(ended, 45, "AbCdEf==", numeric_value=None, format="SignedData"),
        "end": value(ended, 60, "8.4005", unit="kWh", context="Transaction.End"),
        "running_value": value(running, 30, "1234.567"),
    }
    # A clock-aligned reading outside any session: not exported.
    MeterValueFactory(transaction=None, charge_point_id="CP-1", timestamp=T0, value="999")
    return {"lisboa": lisboa, "maria": maria, "ended": ended, "running": running, **values}


@pytest.fixture
def clerk(data) -> APIClient:
    return client_with("transactions.view_transaction", "transactions.view_metervalue")


def ids(rows) -> list[int]:
    return [int(row["id"]) for row in rows]


# --- Sessions -----------------------------------------------------------------------------


def test_sessions_csv_has_every_column_with_exact_values(data, clerk):
    rows = read_csv(clerk.get(SESSIONS.format("csv")))
    assert ids(rows) == [data["ended"].pk, data["running"].pk]
    assert rows[0] == {
        "id": str(data["ended"].pk),
        "ocpp_transaction_id": "17",
        "ocpp_version": "1.6",
        "charge_point": "CP-1",
        "evse_id": "1",
        "connector_id": "1",
        "location_id": str(data["lisboa"].pk),
        "location_name": "Lisboa Centro",
        "status": "Ended",
        "id_token_value": "TAG-MARIA",
        "driver_id": str(data["maria"].pk),
        "driver_username": "maria",
        "authorization_status": "Accepted",
        "started_at": "2026-03-02T10:00:00Z",
        "stopped_at": "2026-03-02T11:00:00Z",
        "stop_reason": "Local",
        "stop_id_token_value": "TAG-MARIA",
        "meter_start_wh": "1000.000",
        "meter_stop_wh": "8400.500",
        "meter_last_wh": "8400.500",
        "meter_last_at": "2026-03-02T11:00:00Z",
        "energy_wh": "7400.500",
        "energy_exported_wh": "",
        "operation_mode": "",
        "reservation_id": "",
        "remote_start_id": "",
    }
    running = rows[1]
    assert (running["status"], running["stopped_at"], running["meter_stop_wh"]) == (
        "Active",
        "",
        "",
    )
    # While it runs: the energy up to the last reading, as the API says.
    assert (running["energy_wh"], running["connector_id"], running["location_id"]) == (
        "1234.567",
        "",
        "",
    )
    assert (running["ocpp_version"], running["remote_start_id"]) == ("2.0.1", "7")
    assert (running["energy_exported_wh"], running["operation_mode"]) == (
        "500.250",
        "CentralSetpoint",
    )


def test_sessions_json_and_xlsx_hold_the_same_values(data, clerk):
    rows = read_json(clerk.get(SESSIONS.format("json")))
    assert ids(rows) == [data["ended"].pk, data["running"].pk]
    assert (rows[0]["energy_wh"], rows[0]["meter_start_wh"], rows[0]["evse_id"]) == (
        "7400.500",
        "1000.000",
        1,
    )
    assert (rows[1]["stopped_at"], rows[1]["driver_username"]) == (None, None)
    workbook, rows = read_xlsx(clerk.get(SESSIONS.format("xlsx")))
    assert workbook.sheetnames == ["sessions"]
    assert ids(rows) == [data["ended"].pk, data["running"].pk]
    assert (rows[0]["started_at"], rows[0]["energy_wh"], rows[0]["stop_reason"]) == (
        datetime(2026, 3, 2, 10, 0),
        7400.5,
        "Local",
    )
    assert (rows[1]["stopped_at"], rows[1]["energy_wh"]) == (None, 1234.567)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"started_after": "2026-03-02T10:00:01Z"}, ["running"]),
        ({"started_before": "2026-03-03"}, ["ended"]),
        ({"location": "lisboa"}, ["ended"]),
        ({"charge_point": "CP-2"}, ["running"]),
        ({"id_token_value": "04A2B3C4"}, ["running"]),
        ({"user": "maria"}, ["ended"]),
        ({"status": "Active"}, ["running"]),
        ({"ordering": "-started_at"}, ["running", "ended"]),
        ({"user": 999999}, []),
    ],
)
def test_each_session_filter(data, clerk, params, expected):
    params = {
        key: data[value].pk if value in ("lisboa", "maria") else value
        for key, value in params.items()
    }
    for reader, suffix in ((read_csv, "csv"), (read_json, "json")):
        rows = reader(clerk.get(SESSIONS.format(suffix), params))
        assert ids(rows) == [data[name].pk for name in expected], suffix


# --- Meter values -------------------------------------------------------------------------


def test_meter_values_csv_one_row_per_sampled_value(data, clerk):
    rows = read_csv(clerk.get(VALUES.format("csv")))
    # By session, then time; a value outside any session is not exported.
    assert ids(rows) == [
        data[name].pk for name in ("start", "current", "middle", "signed", "end", "running_value")
    ]
    ended = str(data["ended"].pk)
    assert rows[1] == {
        "id": str(data["current"].pk),
        "session_id": ended,
        "charge_point": "CP-1",
        "evse_id": "1",
        "connector_id": "1",
        "timestamp": "2026-03-02T10:30:00Z",
        "measurand": "Current.Import",
        "phase": "L1",
        "location": "Outlet",
        "context": "Sample.Periodic",
        "value": "16.2",
        "unit": "A",
        "format": "",
    }
    assert [(row["value"], row["unit"], row["context"]) for row in rows[:1] + rows[2:5]] == [
        ("1000", "Wh", "Transaction.Begin"),
        ("4000.5", "Wh", "Sample.Periodic"),
        ("", "Wh", "Sample.Periodic"),  # signed data: no value to export
        ("8.4005", "kWh", "Transaction.End"),
    ]
    assert rows[3]["format"] == "SignedData"
    assert rows[0]["measurand"] == ENERGY_REGISTER
    assert rows[5]["session_id"] == str(data["running"].pk)
    assert rows[5]["connector_id"] == ""


def test_meter_values_json_and_xlsx_hold_the_same_values(data, clerk):
    rows = read_json(clerk.get(VALUES.format("json")))
    assert [row["value"] for row in rows] == ["1000", "16.2", "4000.5", None, "8.4005", "1234.567"]
    assert rows[1]["timestamp"] == "2026-03-02T10:30:00Z"
    workbook, rows = read_xlsx(clerk.get(VALUES.format("xlsx")))
    assert workbook.sheetnames == ["meter-values"]
    assert [row["value"] for row in rows] == [1000, 16.2, 4000.5, None, 8.4005, 1234.567]
    assert rows[1]["timestamp"] == datetime(2026, 3, 2, 10, 30)
    assert (rows[1]["phase"], rows[1]["unit"], rows[0]["phase"]) == ("L1", "A", None)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"session": "running"}, ["running_value"]),
        ({"measurand": "Current.Import"}, ["current"]),
        # The sessions' filters: the values of the sessions they select.
        ({"started_after": "2026-03-03"}, ["running_value"]),
        ({"location": "lisboa"}, ["start", "current", "middle", "signed", "end"]),
        ({"user": "maria", "measurand": ENERGY_REGISTER}, ["start", "middle", "signed", "end"]),
        ({"id_token_value": "04A2B3C4"}, ["running_value"]),
        ({"charge_point": "CP-2"}, ["running_value"]),
        ({"session": 999999}, []),
    ],
)
def test_each_meter_value_filter(data, clerk, params, expected):
    params = {
        key: data[value].pk if value in ("lisboa", "maria", "running") else value
        for key, value in params.items()
    }
    for reader, suffix in ((read_csv, "csv"), (read_json, "json")):
        rows = reader(clerk.get(VALUES.format(suffix), params))
        assert ids(rows) == [data[name].pk for name in expected], suffix


def test_one_query_for_the_values_however_many(data, clerk):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = clerk.get(VALUES.format("csv"))
            b"".join(response.streaming_content)
        return len(captured)

    few = queries()
    for minute in range(50):
        MeterValueFactory(transaction=data["running"], timestamp=T0 + timedelta(minutes=minute))
    assert queries() == few


# --- Who may export, bad input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "permission"),
    [(SESSIONS, "transactions.view_transaction"), (VALUES, "transactions.view_metervalue")],
)
def test_sessions_and_values_need_their_view_permission(data, path, permission):
    assert APIClient().get(path.format("csv")).status_code == 401
    billing_only = client_with("billing.view_cdr", username="billing")
    for suffix in ("csv", "json", "xlsx"):
        assert billing_only.get(path.format(suffix)).status_code == 403
    allowed = client_with(permission, username="support")
    assert allowed.get(path.format("csv")).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (SESSIONS, {"status": "Finished"}, "status"),
        (SESSIONS, {"started_after": "2026-02-30"}, "started_after"),
        (
            SESSIONS,
            {"started_after": "2026-03-02", "started_before": "2026-03-01"},
            "started_before",
        ),
        (VALUES, {"session": "abc"}, "session"),
        (VALUES, {"location": "1.5"}, "location"),
    ],
)
def test_bad_values_answer_400(data, clerk, path, params, field):
    response = clerk.get(path.format("json"), params)
    assert response.status_code == 400
    assert field in response.json()


def test_an_unknown_parameter_or_format_is_refused(data, clerk):
    response = clerk.get(VALUES.format("csv"), {"transaction": data["ended"].pk})
    assert response.status_code == 400
    assert "Unknown parameter: transaction." in response.json()["detail"]
    assert clerk.get(SESSIONS.format("ods")).status_code == 404

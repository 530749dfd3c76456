"""Status notifications of many chargers written together (the csms batches
them): each keeps its own meaning, and the statements do not grow with them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chargepoints.models import ChargePoint, Connector, StatusNotification
from chargepoints.statuses import StatusReport, _statement, connector_record_statuses
from chargepoints.tests.factories import T0, ChargePointFactory, ConnectorFactory
from core.testing import generic_plan

pytestmark = pytest.mark.django_db


def report(connector: Connector, status: str, at, **extra) -> StatusReport:
    return StatusReport(
        charge_point_id=connector.evse.charge_point_id,
        evse_id=connector.evse.evse_id,
        connector_id=connector.connector_id,
        status=status,
        timestamp=at,
        **extra,
    )


def test_each_report_in_a_batch_is_applied_on_its_own_terms():
    newer = ConnectorFactory(status="Available", status_at=T0)
    older = ConnectorFactory(status="Charging", status_at=T0 + timedelta(minutes=5))
    charger = ChargePointFactory(status="Available", status_at=T0)
    unseen_charger = ChargePointFactory()

    connector_record_statuses(
        reports=[
            report(newer, "Faulted", T0 + timedelta(minutes=1), error_code="GroundFailure"),
            # Sent before the status already known (a resent queue): history only.
            report(older, "Available", T0 + timedelta(minutes=1)),
            StatusReport(
                charge_point_id=charger.id,
                evse_id=0,
                connector_id=None,
                status="Unavailable",
                timestamp=T0 + timedelta(minutes=2),
                info="maintenance",
            ),
            StatusReport(
                charge_point_id=unseen_charger.id,
                evse_id=2,
                connector_id=3,
                status="Occupied",
                timestamp=T0,
            ),
        ]
    )

    newer.refresh_from_db()
    older.refresh_from_db()
    charger.refresh_from_db()
    assert (newer.status, newer.error_code, newer.status_at) == (
        "Faulted",
        "GroundFailure",
        T0 + timedelta(minutes=1),
    )
    assert (older.status, older.status_at) == ("Charging", T0 + timedelta(minutes=5))
    assert (charger.status, charger.status_info) == ("Unavailable", "maintenance")
    created = Connector.objects.get(evse__charge_point=unseen_charger)
    assert (created.evse.evse_id, created.connector_id, created.status) == (2, 3, "Occupied")
    assert StatusNotification.objects.count() == 4


def test_an_older_charger_status_is_kept_in_the_history_only():
    charger = ChargePointFactory(status="Faulted", status_at=T0)
    connector_record_statuses(
        reports=[
            StatusReport(
                charge_point_id=charger.id,
                evse_id=0,
                connector_id=None,
                status="Available",
                timestamp=T0 - timedelta(seconds=1),
            )
        ]
    )
    assert ChargePoint.objects.get(id=charger.id).status == "Faulted"
    assert StatusNotification.objects.filter(charge_point=charger).count() == 1


def statements_for(count: int) -> int:
    connectors = ConnectorFactory.create_batch(count)
    with CaptureQueriesContext(connection) as captured:
        connector_record_statuses(
            reports=[report(c, "Charging", T0 + timedelta(hours=1)) for c in connectors]
        )
    assert Connector.objects.filter(
        pk__in=[c.pk for c in connectors], status="Charging"
    ).count() == (count)
    return len(captured)


def test_statements_do_not_grow_with_the_batch():
    assert statements_for(1) == statements_for(25)


def test_of_one_connector_s_reports_the_newest_is_current_the_later_on_a_tie():
    tie, newest = ConnectorFactory.create_batch(2, status="Available", status_at=T0)
    connector_record_statuses(
        reports=[
            report(tie, "Preparing", T0 + timedelta(minutes=1)),
            report(tie, "Charging", T0 + timedelta(minutes=1)),
            report(newest, "Finishing", T0 + timedelta(minutes=3)),
            report(newest, "Charging", T0 + timedelta(minutes=2)),
        ]
    )
    assert Connector.objects.get(pk=tie.pk).status == "Charging"
    assert Connector.objects.get(pk=newest.pk).status == "Finishing"
    assert StatusNotification.objects.count() == 4


def test_a_batch_with_a_connector_not_known_yet_creates_it_and_keeps_every_report_once():
    known = ConnectorFactory(status="Available", status_at=T0)
    charger = ChargePointFactory()
    connector_record_statuses(
        reports=[
            report(known, "Charging", T0 + timedelta(minutes=1)),
            StatusReport(
                charge_point_id=charger.id,
                evse_id=1,
                connector_id=1,
                status="Occupied",
                timestamp=T0,
            ),
        ]
    )
    assert Connector.objects.get(pk=known.pk).status == "Charging"
    assert Connector.objects.get(evse__charge_point=charger).status == "Occupied"
    assert StatusNotification.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL writes it in one")
def test_on_postgresql_a_batch_of_known_connectors_is_one_statement():
    connectors = ConnectorFactory.create_batch(3)
    with CaptureQueriesContext(connection) as captured:
        connector_record_statuses(
            reports=[report(c, "Charging", T0 + timedelta(hours=1)) for c in connectors]
        )
    assert len(captured) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL writes it in one")
def test_the_statement_s_generic_plan_finds_connectors_by_index():
    # Planned while the tables are empty, as a prepared statement's plan is
    # kept: with a join in its place, each batch read every connector.
    plan = generic_plan(_statement())
    look_up = plan[plan.index("CTE target") : plan.index("CTE missing")]
    assert "Index Scan" in look_up, plan
    assert "Seq Scan" not in look_up, plan
    assert "Index Cond: (connector_id" not in look_up, plan  # every EVSE's connector 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL writes it in one")
def test_batches_of_any_size_share_one_plan():
    # Planning a batch cost more than running it (docs/performance.md): with
    # a parameter per column, PostgreSQL planned the statement at every run.
    connectors = ConnectorFactory.create_batch(3)
    for n in range(20):
        batch = connectors[: 1 + n % 3]
        at = T0 + timedelta(seconds=n)
        connector_record_statuses(reports=[report(c, "Charging", at) for c in batch])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ["%INSERT INTO chargepoints_statusnotification%"],
        )
        ((generic, custom),) = cursor.fetchall()
    # psycopg prepares it at its sixth run; PostgreSQL tries five custom plans.
    assert (generic, custom) == (10, 5)

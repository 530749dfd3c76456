"""Status notifications of many chargers, written together (the csms
batches them; ADR 0012).

On PostgreSQL a batch of connector statuses is one statement, in autocommit
(the history rows and each connector's current status), for the reason
``transactions.meter_values`` gives: each round trip of a batch's thread
waits for the GIL. A batch that names a connector not known yet, or the
charger itself (EVSE 0), both rare, is written as before, in a few ORM
statements in one transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Q

from chargepoints.models import ChargePoint, Connector, Evse, StatusNotification
from core.db import insert_rows, rows_as_json, rows_from_json, update_each
from core.time import utc_now
from updates.events import charger_event
from updates.services import events_publish

CURRENT_STATUS_FIELDS = ("status", "error_code", "vendor_id", "vendor_error_code", "status_at")


@dataclass(frozen=True)
class StatusReport:
    """One status notification, of the charger (``evse_id`` 0) or a connector."""

    charge_point_id: str
    evse_id: int
    connector_id: int | None
    status: str
    timestamp: datetime
    error_code: str = ""
    info: str = ""
    vendor_id: str = ""
    vendor_error_code: str = ""

    def current(self) -> dict[str, Any]:
        """The fields of the current status (charger or connector)."""
        values = (self.status, self.error_code, self.vendor_id, self.vendor_error_code)
        return dict(zip(CURRENT_STATUS_FIELDS, (*values, self.timestamp), strict=True))


def connector_record_statuses(*, reports: Sequence[StatusReport]) -> None:
    """Keep reported statuses in the history, and each as the current status of
    its charger or connector, unless a newer one is already known: chargers
    resend queued notifications after a reconnect, out of order. Many chargers'
    reports at once cost a few statements, not a few per report."""
    connection = connections[router.db_for_write(StatusNotification)]
    if (
        connection.vendor == "postgresql"
        and all(report.evse_id != 0 for report in reports)
        and _record_in_one_statement(reports, connection)
    ):
        _publish(reports)
        return
    _record_in_a_transaction(reports)


@transaction.atomic
def _record_in_a_transaction(reports: Sequence[StatusReport]) -> None:
    insert_rows(
        StatusNotification,
        [
            {
                "charge_point_id": report.charge_point_id,
                "evse_id": report.evse_id,
                "connector_id": report.connector_id,
                "status": report.status,
                "error_code": report.error_code,
                "info": report.info,
                "vendor_id": report.vendor_id,
                "vendor_error_code": report.vendor_error_code,
                "timestamp": report.timestamp,
            }
            for report in reports
        ],
    )
    _publish(reports)
    for report in reports:
        if report.evse_id == 0:
            # The charger's own status: rare, one conditional UPDATE each.
            ChargePoint.objects.filter(
                Q(status_at__isnull=True) | Q(status_at__lte=report.timestamp),
                id=report.charge_point_id,
            ).update(**report.current(), status_info=report.info, updated_at=utc_now())

    of_connectors = [report for report in reports if report.evse_id != 0]
    if not of_connectors:
        return
    connectors = {
        (connector.evse.charge_point_id, connector.evse.evse_id, connector.connector_id): connector
        for connector in Connector.objects.select_for_update(of=("self",))
        .select_related("evse")
        .filter(
            evse__charge_point_id__in={report.charge_point_id for report in of_connectors},
            evse__evse_id__in={report.evse_id for report in of_connectors},
        )
    }
    changed: dict[int, Connector] = {}
    now = utc_now()
    for report in of_connectors:
        key = (report.charge_point_id, report.evse_id, report.connector_id or 1)
        connector = connectors.get(key)
        if connector is None:
            # The first report of a connector: rare, so created one by one.
            evse, _ = Evse.objects.get_or_create(
                charge_point_id=report.charge_point_id, evse_id=report.evse_id
            )
            connectors[key], _ = Connector.objects.get_or_create(
                evse=evse,
                connector_id=key[2],
                defaults={**report.current(), "info": report.info},
            )
        elif connector.status_at is None or connector.status_at <= report.timestamp:
            for name, value in report.current().items():
                setattr(connector, name, value)
            connector.info = report.info
            connector.updated_at = now
            changed[connector.pk] = connector
    if changed:
        update_each(Connector, changed.values(), [*CURRENT_STATUS_FIELDS, "info", "updated_at"])


def _publish(reports: Sequence[StatusReport]) -> None:
    events_publish(
        events=[
            charger_event(
                "connector.status",
                charge_point_id=report.charge_point_id,
                at=report.timestamp,
                evse_id=report.evse_id,
                connector_id=report.connector_id,
                status=report.status,
                error_code=report.error_code,
            )
            for report in reports
        ]
    )


_COLUMNS = (
    ("ord", "integer"),
    ("cp", "varchar"),
    ("evse", "integer"),
    ("conn", "integer"),
    ("status", "varchar"),
    ("error_code", "varchar"),
    ("info", "varchar"),
    ("vendor_id", "varchar"),
    ("vendor_error_code", "varchar"),
    ("ts", "timestamptz"),
)


@functools.cache
def _statement() -> str:
    history = StatusNotification._meta.db_table
    evses, connectors = Evse._meta.db_table, Connector._meta.db_table
    # Nothing is written when a connector is missing (``missing``): the
    # caller then writes the batch the other way, which creates it. The
    # connectors are found LATERAL, by their unique indexes, one probe each
    # for the EVSE and the connector per report, whatever plan the planner
    # would choose for a join; LIMIT 1 keeps PostgreSQL from merging the
    # look-up into a join (as transactions/meter_values.py says). The update
    # also names its rows by ``= ANY``, a cheap index scan to the planner:
    # joined to the batch's rows alone, with 3,000 connectors the planner
    # rated reading them all about as cheap as probing for ten.
    return f"""
WITH v AS ({rows_from_json(_COLUMNS)}),
target AS (
    SELECT c.connector, v.* FROM v
    CROSS JOIN LATERAL (
        SELECT c.id AS connector FROM {connectors} c
        WHERE c.evse_id = (
            SELECT e.id FROM {evses} e WHERE e.charge_point_id = v.cp AND e.evse_id = v.evse
        )
            AND c.connector_id = coalesce(v.conn, 1)
        LIMIT 1
    ) c
),
missing AS (SELECT 1 FROM v WHERE NOT EXISTS (SELECT 1 FROM target t WHERE t.ord = v.ord)),
kept AS (
    INSERT INTO {history} (charge_point_id, evse_id, connector_id, status, error_code, info,
        vendor_id, vendor_error_code, timestamp, received_at)
    SELECT cp, evse, conn, status, error_code, info, vendor_id, vendor_error_code, ts, %s
    FROM v WHERE NOT EXISTS (SELECT 1 FROM missing)
    ORDER BY ord
    RETURNING 1
),
latest AS (SELECT DISTINCT ON (connector) * FROM target ORDER BY connector, ts DESC, ord DESC),
applied AS (
    UPDATE {connectors} c SET status = l.status, error_code = l.error_code,
        vendor_id = l.vendor_id, vendor_error_code = l.vendor_error_code, status_at = l.ts,
        info = l.info, updated_at = %s
    FROM latest l
    WHERE c.id = ANY(ARRAY(SELECT connector FROM latest)) AND c.id = l.connector
        AND (c.status_at IS NULL OR c.status_at <= l.ts)
        AND NOT EXISTS (SELECT 1 FROM missing)
    RETURNING 1
)
SELECT NOT EXISTS (SELECT 1 FROM missing)
"""


def _record_in_one_statement(reports: Sequence[StatusReport], connection: Any) -> bool:
    """Connector statuses as ``_record_in_a_transaction`` writes them, in one
    statement: every report in the history, and of a connector's reports the
    newest (the later one of the batch on a tie) as its current status,
    unless the one it has is newer (the update locks the row and reads the
    condition again on its newest version). False, having written nothing,
    when a connector is not known yet."""
    rows = [
        {
            "ord": ord,
            "cp": report.charge_point_id,
            "evse": report.evse_id,
            "conn": report.connector_id,
            "status": report.status,
            "error_code": report.error_code,
            "info": report.info,
            "vendor_id": report.vendor_id,
            "vendor_error_code": report.vendor_error_code,
            "ts": report.timestamp,
        }
        for ord, report in enumerate(reports)
    ]
    now = utc_now()
    with connection.cursor() as cursor:
        cursor.execute(_statement(), [rows_as_json(rows), now, now])
        (written,) = cursor.fetchone()
    return bool(written)

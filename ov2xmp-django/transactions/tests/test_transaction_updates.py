"""TransactionEvent(Updated)s of many chargers in one batch: the same outcome
as applying each alone, in a fixed number of statements."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db import transaction as db_transaction
from django.test.utils import CaptureQueriesContext

from chargepoints.tests.factories import T0, ChargePointFactory
from core.testing import generic_plan
from transactions.models import MeterValue, Transaction, TransactionEvent
from transactions.services import MeterReading, SampledValue
from transactions.tests.factories import TransactionFactory
from transactions.tests.test_meter_values import assert_stored_samples_probed_by_charger_and_time
from transactions.transaction_events import TransactionEventData, transaction_event_record
from transactions.transaction_updates import (
    TransactionUpdate,
    _updates_statement,
    batchable,
    transaction_updates_record,
)

pytestmark = pytest.mark.django_db

STATE = (
    "status",
    "evse_id",
    "connector_id",
    "started_at",
    "last_seq_no",
    "charging_state",
    "meter_start_wh",
    "meter_last_wh",
    "meter_last_at",
    "power_import_w",
    "flow_last_at",
    "stopped_at",
)


def updated(
    session: Transaction, seq_no: int, minutes: int, wh: str | None = None, **fields
) -> TransactionUpdate:
    at = T0 + timedelta(minutes=minutes)
    readings = []
    if wh is not None:
        readings = [
            MeterReading(
                timestamp=at,
                sampled_values=[
                    SampledValue(value=wh, unit="Wh"),
                    SampledValue(value="7200", measurand="Power.Active.Import", unit="W"),
                ],
            )
        ]
    event = TransactionEventData(
        ocpp_transaction_id=session.ocpp_transaction_id,
        event_type=fields.pop("event_type", "Updated"),
        seq_no=seq_no,
        timestamp=at,
        trigger_reason="MeterValuePeriodic",
        readings=readings,
        ocpp_version="2.0.1",
        **fields,
    )
    return TransactionUpdate(session.charge_point_id, event)


def sessions(prefix: str, count: int) -> list[Transaction]:
    return [
        TransactionFactory(
            charge_point=ChargePointFactory(id=f"{prefix}-{n}"),
            ocpp_version="2.0.1",
            ocpp_transaction_id=f"tx-{n}",
            started_at=T0,
            meter_start_wh=Decimal(0),
        )
        for n in range(count)
    ]


def script(s: list[Transaction]) -> list[list[TransactionUpdate]]:
    """Batches of updates: plain ones, a repeat, an older seqNo, a pause (not
    plain: load management hears of it), facts the session has already, one
    for a session the platform never saw, and a session twice in a batch
    (after a plain event and after a resume, which is not)."""
    unknown = TransactionFactory.build(
        charge_point=s[0].charge_point, ocpp_transaction_id="tx-unknown"
    )
    return [
        [updated(s[0], 1, 1, "100"), updated(s[1], 1, 1, "200"), updated(s[2], 1, 1)],
        [
            updated(s[0], 3, 3, "300", charging_state="Charging"),
            updated(s[1], 1, 1, "200"),  # the same event again
            updated(s[2], 2, 2, "50", charging_state="SuspendedEV"),  # a pause
        ],
        [
            updated(s[0], 2, 2, "250", charging_state="EVConnected"),  # older than #3
            updated(s[1], 2, 5, "400", evse_id=1, connector_id=1),
            TransactionUpdate(unknown.charge_point_id, updated(unknown, 0, 4, "9").event),
        ],
        [
            updated(s[0], 4, 6, "500"),
            updated(s[2], 3, 6, "60", charging_state="Charging"),  # a resume
            updated(s[0], 5, 7, "600", charging_state="SuspendedEVSE"),
            updated(s[2], 4, 7, "70"),
        ],
    ]


def outcome(s: list[Transaction]) -> tuple:
    rows = Transaction.objects.filter(charge_point_id__in=[t.charge_point_id for t in s])
    state = sorted(
        (row.charge_point_id[2:], row.ocpp_transaction_id, *(getattr(row, f) for f in STATE))
        for row in rows
    )
    events = sorted(
        (
            e.transaction.charge_point_id[2:],
            e.transaction.ocpp_transaction_id,
            e.seq_no,
            e.event_type,
        )
        for e in TransactionEvent.objects.filter(transaction__in=rows)
    )
    values = sorted(
        (
            v.charge_point_id[2:],
            v.transaction.ocpp_transaction_id,
            v.timestamp,
            v.measurand,
            v.value,
        )
        for v in MeterValue.objects.filter(transaction__in=rows)
    )
    return state, events, values


class Collected:
    """Stands in for the process's publisher: keeps what it is handed."""

    def __init__(self) -> None:
        self.events: list = []

    def put(self, events) -> None:
        self.events.extend(events)

    def told(self, prefix: str) -> list[str]:
        """Each event's type, ids and data, without the session's key and
        the charger's prefix (the two runs differ in those alone)."""
        told = []
        for event in self.events:
            data = dict(event.data() if callable(event.data) else event.data)
            ids = {key: value for key, value in event.ids.items() if key != "transaction_id"}
            data.pop("transaction_id", None)
            if data.get("meter_last_wh") is not None:
                # As parsed ("100") or as stored ("100.000"): the same reading.
                data["meter_last_wh"] = Decimal(data["meter_last_wh"]).normalize()
            told.append(repr((event.type, event.at, ids, data)).replace(prefix, ""))
        return sorted(told)


def test_a_batch_ends_as_each_event_applied_alone(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from smartcharging import tasks
    from updates import publisher

    batched, alone = sessions("B", 3), sessions("A", 3)
    collected = {"B": Collected(), "A": Collected()}
    changed: list[str] = []  # chargers whose load groups were told
    monkeypatch.setattr(tasks, "sessions_changed", changed.append)
    monkeypatch.setattr(publisher, "current", lambda: collected["B"])
    with django_capture_on_commit_callbacks(execute=True):
        for batch in script(batched):
            transaction_updates_record(updates=batch)
    monkeypatch.setattr(publisher, "current", lambda: collected["A"])
    with django_capture_on_commit_callbacks(execute=True):
        for batch in script(alone):
            for update in batch:
                transaction_event_record(charge_point_id=update.charge_point_id, event=update.event)

    assert outcome(batched) == outcome(alone)
    # The pause and the resume, and the unknown session's start, reached
    # load management.
    assert sorted(changed) == ["A-0", "A-2", "A-2", "B-0", "B-2", "B-2"]
    # What the live feed hears too, the sessions' new last readings included.
    assert collected["B"].told("B-") == collected["A"].told("A-")
    assert any(event.type == "transaction.updated" for event in collected["B"].events)
    first = Transaction.objects.get(pk=batched[0].pk)
    # The newest seqNo sets the state; every new event's readings count.
    assert (first.last_seq_no, first.charging_state) == (5, "SuspendedEVSE")
    assert first.meter_last_wh == Decimal(600)
    third = Transaction.objects.get(pk=batched[2].pk)
    assert (third.last_seq_no, third.charging_state, third.meter_last_wh) == (
        4,
        "Charging",
        Decimal(70),
    )
    assert TransactionEvent.objects.filter(transaction=batched[1]).count() == 2
    assert Transaction.objects.filter(
        charge_point_id="B-0", ocpp_transaction_id="tx-unknown"
    ).exists()


def test_statements_do_not_grow_with_the_batch() -> None:
    def statements(count: int, prefix: str) -> int:
        batch = [updated(s, 1, 1, "100") for s in sessions(prefix, count)]
        with CaptureQueriesContext(connection) as queries:
            transaction_updates_record(updates=batch)
        return len(queries.captured_queries)

    assert statements(2, "S") == statements(20, "T")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, True),
        ({"event_type": "Started"}, False),
        ({"event_type": "Ended"}, False),
        ({"id_token_value": "TAG"}, False),
        ({"reservation_id": 3}, False),
        ({"remote_start_id": 4}, False),
        ({"operation_mode": "CentralSetpoint"}, False),
        ({"charging_state": "SuspendedEV"}, True),  # the session decides that one
    ],
)
def test_what_the_message_alone_makes_batchable(fields, expected) -> None:
    session = TransactionFactory.build(ocpp_transaction_id="x")
    assert batchable(updated(session, 1, 1, **fields).event) is expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL writes it in one")
def test_the_statement_s_generic_plan_probes_indexes_and_reads_no_table_whole() -> None:
    # Planned while the tables are empty, as a prepared statement's plan is kept.
    plan = generic_plan(_updates_statement(connections["default"]))
    for table in ("transaction", "transactionevent", "metervalue"):
        assert f"Seq Scan on transactions_{table}" not in plan, plan
    assert_stored_samples_probed_by_charger_and_time(plan)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL writes it in one")
@pytest.mark.django_db(transaction=True)
def test_a_batch_decides_on_the_session_as_a_writer_before_it_left_it(monkeypatch) -> None:
    """A session another writer holds locked: the batch waits, and finds
    the event a resume, which load management must hear of, not the plain
    event it was when the batch began."""
    from smartcharging import tasks

    changed: list[str] = []
    monkeypatch.setattr(tasks, "sessions_changed", changed.append)
    session = sessions("W", 1)[0]
    Transaction.objects.filter(pk=session.pk).update(charging_state="Charging", last_seq_no=1)
    holding = threading.Event()

    def pause() -> None:
        try:
            with db_transaction.atomic():
                Transaction.objects.select_for_update().filter(pk=session.pk).update(
                    charging_state="SuspendedEV", last_seq_no=2
                )
                holding.set()
                waited_for(lambda: lock_waiters() > 0)
        finally:
            connections.close_all()

    writer = threading.Thread(target=pause)
    writer.start()
    assert holding.wait(5)
    transaction_updates_record(updates=[updated(session, 3, 3, "100", charging_state="Charging")])
    writer.join()
    assert changed == ["W-0"]
    session.refresh_from_db()
    assert (session.last_seq_no, session.charging_state, session.meter_last_wh) == (
        3,
        "Charging",
        Decimal(100),
    )


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def waited_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.01)

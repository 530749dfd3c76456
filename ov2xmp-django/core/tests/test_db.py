import json
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chargepoints.models import ChargePoint, Connector
from chargepoints.tests.factories import T0, ChargePointFactory, ConnectorFactory
from commands.models import Command
from core.db import (
    INSERT_AT_MOST,
    decimal_fits,
    first_key,
    first_row,
    insert_rows,
    objects_from_rows,
    rows_as_json,
    rows_from_json,
    rows_where_any,
    update_each,
    update_keyed,
    update_one_returning,
    values_where_any,
    whole_row_columns,
)
from ocpp_messages.models import OcppMessage
from transactions.models import ENERGY_REGISTER, MeterValue, Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL function")
def test_rows_from_json_gives_back_each_row_exactly_and_in_order() -> None:
    columns = (("n", "integer"), ("at", "timestamptz"), ("amount", "numeric"))
    columns += (("label", "varchar"), ("extra", "jsonb"))
    at = T0 + timedelta(microseconds=123457)
    rows = [
        {"n": 1, "at": at, "amount": Decimal("12345678901234567890.000001"), "label": 'a "b" ø'},
        {"n": 2, "at": None, "amount": None, "label": None, "extra": {"x": [1, "2"]}},
    ]
    with connection.cursor() as cursor:
        cursor.execute(rows_from_json(columns), [rows_as_json(rows)])
        got = cursor.fetchall()

    # Django has psycopg leave jsonb as text.
    assert [(*row[:4], row[4] and json.loads(row[4])) for row in got] == [
        (1, at, Decimal("12345678901234567890.000001"), 'a "b" ø', None),
        (2, None, None, None, {"x": [1, "2"]}),
    ]


def test_rows_from_json_refuses_what_it_cannot_write_exactly() -> None:
    with pytest.raises(TypeError, match="set cannot be a value of rows_from_json"):
        rows_as_json([{"n": {1}}])


def test_a_decimal_fits_a_field_as_it_will_be_rounded() -> None:
    field = Transaction._meta.get_field("meter_last_wh")  # 20 digits, 3 of them decimals
    assert decimal_fits(field, Decimal("99999999999999999.9994"))
    assert decimal_fits(field, Decimal("-99999999999999999.999"))
    assert not decimal_fits(field, Decimal("99999999999999999.9995"))  # rounds to 10**17
    assert not decimal_fits(field, Decimal("1e17"))
    assert not decimal_fits(field, Decimal("Infinity"))
    assert decimal_fits(field, Decimal("1e-30"))


def test_each_row_gets_its_own_values_and_nothing_else_changes() -> None:
    first, second, untouched = TransactionFactory.create_batch(3)
    first.meter_last_wh, first.meter_last_at = Decimal("1234.567"), T0 + timedelta(minutes=1)
    second.meter_last_wh, second.meter_last_at = Decimal("99"), T0 + timedelta(minutes=2)
    first.stop_reason = "not saved: not among the fields"

    update_each(Transaction, [first, second], ["meter_last_wh", "meter_last_at"])

    stored = {t.pk: t for t in Transaction.objects.all()}
    assert (stored[first.pk].meter_last_wh, stored[first.pk].meter_last_at) == (
        Decimal("1234.567"),
        T0 + timedelta(minutes=1),
    )
    assert (stored[second.pk].meter_last_wh, stored[second.pk].meter_last_at) == (
        Decimal("99"),
        T0 + timedelta(minutes=2),
    )
    assert stored[first.pk].stop_reason == ""
    assert stored[untouched.pk].meter_last_wh == untouched.meter_last_wh
    assert stored[untouched.pk].meter_last_at == untouched.meter_last_at


def test_text_and_null_values_round_trip() -> None:
    connector = ConnectorFactory(status="Available", info="old")
    connector.status, connector.info, connector.status_at = "Faulted", "it's 'quoted'", None

    update_each(Connector, [connector], ["status", "info", "status_at"])

    connector.refresh_from_db()
    assert (connector.status, connector.info, connector.status_at) == (
        "Faulted",
        "it's 'quoted'",
        None,
    )


def test_nothing_to_update_runs_no_statement(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        update_each(Transaction, [], ["meter_last_wh"])


def test_keyed_rows_get_the_values_and_the_others_keep_theirs() -> None:
    first, second, untouched = ChargePointFactory.create_batch(3, last_seen_at=T0)
    seen = T0 + timedelta(minutes=5)

    update_keyed(ChargePoint, [first.pk, second.pk], last_seen_at=seen, firmware_status="it's")

    stored = {c.pk: c for c in ChargePoint.objects.all()}
    assert [(stored[c.pk].last_seen_at, stored[c.pk].firmware_status) for c in (first, second)] == [
        (seen, "it's"),
        (seen, "it's"),
    ]
    assert (stored[untouched.pk].last_seen_at, stored[untouched.pk].firmware_status) == (
        T0,
        untouched.firmware_status,
    )


def test_keyed_updates_of_any_number_of_rows_are_one_statement(django_assert_num_queries) -> None:
    chargers = ChargePointFactory.create_batch(3)
    statements = set()
    for count in (1, 2, 3):
        with CaptureQueriesContext(connection) as captured:
            update_keyed(ChargePoint, [c.pk for c in chargers[:count]], last_seen_at=T0)
        assert len(captured) == 1
        if connection.vendor == "postgresql":  # the keys are one parameter, an array
            statement, keys = captured[0]["sql"].split("= ANY(")
            statements.add(statement)
            assert keys.count("CP-") == count
    with django_assert_num_queries(0):
        update_keyed(ChargePoint, [], last_seen_at=T0)
    assert len(statements) <= 1


def test_rows_where_each_field_is_any_of_its_values_come_by_key() -> None:
    first, second, third = TransactionFactory.create_batch(3, ocpp_transaction_id="same")
    other = TransactionFactory(charge_point=first.charge_point, ocpp_transaction_id="other")

    with transaction.atomic():
        found = rows_where_any(
            Transaction,
            where={
                "charge_point_id": [third.charge_point_id, first.charge_point_id],
                "ocpp_transaction_id": ["same"],
            },
            lock=True,
        )
    assert [t.pk for t in found] == [first.pk, third.pk]
    assert found[0].meter_last_wh == first.meter_last_wh
    assert rows_where_any(Transaction, where={"id": [other.pk, second.pk]}) == [second, other]
    assert rows_where_any(Transaction, where={"id": []}) == []


def test_values_where_any_are_converted_as_the_orm_converts_them() -> None:
    session = TransactionFactory(meter_last_wh=Decimal("12.5"), meter_last_at=T0)
    TransactionFactory()

    assert values_where_any(
        Transaction, ["id", "meter_last_wh", "meter_last_at"], where={"id": {session.pk}}
    ) == [(session.pk, Decimal("12.5"), T0)]
    assert values_where_any(Transaction, ["id"], where={"id": set()}) == []
    logged = OcppMessage.objects.create(
        charge_point_id="CP-1", direction="received", payload={"a": [1, "b"]}, timestamp=T0
    )
    assert values_where_any(OcppMessage, ["payload"], where={"id": [logged.pk]}) == [
        ({"a": [1, "b"]},)
    ]


# With an INSERT (a few rows), and with COPY.
BATCHES = [pytest.param(0, id="insert"), pytest.param(INSERT_AT_MOST, id="copy")]


@pytest.mark.parametrize("more", BATCHES)
def test_inserted_rows_keep_their_values_and_get_their_defaults(more: int) -> None:
    session = TransactionFactory()
    charger = session.charge_point
    before = timezone.now()

    insert_rows(
        MeterValue,
        [
            {
                "charge_point_id": charger.id,
                "transaction_id": session.pk,
                "evse_id": 1,
                "connector_id": None,
                "timestamp": T0,
                "value": "it's 1234.5",
                "numeric_value": Decimal("1234.5"),
                "signed_meter_value": {"signedMeterData": "AbC=", "nested": [1, None]},
            },
            {"charge_point_id": charger.id, "evse_id": 2, "timestamp": T0, "value": "7"},
            *({"charge_point_id": charger.id, "evse_id": 3, "timestamp": T0} for _ in range(more)),
        ],
    )

    first, second, *others = MeterValue.objects.order_by("evse_id", "id")
    assert len(others) == more
    assert (first.transaction_id, first.connector_id, first.value) == (
        session.pk,
        None,
        "it's 1234.5",
    )
    assert first.numeric_value == Decimal("1234.5")
    assert first.signed_meter_value == {"signedMeterData": "AbC=", "nested": [1, None]}
    # Left out: the field's default, auto_now_add now, a nullable JSON field NULL.
    assert (second.measurand, second.phase, second.transaction_id) == (ENERGY_REGISTER, "", None)
    assert second.received_at >= before
    assert second.signed_meter_value is None
    assert first.pk != second.pk


@pytest.mark.parametrize("more", BATCHES)
def test_a_callable_default_is_called_for_each_row(more: int) -> None:
    charger = ChargePointFactory()
    row = {"charge_point_id": charger.id, "ocpp_version": "1.6", "action": "Reset", "request": {}}

    insert_rows(Command, [dict(row) for _ in range(2 + more)])

    ids = list(Command.objects.values_list("id", flat=True))
    assert len(ids) == 2 + more
    assert len(set(ids)) == 2 + more  # each row its own uuid


def test_inserting_nothing_runs_no_statement(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        insert_rows(MeterValue, [])


def test_first_key_and_row_match_every_condition_null_included() -> None:
    charger = ChargePointFactory()
    at = T0 + timedelta(hours=5)
    TransactionFactory(charge_point=charger, connector_id=2, started_at=at)  # another connector
    TransactionFactory(charge_point=charger, connector_id=None, started_at=at - timedelta(hours=1))
    wanted = TransactionFactory(charge_point=charger, connector_id=None, started_at=at)
    TransactionFactory(charge_point=charger, connector_id=None, started_at=at)  # a later key
    where = {"charge_point_id": charger.pk, "connector_id": None, "started_at": at}

    assert first_key(Transaction, where=where) == wanted.pk
    row = first_row(Transaction, where=where)
    assert row is not None
    assert (row.pk, row.meter_start_wh, row.started_at) == (wanted.pk, Decimal("1000.000"), at)
    assert first_key(Transaction, where={**where, "meter_start_wh": Decimal("1000")}) == wanted.pk
    assert first_key(Transaction, where={**where, "meter_start_wh": Decimal("1000.001")}) is None
    assert first_row(Transaction, where={**where, "charge_point_id": "nobody"}) is None


def test_first_key_since_keeps_rows_at_or_after_the_moment() -> None:
    charger = ChargePointFactory()
    older = Command.objects.create(charge_point=charger, action="Reset", request={})
    newer = Command.objects.create(charge_point=charger, action="Reset", request={})
    Command.objects.filter(pk=older.pk).update(created_at=T0)
    Command.objects.filter(pk=newer.pk).update(created_at=T0 + timedelta(minutes=1))
    where = {"charge_point_id": charger.pk, "action": "Reset"}

    # Command keys are uuids: "first" is either.
    assert first_key(Command, where=where, since=("created_at", T0)) in {older.pk, newer.pk}
    at_newer = ("created_at", T0 + timedelta(minutes=1))
    assert first_key(Command, where=where, since=at_newer) == newer.pk
    later = ("created_at", T0 + timedelta(minutes=1, microseconds=1))
    assert first_key(Command, where=where, since=later) is None


@pytest.mark.django_db(transaction=True)
def test_a_locked_first_row_holds_others_until_the_commit() -> None:
    """``lock``: a second transaction asking for the row waits for the first
    (PostgreSQL; SQLite locks the whole database on the first write)."""
    if not connection.features.has_select_for_update:
        pytest.skip("no row locks on this database")
    session = TransactionFactory()
    where = {
        "charge_point_id": session.charge_point_id,
        "ocpp_transaction_id": session.ocpp_transaction_id,
    }
    order: list[str] = []

    def second() -> None:
        try:
            with transaction.atomic():
                first_row(Transaction, where=where, lock=True)
                order.append("second locked")
        finally:
            connections.close_all()

    with transaction.atomic():
        assert first_row(Transaction, where=where, lock=True) is not None
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.5)
        order.append("first commits")
    thread.join(timeout=10)
    assert order == ["first commits", "second locked"]


def test_whole_rows_read_in_sql_are_the_objects_the_orm_reads() -> None:
    database = connections["default"]
    session = TransactionFactory(meter_last_wh=Decimal("12.5"), meter_last_at=T0)
    logged = OcppMessage.objects.create(
        charge_point_id="CP-1", direction="received", payload={"a": [1, "b"]}, timestamp=T0
    )
    for model, row in ((Transaction, session), (OcppMessage, logged)):
        table = database.ops.quote_name(model._meta.db_table)
        with database.cursor() as cursor:
            cursor.execute(
                f"SELECT {whole_row_columns(model, database, of='r')} FROM {table} r"
                " WHERE r.id = %s",
                [row.pk],
            )
            (made,) = objects_from_rows(model, database, cursor.fetchall())
        expected = model.objects.get(pk=row.pk)
        for field in model._meta.concrete_fields:
            assert getattr(made, field.attname) == getattr(expected, field.attname), field.name
        assert not made._state.adding
        assert made._state.db == database.alias


def _command(status: str) -> Command:
    return Command.objects.create(
        charge_point=ChargePointFactory(),
        ocpp_version="1.6",
        action="Reset",
        request={"type": "Soft"},
        status=status,
    )


def test_a_row_updated_in_one_statement_comes_back_as_the_orm_reads_it(
    django_assert_num_queries,
) -> None:
    command = _command("Held")
    other = _command("Queued")
    with django_assert_num_queries(1):
        updated = update_one_returning(
            Command,
            command.pk,
            where_in={"status": ["Queued", "Held"]},
            values={"status": "Sent", "sent_at": T0, "response": {"status": "Accepted"}},
        )
    assert updated is not None
    expected = Command.objects.get(pk=command.pk)
    assert expected.status == "Sent"
    assert expected.sent_at == T0
    assert expected.response == {"status": "Accepted"}
    for field in Command._meta.concrete_fields:
        assert getattr(updated, field.attname) == getattr(expected, field.attname), field.name
    assert not updated._state.adding
    assert Command.objects.get(pk=other.pk).status == "Queued"  # by its key alone


def test_a_row_that_does_not_match_is_left_as_it_is() -> None:
    command = _command("Answered")
    assert (
        update_one_returning(
            Command, command.pk, where_in={"status": ["Queued", "Held"]}, values={"status": "Sent"}
        )
        is None
    )
    assert Command.objects.get(pk=command.pk).status == "Answered"
    assert (
        update_one_returning(
            Command, uuid.uuid4(), where_in={"status": ["Answered"]}, values={"status": "Sent"}
        )
        is None
    )

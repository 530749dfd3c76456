"""Database helpers the ORM lacks."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router
from django.db.models import Field, JSONField, Model
from django.utils import timezone

M = TypeVar("M", bound=Model)


def update_each(model: type[Model], objects: Collection[Model], fields: Sequence[str]) -> None:
    """Save ``fields`` of many ``objects``, each with its own values, in one
    ``UPDATE … FROM (VALUES …)``.

    Django's ``bulk_update`` builds a ``CASE WHEN`` per field and object, and
    building it costs more than the database's work: on the hot path (status
    notifications, meter values) it took a third of the csms process's time.
    Needs PostgreSQL or SQLite ≥ 3.33.
    """
    if not objects:
        return
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    assert meta.pk is not None
    targets = [meta.pk, *(meta.get_field(name) for name in fields)]
    # PostgreSQL types VALUES columns from the literals (text); say what they are.
    typed = connection.vendor == "postgresql"
    row = ", ".join(f"%s::{field.db_type(connection)}" if typed else "%s" for field in targets)
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), connection)  # type: ignore[union-attr]
        for obj in objects
        for field in targets
    ]
    table = quote(meta.db_table)
    columns = [quote(str(field.column)) for field in targets]  # type: ignore[union-attr]
    key = columns[0]
    assignments = ", ".join(f"{column} = v.{column}" for column in columns[1:])
    values = ", ".join([f"({row})"] * len(objects))
    sql = (
        f"WITH v ({', '.join(columns)}) AS (VALUES {values}) "
        f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{key} = v.{key}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rows_from_json(columns: Sequence[tuple[str, str]], *, parameter: str = "%s") -> str:
    """SQL (PostgreSQL): a query of the rows in one JSON parameter (``%s``,
    or a named one such as ``%(rows)s``, made by ``rows_as_json``), with
    these (name, type) columns; a key a row lacks is NULL.

    A batch's rows as one JSON text, not as an array per column (``unnest``):
    psycopg converts each array element in Python, which was the largest
    Python cost of a meter-values batch, and ``json.dumps`` runs in C. The
    array the rows are unnested from is built in the query, so PostgreSQL
    estimates 10 rows whatever the batch holds: a prepared statement's
    generic plan costs what a custom one would, and is kept (with arrays as
    parameters the status statement was planned again at every run:
    docs/performance.md)."""
    names = ", ".join(f"{name} {kind}" for name, kind in columns)
    return (
        f"SELECT v.* FROM unnest(ARRAY(SELECT json_array_elements({parameter}::json))) AS row,"
        f" json_to_record(row) AS v ({names})"
    )


def rows_as_json(rows: Sequence[dict[str, Any]]) -> str:
    """The parameter of ``rows_from_json``: the rows, as JSON. Timestamps
    keep their microseconds (Django's JSON encoder drops them), decimals
    their digits (as text, which PostgreSQL's numeric reads exactly)."""
    return json.dumps(rows, default=_json_scalar, separators=(",", ":"))


def _json_scalar(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be a value of rows_from_json")


def decimal_fits(field: Any, value: Decimal) -> bool:
    """Whether ``value``, rounded to the decimal places of ``field`` (a
    DecimalField), fits in its digits. PostgreSQL refuses one that does not
    ("numeric field overflow") and fails the statement: a whole batch."""
    return value.is_finite() and abs(value) < _decimal_bound(field.max_digits, field.decimal_places)


@functools.cache
def _decimal_bound(digits: int, places: int) -> Decimal:
    """The least number that rounds to more than ``digits`` digits."""
    return Decimal(10) ** (digits - places) - Decimal(5).scaleb(-places - 1)


def update_keyed(model: type[Model], keys: Sequence[Any], **values: Any) -> None:
    """Set the fields (by attname) in ``values`` on the rows of ``model`` whose
    primary keys are ``keys``. On PostgreSQL ``… WHERE pk = ANY(%s)``: one
    statement text whatever the number of keys, which psycopg prepares once
    per connection, and none of the ORM's cost of building it; the ORM's
    ``IN (%s, …)`` is a new statement for each count (a batch of heartbeats
    is one, and its size varies with the load: docs/performance.md).
    Elsewhere the ORM."""
    if not keys:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.filter(pk__in=keys).update(**values)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    assert meta.pk is not None
    fields: list[Any] = [meta.get_field(name) for name in values]
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in fields)
    params = [
        field.get_db_prep_save(values[name], connection)
        for name, field in zip(values, fields, strict=True)
    ]
    matching, keys_param = _any_of(model, connection, {meta.pk.attname: keys})
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {matching}",
            [*params, *keys_param],
        )


def _any_of(
    model: type[Model], connection: Any, where: dict[str, Collection[Any]]
) -> tuple[str, list[Any]]:
    """The condition that each field (by attname) is ``= ANY`` of its values
    (an array: PostgreSQL), and its parameters."""
    meta = model._meta
    quote = connection.ops.quote_name
    conditions, params = [], []
    for name, values in where.items():
        field: Any = meta.get_field(name)
        conditions.append(f"{quote(str(field.column))} = ANY(%s::{field.db_type(connection)}[])")
        params.append([field.get_db_prep_value(value, connection) for value in values])
    return " AND ".join(conditions), params


def rows_where_any(
    model: type[M], *, where: dict[str, Collection[Any]], lock: bool = False
) -> list[M]:
    """The rows of ``model`` whose fields (by attname) each hold one of
    ``where``'s values, by primary key; with ``lock``, locked for the rest of
    the transaction (``FOR UPDATE``). On PostgreSQL in plain SQL with arrays
    (``= ANY``), as ``update_keyed``: building the query through the ORM was
    most of a batch's look-up (docs/performance.md). Elsewhere through the
    ORM."""
    if not all(where.values()):
        return []
    connection = connections[router.db_for_write(model)]
    manager = model._default_manager
    if connection.vendor != "postgresql":
        found = manager.filter(**{f"{name}__in": values for name, values in where.items()})
        return list((found.select_for_update() if lock else found).order_by("pk"))
    assert model._meta.pk is not None
    quote = connection.ops.quote_name
    matching, params = _any_of(model, connection, where)
    sql = (
        f"FROM {quote(model._meta.db_table)} WHERE {matching}"
        f" ORDER BY {quote(str(model._meta.pk.column))}"
    )
    return _objects(model, connection, sql + (" FOR UPDATE" if lock else ""), params)


def values_where_any(
    model: type[Model], fields: Sequence[str], *, where: dict[str, Collection[Any]]
) -> list[tuple[Any, ...]]:
    """As ``rows_where_any``, only ``fields`` (by attname) of each row, as
    tuples, values converted as the ORM's ``values_list`` converts them."""
    if not all(where.values()):
        return []
    connection = connections[router.db_for_read(model)]
    if connection.vendor != "postgresql":
        found = model._default_manager.filter(
            **{f"{name}__in": values for name, values in where.items()}
        )
        return list(found.values_list(*fields))
    meta = model._meta
    columns: list[Any] = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    matching, params = _any_of(model, connection, where)
    selected = ", ".join(quote(str(field.column)) for field in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selected} FROM {quote(meta.db_table)} WHERE {matching}", params)
        rows = cursor.fetchall()
    converting = _converters(columns, connection)
    return [tuple(row) for row in _converted_rows(rows, converting, connection)]


def _converted_rows(
    rows: Sequence[Sequence[Any]], converting: list[tuple[int, Any, list[Any]]], connection: Any
) -> list[list[Any]]:
    """Each row's values converted as the ORM converts what it reads (a JSON
    field's text, SQLite's datetimes and decimals), by ``_converters``."""
    converted = []
    for row in rows:
        values = list(row)
        for index, column, converters in converting:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        converted.append(values)
    return converted


def _converters(fields: Sequence[Any], connection: Any) -> list[tuple[int, Any, list[Any]]]:
    """(index, column, converters) of each of ``fields`` that has converters:
    the backend's and the field's own, given the column as the ORM gives it."""
    table = fields[0].model._meta.db_table
    converting = []
    for index, field in enumerate(fields):
        column = field.get_col(table)
        converters = [
            *connection.ops.get_db_converters(column),
            *field.get_db_converters(connection),
        ]
        if converters:
            converting.append((index, column, converters))
    return converting


@functools.lru_cache(maxsize=256)
def _whole_rows(
    model: type[Model], connection: Any
) -> tuple[list[str], list[str], list[tuple[int, Any, list[Any]]]]:
    """For reading ``model``'s rows whole: its columns, quoted (for
    ``SELECT``), its fields' attnames and their converters. Per connection (a
    thread's own): the backend's converters are its methods."""
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = [quote(str(field.column)) for field in fields]
    return columns, [field.attname for field in fields], _converters(fields, connection)


def whole_row_columns(model: type[Model], connection: Any, *, of: str = "") -> str:
    """SQL: every column of ``model``, in the order ``objects_from_rows``
    reads them; with ``of``, each qualified by that table or alias."""
    columns, _, _ = _whole_rows(model, connection)
    return ", ".join(f"{of}.{column}" if of else column for column in columns)


def objects_from_rows(model: type[M], connection: Any, rows: Sequence[Sequence[Any]]) -> list[M]:
    """Rows of ``whole_row_columns`` as ``model`` objects, as
    ``Model.objects.raw`` makes them, without its setup for each query
    (matching the cursor's columns to fields by name), which was most of the
    csms's CPU for a locked look-up (docs/performance.md)."""
    _, names, converting = _whole_rows(model, connection)
    return [
        model.from_db(connection.alias, names, values)
        for values in _converted_rows(rows, converting, connection)
    ]


def _objects(model: type[M], connection: Any, sql: str, params: list[Any]) -> list[M]:
    """The rows of ``SELECT <every column> <sql>`` as ``model`` objects."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {whole_row_columns(model, connection)} {sql}", params)
        return objects_from_rows(model, connection, cursor.fetchall())


def update_one_returning(
    model: type[M], key: Any, *, where_in: dict[str, Collection[Any]], values: dict[str, Any]
) -> M | None:
    """Set ``values`` (fields by attname) on the row of ``model`` whose
    primary key is ``key``, if each field of ``where_in`` holds one of its
    values; the row as it then is, or None if it did not match (or does not
    exist). One statement (``UPDATE … RETURNING``, PostgreSQL and SQLite ≥
    3.35) where the ORM takes two: a conditional update, then a read."""
    meta = model._meta
    assert meta.pk is not None
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    assigned: list[Any] = [meta.get_field(name) for name in values]
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in assigned)
    params = [
        field.get_db_prep_save(values[name], connection)
        for name, field in zip(values, assigned, strict=True)
    ]
    conditions = [f"{quote(str(meta.pk.column))} = %s"]
    params.append(meta.pk.get_db_prep_value(key, connection))
    for name, allowed in where_in.items():
        field: Any = meta.get_field(name)
        conditions.append(f"{quote(str(field.column))} IN ({', '.join(['%s'] * len(allowed))})")
        params.extend(field.get_db_prep_value(value, connection) for value in allowed)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {' AND '.join(conditions)} "
            f"RETURNING {whole_row_columns(model, connection)}",
            params,
        )
        rows = cursor.fetchall()
    return objects_from_rows(model, connection, rows)[0] if rows else None


def _matching(
    model: type[Model],
    connection: Any,
    where: dict[str, Any],
    since: tuple[str, datetime] | None,
) -> tuple[str, list[Any]]:
    """``FROM … WHERE …`` and its parameters for ``first_key`` and ``first_row``."""
    meta = model._meta
    quote = connection.ops.quote_name
    conditions, params = [], []
    for name, value in where.items():
        field = meta.get_field(name)
        column = quote(str(field.column))  # type: ignore[union-attr]
        if value is None:
            conditions.append(f"{column} IS NULL")
        else:
            conditions.append(f"{column} = %s")
            params.append(field.get_db_prep_value(value, connection))  # type: ignore[union-attr]
    if since is not None:
        name, moment = since
        field = meta.get_field(name)
        conditions.append(f"{quote(str(field.column))} >= %s")  # type: ignore[union-attr]
        params.append(field.get_db_prep_value(moment, connection))  # type: ignore[union-attr]
    assert conditions, "a condition at least"
    return f"FROM {quote(meta.db_table)} WHERE {' AND '.join(conditions)}", params


def first_key(
    model: type[Model], *, where: dict[str, Any], since: tuple[str, datetime] | None = None
) -> Any | None:
    """The primary key of the first row (the lowest key) of ``model`` whose
    fields (by attname) equal ``where``'s values (None: is null) and, with
    ``since`` (field, moment), whose field is at or after that moment; None if
    no row is.

    In plain SQL: each session start and stop asks one of these, and building
    the query through the ORM cost the csms five times what running it did
    (docs/performance.md). Values go through their fields' own conversion."""
    assert model._meta.pk is not None
    connection = connections[router.db_for_read(model)]
    key = connection.ops.quote_name(str(model._meta.pk.column))
    matching, params = _matching(model, connection, where, since)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key} {matching} ORDER BY {key} LIMIT 1", params)
        row = cursor.fetchone()
    # As the ORM gives it (SQLite keeps a uuid as hex text, say).
    return None if row is None else model._meta.pk.to_python(row[0])


def first_row(model: type[M], *, where: dict[str, Any], lock: bool = False) -> M | None:
    """As ``first_key``, the whole row; with ``lock``, locked for the rest of
    the transaction (``SELECT … FOR UPDATE``, where the database has it)."""
    assert model._meta.pk is not None
    connection = connections[router.db_for_write(model)]
    key = connection.ops.quote_name(str(model._meta.pk.column))
    matching, params = _matching(model, connection, where, None)
    sql = f"{matching} ORDER BY {key} LIMIT 1"
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    found = _objects(model, connection, sql, params)
    return found[0] if found else None


# Up to this many rows go in with an ``INSERT``: ``COPY`` takes two round
# trips (its start, then its end), an ``INSERT`` one, and a session's start
# or stop inserts a row or two at a time.
INSERT_AT_MOST = 4


def insert_rows(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows, each given as {field attname: value}; fields left out
    get their default (``auto_now``/``auto_now_add``: now). On PostgreSQL with
    ``COPY``, whose rows psycopg formats in C (a few rows with an ``INSERT``,
    its parameters bound as ``COPY``'s values are): building an ``INSERT``
    through the ORM cost more than the database's work on the csms's hot
    path. Elsewhere with ``bulk_create``. Returns nothing: ``COPY`` reports no
    ids."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows])
        return
    now = timezone.now()
    # All but an auto-incremented key, which the database fills in.
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]
    defaults = {field.attname: _default(field, now) for field in fields}
    # A callable default (a uuid, say) is called for each row that needs it.
    callables = {
        field.attname: field.default
        for field in fields
        if field.has_default() and callable(field.default)
    }
    is_json = {field.attname: isinstance(field, JSONField) for field in fields}
    names = [field.attname for field in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(str(field.column)) for field in fields)

    def values_of(row: dict[str, Any]) -> list[Any]:
        values = []
        for name in names:
            if name in row:
                value = row[name]
            elif name in callables:
                value = callables[name]()
            else:
                value = defaults[name]
            if is_json[name] and value is not None:
                value = json.dumps(value, cls=DjangoJSONEncoder)
            values.append(value)
        return values

    with connection.cursor() as cursor:
        if len(rows) <= INSERT_AT_MOST:
            row_sql = f"({', '.join(['%s'] * len(names))})"
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(rows))}",
                [value for row in rows for value in values_of(row)],
            )
            return
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(values_of(row))


def _default(field: Field[Any, Any], now: datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()  # for a CharField without one: ""

"""Database helpers the ORM lacks."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router
from django.db.models import Field, JSONField, Model
from django.utils import timezone


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


def insert_rows(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows, each given as {field attname: value}; fields left out
    get their default (``auto_now``/``auto_now_add``: now). On PostgreSQL with
    ``COPY``, whose rows psycopg formats in C: an ``INSERT``'s parameters are
    quoted in Python, and building it through the ORM cost more than the
    database's work on the csms's hot path. Elsewhere with ``bulk_create``.
    Returns nothing: ``COPY`` reports no ids."""
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
    columns = ", ".join(quote(str(field.column)) for field in fields)
    copy_sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in rows:
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
            copy.write_row(values)


def _default(field: Field[Any, Any], now: datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()  # for a CharField without one: ""

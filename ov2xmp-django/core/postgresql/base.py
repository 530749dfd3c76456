"""Django's PostgreSQL backend, except that an integer too large for its field's
column reaches PostgreSQL as it is.

With psycopg 3, Django passes an integer field's value wrapped in psycopg's
``Int2``, ``Int4`` or ``Int8`` (so that PostgreSQL knows its type), and
psycopg packs it into that many bytes without a range check: 2**32 + 5 was
stored in an ``integer`` column as 5 (core/tests/test_postgresql.py), and a
charger's ``connectorId`` of 2**40 was recorded as connector 0. A value that
does not fit goes unwrapped instead: PostgreSQL types it by its size, and
the write fails with "integer out of range" (a ``DataError``). Look-ups are
not affected: Django finds nothing for a value out of the field's range
before it gets here.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, operations
from psycopg.types.numeric import Int2, Int4, Int8

# The values each wrapper can hold: [-bound, bound).
_BOUNDS = {Int2: 2**15, Int4: 2**31, Int8: 2**63}


class DatabaseOperations(operations.DatabaseOperations):
    def adapt_integerfield_value(self, value: Any, internal_type: str) -> Any:
        if isinstance(value, int):
            wrapper = self.integerfield_type_map[internal_type]
            bound = _BOUNDS[wrapper]
            return wrapper(value) if -bound <= value < bound else value
        return super().adapt_integerfield_value(value, internal_type)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

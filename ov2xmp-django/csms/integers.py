"""Integers in a charger's call that no column can hold.

The OCPP schemas type many fields as "integer" with no bounds. The domain
keeps them in PostgreSQL ``integer`` columns (32 bits, signed), and an id of
a connector or an EVSE, or a ``seqNo``, in one that refuses a negative number. A
value outside was refused at the write, and the charger answered
``InternalError``, or, written through the ORM before core.postgresql,
stored wrapped around (a ``connectorId`` of 2**40 became 0); a negative 1.6
``connectorId`` was taken for the charger itself. ``refuse_out_of_range``
finds such a value first, from the integer fields of the action's schema,
so that the answer is a ``PropertyConstraintViolation`` naming the field,
and nothing is stored.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from ocpp import messages as library_messages
from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.messages import MessageType

INTEGER_MIN = -(2**31)
INTEGER_MAX = 2**31 - 1
# Never negative: the id of a connector and of an EVSE (2.0.1: ``evseId``, or
# the ``id`` of an ``evse`` object), and a sequence number (counted from 0).
NOT_NEGATIVE = frozenset({"connectorId", "evseId", "seqNo"})
# Stored wider: 1.6 meter readings are kept as numeric(20, 3) and bounded by
# csms.v16.charge_point.meter_field.
STORED_WIDER = frozenset(
    {("1.6", "StartTransaction", ("meterStart",)), ("1.6", "StopTransaction", ("meterStop",))}
)
# A path to a field: its keys, None for each element of a list.
Path = tuple[str | None, ...]
# Deeper than any OCPP schema nests: a guard against a schema that refers to itself.
MAX_DEPTH = 20


def refuse_out_of_range(payload: Any, action: str, ocpp_version: str) -> None:
    """Raise PropertyConstraintViolation for the first integer of a call's
    (schema-valid) ``payload`` that is out of its range."""
    for path, least in integer_fields(action, ocpp_version):
        for value in _values_at(payload, path):
            if isinstance(value, int) and not least <= value <= INTEGER_MAX:
                raise PropertyConstraintViolationError(
                    description=f"{field_name(path)}: {value} is out of range"
                    f" ({least} to {INTEGER_MAX})"
                )


@functools.cache
def integer_fields(action: str, ocpp_version: str) -> tuple[tuple[Path, int], ...]:
    """(path, least value) of each integer field of an action's request."""
    schema = library_messages.get_validator(MessageType.Call, action, ocpp_version).schema
    fields = []
    for path in _integer_paths(schema, schema, (), 0):
        if (ocpp_version, action, path) in STORED_WIDER:
            continue
        keys = [key for key in path if key is not None]
        is_id = bool(keys) and (keys[-1] in NOT_NEGATIVE or keys[-2:] == ["evse", "id"])
        fields.append((path, 0 if is_id else INTEGER_MIN))
    return tuple(fields)


def field_name(path: Path) -> str:
    """``meterValue[].sampledValue[].value``, say."""
    return "".join("[]" if key is None else f".{key}" for key in path).lstrip(".")


def _integer_paths(schema: Any, root: dict[str, Any], path: Path, depth: int) -> Iterator[Path]:
    if depth > MAX_DEPTH or not isinstance(schema, dict):
        return
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/definitions/"):
        schema = root.get("definitions", {}).get(reference.removeprefix("#/definitions/"), {})
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds:
        yield path
    if "object" in kinds:
        for key, child in schema.get("properties", {}).items():
            yield from _integer_paths(child, root, (*path, key), depth + 1)
    if "array" in kinds:
        yield from _integer_paths(schema.get("items"), root, (*path, None), depth + 1)


def _values_at(payload: Any, path: Path) -> list[Any]:
    found = [payload]
    for key in path:
        if key is None:
            found = [item for value in found if isinstance(value, list) for item in value]
        else:
            found = [value[key] for value in found if isinstance(value, dict) and key in value]
    return found

"""OCPP payload validation with schemas compiled to Python (fastjsonschema).

The ``ocpp`` library validates every payload, in and out, with jsonschema's
``Draft4Validator``: under load that was a fifth of the csms process's time
(docs/performance.md). ``install()`` makes the library use compiled validators
instead, with the same outcome:

* the same schemas, read by the library and compiled as draft 4 (as the
  library reads them all), without format checks and without filling in
  defaults, as jsonschema does;
* a payload the compiled validator accepts is valid; one it refuses is handed
  to the library's own validator, which decides and raises the error the
  library maps to a CallError. So errors keep their codes and messages, and
  the compiled validator can only ever make validation faster, not laxer
  than it would be by itself (tests compare the two, schema by schema).

ADR 0013 records the decision.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import fastjsonschema
from jsonschema import Draft4Validator
from ocpp import messages as library_messages
from ocpp.messages import MessageType

DRAFT_4 = "http://json-schema.org/draft-04/schema#"

_library_get_validator = library_messages.get_validator


class CompiledValidator:
    """Stands in for the library's ``Draft4Validator``: ``validate`` is all
    the library calls."""

    def __init__(self, library_validator: Draft4Validator) -> None:
        self.library_validator = library_validator
        self.schema = library_validator.schema
        self._compiled: Callable[[Any], Any] = fastjsonschema.compile(
            {**self.schema, "$schema": DRAFT_4},
            use_default=False,
            use_formats=False,
            detailed_exceptions=False,
        )

    def validate(self, payload: Any) -> None:
        try:
            self._compiled(payload)
        except fastjsonschema.JsonSchemaValueException:
            # Refused: the library's validator decides, and explains.
            self.library_validator.validate(payload)


@functools.cache
def _compiled_validator(message_type_id: int, action: str, ocpp_version: str) -> CompiledValidator:
    return CompiledValidator(_library_get_validator(message_type_id, action, ocpp_version))


# The library validates these on Decimals (multipleOf on fractions), and
# caches their validators without telling float from Decimal: rare commands,
# left to the library whole.
DECIMAL_MESSAGES = frozenset(
    {
        (MessageType.Call, "SetChargingProfile", "1.6"),
        (MessageType.Call, "RemoteStartTransaction", "1.6"),
        (MessageType.CallResult, "GetCompositeSchedule", "1.6"),
    }
)


def get_validator(
    message_type_id: int, action: str, ocpp_version: str, parse_float: Callable[..., Any] = float
) -> Draft4Validator | CompiledValidator:
    if parse_float is not float or (message_type_id, action, ocpp_version) in DECIMAL_MESSAGES:
        return _library_get_validator(message_type_id, action, ocpp_version, parse_float)
    return _compiled_validator(message_type_id, action, ocpp_version)


def install() -> None:
    """Make the ``ocpp`` library validate with compiled schemas (idempotent)."""
    library_messages.get_validator = get_validator  # type: ignore[assignment]

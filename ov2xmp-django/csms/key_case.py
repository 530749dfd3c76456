"""The ``ocpp`` library's key conversions (camelCase payload ↔ snake_case
keyword arguments), with each key's conversion remembered.

The library converts every key of every payload, in and out, with a few
regular expressions and string replacements: about a tenth of the csms
process's time under load (docs/performance.md). A key's conversion depends
on the key alone, and OCPP payloads use a few hundred distinct keys, so
``install()`` puts in functions that convert each key once, with the
library's own functions, and remember the result. The results are the
library's, by construction; a test compares them on every key of every
schema.
"""

from __future__ import annotations

import functools
from typing import Any

import ocpp.charge_point as library_charge_point

_library_camel_to_snake_case = library_charge_point.camel_to_snake_case
_library_snake_to_camel_case = library_charge_point.snake_to_camel_case

# Bounded: customData objects may carry keys of a charger's choosing.
KEYS_REMEMBERED = 4096


@functools.lru_cache(maxsize=KEYS_REMEMBERED)
def snake_key(key: str) -> str:
    (converted,) = _library_camel_to_snake_case({key: None})
    return str(converted)


@functools.lru_cache(maxsize=KEYS_REMEMBERED)
def camel_key(key: str) -> str:
    (converted,) = _library_snake_to_camel_case({key: None})
    return str(converted)


def camel_to_snake_case(data: Any) -> Any:
    if isinstance(data, dict):
        return {snake_key(key): camel_to_snake_case(value) for key, value in data.items()}
    if isinstance(data, list):
        return [camel_to_snake_case(value) for value in data]
    return data


def snake_to_camel_case(data: Any) -> Any:
    if isinstance(data, dict):
        return {camel_key(key): snake_to_camel_case(value) for key, value in data.items()}
    if isinstance(data, list):
        return [snake_to_camel_case(value) for value in data]
    return data


def install() -> None:
    """Make the ``ocpp`` library convert keys through these (idempotent)."""
    library_charge_point.camel_to_snake_case = camel_to_snake_case
    library_charge_point.snake_to_camel_case = snake_to_camel_case

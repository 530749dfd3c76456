"""The remembered key conversions (csms/key_case.py) give the library's
results: on every property name of every OCPP schema, and on whole payloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ocpp.charge_point as library_charge_point
from ocpp import messages as library_messages

from csms import key_case

SCHEMAS = Path(library_messages.__file__).parent


def property_names(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        yield from schema.get("properties", {})
        for value in schema.values():
            yield from property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from property_names(value)


def every_key() -> set[str]:
    keys: set[str] = set()
    for folder in ("v16", "v201"):
        for path in (SCHEMAS / folder / "schemas").glob("*.json"):
            keys.update(property_names(json.loads(path.read_text(encoding="utf-8-sig"))))
    return keys


def library(function: str, data: Any) -> Any:
    # The library's own functions, as they were before install() (they recurse
    # through the module's globals, so restore those for the comparison).
    installed = {
        name: getattr(library_charge_point, name)
        for name in ("camel_to_snake_case", "snake_to_camel_case")
    }
    library_charge_point.camel_to_snake_case = key_case._library_camel_to_snake_case
    library_charge_point.snake_to_camel_case = key_case._library_snake_to_camel_case
    try:
        return getattr(library_charge_point, function)(data)
    finally:
        for name, value in installed.items():
            setattr(library_charge_point, name, value)


def test_every_schema_key_converts_as_the_library_converts_it():
    keys = every_key()
    assert len(keys) > 250  # the 1.6 and 2.0.1 schemas were found
    for key in sorted(keys):
        snake = key_case.snake_key(key)
        assert {snake: None} == library("camel_to_snake_case", {key: None}), key
        assert {key_case.camel_key(snake): None} == library("snake_to_camel_case", {snake: None})


def test_whole_payloads_convert_as_the_library_converts_them():
    payload = {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": "2026-11-23T10:00:00Z",
                "sampledValue": [
                    {"value": "1", "measurand": "SoC", "customData": {"vendorId": "x"}}
                ],
            }
        ],
        "ocppCSMSURL": "wss://example.org",
        "evMaxV2XEnergyRequest": 3,
        "list": [[{"innerKey": None}], "text", 1.5],
    }
    snake = key_case.camel_to_snake_case(payload)
    assert snake == library("camel_to_snake_case", payload)
    assert key_case.snake_to_camel_case(snake) == library("snake_to_camel_case", snake)


def test_the_csms_installs_them():
    import csms.charge_point  # noqa: F401 (installs them)

    assert library_charge_point.camel_to_snake_case is key_case.camel_to_snake_case
    assert library_charge_point.snake_to_camel_case is key_case.snake_to_camel_case

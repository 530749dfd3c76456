"""The compiled validators (csms/validation.py) decide exactly as the ``ocpp``
library's own, schema by schema: for every OCPP 1.6 and 2.0.1 message, a
payload built from its schema and many broken variants of it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
from jsonschema.exceptions import ValidationError
from ocpp import messages as library_messages
from ocpp.exceptions import FormatViolationError, TypeConstraintViolationError
from ocpp.messages import Call, MessageType

from csms.validation import DECIMAL_MESSAGES, CompiledValidator, get_validator

SCHEMAS = Path(library_messages.__file__).parent


def messages() -> Iterator[tuple[int, str, str]]:
    """(message type, action, version) of every schema the library has."""
    for version, folder in (("1.6", "v16"), ("2.0.1", "v201")):
        for path in sorted((SCHEMAS / folder / "schemas").glob("*.json")):
            name = path.stem
            if name.endswith("Response"):
                yield MessageType.CallResult, name.removesuffix("Response"), version
            else:
                yield MessageType.Call, name.removesuffix("Request"), version


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A valid instance: every property present, each at its smallest."""
    schema = resolve(schema, root)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: example(prop, root) for name, prop in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), root)] * max(1, schema.get("minItems", 1))
    if kind == "string":
        return "2026-11-23T10:00:00Z" if schema.get("format") == "date-time" else "x"
    if kind == "integer":
        return max(0, schema.get("minimum", 0))
    if kind == "number":
        return float(max(0, schema.get("minimum", 0)))
    if kind == "boolean":
        return True
    return {}


WRONG_VALUES: list[Any] = [None, "text", "x" * 3000, -1, 1.5, 10**12, True, [], {}]


def variants(payload: Any, schema: dict[str, Any], root: dict[str, Any]) -> Iterator[Any]:
    """The payload, then copies broken in one place each: a property left
    out, a wrong value in each place, an unknown property added."""
    yield payload
    schema = resolve(schema, root)
    if isinstance(payload, dict):
        yield {**payload, "unknownProperty": 1}
        for name, value in payload.items():
            yield {key: item for key, item in payload.items() if key != name}
            for wrong in WRONG_VALUES:
                yield {**payload, name: wrong}
            for inner in variants(value, schema.get("properties", {}).get(name, {}), root):
                yield {**payload, name: inner}
    elif isinstance(payload, list) and payload:
        yield []
        yield payload * 3
        for inner in variants(payload[0], schema.get("items", {}), root):
            yield [inner, *payload[1:]]


def accepts(validator: Any, payload: Any) -> bool:
    try:
        validator.validate(copy.deepcopy(payload))
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("message_type", "action", "version"), list(messages()))
def test_compiled_and_library_validators_agree(message_type, action, version):
    compiled = get_validator(message_type, action, version)
    if (message_type, action, version) in DECIMAL_MESSAGES:
        assert not isinstance(compiled, CompiledValidator)  # the library's, whole
        return
    assert isinstance(compiled, CompiledValidator)
    library = compiled.library_validator
    root = library.schema
    valid = example(root, root)
    assert accepts(library, valid), f"the test's example is not valid: {valid}"

    checked = 0
    for payload in variants(valid, root, root):
        by_library = accepts(library, payload)
        assert accepts(compiled, payload) == by_library, json.dumps(payload)[:500]
        # And the fast path alone never accepts what the library refuses.
        try:
            compiled._compiled(copy.deepcopy(payload))
        except fastjsonschema.JsonSchemaValueException:
            pass  # refused: the library decides
        else:
            assert by_library, json.dumps(payload)[:500]
        checked += 1
    assert checked > 1


def test_a_refused_payload_raises_the_librarys_error_and_code(monkeypatch):
    """Through the library's own entry point, as the csms uses it."""
    import csms.charge_point  # noqa: F401 (installs the compiled validators)

    installed = library_messages.get_validator(MessageType.Call, "BootNotification", "1.6")
    assert isinstance(installed, CompiledValidator)
    used = []
    monkeypatch.setattr(installed, "_compiled", lambda payload: used.append(payload))
    library_messages._validate_payload(Call("0", "BootNotification", {}), "1.6")
    assert used == [{}]  # the library's validation went through the compiled validator
    monkeypatch.undo()
    too_long = Call(
        "1", "BootNotification", {"chargePointVendor": "v" * 21, "chargePointModel": "m"}
    )
    with pytest.raises(TypeConstraintViolationError, match="is too long"):
        library_messages._validate_payload(too_long, "1.6")
    unknown = Call(
        "2", "BootNotification", {"chargePointVendor": "v", "chargePointModel": "m", "x": 1}
    )
    with pytest.raises(FormatViolationError, match="Additional properties"):
        library_messages._validate_payload(unknown, "1.6")
    library_messages._validate_payload(
        Call("3", "BootNotification", {"chargePointVendor": "v", "chargePointModel": "m"}), "1.6"
    )

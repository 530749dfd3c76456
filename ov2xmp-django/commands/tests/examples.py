"""Example payloads made from the OCPP JSON schemas: every property filled in
(optional ones too), each value valid for its schema. The command tests send
and answer every command with these, so a field renamed or dropped anywhere on
the way would show."""

from __future__ import annotations

from typing import Any

from commands.catalog import CommandSpec

EXAMPLE_TIME = "2026-11-23T10:00:00Z"


def example(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        return {name: example(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {})) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "string":
        if schema.get("format") == "date-time":
            return EXAMPLE_TIME
        if schema.get("format") == "uri":
            return "https://example.com/file"
        return "x" * max(1, min(schema.get("minLength", 1), schema.get("maxLength", 8)))
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        # 2.1's discharge limits are at most 0.
        return float(schema.get("minimum", min(1, schema.get("maximum", 1))))
    if kind == "boolean":
        return True
    return {}


def example_request(spec: CommandSpec) -> dict[str, Any]:
    return example(spec.request_schema())


def example_answer(spec: CommandSpec) -> dict[str, Any]:
    return example(spec.response_schema())

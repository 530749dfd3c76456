"""Swagger shows one operation per command and version, with that command's
OCPP request and answer schemas."""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from commands.catalog import COMMANDS


@pytest.fixture(scope="module")
def schema():
    """The OpenAPI document as /api/schema/ serves it (no database needed)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(generated, default=str))


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def test_every_command_has_an_operation_of_its_own(schema):
    operations = {
        operation["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith("/api/commands/ocpp")
        for operation in item.values()
    }
    assert operations == {f"send_{s.url_segment}_{s.action}" for s in COMMANDS.values()}


def test_an_operation_shows_the_ocpp_request_and_answer_with_their_enums(schema):
    operation = schema["paths"]["/api/commands/ocpp16/ChangeAvailability/"]["post"]
    body = _resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
    payload = body["properties"]["payload"]
    assert payload["required"] == ["connectorId", "type"]
    assert payload["properties"]["type"]["enum"] == ["Inoperative", "Operative"]
    assert body["required"] == ["charge_point", "payload"]

    answered = _resolve(
        schema, operation["responses"]["200"]["content"]["application/json"]["schema"]
    )
    answer = answered["properties"]["response"]
    assert answer["properties"]["status"]["enum"] == ["Accepted", "Rejected", "Scheduled"]
    assert {"202", "400", "409", "502", "504"} <= set(operation["responses"])


def test_nested_201_schemas_are_resolved_inline(schema):
    operation = schema["paths"]["/api/commands/ocpp201/SetVariables/"]["post"]
    body = _resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
    item = body["properties"]["payload"]["properties"]["setVariableData"]["items"]
    assert item["properties"]["attributeType"]["enum"] == ["Actual", "Target", "MinSet", "MaxSet"]
    assert item["properties"]["component"]["properties"]["evse"]["required"] == ["id"]
    assert "$ref" not in str(body["properties"]["payload"])

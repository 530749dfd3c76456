"""csms.integers: the integer fields of a call, found from its schema."""

from __future__ import annotations

import pytest
from ocpp.exceptions import PropertyConstraintViolationError

from csms.integers import INTEGER_MAX, INTEGER_MIN, field_name, integer_fields, refuse_out_of_range


def fields(action: str, version: str) -> dict[str, int]:
    return {field_name(path): least for path, least in integer_fields(action, version)}


def test_fields_are_found_through_references_and_lists():
    assert fields("StatusNotification", "1.6") == {"connectorId": 0}
    assert fields("Heartbeat", "1.6") == {}
    found = fields("TransactionEvent", "2.0.1")
    assert found["evse.id"] == found["evse.connectorId"] == 0  # through #/definitions/EVSEType
    assert found["seqNo"] == 0
    assert found["transactionInfo.remoteStartId"] == INTEGER_MIN
    assert found["meterValue[].sampledValue[].unitOfMeasure.multiplier"] == INTEGER_MIN


def test_meter_readings_of_16_are_left_to_their_own_bound():
    assert fields("StartTransaction", "1.6") == {"connectorId": 0, "reservationId": INTEGER_MIN}
    assert "meterStop" not in fields("StopTransaction", "1.6")


def test_free_form_data_is_not_checked():
    assert fields("DataTransfer", "2.0.1") == {}
    refuse_out_of_range(
        {"vendorId": "V", "data": {"big": 2**80}, "customData": {"vendorId": "V", "n": -(2**40)}},
        "DataTransfer",
        "2.0.1",
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"connectorId": INTEGER_MAX, "meterValue": [], "transactionId": INTEGER_MIN},
        {"connectorId": 0, "meterValue": [], "transactionId": INTEGER_MAX},
    ],
)
def test_the_bounds_are_allowed(payload):
    refuse_out_of_range(payload, "MeterValues", "1.6")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"connectorId": INTEGER_MAX + 1}, "connectorId: 2147483648 is out of range (0 to "),
        ({"connectorId": -1}, "connectorId: -1 is out of range (0 to 2147483647)"),
        ({"connectorId": 1, "transactionId": INTEGER_MIN - 1}, "transactionId: -2147483649"),
    ],
)
def test_beyond_the_bounds_is_refused_naming_the_field(payload, message):
    with pytest.raises(PropertyConstraintViolationError) as refused:
        refuse_out_of_range({"meterValue": [], **payload}, "MeterValues", "1.6")
    assert refused.value.description.startswith(message)


def test_a_value_in_a_list_is_found():
    sample = {"value": 1.0, "unitOfMeasure": {"multiplier": 2**31}}
    payload = {
        "evseId": 1,
        "meterValue": [
            {"timestamp": "2026-11-25T00:00:00Z", "sampledValue": [{"value": 1.0}]},
            {"timestamp": "2026-11-25T00:00:01Z", "sampledValue": [{"value": 1.0}, sample]},
        ],
    }
    with pytest.raises(
        PropertyConstraintViolationError,
        match=r"unitOfMeasure\.multiplier: 2147483648 is out of range",
    ):
        refuse_out_of_range(payload, "MeterValues", "2.0.1")

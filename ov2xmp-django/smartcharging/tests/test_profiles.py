"""A charging profile's rules, as a table, and its payloads in both OCPP
versions, checked against the OCPP schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chargepoints.tests.factories import ChargePointFactory
from commands.catalog import COMMANDS
from smartcharging.models import ChargingProfile
from smartcharging.profiles import clear_payload, profile_errors, sent_profile_id, set_payload
from transactions.tests.factories import TransactionFactory

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def make(charger=None, **fields) -> ChargingProfile:
    values = {
        "charge_point": charger or ChargePointFactory(id="CP-1"),
        "evse_id": 1,
        "profile_id": 7,
        "stack_level": 1,
        "purpose": "TxDefaultProfile",
        "kind": "Absolute",
        "charging_rate_unit": "A",
        "start_schedule": T0,
        "periods": [{"start_period": 0, "limit": "16.0", "number_phases": 3}],
        **fields,
    }
    return ChargingProfile(**values)


def V2X(**fields) -> dict:
    """A first period with OCPP 2.1 fields."""
    return {"start_period": 0, **fields}


WRONG = [
    ({"purpose": "ChargingStationMaxProfile"}, "2.0.1", "evse_id"),
    ({"purpose": "ChargingStationExternalConstraints", "evse_id": 0}, "1.6", "purpose"),
    ({"purpose": "TxProfile"}, "2.0.1", "transaction"),
    ({"kind": "Recurring"}, "2.0.1", "recurrency_kind"),
    (
        {"kind": "Recurring", "recurrency_kind": "Daily", "start_schedule": None},
        "1.6",
        "start_schedule",
    ),
    ({"recurrency_kind": "Daily"}, "2.0.1", "recurrency_kind"),
    ({"kind": "Relative"}, "2.0.1", "start_schedule"),
    ({"valid_from": T0, "valid_to": T0}, "2.0.1", "valid_to"),
    ({"duration": 0}, "2.0.1", "duration"),
    ({"periods": []}, "2.0.1", "periods"),
    ({"periods": "16 A"}, "2.0.1", "periods"),
    ({"periods": [{"start_period": 60, "limit": "16"}]}, "2.0.1", "periods"),
    (
        {"periods": [{"start_period": 0, "limit": "16"}, {"start_period": 0, "limit": "8"}]},
        "2.0.1",
        "periods",
    ),
    ({"periods": [{"start_period": 0, "limit": "-1"}]}, "2.0.1", "periods"),
    ({"periods": [{"start_period": 0, "limit": "many"}]}, "2.0.1", "periods"),
    ({"periods": [{"start_period": 0, "limit": "16.05"}]}, "1.6", "periods"),
    ({"periods": [{"start_period": 0, "limit": 16, "number_phases": 4}]}, "2.0.1", "periods"),
    (
        {"periods": [{"start_period": 0, "limit": 16, "number_phases": 1, "phase_to_use": 2}]},
        "1.6",
        "periods",
    ),
    (
        {"periods": [{"start_period": 0, "limit": 16, "number_phases": 3, "phase_to_use": 2}]},
        "2.0.1",
        "periods",
    ),
    ({"periods": [{"start_period": 0, "limit": 16, "max": 3}]}, "2.0.1", "periods"),
    ({"periods": [{"start_period": -5, "limit": 16}]}, "2.0.1", "periods"),
    # OCPP 2.1 operation modes (V2X).
    ({"periods": [V2X(operation_mode="Idle")]}, "2.0.1", "periods"),
    ({"periods": [V2X(operation_mode="Standby")]}, "2.1", "periods"),
    ({"periods": [V2X(operation_mode="CentralSetpoint")]}, "2.1", "periods"),
    ({"periods": [V2X(operation_mode="ChargingOnly")]}, "2.1", "periods"),
    ({"periods": [V2X(operation_mode="ChargingOnly", limit=16, setpoint=-8)]}, "2.1", "periods"),
    ({"periods": [V2X(operation_mode="Idle", discharge_limit=-8)]}, "2.1", "periods"),
    ({"periods": [V2X(operation_mode="CentralSetpoint", setpoint=8, limit=6)]}, "2.1", "periods"),
    (
        {"periods": [V2X(operation_mode="CentralSetpoint", setpoint=-9, discharge_limit=-8)]},
        "2.1",
        "periods",
    ),
    ({"periods": [V2X(operation_mode="ExternalLimits", discharge_limit=8)]}, "2.1", "periods"),
    ({"periods": [V2X(operation_mode="LocalFrequency")]}, "2.1", "periods"),
    ({"periods": [V2X(operation_mode="CentralFrequency", limit=16)]}, "2.1", "periods"),
    (
        {
            "periods": [
                V2X(
                    operation_mode="LocalFrequency",
                    v2x_freq_watt_curve=[
                        {"frequency": 50.1, "power": -5000},
                        {"frequency": 49.9, "power": 5000},
                    ],
                )
            ]
        },
        "2.1",
        "periods",
    ),
    (
        {
            "periods": [
                V2X(
                    operation_mode="CentralFrequency",
                    limit=16,
                    v2x_signal_watt_curve=[{"signal": 1.5, "power": 100}],
                )
            ]
        },
        "2.1",
        "periods",
    ),
    ({"periods": [V2X(operation_mode="Idle", evse_sleep="yes")]}, "2.1", "periods"),
]


@pytest.mark.parametrize(("fields", "version", "field"), WRONG)
def test_a_wrong_profile_is_refused_with_its_field_named(db, fields, version, field):
    errors = profile_errors(make(**fields), ocpp_version=version)
    assert field in errors, errors


def test_a_session_profile_must_name_a_session_of_its_charger_and_evse(db):
    charger = ChargePointFactory(id="CP-1")
    elsewhere = TransactionFactory(charge_point=ChargePointFactory(id="CP-2"))
    on_evse_2 = TransactionFactory(charge_point=charger, evse_id=2)
    assert "transaction" in profile_errors(
        make(charger, purpose="TxProfile", transaction=elsewhere), ocpp_version="2.0.1"
    )
    assert "evse_id" in profile_errors(
        make(charger, purpose="TxProfile", transaction=on_evse_2), ocpp_version="2.0.1"
    )
    assert "transaction" in profile_errors(make(charger, transaction=on_evse_2), ocpp_version="1.6")
    good = make(charger, purpose="TxProfile", transaction=on_evse_2, evse_id=2)
    assert profile_errors(good, ocpp_version="1.6") == {}


RIGHT = [
    {},
    {"kind": "Recurring", "recurrency_kind": "Weekly"},
    {"kind": "Relative", "start_schedule": None, "duration": 7200},
    {
        "purpose": "ChargingStationMaxProfile",
        "evse_id": 0,
        "charging_rate_unit": "W",
        "periods": [{"start_period": 0, "limit": "22000"}, {"start_period": 3600, "limit": 11000}],
    },
    {"valid_from": T0, "valid_to": T0 + timedelta(days=1), "min_charging_rate": Decimal("6.0")},
]

RIGHT_21 = [
    {"periods": [V2X(operation_mode="Idle")]},
    {"periods": [V2X(operation_mode="ChargingOnly", limit="16")]},
    {"periods": [V2X(operation_mode="CentralSetpoint", setpoint="-8", discharge_limit="-10")]},
    {
        "periods": [
            V2X(operation_mode="CentralSetpoint", setpoint="8", limit="16", evse_sleep=False)
        ]
    },
    {"periods": [V2X(operation_mode="ExternalLimits", limit="16", discharge_limit="-16")]},
    {
        "periods": [
            V2X(
                operation_mode="LocalFrequency",
                v2x_baseline="0",
                v2x_freq_watt_curve=[
                    {"frequency": "49.8", "power": "7000"},
                    {"frequency": 50, "power": 0},
                    {"frequency": "50.2", "power": "-7000"},
                ],
            )
        ]
    },
    {
        "periods": [
            V2X(
                operation_mode="CentralFrequency",
                limit=16,
                v2x_signal_watt_curve=[
                    {"signal": -100, "power": -7000},
                    {"signal": 100, "power": 7000},
                ],
            ),
            V2X(
                start_period=3600, operation_mode="LocalLoadBalancing", preconditioning_request=True
            ),
        ]
    },
]


@pytest.mark.parametrize("fields", RIGHT + RIGHT_21)
def test_a_right_21_profile_makes_a_payload_the_21_schema_accepts(db, fields):
    profile = make(**fields)
    assert profile_errors(profile, ocpp_version="2.1") == {}
    request = set_payload(profile, ocpp_version="2.1")
    assert COMMANDS[("2.1", "SetChargingProfile")].request_errors(request) == {}
    sent = request["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
    for period, stored in zip(sent, profile.periods, strict=True):
        if "operation_mode" in stored:
            assert period["operationMode"] == stored["operation_mode"]
        if "setpoint" in stored:
            assert period["setpoint"] == float(stored["setpoint"])


@pytest.mark.parametrize("fields", RIGHT)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_right_profile_makes_payloads_the_ocpp_schemas_accept(db, fields, version):
    profile = make(**fields)
    assert profile_errors(profile, ocpp_version=version) == {}
    request = set_payload(profile, ocpp_version=version)
    assert COMMANDS[(version, "SetChargingProfile")].request_errors(request) == {}
    assert sent_profile_id("SetChargingProfile", version, request) == 7
    clear = clear_payload(profile, ocpp_version=version)
    assert COMMANDS[(version, "ClearChargingProfile")].request_errors(clear) == {}
    assert sent_profile_id("ClearChargingProfile", version, clear) == 7


def test_the_payloads_say_the_same_in_each_versions_words(db):
    charger = ChargePointFactory(id="CP-1")
    session = TransactionFactory(charge_point=charger, ocpp_transaction_id="42")
    profile = make(
        charger,
        purpose="TxProfile",
        transaction=session,
        periods=[{"start_period": 0, "limit": "16.5", "number_phases": 1, "phase_to_use": 2}],
    )
    v201 = set_payload(profile, ocpp_version="2.0.1")
    assert v201["evseId"] == 1
    body = v201["chargingProfile"]
    assert (body["id"], body["transactionId"], body["chargingProfilePurpose"]) == (
        7,
        "42",
        "TxProfile",
    )
    assert body["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.5, "numberPhases": 1, "phaseToUse": 2}
    ]
    station = make(charger, purpose="ChargingStationMaxProfile", evse_id=0)
    v16 = set_payload(station, ocpp_version="1.6")
    assert v16["connectorId"] == 0
    assert v16["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert (
        v16["csChargingProfiles"]["chargingSchedule"]["startSchedule"] == "2026-06-01T00:00:00.000Z"
    )

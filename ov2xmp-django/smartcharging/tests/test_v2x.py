"""V2X end to end: an OCPP 2.1 charger (a real websocket client) runs a
bidirectional session; the operator switches it between operation modes
through the API and sees the charger's answers, the mode it reports, and the
energy and power flowing each way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from ocpp.v21 import call
from ocpp.v201 import call as call201
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from chargepoints.models import ChargePoint
from commands.tests.charger import answering_charger
from csms.tests.helpers import in_thread
from smartcharging.models import ChargingNeeds, ChargingProfile
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)  # in the past: sessions have started
TOKEN = {"id_token": "EV-V2X", "type": "ISO14443"}


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def sample(measurand: str, value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "measurand": measurand, "unit_of_measure": {"unit": unit}}


def event(
    event_type: str, seq_no: int, minutes: int, mode: str, samples: list[dict[str, Any]]
) -> call.TransactionEvent:
    return call.TransactionEvent(
        event_type=event_type,
        timestamp=at(minutes),
        trigger_reason="Authorized" if event_type == "Started" else "ChargingRateChanged",
        seq_no=seq_no,
        transaction_info={
            "transaction_id": "TX-V2X",
            "charging_state": "Charging",
            "operation_mode": mode,
        },
        evse={"id": 1, "connector_id": 1},
        id_token=TOKEN if event_type == "Started" else None,
        meter_value=[{"timestamp": at(minutes), "sampled_value": samples}],
    )


async def start_201(charger: Any, transaction_id: str) -> None:
    """A 2.0.1 session on EVSE 1 (no token)."""
    await charger.call(
        call201.TransactionEvent(
            event_type="Started",
            timestamp=at(0),
            trigger_reason="Authorized",
            seq_no=0,
            transaction_info={"transaction_id": transaction_id},
            evse={"id": 1, "connector_id": 1},
        ),
        suppress=False,
    )


@sync_to_async
def technician() -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(username="tech", role=Role.SECOND_LINE_SUPPORT))
    return client


async def switch(api: APIClient, session_id: int, **body: Any) -> Any:
    return await in_thread(
        api.post, f"/api/transactions/{session_id}/operation-mode/", {"wait": 5, **body}, "json"
    )


def period_sent(charger: Any) -> dict[str, Any]:
    action, request = charger.received[-1]
    assert action == "SetChargingProfile"
    profile = request["chargingProfile"]
    assert (profile["chargingProfilePurpose"], profile["transactionId"]) == ("TxProfile", "TX-V2X")
    [schedule] = profile["chargingSchedule"]
    [period] = schedule["chargingSchedulePeriod"]
    return period


async def test_a_21_session_switched_between_charging_discharging_and_idle(csms):
    api = await technician()
    async with answering_charger(csms.url, "CP-V2X", "ocpp2.1") as charger:
        charger.answers["SetChargingProfile"] = {"status": "Accepted"}
        await charger.call(
            event(
                "Started",
                0,
                0,
                "ChargingOnly",
                [
                    sample("Energy.Active.Import.Register", 1000, "Wh"),
                    sample("Energy.Active.Export.Register", 200, "Wh"),
                    sample("Power.Active.Import", 11000, "W"),
                ],
            ),
            suppress=False,
        )
        needs = await charger.call(
            call.NotifyEVChargingNeeds(
                evse_id=1,
                charging_needs={
                    "requested_energy_transfer": "AC_BPT",
                    "available_energy_transfer": ["AC_single_phase", "AC_BPT"],
                    "control_mode": "DynamicControl",
                    "mobility_needs_mode": "EVCC_SECC",
                    "v2x_charging_parameters": {
                        "min_charge_power": 1400,
                        "max_charge_power": 11000,
                        "min_discharge_power": 1400,
                        "max_discharge_power": 10000,
                    },
                },
            ),
            suppress=False,
        )
        assert needs.status in ("Accepted", "Rejected", "Processing", "NoChargingProfile")
        session = await Transaction.objects.aget(charge_point_id="CP-V2X")
        assert (session.ocpp_version, session.operation_mode) == ("2.1", "ChargingOnly")

        # Discharge at 5 kW, never more than 7 kW.
        answer = await switch(
            api,
            session.pk,
            operation_mode="CentralSetpoint",
            setpoint_w="-5000",
            discharge_limit_w="-7000",
        )
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert (body["answer"], body["profile"]["status"]) == ({"status": "Accepted"}, "Accepted")
        assert period_sent(charger) == {
            "startPeriod": 0,
            "operationMode": "CentralSetpoint",
            "setpoint": -5000,
            "dischargeLimit": -7000,
        }
        # In dynamic control the charger pulls what its profile says now.
        pulled = await charger.call(
            call.PullDynamicScheduleUpdate(charging_profile_id=body["profile"]["profile_id"]),
            suppress=False,
        )
        assert (pulled.status, pulled.schedule_update) == (
            "Accepted",
            {"setpoint": -5000, "discharge_limit": -7000},
        )
        unknown = await charger.call(call.PullDynamicScheduleUpdate(charging_profile_id=999))
        assert (unknown.status, unknown.status_info["reason_code"]) == (
            "Rejected",
            "UnknownProfile",
        )
        # The charger follows, and reports it with the power flowing back.
        await charger.call(
            event(
                "Updated",
                1,
                30,
                "CentralSetpoint",
                [
                    sample("Energy.Active.Import.Register", 4000, "Wh"),
                    sample("Energy.Active.Export.Register", 1.7, "kWh"),
                    sample("Power.Active.Import", 0, "W"),
                    sample("Power.Active.Export", 5, "kW"),
                ],
            ),
            suppress=False,
        )

        # Idle, refused by the charger: the operator sees the refusal.
        charger.answers["SetChargingProfile"] = {
            "status": "Rejected",
            "statusInfo": {"reasonCode": "UnsupportedMode"},
        }
        refused = await switch(api, session.pk, operation_mode="Idle")
        assert refused.status_code == 200, refused.content
        assert refused.json()["profile"]["status"] == "Rejected"
        assert refused.json()["answer"]["statusInfo"] == {"reasonCode": "UnsupportedMode"}
        assert period_sent(charger) == {"startPeriod": 0, "operationMode": "Idle"}

        # Back to charging only, at most 7.4 kW: the same profile, replaced.
        charger.answers["SetChargingProfile"] = {"status": "Accepted"}
        back = await switch(api, session.pk, operation_mode="ChargingOnly", limit_w="7400")
        assert back.json()["profile"]["status"] == "Accepted"
        assert period_sent(charger) == {
            "startPeriod": 0,
            "limit": 7400,
            "operationMode": "ChargingOnly",
        }

    session = await Transaction.objects.aget(pk=session.pk)
    assert session.operation_mode == "CentralSetpoint"  # as the charger last reported
    assert (session.energy_wh, session.energy_exported_wh) == (Decimal(3000), Decimal(1500))
    assert (session.power_import_w, session.power_export_w) == (0, Decimal(5000))
    listed = (await in_thread(api.get, f"/api/transactions/{session.pk}/")).json()
    assert (listed["energy_exported_wh"], listed["power_export_w"]) == ("1500.000", "5000.000")
    assert listed["operation_mode"] == "CentralSetpoint"
    assert await ChargingProfile.objects.filter(transaction=session).acount() == 1
    stored = await ChargingNeeds.objects.aget(charge_point_id="CP-V2X")
    assert (stored.control_mode, stored.mobility_needs_mode) == ("DynamicControl", "EVCC_SECC")
    assert stored.v2x_charging_parameters["max_discharge_power"] == 10000
    assert stored.available_energy_transfer == ["AC_single_phase", "AC_BPT"]
    assert stored.transaction_id == session.pk


async def test_modes_need_a_21_charger_and_a_running_session(csms):
    api = await technician()
    async with answering_charger(csms.url, "CP-201", "ocpp2.0.1") as charger:
        await start_201(charger, "TX-201")
        session = await Transaction.objects.aget(charge_point_id="CP-201")
        refused = await switch(api, session.pk, operation_mode="Idle")
        assert refused.status_code == 400
        assert "OCPP 2.1" in refused.json()["transaction"][0]
        assert await ChargePoint.objects.filter(id="CP-201", ocpp_version="2.0.1").aexists()
    for body, field in (
        ({"operation_mode": "CentralSetpoint"}, "setpoint_w"),
        ({"operation_mode": "Idle", "setpoint_w": "100"}, "setpoint_w"),
        (
            {"operation_mode": "CentralSetpoint", "setpoint_w": "1", "discharge_limit_w": "5"},
            "discharge_limit_w",
        ),
        ({"operation_mode": "LocalFrequency"}, "operation_mode"),
    ):
        answer = await switch(api, session.pk, **body)
        assert answer.status_code == 400, body
        assert field in answer.json(), (body, answer.content)
    await Transaction.objects.filter(pk=session.pk).aupdate(status="Ended")
    ended = await switch(api, session.pk, operation_mode="Idle")
    assert ended.json() == {"transaction": ["The session has ended."]}


def test_ev_needs_bound_the_share_and_a_mode_survives_rebalancing(db):
    from chargepoints.tests.factories import ChargePointFactory
    from locations.tests.factories import LocationFactory
    from smartcharging.load_management import load_group_rebalance
    from smartcharging.models import LoadGroup
    from smartcharging.v2x import transaction_operation_mode_switch
    from transactions.tests.factories import TransactionFactory

    site = LocationFactory(time_zone="UTC")
    group = LoadGroup.objects.create(name="Depot", location=site, max_import_w=22080)
    sessions = []
    for name in ("CP-A", "CP-B"):
        charger = ChargePointFactory(id=name, location=site, ocpp_version="2.1")
        sessions.append(TransactionFactory(charge_point=charger, ocpp_version="2.1"))
    a, b = sessions
    # A's EV charges with 5 kW at most; B's with 10 A on three phases at least.
    ChargingNeeds.objects.create(
        charge_point=a.charge_point,
        evse_id=1,
        transaction=a,
        requested_energy_transfer="AC_BPT",
        v2x_charging_parameters={"min_charge_power": 1400, "max_charge_power": 5000},
        answered_status="Accepted",
    )
    ChargingNeeds.objects.create(
        charge_point=b.charge_point,
        evse_id=1,
        transaction=b,
        requested_energy_transfer="AC_three_phase",
        ac_charging_parameters={"ev_min_current": 10, "ev_max_current": 32},
        answered_status="Accepted",
    )

    def limits() -> dict[str, list[dict[str, Any]]]:
        return {
            p.charge_point_id: p.periods for p in ChargingProfile.objects.filter(load_group=group)
        }

    load_group_rebalance(group_id=group.pk, at=T0)
    assert {name: periods[0]["limit"] for name, periods in limits().items()} == {
        "CP-A": "5000",  # the EV's maximum
        "CP-B": "17080",  # the rest, within B's 22,080 W (32 A x 230 V x 3)
    }
    # A discharges: the group's profile carries the mode, the share stays its limit.
    profile, _ = transaction_operation_mode_switch(
        transaction=a,
        mode="CentralSetpoint",
        setpoint_w=Decimal(9000),
        discharge_limit_w=Decimal(-3000),
        limit_w=None,
        created_by=None,
        at=T0,
    )
    assert profile.load_group_id == group.pk
    expected_a = {
        "start_period": 0,
        "limit": "5000",
        "number_phases": 3,
        "operation_mode": "CentralSetpoint",
        "setpoint": "5000",  # held at the share
        "discharge_limit": "-3000",
    }
    assert limits()["CP-A"] == [expected_a]
    # The site's limit drops: each gets its EV's minimum (1,400 and 6,900 W) and
    # half the 700 W left; A keeps its mode, its setpoint held at the new share.
    group.max_import_w = 9000
    group.save()
    load_group_rebalance(group_id=group.pk, at=T0 + timedelta(minutes=5))
    assert limits() == {
        "CP-A": [{**expected_a, "limit": "1750", "setpoint": "1750"}],
        "CP-B": [{"start_period": 0, "limit": "7250", "number_phases": 3}],
    }


async def test_needs_and_pauses_within_a_load_group_shape_the_share(csms):
    from chargepoints.tests.factories import ChargePointFactory
    from csms.tests.helpers import eventually
    from locations.tests.factories import LocationFactory
    from smartcharging.models import LoadGroup

    @sync_to_async
    def site() -> None:
        location = LocationFactory(time_zone="UTC")
        ChargePointFactory(id="CP-SITE", location=location)
        LoadGroup.objects.create(name="Depot", location=location, max_import_w=22080)

    await site()
    async with answering_charger(csms.url, "CP-SITE", "ocpp2.0.1") as charger:
        charger.answers["SetChargingProfile"] = {"status": "Accepted"}

        async def limit_sent(watts: int) -> bool:
            sent = charger.requests("SetChargingProfile")
            schedule = sent[-1]["chargingProfile"]["chargingSchedule"][0] if sent else None
            return schedule is not None and schedule["chargingSchedulePeriod"][0]["limit"] == watts

        await start_201(charger, "TX-SITE")
        await eventually(lambda: limit_sent(22080), within=10)
        answer = await charger.call(
            call201.NotifyEVChargingNeeds(
                evse_id=1,
                charging_needs={
                    "requested_energy_transfer": "AC_three_phase",
                    "ac_charging_parameters": {
                        "energy_amount": 20000,
                        "ev_min_current": 6,
                        "ev_max_current": 16,
                        "ev_max_voltage": 400,
                    },
                },
            ),
            suppress=False,
        )
        assert (answer.status, answer.status_info) == ("Accepted", None)
        # 16 A x 230 V x 3 phases: the EV's most, below the site's limit.
        await eventually(lambda: limit_sent(11040), within=10)

        async def state(seq_no: int, charging_state: str) -> None:
            await charger.call(
                call201.TransactionEvent(
                    event_type="Updated",
                    timestamp=at(seq_no),
                    trigger_reason="ChargingStateChanged",
                    seq_no=seq_no,
                    transaction_info={
                        "transaction_id": "TX-SITE",
                        "charging_state": charging_state,
                    },
                ),
                suppress=False,
            )

        # The car pauses: it keeps only its minimum (6 A x 230 V x 3), then resumes.
        await state(1, "SuspendedEV")
        await eventually(lambda: limit_sent(4140), within=10)
        await state(2, "Charging")
        await eventually(lambda: limit_sent(11040), within=10)


async def test_a_token_that_may_not_discharge_charges_only(csms):
    from idtokens.models import IdToken

    await IdToken.objects.acreate(value="EV-V2X", type="ISO14443", may_discharge=False)
    await IdToken.objects.acreate(value="EV-BPT", type="ISO14443")
    api = await technician()
    async with answering_charger(csms.url, "CP-V2X", "ocpp2.1") as charger:
        charger.answers["SetChargingProfile"] = {"status": "Accepted"}
        refused = await charger.call(call.Authorize(id_token=TOKEN), suppress=False)
        assert refused.id_token_info["status"] == "Accepted"
        assert "AC_BPT" not in refused.allowed_energy_transfer
        assert "AC_three_phase" in refused.allowed_energy_transfer
        allowed = await charger.call(
            call.Authorize(id_token={"id_token": "EV-BPT", "type": "ISO14443"}), suppress=False
        )
        assert allowed.allowed_energy_transfer is None  # every mode the charger has
        await charger.call(
            event(
                "Started", 0, 0, "ChargingOnly", [sample("Energy.Active.Import.Register", 0, "Wh")]
            ),
            suppress=False,
        )
        session = await Transaction.objects.aget(charge_point_id="CP-V2X")
        discharge = await switch(
            api, session.pk, operation_mode="CentralSetpoint", setpoint_w="-3000"
        )
        assert discharge.status_code == 400
        assert "may not discharge" in discharge.json()["operation_mode"][0]
        assert not charger.requests("SetChargingProfile")
        charge = await switch(api, session.pk, operation_mode="CentralSetpoint", setpoint_w="3000")
        assert charge.status_code == 200, charge.content

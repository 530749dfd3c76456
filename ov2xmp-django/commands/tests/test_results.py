"""What an answered command changes besides its own row."""

from __future__ import annotations

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargepoints.models import ChargePoint, ChargerReport, ConfigurationKey, DeviceModelVariable
from commands import results
from commands.catalog import OCPP16
from commands.models import Command
from core.testing import iso
from core.time import utc_now
from csms.tests.helpers import in_thread
from transactions.models import Transaction

V201 = "ocpp2.0.1"


async def test_get_configuration_stores_the_keys_and_forgets_unknown_ones(csms, connect, send):
    async with connect(csms, "CP-1") as charger:
        await ConfigurationKey.objects.acreate(charge_point_id="CP-1", key="Gone", value="1")
        charger.answers["GetConfiguration"] = {
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
                {"key": "NoValue", "readonly": True},
            ],
            "unknownKey": ["Gone"],
        }
        response = await send("ocpp16", "GetConfiguration", "CP-1", {})
        assert response.status_code == 200
        charger.answers["ChangeConfiguration"] = {"status": "RebootRequired"}
        changed = await send(
            "ocpp16", "ChangeConfiguration", "CP-1", {"key": "HeartbeatInterval", "value": "60"}
        )
        charger.answers["ChangeConfiguration"] = {"status": "Rejected"}
        await send("ocpp16", "ChangeConfiguration", "CP-1", {"key": "NoValue", "value": "x"})
    assert changed.status_code == 200
    keys = {
        key.key: (key.value, key.readonly, key.reboot_required)
        async for key in ConfigurationKey.objects.filter(charge_point_id="CP-1")
    }
    assert keys == {
        "HeartbeatInterval": ("60", False, True),
        "NumberOfConnectors": ("2", True, False),
        "NoValue": ("", True, False),
    }


async def test_get_and_set_variables_update_the_device_model(csms, connect, send):
    power = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
    interval = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    async with connect(csms, "CP-2", V201) as charger:
        charger.answers["GetVariables"] = {
            "getVariableResult": [
                {**power, "attributeStatus": "Accepted", "attributeValue": "22000"},
                {**interval, "attributeStatus": "UnknownVariable"},
            ]
        }
        await send("ocpp201", "GetVariables", "CP-2", {"getVariableData": [power, interval]})
        charger.answers["SetVariables"] = {
            "setVariableResult": [
                {**interval, "attributeStatus": "Accepted"},
                {**power, "attributeType": "Target", "attributeStatus": "Rejected"},
            ]
        }
        await send(
            "ocpp201",
            "SetVariables",
            "CP-2",
            {
                "setVariableData": [
                    {**interval, "attributeValue": "120"},
                    {**power, "attributeType": "Target", "attributeValue": "11000"},
                ]
            },
        )
    values = {
        (v.component_name, v.evse_id, v.variable_name, v.attribute_type): v.value
        async for v in DeviceModelVariable.objects.filter(charge_point_id="CP-2")
    }
    assert values == {
        ("EVSE", 1, "Power", "Actual"): "22000",
        ("OCPPCommCtrlr", None, "HeartbeatInterval", "Actual"): "120",
    }


async def test_the_local_list_version_is_recorded_for_both_versions(csms, connect, send):
    async with connect(csms, "CP-1") as charger:
        charger.answers["SendLocalList"] = {"status": "Accepted"}
        await send("ocpp16", "SendLocalList", "CP-1", {"listVersion": 7, "updateType": "Full"})
        assert (await ChargePoint.objects.aget(id="CP-1")).local_list_version == 7
        charger.answers["GetLocalListVersion"] = {"listVersion": 9}
        await send("ocpp16", "GetLocalListVersion", "CP-1", {})
        assert (await ChargePoint.objects.aget(id="CP-1")).local_list_version == 9
    async with connect(csms, "CP-2", V201) as charger:
        charger.answers["SendLocalList"] = {"status": "Failed"}
        await send("ocpp201", "SendLocalList", "CP-2", {"versionNumber": 3, "updateType": "Full"})
        assert (await ChargePoint.objects.aget(id="CP-2")).local_list_version is None
        charger.answers["SendLocalList"] = {"status": "Accepted"}
        await send("ocpp201", "SendLocalList", "CP-2", {"versionNumber": 4, "updateType": "Full"})
        assert (await ChargePoint.objects.aget(id="CP-2")).local_list_version == 4


async def test_a_report_is_linked_to_the_command_that_asked_for_it(csms, connect, send, api):
    async with connect(csms, "CP-2", V201) as charger:
        charger.answers["GetBaseReport"] = {"status": "Accepted"}
        body = (
            await send(
                "ocpp201", "GetBaseReport", "CP-2", {"requestId": 42, "reportBase": "FullInventory"}
            )
        ).json()
        assert body["request_id"] == 42
        await charger.call(
            call201.NotifyReport(
                request_id=42,
                generated_at=iso(utc_now()),
                seq_no=0,
                tbc=False,
                report_data=[
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                        "variable_attribute": [{"value": "300"}],
                    }
                ],
            )
        )
    report = await ChargerReport.objects.aget(charge_point_id="CP-2", request_id=42)
    assert str(report.command_id) == body["id"]
    detail = (await in_thread(api.get, body["url"])).json()
    assert detail["reports"] == [report.pk]
    listed = (await in_thread(api.get, f"/api/charger-reports/{report.pk}/")).json()
    assert listed["command"] == body["id"]


async def test_a_remote_start_is_linked_to_the_session_it_started_16(csms, connect, send):
    async with connect(csms, "CP-1") as charger:
        charger.answers["RemoteStartTransaction"] = {"status": "Accepted"}
        body = (
            await send(
                "ocpp16", "RemoteStartTransaction", "CP-1", {"idTag": "DRIVER-9", "connectorId": 1}
            )
        ).json()
        await charger.call(
            call16.StartTransaction(
                connector_id=1, id_tag="DRIVER-9", meter_start=0, timestamp=iso(utc_now())
            )
        )
    command = await Command.objects.aget(id=body["id"])
    session = await Transaction.objects.aget(charge_point_id="CP-1")
    assert command.transaction_id == session.pk


async def test_a_remote_start_is_linked_to_the_session_it_started_201(csms, connect, send):
    async with connect(csms, "CP-2", V201) as charger:
        charger.answers["RequestStartTransaction"] = {"status": "Accepted"}
        body = (
            await send(
                "ocpp201",
                "RequestStartTransaction",
                "CP-2",
                {"idToken": {"idToken": "DRIVER-9", "type": "ISO14443"}, "remoteStartId": 77},
            )
        ).json()
        assert body["request_id"] == 77
        await charger.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=iso(utc_now()),
                trigger_reason="RemoteStart",
                seq_no=0,
                transaction_info={"transaction_id": "TX-77", "remote_start_id": 77},
                evse={"id": 1, "connector_id": 1},
            )
        )
    command = await Command.objects.aget(id=body["id"])
    session = await Transaction.objects.aget(charge_point_id="CP-2")
    assert command.transaction_id == session.pk


async def test_an_answer_the_domain_cannot_use_is_still_recorded(
    csms, connect, send, monkeypatch, caplog
):
    def broken(command, response):
        raise RuntimeError("domain update failed")

    monkeypatch.setitem(results._HANDLERS, (OCPP16, "GetConfiguration"), broken)
    async with connect(csms, "CP-1"):
        response = await send("ocpp16", "GetConfiguration", "CP-1", {})
    assert response.status_code == 200
    assert response.json()["status"] == "Answered"
    assert "applying the answer to GetConfiguration" in caplog.text

"""OCPP 2.0.1 device-model and display reports, sent by a real websocket
client to the real server: NotifyReport, NotifyEvent, NotifyMonitoringReport,
NotifyCustomerInformation and NotifyDisplayMessages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from ocpp.v201 import call

from chargepoints.models import (
    ChargerEvent,
    ChargerReport,
    DeviceModelVariable,
    DisplayMessage,
    VariableMonitor,
)
from core.testing import iso
from csms.simulator import simulated_charger
from csms.tests.helpers import boot_201 as boot

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
V201 = ("ocpp2.0.1",)


def report_part(seq_no: int, tbc: bool, items: list[tuple[str, str, str]]) -> call.NotifyReport:
    return call.NotifyReport(
        request_id=5,
        generated_at=iso(T0),
        seq_no=seq_no,
        tbc=tbc,
        report_data=[
            {
                "component": {
                    "name": component,
                    **({"evse": {"id": 1}} if component == "EVSE" else {}),
                },
                "variable": {"name": variable},
                "variable_attribute": [{"value": value, "mutability": "ReadWrite"}],
                "variable_characteristics": {"data_type": "string", "supports_monitoring": False},
            }
            for component, variable, value in items
        ],
    )


async def test_a_multi_part_report_is_assembled_per_request_id(csms):
    async with simulated_charger(csms.url, "CP-DM", subprotocols=V201) as charger:
        await boot(charger)
        # Parts arrive out of order; the report is complete only with all of them.
        await charger.call(report_part(1, False, [("EVSE", "Power", "22000")]))
        report = await ChargerReport.objects.aget(
            charge_point_id="CP-DM", kind="DeviceModel", request_id=5
        )
        assert not report.complete
        await charger.call(report_part(0, True, [("OCPPCommCtrlr", "HeartbeatInterval", "300")]))
        await charger.call(report_part(0, True, [("OCPPCommCtrlr", "HeartbeatInterval", "60")]))
        report = await ChargerReport.objects.aget(
            charge_point_id="CP-DM", kind="DeviceModel", request_id=5
        )
        variables = {
            (v.component_name, v.evse_id, v.variable_name): (v.value, v.characteristics)
            async for v in DeviceModelVariable.objects.filter(charge_point_id="CP-DM")
        }
    assert (report.complete, report.seq_nos, report.last_seq_no) == (True, [0, 1], 1)
    assert variables == {
        ("EVSE", 1, "Power"): ("22000", {"data_type": "string", "supports_monitoring": False}),
        ("OCPPCommCtrlr", None, "HeartbeatInterval"): (
            "60",  # a part sent again updates, it does not duplicate
            {"data_type": "string", "supports_monitoring": False},
        ),
    }


async def test_notify_event_stores_each_event_once(csms):
    data = [
        {
            "event_id": 1,
            "timestamp": iso(T0),
            "trigger": "Alerting",
            "actual_value": "86",
            "event_notification_type": "HardWiredMonitor",
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "Temperature"},
            "tech_code": "T-HIGH",
        },
        {
            "event_id": 2,
            "timestamp": iso(T0 + timedelta(minutes=5)),
            "trigger": "Alerting",
            "actual_value": "60",
            "event_notification_type": "HardWiredMonitor",
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "Temperature"},
            "cause": 1,
            "cleared": True,
        },
    ]
    async with simulated_charger(csms.url, "CP-EVT", subprotocols=V201) as charger:
        await boot(charger)
        notify = call.NotifyEvent(generated_at=iso(T0), seq_no=0, event_data=data)
        await charger.call(notify)
        await charger.call(notify)  # resent after a reconnect
        events = [
            (e.event_id, e.evse_id, e.variable_name, e.actual_value, e.cleared, e.cause)
            async for e in ChargerEvent.objects.filter(charge_point_id="CP-EVT").order_by(
                "event_id"
            )
        ]
    assert events == [
        (1, 1, "Temperature", "86", False, None),
        (2, 1, "Temperature", "60", True, 1),
    ]


def monitoring_part(seq_no: int, tbc: bool, monitors: list[tuple[int, str, float]]):
    return call.NotifyMonitoringReport(
        request_id=9,
        seq_no=seq_no,
        generated_at=iso(T0),
        tbc=tbc,
        monitor=[
            {
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": variable},
                "variable_monitoring": [
                    {
                        "id": monitor_id,
                        "transaction": False,
                        "value": value,
                        "type": "UpperThreshold",
                        "severity": 4,
                    }
                ],
            }
            for monitor_id, variable, value in monitors
        ],
    )


async def test_a_monitoring_report_keeps_each_monitor_once(csms):
    async with simulated_charger(csms.url, "CP-MON", subprotocols=V201) as charger:
        await boot(charger)
        await charger.call(monitoring_part(1, False, [(2, "Power", 22000.0)]))
        await charger.call(monitoring_part(0, True, [(1, "Temperature", 80.0)]))
        await charger.call(monitoring_part(0, True, [(1, "Temperature", 85.5)]))  # resent, changed
        report = await ChargerReport.objects.aget(charge_point_id="CP-MON", kind="Monitoring")
        monitors = [
            (m.monitor_id, m.evse_id, m.variable_name, m.type, m.value, m.severity, m.report_id)
            async for m in VariableMonitor.objects.filter(charge_point_id="CP-MON")
        ]
    assert (report.request_id, report.complete, report.seq_nos) == (9, True, [0, 1])
    assert monitors == [
        (1, 1, "Temperature", "UpperThreshold", 85.5, 4, report.pk),
        (2, 1, "Power", "UpperThreshold", 22000.0, 4, report.pk),
    ]


async def test_customer_information_parts_are_joined_in_order(csms):
    def part(seq_no: int, data: str, tbc: bool):
        return call.NotifyCustomerInformation(
            data=data, seq_no=seq_no, generated_at=iso(T0), request_id=3, tbc=tbc
        )

    async with simulated_charger(csms.url, "CP-CUST", subprotocols=V201) as charger:
        await boot(charger)
        await charger.call(part(1, "used 3 times; ", True))
        await charger.call(part(2, "last on 2026-11-20", False))
        report = await ChargerReport.objects.aget(charge_point_id="CP-CUST")
        assert not report.complete  # part 0 is missing
        await charger.call(part(0, "Token CARD-1 ", True))
        report = await ChargerReport.objects.aget(charge_point_id="CP-CUST")
    assert (report.kind, report.request_id, report.complete) == ("CustomerInformation", 3, True)
    assert report.text == "Token CARD-1 used 3 times; last on 2026-11-20"


async def test_display_messages_are_upserted_by_id(csms, api):
    def message(message_id: int, content: str, **extra):
        return {
            "id": message_id,
            "priority": "NormalCycle",
            "message": {"format": "UTF8", "language": "en", "content": content},
            **extra,
        }

    async with simulated_charger(csms.url, "CP-DISP", subprotocols=V201) as charger:
        await boot(charger)
        await charger.call(
            call.NotifyDisplayMessages(
                request_id=4,
                tbc=True,
                message_info=[
                    message(
                        1,
                        "Welcome",
                        state="Idle",
                        start_date_time=iso(T0),
                        end_date_time=iso(T0 + timedelta(days=1)),
                        display={"name": "Display", "evse": {"id": 1}},
                    )
                ],
            )
        )
        await charger.call(
            call.NotifyDisplayMessages(
                request_id=4, message_info=[message(2, "Maintenance at 22:00")]
            )
        )
        await charger.call(
            call.NotifyDisplayMessages(request_id=5, message_info=[message(1, "Welcome back")])
        )
        messages = {
            m.message_id: m async for m in DisplayMessage.objects.filter(charge_point_id="CP-DISP")
        }
    assert set(messages) == {1, 2}
    first = messages[1]
    assert (first.message_content, first.request_id, first.state) == ("Welcome back", 5, "")
    assert (first.starts_at, first.display_component_name) == (None, "")
    listed = await sync_to_async(api.get)(
        "/api/display-messages/?charge_point=CP-DISP&message_id=2"
    )
    assert [m["message_content"] for m in listed.json()["results"]] == ["Maintenance at 22:00"]

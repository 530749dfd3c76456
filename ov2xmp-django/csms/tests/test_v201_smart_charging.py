"""OCPP 2.0.1 messages about charging power, reservations and firmware
publishing, sent by a real websocket client to the real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v201 import call

from chargepoints.models import ChargePoint
from core.testing import iso
from csms.simulator import simulated_charger
from csms.tests.helpers import boot_201 as boot
from reservations.models import Reservation
from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    EvChargingSchedule,
    ReportedChargingProfile,
)
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
V201 = ("ocpp2.0.1",)
SCHEDULE = {
    "id": 1,
    "charging_rate_unit": "W",
    "charging_schedule_period": [
        {"start_period": 0, "limit": 11000.0},
        {"start_period": 3600, "limit": 7400.0},
    ],
}


def started(transaction_id: str, evse_id: int, **fields) -> call.TransactionEvent:
    return call.TransactionEvent(
        event_type="Started",
        timestamp=iso(T0),
        trigger_reason="CablePluggedIn",
        seq_no=0,
        transaction_info={"transaction_id": transaction_id},
        evse={"id": evse_id, "connector_id": 1},
        **fields,
    )


async def test_ev_needs_are_stored_and_refused_and_its_schedule_accepted(csms):
    async with simulated_charger(csms.url, "CP-NEEDS", subprotocols=V201) as charger:
        await boot(charger)
        await charger.call(started("TX-N", 1))
        needs = await charger.call(
            call.NotifyEVChargingNeeds(
                evse_id=1,
                max_schedule_tuples=3,
                charging_needs={
                    "requested_energy_transfer": "AC_three_phase",
                    "departure_time": iso(T0 + timedelta(hours=8)),
                    "ac_charging_parameters": {
                        "energy_amount": 30000,
                        "ev_min_current": 6,
                        "ev_max_current": 32,
                        "ev_max_voltage": 400,
                    },
                },
            )
        )
        schedule = await charger.call(
            call.NotifyEVChargingSchedule(time_base=iso(T0), evse_id=1, charging_schedule=SCHEDULE)
        )
        stored_needs = await ChargingNeeds.objects.select_related("transaction").aget(
            charge_point_id="CP-NEEDS"
        )
        stored_schedule = await EvChargingSchedule.objects.aget(charge_point_id="CP-NEEDS")
    # No schedule will come from this CSMS yet: the spec's answer for that.
    assert needs.status == "Rejected"
    assert needs.status_info["reason_code"] == "NoSchedule"
    assert stored_needs.transaction.ocpp_transaction_id == "TX-N"
    assert (stored_needs.requested_energy_transfer, stored_needs.max_schedule_tuples) == (
        "AC_three_phase",
        3,
    )
    assert stored_needs.departure_time == T0 + timedelta(hours=8)
    assert stored_needs.ac_charging_parameters["ev_max_current"] == 32
    assert stored_needs.answered_status == "Rejected"
    assert schedule.status == "Accepted"
    assert stored_schedule.time_base == T0
    assert stored_schedule.charging_schedule == SCHEDULE
    assert stored_schedule.transaction_id == stored_needs.transaction_id


async def test_charging_limits_are_kept_until_cleared(csms):
    async with simulated_charger(csms.url, "CP-LIMIT", subprotocols=V201) as charger:
        await boot(charger)
        await charger.call(
            call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": "SO", "is_grid_critical": True},
                charging_schedule=[SCHEDULE],
            )
        )
        await charger.call(
            call.NotifyChargingLimit(charging_limit={"charging_limit_source": "EMS"}, evse_id=1)
        )
        await charger.call(
            call.NotifyChargingLimit(charging_limit={"charging_limit_source": "EMS"}, evse_id=2)
        )
        await charger.call(call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1))
        await charger.call(call.ClearedChargingLimit(charging_limit_source="CSO"))  # none held
        active = {
            (limit.source, limit.evse_id): limit
            async for limit in ChargingLimit.objects.filter(
                charge_point_id="CP-LIMIT", cleared_at__isnull=True
            )
        }
        await charger.call(call.ClearedChargingLimit(charging_limit_source="SO"))
        still_active = await ChargingLimit.objects.filter(cleared_at__isnull=True).acount()
    assert set(active) == {("SO", None), ("EMS", 2)}
    assert active[("SO", None)].is_grid_critical is True
    assert active[("SO", None)].charging_schedules == [SCHEDULE]
    assert still_active == 1


async def test_reported_charging_profiles_are_stored_per_request(csms):
    profile = {
        "id": 7,
        "stack_level": 1,
        "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Absolute",
        "charging_schedule": [{**SCHEDULE, "start_schedule": iso(T0)}],
    }
    async with simulated_charger(csms.url, "CP-PROF", subprotocols=V201) as charger:
        await boot(charger)
        for evse_id, tbc in ((0, True), (1, False), (1, False)):  # the last part sent twice
            await charger.call(
                call.ReportChargingProfiles(
                    request_id=12,
                    charging_limit_source="CSO",
                    evse_id=evse_id,
                    charging_profile=[profile],
                    tbc=tbc,
                )
            )
        rows = [
            (p.request_id, p.evse_id, p.profile_id, p.stack_level, p.purpose, p.kind)
            async for p in ReportedChargingProfile.objects.filter(
                charge_point_id="CP-PROF"
            ).order_by("evse_id")
        ]
        stored = await ReportedChargingProfile.objects.filter(evse_id=1).aget()
    assert rows == [
        (12, 0, 7, 1, "TxDefaultProfile", "Absolute"),
        (12, 1, 7, 1, "TxDefaultProfile", "Absolute"),
    ]
    assert stored.profile == profile


async def test_reservation_updates_and_use_by_a_transaction(csms):
    charger_row = await ChargePoint.objects.acreate(id="CP-RES")
    await Reservation.objects.acreate(
        charge_point=charger_row,
        reservation_id=1,
        evse_id=1,
        id_token_value="CARD-1",
        status="Accepted",
        status_at=T0,
    )
    await Reservation.objects.acreate(
        charge_point=charger_row, reservation_id=2, evse_id=2, status="Accepted", status_at=T0
    )
    async with simulated_charger(csms.url, "CP-RES", subprotocols=V201) as charger:
        await boot(charger)
        await charger.call(
            call.ReservationStatusUpdate(reservation_id=1, reservation_update_status="Expired")
        )
        # Not known here (made before a restore, say): the charger's word is kept.
        await charger.call(
            call.ReservationStatusUpdate(reservation_id=99, reservation_update_status="Removed")
        )
        await charger.call(started("TX-R", 2, reservation_id=2))
        reservations = {
            r.reservation_id: r
            async for r in Reservation.objects.filter(charge_point=charger_row).select_related(
                "transaction"
            )
        }
    assert reservations[1].status == "Expired"
    assert reservations[99].status == "Removed"
    assert reservations[2].status == "Used"
    assert reservations[2].transaction.ocpp_transaction_id == "TX-R"
    assert (await Transaction.objects.aget(ocpp_transaction_id="TX-R")).reservation_id == 2


async def test_publish_firmware_status_is_stored_on_the_charger(csms):
    async with simulated_charger(csms.url, "CP-PUB", subprotocols=V201) as charger:
        await boot(charger)
        await charger.call(
            call.PublishFirmwareStatusNotification(status="Downloading", request_id=8)
        )
        await charger.call(
            call.PublishFirmwareStatusNotification(
                status="Published",
                request_id=8,
                location=["http://192.168.1.10/fw.bin", "ftp://192.168.1.10/fw.bin"],
            )
        )
        cp = await ChargePoint.objects.aget(id="CP-PUB")
    assert (cp.publish_firmware_status, cp.publish_firmware_request_id) == ("Published", 8)
    assert cp.publish_firmware_locations == [
        "http://192.168.1.10/fw.bin",
        "ftp://192.168.1.10/fw.bin",
    ]
    assert cp.publish_firmware_status_at is not None

"""REST API of what chargers report about charging power (read-only)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargepoints.tests.factories import T0, ChargePointFactory
from core.testing import listed
from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    EvChargingSchedule,
    ReportedChargingProfile,
)

pytestmark = pytest.mark.django_db


def test_charging_limits_filter_active_ones(api):
    cp = ChargePointFactory(id="CP-1")
    active = ChargingLimit.objects.create(charge_point=cp, source="SO", reported_at=T0)
    cleared = ChargingLimit.objects.create(
        charge_point=cp, source="EMS", reported_at=T0, cleared_at=T0 + timedelta(hours=1)
    )
    assert listed(api.get("/api/charging-limits/?active=true")) == [active.pk]
    assert listed(api.get("/api/charging-limits/?active=false")) == [cleared.pk]
    assert listed(api.get("/api/charging-limits/?source=EMS")) == [cleared.pk]
    assert api.post("/api/charging-limits/", {}).status_code == 405


def test_needs_schedules_and_reported_profiles_are_listed_per_charger(api):
    cp1, cp2 = ChargePointFactory(id="CP-1"), ChargePointFactory(id="CP-2")
    for cp in (cp1, cp2):
        ChargingNeeds.objects.create(
            charge_point=cp, evse_id=1, requested_energy_transfer="DC", answered_status="Rejected"
        )
        EvChargingSchedule.objects.create(
            charge_point=cp, evse_id=1, time_base=T0, charging_schedule={"id": 1}
        )
        ReportedChargingProfile.objects.create(
            charge_point=cp,
            request_id=4,
            evse_id=0,
            charging_limit_source="CSO",
            profile_id=9,
            stack_level=0,
            purpose="ChargingStationMaxProfile",
            kind="Absolute",
            profile={"id": 9},
        )
    for path in ("charging-needs", "ev-charging-schedules", "reported-charging-profiles"):
        response = api.get(f"/api/{path}/?charge_point=CP-2")
        assert listed(response, "charge_point") == ["CP-2"], path
    response = api.get("/api/reported-charging-profiles/?purpose=ChargingStationMaxProfile")
    assert len(listed(response)) == 2
    assert api.get("/api/charging-needs/?evse_id=one").status_code == 400

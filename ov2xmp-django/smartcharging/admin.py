from django.contrib import admin

from core.admin import ReadOnlyAdmin
from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    DerEvent,
    EvChargingSchedule,
    ReportedChargingProfile,
)


@admin.register(ChargingNeeds)
class ChargingNeedsAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "evse_id", "requested_energy_transfer", "received_at"]
    search_fields = ["charge_point__id"]


@admin.register(EvChargingSchedule)
class EvChargingScheduleAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "evse_id", "time_base", "received_at"]
    search_fields = ["charge_point__id"]


@admin.register(ChargingLimit)
class ChargingLimitAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "evse_id", "source", "reported_at", "cleared_at"]
    list_filter = ["source"]
    search_fields = ["charge_point__id"]


@admin.register(DerEvent)
class DerEventAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "kind", "control_type", "control_id", "timestamp"]
    list_filter = ["kind"]
    search_fields = ["charge_point__id"]


@admin.register(ReportedChargingProfile)
class ReportedChargingProfileAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "request_id", "evse_id", "profile_id", "purpose"]
    search_fields = ["charge_point__id"]

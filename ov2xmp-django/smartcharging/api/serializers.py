from rest_framework import serializers

from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    EvChargingSchedule,
    ReportedChargingProfile,
)


class ChargingNeedsSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChargingNeeds
        fields = [
            "id",
            "charge_point",
            "evse_id",
            "transaction",
            "requested_energy_transfer",
            "departure_time",
            "max_schedule_tuples",
            "ac_charging_parameters",
            "dc_charging_parameters",
            "answered_status",
            "received_at",
        ]
        read_only_fields = fields


class EvChargingScheduleSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvChargingSchedule
        fields = [
            "id",
            "charge_point",
            "evse_id",
            "transaction",
            "time_base",
            "charging_schedule",
            "received_at",
        ]
        read_only_fields = fields


class ChargingLimitSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChargingLimit
        fields = [
            "id",
            "charge_point",
            "evse_id",
            "source",
            "is_grid_critical",
            "charging_schedules",
            "reported_at",
            "cleared_at",
        ]
        read_only_fields = fields


class ReportedChargingProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportedChargingProfile
        fields = [
            "id",
            "charge_point",
            "request_id",
            "evse_id",
            "charging_limit_source",
            "profile_id",
            "stack_level",
            "purpose",
            "kind",
            "profile",
            "reported_at",
        ]
        read_only_fields = fields

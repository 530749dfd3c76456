from __future__ import annotations

import copy
import re
from typing import Any

from rest_framework import serializers

from chargepoints.api.validation import known_charger
from commands.api.serializers import WaitSerializer
from smartcharging.load_management import daily_limits_errors
from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    ChargingProfile,
    ChargingProfilePurpose,
    DerEvent,
    EvChargingSchedule,
    GridSignal,
    GridSignalKind,
    LoadGroup,
    ReportedChargingProfile,
)
from smartcharging.profiles import OCPP16, profile_errors
from smartcharging.services import charging_profile_conflict
from smartcharging.v2x import SWITCHABLE_MODES

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


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
            "v2x_charging_parameters",
            "control_mode",
            "mobility_needs_mode",
            "available_energy_transfer",
            "der_charging_parameters",
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


class DerEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = DerEvent
        fields = [
            "id",
            "charge_point",
            "kind",
            "control_type",
            "control_id",
            "grid_event_fault",
            "alarm_ended",
            "request_id",
            "details",
            "timestamp",
            "received_at",
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


class ChargingProfileSerializer(serializers.ModelSerializer):
    """A profile the platform keeps and sends. The periods' limits are in
    ``charging_rate_unit`` (A per phase, or W); times are UTC."""

    charge_point = serializers.CharField(
        source="charge_point_id", max_length=48, help_text="The charger's id."
    )
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ChargingProfile
        fields = [
            "id",
            "charge_point",
            "evse_id",
            "profile_id",
            "stack_level",
            "purpose",
            "kind",
            "recurrency_kind",
            "valid_from",
            "valid_to",
            "transaction",
            "charging_rate_unit",
            "start_schedule",
            "duration",
            "min_charging_rate",
            "periods",
            "status",
            "status_at",
            "command",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "profile_id",
            "status",
            "status_at",
            "command",
            "created_by",
            "created_at",
            "updated_at",
        ]

    def validate_charge_point(self, value: str) -> str:
        return known_charger(self.context["request"].user, value).id

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        moved = attrs.get("charge_point_id", getattr(self.instance, "charge_point_id", None))
        if self.instance is not None and moved != self.instance.charge_point_id:
            raise serializers.ValidationError(
                {"charge_point": ["A profile stays with its charger: make a new one."]}
            )
        profile = copy.copy(self.instance) if self.instance is not None else ChargingProfile()
        for name, value in attrs.items():
            setattr(profile, name, value)
        if profile.purpose == ChargingProfilePurpose.TX and profile.transaction is not None:
            profile.evse_id = profile.evse_id or profile.transaction.evse_id
            attrs["evse_id"] = profile.evse_id
        # A charger that never said its version: the stricter 1.6 rules for
        # the numbers, and what both versions share.
        version = profile.charge_point.ocpp_version or OCPP16
        errors = profile_errors(profile, ocpp_version=version)
        if not errors:
            clash = charging_profile_conflict(profile=profile)
            if clash is not None:
                errors["stack_level"] = [
                    f"Profile {clash.profile_id} has this purpose and stack level on this EVSE "
                    "for an overlapping time: give one another stack level or validity."
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CompositeQuerySerializer(serializers.Serializer):
    evse_id = serializers.IntegerField(
        min_value=0, default=0, help_text="The EVSE; 0: the whole charger."
    )
    start = serializers.DateTimeField(required=False, help_text="Default: now.")
    duration = serializers.IntegerField(
        min_value=1, max_value=7 * 86400, default=86400, help_text="Seconds (at most a week)."
    )
    unit = serializers.ChoiceField(choices=["A", "W"], default="W")
    ask_charger = serializers.BooleanField(
        default=False,
        help_text="Also ask the charger (GetCompositeSchedule) and show its answer beside.",
    )


class LoadGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = LoadGroup
        fields = [
            "id",
            "name",
            "location",
            "charge_points",
            "max_import_w",
            "daily_limits",
            "session_minimum_w",
            "session_maximum_w",
            "stack_level",
            "expensive_price_per_kwh",
            "expensive_max_import_w",
            "enabled",
            "rebalanced_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["rebalanced_at", "created_at", "updated_at"]

    def validate_daily_limits(self, value: Any) -> Any:
        errors = daily_limits_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value


class GridSignalSerializer(serializers.ModelSerializer):
    """A DSO's signal for a site (docs/smart-charging.md, "Grid signals")."""

    class Meta:
        model = GridSignal
        fields = [
            "id",
            "load_group",
            "kind",
            "start",
            "end",
            "max_import_w",
            "price_per_kwh",
            "currency",
            "source",
            "signal_id",
            "applied_at",
            "received_at",
        ]
        read_only_fields = ["applied_at", "received_at"]
        # Sending the same signal again is answered, not refused.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if attrs["end"] <= attrs["start"]:
            errors["end"] = "After start."
        if attrs["kind"] == GridSignalKind.CAPACITY:
            if attrs.get("max_import_w") is None:
                errors["max_import_w"] = "A capacity signal says the maximum import, W."
            if attrs.get("price_per_kwh") is not None:
                errors["price_per_kwh"] = "Only for a price signal."
        else:
            if attrs.get("price_per_kwh") is None:
                errors["price_per_kwh"] = "A price signal says the price per kWh."
            if not CURRENCY_CODE.match(attrs.get("currency") or ""):
                errors["currency"] = "An ISO 4217 code (EUR)."
            if attrs.get("max_import_w") is not None:
                errors["max_import_w"] = "Only for a capacity signal."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class OperationModeSerializer(WaitSerializer):
    """Switch a session on an OCPP 2.1 charger to a V2X operation mode."""

    operation_mode = serializers.ChoiceField(choices=SWITCHABLE_MODES)
    setpoint_w = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        required=False,
        allow_null=True,
        help_text="CentralSetpoint: the power to follow, W; negative discharges the EV.",
    )
    discharge_limit_w = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        max_value=0,
        required=False,
        allow_null=True,
        help_text="The most the EV may discharge, W (0 or less).",
    )
    limit_w = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="The most the EV may charge, W (default: the connector's maximum). "
        "Ignored in a load group, whose share is the limit.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        mode = attrs["operation_mode"]
        if mode == "CentralSetpoint" and attrs.get("setpoint_w") is None:
            raise serializers.ValidationError({"setpoint_w": "CentralSetpoint needs a setpoint."})
        if mode in ("ChargingOnly", "Idle"):
            for name in ("setpoint_w", "discharge_limit_w"):
                if attrs.get(name) is not None:
                    raise serializers.ValidationError({name: f"Not in {mode}."})
        return attrs

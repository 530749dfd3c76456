from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing.elements import elements_errors
from billing.models import Cdr, PrepaidEntry, Tariff, TariffKind, TariffVersion


class TariffVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TariffVersion
        fields = ["id", "tariff", "valid_from", "elements", "created_at"]
        read_only_fields = ["created_at"]

    def validate_elements(self, value: Any) -> Any:
        errors = elements_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value


class TariffSerializer(serializers.ModelSerializer):
    versions = TariffVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Tariff
        fields = [
            "id",
            "name",
            "kind",
            "driver",
            "includes_cpo_cost",
            "currency",
            "vat_percent",
            "charge_point",
            "evse_id",
            "location",
            "current",
            "versions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        charger = attrs.get("charge_point", getattr(self.instance, "charge_point", None))
        location = attrs.get("location", getattr(self.instance, "location", None))
        if charger is not None and location is not None:
            raise serializers.ValidationError(
                {"location": "A tariff is for a charger or for a location, not both."}
            )
        if attrs.get("evse_id", getattr(self.instance, "evse_id", None)) is not None and (
            charger is None
        ):
            raise serializers.ValidationError({"evse_id": "An EVSE of which charger?"})
        if attrs.get("kind", getattr(self.instance, "kind", TariffKind.CPO)) == TariffKind.CPO:
            if attrs.get("driver", getattr(self.instance, "driver", None)) is not None:
                raise serializers.ValidationError({"driver": "Only eMSP tariffs are per driver."})
            if not attrs.get(
                "includes_cpo_cost", getattr(self.instance, "includes_cpo_cost", True)
            ):
                raise serializers.ValidationError(
                    {"includes_cpo_cost": "Only an eMSP tariff can leave out the CPO's cost."}
                )
        return attrs


class CdrSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cdr
        fields = [
            "id",
            "transaction",
            "charge_point_id",
            "id_token_value",
            "driver",
            "tariff_version",
            "started_at",
            "stopped_at",
            "time_zone",
            "currency",
            "energy_wh",
            "charging_seconds",
            "parking_seconds",
            "cost_energy",
            "cost_flat",
            "cost_time",
            "cost_parking_time",
            "total_excl_vat",
            "vat",
            "total_incl_vat",
            "emsp_tariff_version",
            "retail_currency",
            "retail_cost_energy",
            "retail_cost_flat",
            "retail_cost_time",
            "retail_cost_parking_time",
            "retail_total_excl_vat",
            "retail_vat",
            "retail_total_incl_vat",
            "is_current",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


def MONEY_OR_NULL() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class SessionCostSerializer(serializers.Serializer):
    """A session's cost so far: up to its end, or to its last meter reading."""

    transaction = serializers.IntegerField()
    until = serializers.DateTimeField()
    tariff_version = serializers.IntegerField(allow_null=True)
    time_zone = serializers.CharField()
    currency = serializers.CharField(allow_blank=True)
    energy_wh = serializers.DecimalField(max_digits=20, decimal_places=3)
    charging_seconds = serializers.DecimalField(max_digits=12, decimal_places=3)
    parking_seconds = serializers.DecimalField(max_digits=12, decimal_places=3)
    cost_energy = serializers.DecimalField(max_digits=12, decimal_places=2)
    cost_flat = serializers.DecimalField(max_digits=12, decimal_places=2)
    cost_time = serializers.DecimalField(max_digits=12, decimal_places=2)
    cost_parking_time = serializers.DecimalField(max_digits=12, decimal_places=2)
    total_excl_vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    total_incl_vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    emsp_tariff_version = serializers.IntegerField(
        allow_null=True, help_text="The eMSP tariff version pricing it for the driver, if any."
    )
    retail_currency = serializers.CharField(allow_blank=True)
    retail_cost_energy = MONEY_OR_NULL()
    retail_cost_flat = MONEY_OR_NULL()
    retail_cost_time = MONEY_OR_NULL()
    retail_cost_parking_time = MONEY_OR_NULL()
    retail_total_excl_vat = MONEY_OR_NULL()
    retail_vat = MONEY_OR_NULL()
    retail_total_incl_vat = MONEY_OR_NULL()


class PrepaidEntrySerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = PrepaidEntry
        fields = [
            "id",
            "user",
            "amount",
            "currency",
            "cdr",
            "description",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["currency", "cdr", "created_by", "created_at"]
        extra_kwargs = {
            "amount": {"help_text": "Positive: a top-up; negative: a correction."},
            "user": {"help_text": "The driver (with a prepaid_currency)."},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["user"].prepaid_currency:
            raise serializers.ValidationError(
                {"user": ["The user has no prepaid balance: set their prepaid_currency first."]}
            )
        if attrs["amount"] == 0:
            raise serializers.ValidationError({"amount": ["An entry of 0 changes nothing."]})
        return attrs

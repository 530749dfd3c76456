from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chargepoints.models import ChargePoint
from locations.models import Location
from locations.opening_times import opening_times_errors


class LocationChargerSerializer(serializers.ModelSerializer):
    """A charger of the location, with its EVSEs' connectors (what they are
    and their status)."""

    connectors = serializers.SerializerMethodField()

    class Meta:
        model = ChargePoint
        fields = ["id", "is_connected", "status", "connectors"]
        read_only_fields = fields

    def get_connectors(self, charger: ChargePoint) -> list[dict[str, Any]]:
        return [
            {
                "evse_id": evse.evse_id,
                "connector_id": connector.connector_id,
                "status": connector.status,
                "standard": connector.standard,
                "format": connector.format,
                "power_type": connector.power_type,
                "max_electric_power": connector.max_electric_power,
            }
            for evse in charger.evses.all()
            for connector in evse.connectors.all()
        ]


class LocationSerializer(serializers.ModelSerializer):
    chargers = LocationChargerSerializer(many=True, read_only=True)
    distance_km = serializers.SerializerMethodField(
        help_text="From the point of a nearby search (?near=); null otherwise."
    )

    class Meta:
        model = Location
        fields = [
            "id",
            "name",
            "address",
            "city",
            "postal_code",
            "state",
            "country",
            "latitude",
            "longitude",
            "parking_type",
            "access",
            "time_zone",
            "opening_times",
            "chargers",
            "distance_km",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_distance_km(self, location: Location) -> float | None:
        distance = getattr(location, "distance_km", None)
        return round(distance, 3) if distance is not None else None

    def validate_opening_times(self, value: Any) -> Any:
        errors = opening_times_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        latitude = attrs.get("latitude", getattr(self.instance, "latitude", None))
        longitude = attrs.get("longitude", getattr(self.instance, "longitude", None))
        if (latitude is None) != (longitude is None):
            raise serializers.ValidationError(
                {"latitude": "Give both latitude and longitude, or neither."}
            )
        return attrs

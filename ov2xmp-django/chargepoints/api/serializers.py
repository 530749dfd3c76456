from rest_framework import serializers

from chargepoints.models import (
    ChargePoint,
    ChargerEvent,
    Connector,
    DeviceModelReport,
    DeviceModelVariable,
    Evse,
    SecurityEvent,
    StatusNotification,
)

REPORTED_FIELDS = [
    "ocpp_version",
    "vendor",
    "model",
    "serial_number",
    "charge_box_serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
    "boot_reason",
    "last_boot_at",
    "is_connected",
    "remote_address",
    "connected_at",
    "disconnected_at",
    "last_seen_at",
    "last_heartbeat_at",
    "status",
    "error_code",
    "status_info",
    "vendor_id",
    "vendor_error_code",
    "status_at",
    "firmware_status",
    "firmware_status_at",
    "diagnostics_status",
    "diagnostics_status_at",
    "created_at",
    "updated_at",
]


class ConnectorSerializer(serializers.ModelSerializer):
    charge_point = serializers.CharField(source="evse.charge_point_id", read_only=True)
    evse_id = serializers.IntegerField(source="evse.evse_id", read_only=True)

    class Meta:
        model = Connector
        fields = [
            "id",
            "charge_point",
            "evse_id",
            "connector_id",
            "status",
            "error_code",
            "info",
            "vendor_id",
            "vendor_error_code",
            "status_at",
            "updated_at",
        ]
        read_only_fields = fields


class EvseSerializer(serializers.ModelSerializer):
    connectors = ConnectorSerializer(many=True, read_only=True)

    class Meta:
        model = Evse
        fields = ["evse_id", "connectors"]
        read_only_fields = fields


class ChargePointSerializer(serializers.ModelSerializer):
    """Operators set the id (at creation), the registration status and a
    description; everything else is what the charger reports."""

    evses = EvseSerializer(many=True, read_only=True)

    class Meta:
        model = ChargePoint
        fields = ["id", "registration_status", "description", *REPORTED_FIELDS, "evses"]
        read_only_fields = REPORTED_FIELDS

    def validate_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.id:
            raise serializers.ValidationError("A charger's id cannot be changed.")
        return value


class StatusNotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusNotification
        fields = [
            "id",
            "charge_point",
            "evse_id",
            "connector_id",
            "status",
            "error_code",
            "info",
            "vendor_id",
            "vendor_error_code",
            "timestamp",
            "received_at",
        ]
        read_only_fields = fields


class SecurityEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityEvent
        fields = ["id", "charge_point", "type", "timestamp", "tech_info", "received_at"]
        read_only_fields = fields


class DeviceModelVariableSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceModelVariable
        fields = [
            "id",
            "charge_point",
            "component_name",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable_name",
            "variable_instance",
            "attribute_type",
            "value",
            "mutability",
            "persistent",
            "constant",
            "characteristics",
            "report",
            "updated_at",
        ]
        read_only_fields = fields


class DeviceModelReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceModelReport
        fields = [
            "id",
            "charge_point",
            "request_id",
            "generated_at",
            "seq_nos",
            "last_seq_no",
            "complete",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ChargerEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChargerEvent
        fields = [
            "id",
            "charge_point",
            "event_id",
            "timestamp",
            "trigger",
            "cause",
            "actual_value",
            "tech_code",
            "tech_info",
            "cleared",
            "transaction_id",
            "component_name",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable_name",
            "variable_instance",
            "variable_monitoring_id",
            "event_notification_type",
            "generated_at",
            "received_at",
        ]
        read_only_fields = fields

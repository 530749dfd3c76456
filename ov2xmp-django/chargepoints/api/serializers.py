from rest_framework import serializers

from chargepoints.models import (
    ChargePoint,
    ChargerEvent,
    ChargerReport,
    ConfigurationKey,
    Connector,
    DeviceModelVariable,
    DisplayMessage,
    Evse,
    SecurityEvent,
    StatusNotification,
    VariableMonitor,
)
from chargepoints.services import ADDRESS_FIELDS

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
    "publish_firmware_status",
    "publish_firmware_status_at",
    "publish_firmware_request_id",
    "publish_firmware_locations",
    "local_list_version",
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


class ConfigurationKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ConfigurationKey
        fields = ["id", "charge_point", "key", "value", "readonly", "reboot_required", "updated_at"]
        read_only_fields = fields


class DeviceModelVariableSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceModelVariable
        fields = [
            "id",
            "charge_point",
            *ADDRESS_FIELDS,
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


class ChargerReportSerializer(serializers.ModelSerializer):
    text = serializers.CharField(
        read_only=True, help_text="Customer information: the parts' data joined in seqNo order."
    )

    class Meta:
        model = ChargerReport
        fields = [
            "id",
            "charge_point",
            "kind",
            "request_id",
            "generated_at",
            "seq_nos",
            "last_seq_no",
            "complete",
            "text",
            "command",
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
            *ADDRESS_FIELDS,
            "variable_monitoring_id",
            "event_notification_type",
            "generated_at",
            "received_at",
        ]
        read_only_fields = fields


class VariableMonitorSerializer(serializers.ModelSerializer):
    class Meta:
        model = VariableMonitor
        fields = [
            "id",
            "charge_point",
            "monitor_id",
            *ADDRESS_FIELDS,
            "type",
            "value",
            "severity",
            "transaction",
            "report",
            "updated_at",
        ]
        read_only_fields = fields


class DisplayMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = DisplayMessage
        fields = [
            "id",
            "charge_point",
            "message_id",
            "priority",
            "state",
            "starts_at",
            "ends_at",
            "transaction_id",
            "message_format",
            "message_language",
            "message_content",
            "display_component_name",
            "display_component_instance",
            "request_id",
            "updated_at",
        ]
        read_only_fields = fields

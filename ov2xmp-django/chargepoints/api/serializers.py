from typing import Any

from drf_spectacular.utils import extend_schema_field
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
    SecurityProfile,
    StatusNotification,
    VariableMonitor,
)
from chargepoints.security import (
    InvalidPassword,
    chargepoint_set_password,
    needs_password,
    password_check_text,
    password_generate,
)
from chargepoints.services import ADDRESS_FIELDS
from core.time import utc_now
from reservations.api.serializers import ActiveReservationSerializer
from reservations.models import Reservation
from reservations.selectors import ACTIVE_ATTRIBUTE, reservations_active

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


# What an operator says a connector is; the rest the charger reports.
CONNECTOR_IDENTITY = ["id", "charge_point", "evse_id", "connector_id"]
CONNECTOR_TYPE_FIELDS = [
    "standard",
    "format",
    "power_type",
    "max_voltage",
    "max_amperage",
    "max_electric_power",
]
CONNECTOR_REPORTED_FIELDS = [
    "status",
    "error_code",
    "info",
    "vendor_id",
    "vendor_error_code",
    "status_at",
    "updated_at",
]


def _active_reservations(charge_point: ChargePoint) -> list[Reservation]:
    """The charger's reservations that hold an EVSE now: prefetched by the
    views (reservations.selectors), else read."""
    prefetched = getattr(charge_point, ACTIVE_ATTRIBUTE, None)
    if prefetched is None:
        prefetched = list(reservations_active(at=utc_now()).filter(charge_point=charge_point))
        setattr(charge_point, ACTIVE_ATTRIBUTE, prefetched)
    return prefetched


class ConnectorSerializer(serializers.ModelSerializer):
    """The status is what the charger reports; operators say what the
    connector is (standard, format, power type and limits, as OCPI has them)."""

    charge_point = serializers.CharField(source="evse.charge_point_id", read_only=True)
    evse_id = serializers.IntegerField(source="evse.evse_id", read_only=True)
    reservation = serializers.SerializerMethodField(
        help_text="The accepted reservation that holds this connector's EVSE now (null: "
        "none). The status stays what the charger reports (Reserved, when it says so)."
    )

    class Meta:
        model = Connector
        fields = [
            *CONNECTOR_IDENTITY,
            *CONNECTOR_TYPE_FIELDS,
            *CONNECTOR_REPORTED_FIELDS,
            "reservation",
        ]
        read_only_fields = [*CONNECTOR_IDENTITY, *CONNECTOR_REPORTED_FIELDS]

    @extend_schema_field(ActiveReservationSerializer(allow_null=True))
    def get_reservation(self, connector: Connector) -> dict[str, Any] | None:
        evse = connector.evse
        for reservation in _active_reservations(evse.charge_point):
            if reservation.evse_id == evse.evse_id:
                return ActiveReservationSerializer(reservation).data
        return None


class EvseSerializer(serializers.ModelSerializer):
    connectors = ConnectorSerializer(many=True, read_only=True)

    class Meta:
        model = Evse
        fields = ["evse_id", "connectors"]
        read_only_fields = fields


class ChargePointSerializer(serializers.ModelSerializer):
    """Operators set the id (at creation), the registration status, a
    description and how the charger authenticates; everything else is what
    the charger reports."""

    evses = EvseSerializer(many=True, read_only=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        trim_whitespace=False,
        help_text="The HTTP Basic password for security profiles 1 and 2 (16 to 40 "
        "printable ASCII characters). Stored hashed; never returned.",
    )
    generate_password = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Generate a password (40 hexadecimal characters) instead; it is "
        "returned once, as generated_password.",
    )
    has_password = serializers.SerializerMethodField()
    generated_password = serializers.SerializerMethodField(
        help_text="The password generated by this request (generate_password); null otherwise. "
        "Shown only here: give it to the charger."
    )
    active_reservations = serializers.SerializerMethodField(
        help_text="Accepted reservations that hold an EVSE (evse_id) or any EVSE (null) "
        "of the charger now."
    )

    class Meta:
        model = ChargePoint
        fields = [
            "id",
            "registration_status",
            "description",
            "location",
            "security_profile",
            "certificate_identity",
            "password",
            "generate_password",
            "has_password",
            "generated_password",
            "password_changed_at",
            "local_list_group",
            *REPORTED_FIELDS,
            "active_reservations",
            "evses",
        ]
        read_only_fields = ["password_changed_at", *REPORTED_FIELDS]

    @extend_schema_field(ActiveReservationSerializer(many=True))
    def get_active_reservations(self, charge_point: ChargePoint) -> Any:
        return ActiveReservationSerializer(_active_reservations(charge_point), many=True).data

    def get_has_password(self, charge_point: ChargePoint) -> bool:
        return bool(charge_point.password_hash)

    def validate_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.id:
            raise serializers.ValidationError("A charger's id cannot be changed.")
        return value

    def validate_password(self, value: str) -> str:
        try:
            password_check_text(value)
        except InvalidPassword as error:
            raise serializers.ValidationError(str(error)) from error
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("password") and attrs.get("generate_password"):
            raise serializers.ValidationError(
                {"generate_password": "Give a password or generate one, not both."}
            )
        profile = attrs.get(
            "security_profile", getattr(self.instance, "security_profile", SecurityProfile.NONE)
        )
        has_one = bool(getattr(self.instance, "password_hash", ""))
        if (
            needs_password(profile)
            and not has_one
            and not (attrs.get("password") or attrs.get("generate_password"))
        ):
            raise serializers.ValidationError(
                {
                    "password": f"Security profile {profile} needs a password: give one, "
                    "or set generate_password."
                }
            )
        return attrs

    def save(self, **kwargs: Any) -> ChargePoint:
        password = self.validated_data.pop("password", None)
        generate = self.validated_data.pop("generate_password", False)
        if generate:
            password = password_generate()
        charge_point = super().save(**kwargs)
        if password is not None:
            chargepoint_set_password(
                charge_point_id=charge_point.id, password=password, at=utc_now()
            )
            charge_point.refresh_from_db()
        self._generated_password = password if generate else None
        return charge_point

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_generated_password(self, charge_point: ChargePoint) -> str | None:
        return getattr(self, "_generated_password", None)


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

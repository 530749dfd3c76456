from django.contrib import admin

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
from core.admin import ReadOnlyAdmin


class ConnectorInline(admin.TabularInline):
    model = Connector
    extra = 0
    readonly_fields = ["connector_id", "status", "error_code", "info", "status_at", "updated_at"]


@admin.register(ChargePoint)
class ChargePointAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "registration_status",
        "is_connected",
        "ocpp_version",
        "vendor",
        "model",
        "last_seen_at",
    ]
    search_fields = ["id", "vendor", "model", "serial_number"]
    list_filter = ["registration_status", "is_connected", "ocpp_version", "security_profile"]
    # The password is set through the API (hashed there, or generated).
    exclude = ["password_hash"]
    readonly_fields = [
        field.name
        for field in ChargePoint._meta.fields
        if field.name
        not in (
            "id",
            "registration_status",
            "description",
            "security_profile",
            "certificate_identity",
            "password_hash",
        )
    ]


@admin.register(Evse)
class EvseAdmin(admin.ModelAdmin):
    list_display = ["charge_point", "evse_id"]
    search_fields = ["charge_point__id"]
    inlines = [ConnectorInline]


@admin.register(StatusNotification)
class StatusNotificationAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "evse_id", "connector_id", "status", "error_code", "timestamp"]
    list_filter = ["status"]
    search_fields = ["charge_point__id"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "type", "timestamp"]
    search_fields = ["charge_point__id", "type"]


@admin.register(ChargerEvent)
class ChargerEventAdmin(ReadOnlyAdmin):
    list_display = [
        "charge_point",
        "event_id",
        "component_name",
        "variable_name",
        "trigger",
        "cleared",
        "timestamp",
    ]
    search_fields = ["charge_point__id", "component_name", "variable_name"]


@admin.register(ConfigurationKey)
class ConfigurationKeyAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "key", "value", "readonly", "reboot_required"]
    search_fields = ["charge_point__id", "key"]


@admin.register(DeviceModelVariable)
class DeviceModelVariableAdmin(ReadOnlyAdmin):
    list_display = [
        "charge_point",
        "component_name",
        "evse_id",
        "variable_name",
        "attribute_type",
        "value",
    ]
    search_fields = ["charge_point__id", "component_name", "variable_name"]


@admin.register(ChargerReport)
class ChargerReportAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "kind", "request_id", "complete", "generated_at"]
    list_filter = ["kind", "complete"]


@admin.register(VariableMonitor)
class VariableMonitorAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "monitor_id", "component_name", "variable_name", "type"]
    search_fields = ["charge_point__id", "component_name", "variable_name"]


@admin.register(DisplayMessage)
class DisplayMessageAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "message_id", "priority", "state", "message_content"]
    search_fields = ["charge_point__id", "message_content"]

import django_filters

from chargepoints.models import (
    ChargePoint,
    ChargerEvent,
    ChargerReport,
    ConfigurationKey,
    Connector,
    DeviceModelVariable,
    DisplayMessage,
    SecurityEvent,
    StatusNotification,
    VariableMonitor,
)
from core.api.filters import charge_point_filter


class ChargePointFilter(django_filters.FilterSet):
    class Meta:
        model = ChargePoint
        fields = {
            "id": ["exact", "icontains"],
            "registration_status": ["exact"],
            "is_connected": ["exact"],
            "ocpp_version": ["exact"],
            "vendor": ["exact", "icontains"],
            "model": ["exact", "icontains"],
            "status": ["exact"],
            "location": ["exact", "isnull"],
        }


class ConnectorFilter(django_filters.FilterSet):
    charge_point = charge_point_filter("evse__charge_point_id")
    evse_id = django_filters.NumberFilter(field_name="evse__evse_id")

    class Meta:
        model = Connector
        fields = [
            "charge_point",
            "evse_id",
            "connector_id",
            "status",
            "error_code",
            "standard",
            "power_type",
        ]


class StatusNotificationFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    timestamp = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = StatusNotification
        fields = ["charge_point", "evse_id", "connector_id", "status", "error_code", "timestamp"]


class SecurityEventFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    timestamp = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = SecurityEvent
        fields = ["charge_point", "type", "timestamp"]


class ConfigurationKeyFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = ConfigurationKey
        fields = {"charge_point": ["exact"], "key": ["exact", "icontains"], "readonly": ["exact"]}


class DeviceModelVariableFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = DeviceModelVariable
        fields = {
            "charge_point": ["exact"],
            "component_name": ["exact", "icontains"],
            "component_instance": ["exact"],
            "evse_id": ["exact"],
            "variable_name": ["exact", "icontains"],
            "attribute_type": ["exact"],
            "mutability": ["exact"],
        }


class ChargerReportFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = ChargerReport
        fields = ["charge_point", "kind", "request_id", "complete"]


class VariableMonitorFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = VariableMonitor
        fields = [
            "charge_point",
            "monitor_id",
            "type",
            "severity",
            "component_name",
            "variable_name",
            "evse_id",
        ]


class DisplayMessageFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = DisplayMessage
        fields = ["charge_point", "message_id", "priority", "state", "transaction_id"]


class ChargerEventFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    timestamp = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = ChargerEvent
        fields = [
            "charge_point",
            "trigger",
            "cleared",
            "component_name",
            "variable_name",
            "event_notification_type",
            "timestamp",
        ]

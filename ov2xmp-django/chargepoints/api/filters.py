import django_filters

from chargepoints.models import (
    ChargePoint,
    ChargerEvent,
    Connector,
    DeviceModelReport,
    DeviceModelVariable,
    SecurityEvent,
    StatusNotification,
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
        }


class ConnectorFilter(django_filters.FilterSet):
    charge_point = charge_point_filter("evse__charge_point_id")
    evse_id = django_filters.NumberFilter(field_name="evse__evse_id")

    class Meta:
        model = Connector
        fields = ["charge_point", "evse_id", "connector_id", "status", "error_code"]


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


class DeviceModelReportFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = DeviceModelReport
        fields = ["charge_point", "request_id", "complete"]


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

from django.db.models import QuerySet
from rest_framework import mixins, viewsets

from chargepoints.api.filters import (
    ChargePointFilter,
    ChargerEventFilter,
    ChargerReportFilter,
    ConfigurationKeyFilter,
    ConnectorFilter,
    DeviceModelVariableFilter,
    DisplayMessageFilter,
    SecurityEventFilter,
    StatusNotificationFilter,
    VariableMonitorFilter,
)
from chargepoints.api.serializers import (
    ChargePointSerializer,
    ChargerEventSerializer,
    ChargerReportSerializer,
    ConfigurationKeySerializer,
    ConnectorSerializer,
    DeviceModelVariableSerializer,
    DisplayMessageSerializer,
    SecurityEventSerializer,
    StatusNotificationSerializer,
    VariableMonitorSerializer,
)
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
from core.api.views import ProtectedDestroyMixin
from core.time import utc_now
from reservations.selectors import reservations_active_prefetch


class ChargePointViewSet(ProtectedDestroyMixin, viewsets.ModelViewSet):
    """Chargers: created by an operator ahead of time, or when an unknown
    charger connects (see OV2XMP_UNKNOWN_CHARGERS)."""

    queryset = ChargePoint.objects.prefetch_related("evses__connectors")
    serializer_class = ChargePointSerializer
    filterset_class = ChargePointFilter
    ordering_fields = ["id", "last_seen_at", "created_at", "vendor", "model"]
    lookup_value_regex = r"[A-Za-z0-9*\-_=:+|@.]{1,48}"
    protected_detail = "The charger has transactions; they keep it for billing and audit."

    def get_queryset(self) -> QuerySet[ChargePoint]:
        return super().get_queryset().prefetch_related(reservations_active_prefetch(at=utc_now()))


class ConnectorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Connectors with their live status (an OCPP 1.6 connector N is EVSE N,
    connector 1). PATCH says what a connector is: its standard, format, power
    type and limits."""

    queryset = Connector.objects.select_related("evse__charge_point")
    serializer_class = ConnectorSerializer
    filterset_class = ConnectorFilter
    ordering_fields = ["evse__charge_point_id", "evse__evse_id", "connector_id", "status_at"]

    def get_queryset(self) -> QuerySet[Connector]:
        return (
            super()
            .get_queryset()
            .prefetch_related(
                reservations_active_prefetch(
                    at=utc_now(), through="evse__charge_point__reservations"
                )
            )
        )


class StatusNotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Every status reported, newest first."""

    queryset = StatusNotification.objects.all()
    serializer_class = StatusNotificationSerializer
    filterset_class = StatusNotificationFilter
    ordering_fields = ["timestamp", "received_at"]


class SecurityEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Security events chargers reported (SecurityEventNotification), newest first."""

    queryset = SecurityEvent.objects.all()
    serializer_class = SecurityEventSerializer
    filterset_class = SecurityEventFilter
    ordering_fields = ["timestamp", "received_at"]


class ConfigurationKeyViewSet(viewsets.ReadOnlyModelViewSet):
    """An OCPP 1.6 charger's configuration keys, as last read with
    GetConfiguration or changed with ChangeConfiguration."""

    queryset = ConfigurationKey.objects.all()
    serializer_class = ConfigurationKeySerializer
    filterset_class = ConfigurationKeyFilter
    ordering_fields = ["key", "updated_at"]


class DeviceModelVariableViewSet(viewsets.ReadOnlyModelViewSet):
    """An OCPP 2.0.1 charger's device model: each attribute of each variable of
    each component, as last reported (NotifyReport)."""

    queryset = DeviceModelVariable.objects.all()
    serializer_class = DeviceModelVariableSerializer
    filterset_class = DeviceModelVariableFilter
    ordering_fields = ["component_name", "variable_name", "updated_at"]


class ChargerReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Multi-part reports of OCPP 2.0.1 chargers by kind and requestId (device
    model, monitors, customer information), with the parts received so far."""

    queryset = ChargerReport.objects.all()
    serializer_class = ChargerReportSerializer
    filterset_class = ChargerReportFilter
    ordering_fields = ["created_at", "request_id"]


class VariableMonitorViewSet(viewsets.ReadOnlyModelViewSet):
    """Monitors on OCPP 2.0.1 chargers' variables (NotifyMonitoringReport)."""

    queryset = VariableMonitor.objects.all()
    serializer_class = VariableMonitorSerializer
    filterset_class = VariableMonitorFilter
    ordering_fields = ["monitor_id", "severity", "updated_at"]


class DisplayMessageViewSet(viewsets.ReadOnlyModelViewSet):
    """Messages configured on OCPP 2.0.1 chargers' displays (NotifyDisplayMessages)."""

    queryset = DisplayMessage.objects.all()
    serializer_class = DisplayMessageSerializer
    filterset_class = DisplayMessageFilter
    ordering_fields = ["message_id", "updated_at"]


class ChargerEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Device-model events of OCPP 2.0.1 chargers (NotifyEvent), newest first."""

    queryset = ChargerEvent.objects.all()
    serializer_class = ChargerEventSerializer
    filterset_class = ChargerEventFilter
    ordering_fields = ["timestamp", "received_at"]

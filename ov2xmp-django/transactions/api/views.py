from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.exports import ExportView, export_schema
from transactions.api.filters import (
    MeterValueExportFilter,
    MeterValueFilter,
    SessionExportFilter,
    TransactionFilter,
)
from transactions.api.serializers import (
    MeterValueSerializer,
    TransactionEventSerializer,
    TransactionSerializer,
)
from transactions.exports import METER_VALUE_COLUMNS, SESSION_COLUMNS
from transactions.models import MeterValue, Transaction, TransactionEvent


class TransactionViewSet(viewsets.ReadOnlyModelViewSet):
    """Charging sessions of every OCPP version, newest first."""

    queryset = Transaction.objects.all()
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilter
    ordering_fields = ["started_at", "stopped_at", "meter_last_wh", "id"]

    @extend_schema(responses=MeterValueSerializer(many=True), filters=False)
    @action(detail=True, url_path="meter-values", filterset_class=None)
    def meter_values(self, request: Request, pk: str | None = None) -> Response:
        """The session's sampled values, oldest first (paginated)."""
        values = MeterValue.objects.filter(transaction=self.get_object()).order_by(
            "timestamp", "id"
        )
        page = self.paginate_queryset(values)
        return self.get_paginated_response(MeterValueSerializer(page, many=True).data)

    @extend_schema(responses=TransactionEventSerializer(many=True), filters=False)
    @action(detail=True, url_path="events", filterset_class=None)
    def events(self, request: Request, pk: str | None = None) -> Response:
        """The session's OCPP 2.0.1 TransactionEvents in seqNo order (paginated)."""
        events = TransactionEvent.objects.filter(transaction=self.get_object()).order_by("seq_no")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(TransactionEventSerializer(page, many=True).data)


class MeterValueViewSet(viewsets.ReadOnlyModelViewSet):
    """Every sampled value reported, with or without a transaction."""

    queryset = MeterValue.objects.all()
    serializer_class = MeterValueSerializer
    filterset_class = MeterValueFilter
    ordering_fields = ["timestamp", "id"]


class SessionExportView(ExportView):
    """Sessions as CSV, JSON or xlsx, oldest first (docs/billing.md)."""

    queryset = Transaction.objects.order_by("started_at", "id")
    filterset_class = SessionExportFilter
    ordering_fields = ["started_at", "stopped_at", "id"]
    columns = SESSION_COLUMNS
    export_name = "sessions"

    @export_schema(
        operation_id="export_sessions",
        summary="Export sessions",
        description="One row per charging session: charger, connector, location, id token "
        "and driver, start and stop, meter readings (Wh), stop reason. Needs "
        "transactions.view_transaction.",
    )
    def get(self, request: Request, file_format: str) -> StreamingHttpResponse:
        return super().get(request, file_format)


class MeterValueExportView(ExportView):
    """Sessions' sampled values as CSV, JSON or xlsx (docs/billing.md)."""

    # Only values that belong to a session (transactions.view_metervalue).
    queryset = MeterValue.objects.filter(transaction__isnull=False).order_by(
        "transaction_id", "timestamp", "id"
    )
    filterset_class = MeterValueExportFilter
    ordering_fields = ["timestamp", "id"]
    columns = METER_VALUE_COLUMNS
    export_name = "meter-values"

    @export_schema(
        operation_id="export_meter_values",
        summary="Export sessions' meter values",
        description="One row per sampled value of a session: its session, timestamp, "
        "measurand, phase, value and unit; by session, then time. Filters select sessions "
        "as the session export does. Needs transactions.view_transaction.",
    )
    def get(self, request: Request, file_format: str) -> StreamingHttpResponse:
        return super().get(request, file_format)

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from transactions.api.filters import MeterValueFilter, TransactionFilter
from transactions.api.serializers import (
    MeterValueSerializer,
    TransactionEventSerializer,
    TransactionSerializer,
)
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

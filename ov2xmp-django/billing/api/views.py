from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from billing.api.serializers import (
    CdrSerializer,
    PrepaidEntrySerializer,
    SessionCostSerializer,
    TariffSerializer,
    TariffVersionSerializer,
)
from billing.exports import CDR_COLUMNS
from billing.models import Cdr, PrepaidEntry, Tariff, TariffVersion
from billing.pricing import ENERGY, FLAT, PARKING_TIME, TIME
from billing.selectors import retail_fields, session_cost_so_far
from billing.services import cdr_create, prepaid_entry_create
from core.api.exports import (
    ExportView,
    TimeRangeForm,
    boolean_filter,
    export_schema,
    location_filter,
    started_after,
    started_before,
    user_filter,
)
from core.api.filters import charge_point_filter
from core.api.permissions import requires
from core.api.views import Conflict, ProtectedDestroyMixin
from transactions.models import Transaction


class TariffViewSet(ProtectedDestroyMixin, viewsets.ModelViewSet):
    """Tariffs and their versions. The most specific one prices a session:
    the charger's own, then its location's (for the connector's AC or DC,
    then for both), then the general ones."""

    queryset = Tariff.objects.prefetch_related("versions")
    serializer_class = TariffSerializer
    filterset_fields = ["kind", "driver", "charge_point", "location", "current", "currency"]
    protected_detail = "CDRs were priced with this tariff; they keep it."


class TariffVersionViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A tariff's terms from ``valid_from`` on. A change of prices is a new
    version, so that every CDR keeps the terms it was priced with; a version
    no CDR uses may be deleted."""

    queryset = TariffVersion.objects.all()
    serializer_class = TariffVersionSerializer
    filterset_fields = ["tariff"]

    def perform_destroy(self, instance: TariffVersion) -> None:
        if instance.cdrs.exists():
            raise Conflict("CDRs were priced with this version; it stays.")
        instance.delete()


class CdrFilter(django_filters.FilterSet):
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = Cdr
        fields = ["transaction", "charge_point_id", "id_token_value", "is_current", "currency"]


class CdrViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Charge detail records: each finished session, priced with the tariff
    version in force when it started. Recomputed ones stay, not current."""

    queryset = Cdr.objects.all()
    serializer_class = CdrSerializer
    filterset_class = CdrFilter
    ordering_fields = ["started_at", "created_at", "total_incl_vat"]

    @extend_schema(request=None, responses={201: CdrSerializer, 409: None})
    @action(
        detail=True,
        methods=["post"],
        queryset=Cdr.objects.all(),
        permission_classes=[requires("billing.view_cdr", "billing.recompute_cdr")],
    )
    def recompute(self, request: Request, pk: str | None = None) -> Response:
        """Price the session again (after a tariff or meter correction); the
        new CDR becomes current and this one is kept."""
        cdr = self.get_object()
        if not cdr.is_current:
            raise Conflict("Recompute the current CDR of the session.")
        fresh = cdr_create(transaction_id=cdr.transaction_id, reason="recomputed", recompute=True)
        assert fresh is not None  # the session has ended: it has a CDR
        return Response(CdrSerializer(fresh, context={"request": request}).data, status=201)


class PrepaidEntryViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Drivers' prepaid balances, entry by entry: top-ups and corrections
    (made here), CDR debits and their reversals (made by billing). Entries
    are never changed; a mistake is corrected by another entry."""

    queryset = PrepaidEntry.objects.select_related("created_by")
    serializer_class = PrepaidEntrySerializer
    filterset_fields = ["user", "cdr", "currency"]
    ordering_fields = ["created_at", "amount"]

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        data = serializer.validated_data
        serializer.instance = prepaid_entry_create(
            user=data["user"],
            amount=data["amount"],
            description=data["description"],
            created_by=self.request.user,
        )


class CdrExportFilter(django_filters.FilterSet):
    """/api/exports/cdrs.<format>: unknown ids give no rows, malformed values
    a 400."""

    started_after = started_after("started_at", "CDRs of sessions")
    started_before = started_before("started_at", "CDRs of sessions")
    location = location_filter("transaction__charge_point__location")
    charge_point = charge_point_filter()
    id_token_value = django_filters.CharFilter(help_text="The id token as presented")
    user = user_filter("driver")
    is_current = boolean_filter(
        "is_current", "true: only current CDRs; false: only superseded ones (recomputed)"
    )
    currency = django_filters.CharFilter(help_text="ISO 4217 code")

    class Meta:
        model = Cdr
        fields: list[str] = []
        form = TimeRangeForm


class CdrExportView(ExportView):
    """CDRs as CSV, JSON or xlsx, by session start (docs/billing.md)."""

    queryset = Cdr.objects.order_by("started_at", "id")
    filterset_class = CdrExportFilter
    ordering_fields = ["started_at", "created_at", "id"]
    columns = CDR_COLUMNS
    export_name = "cdrs"

    @export_schema(
        operation_id="export_cdrs",
        summary="Export CDRs",
        description="One row per CDR: session, charger, EVSE and connector, location, "
        "start and end, energy (kWh), charging and parking time (s), tariff and version, "
        "cost per dimension, totals and VAT, currency, id token and driver, and whether it "
        "is current or was superseded by a recompute. Needs billing.view_cdr.",
    )
    def get(self, request: Request, file_format: str) -> StreamingHttpResponse:
        return super().get(request, file_format)


class SessionCostView(GenericAPIView):
    """``/api/transactions/<id>/cost/``: what a session costs so far, priced
    as its CDR will be (while it runs: up to its last meter reading)."""

    queryset = Transaction.objects.select_related("charge_point__location")
    serializer_class = SessionCostSerializer

    def get(self, request: Request, pk: int) -> Response:
        session = self.get_object()
        priced = session_cost_so_far(session)
        price = priced.price
        body = {
            "transaction": session.pk,
            "until": priced.until,
            "tariff_version": priced.version.pk if priced.version else None,
            "time_zone": priced.time_zone,
            "currency": price.currency,
            "energy_wh": price.energy_wh.quantize(Decimal("0.001")),
            "charging_seconds": price.charging_seconds.quantize(Decimal("0.001")),
            "parking_seconds": price.parking_seconds.quantize(Decimal("0.001")),
            "cost_energy": price.cost[ENERGY],
            "cost_flat": price.cost[FLAT],
            "cost_time": price.cost[TIME],
            "cost_parking_time": price.cost[PARKING_TIME],
            "total_excl_vat": price.total_excl_vat,
            "vat": price.vat,
            "total_incl_vat": price.total_incl_vat,
            **retail_fields(priced),
            "emsp_tariff_version": priced.retail_version.pk if priced.retail_version else None,
        }
        return Response(self.get_serializer(body).data)

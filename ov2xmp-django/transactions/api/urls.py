from django.urls import path
from rest_framework.routers import SimpleRouter

from transactions.api.views import (
    MeterValueExportView,
    MeterValueViewSet,
    SessionExportView,
    TransactionViewSet,
)

router = SimpleRouter()
router.register("transactions", TransactionViewSet)
router.register("meter-values", MeterValueViewSet)

urlpatterns = [
    # The format is in the path, not in a `format` kwarg: DRF would take
    # that for its own format suffix (docs/billing.md, "Exports").
    path("exports/sessions.<str:file_format>", SessionExportView.as_view(), name="export-sessions"),
    path(
        "exports/meter-values.<str:file_format>",
        MeterValueExportView.as_view(),
        name="export-meter-values",
    ),
    *router.urls,
]

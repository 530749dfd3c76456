from django.urls import path
from rest_framework.routers import SimpleRouter

from billing.api.views import (
    CdrExportView,
    CdrViewSet,
    PrepaidEntryViewSet,
    SessionCostView,
    TariffVersionViewSet,
    TariffViewSet,
)

router = SimpleRouter()
router.register("tariffs", TariffViewSet)
router.register("tariff-versions", TariffVersionViewSet)
router.register("cdrs", CdrViewSet)
router.register("prepaid-entries", PrepaidEntryViewSet)

urlpatterns = [
    # The format is in the path, not in a `format` kwarg: DRF would take
    # that for its own format suffix (docs/billing.md, "Exports").
    path("exports/cdrs.<str:file_format>", CdrExportView.as_view(), name="export-cdrs"),
    path("transactions/<int:pk>/cost/", SessionCostView.as_view(), name="transaction-cost"),
    *router.urls,
]

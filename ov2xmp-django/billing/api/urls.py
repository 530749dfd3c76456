from django.urls import path
from rest_framework.routers import SimpleRouter

from billing.api.views import (
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
    path("transactions/<int:pk>/cost/", SessionCostView.as_view(), name="transaction-cost"),
    *router.urls,
]

from django.urls import path
from rest_framework.routers import SimpleRouter

from billing.api.views import CdrViewSet, SessionCostView, TariffVersionViewSet, TariffViewSet

router = SimpleRouter()
router.register("tariffs", TariffViewSet)
router.register("tariff-versions", TariffVersionViewSet)
router.register("cdrs", CdrViewSet)

urlpatterns = [
    path("transactions/<int:pk>/cost/", SessionCostView.as_view(), name="transaction-cost"),
    *router.urls,
]

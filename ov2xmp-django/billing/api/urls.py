from rest_framework.routers import SimpleRouter

from billing.api.views import CdrViewSet, TariffVersionViewSet, TariffViewSet

router = SimpleRouter()
router.register("tariffs", TariffViewSet)
router.register("tariff-versions", TariffVersionViewSet)
router.register("cdrs", CdrViewSet)

urlpatterns = router.urls

from rest_framework.routers import SimpleRouter

from transactions.api.views import MeterValueViewSet, TransactionViewSet

router = SimpleRouter()
router.register("transactions", TransactionViewSet)
router.register("meter-values", MeterValueViewSet)

urlpatterns = router.urls

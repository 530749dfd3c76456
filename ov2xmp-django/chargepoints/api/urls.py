from rest_framework.routers import SimpleRouter

from chargepoints.api.views import ChargePointViewSet, ConnectorViewSet, StatusNotificationViewSet

router = SimpleRouter()
router.register("chargepoints", ChargePointViewSet)
router.register("connectors", ConnectorViewSet)
router.register("status-notifications", StatusNotificationViewSet)

urlpatterns = router.urls

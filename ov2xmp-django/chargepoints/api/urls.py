from rest_framework.routers import SimpleRouter

from chargepoints.api.views import (
    ChargePointViewSet,
    ConnectorViewSet,
    SecurityEventViewSet,
    StatusNotificationViewSet,
)

router = SimpleRouter()
router.register("chargepoints", ChargePointViewSet)
router.register("connectors", ConnectorViewSet)
router.register("status-notifications", StatusNotificationViewSet)
router.register("security-events", SecurityEventViewSet)

urlpatterns = router.urls

from rest_framework.routers import SimpleRouter

from chargepoints.api.views import (
    ChargePointViewSet,
    ChargerEventViewSet,
    ConnectorViewSet,
    DeviceModelReportViewSet,
    DeviceModelVariableViewSet,
    SecurityEventViewSet,
    StatusNotificationViewSet,
)

router = SimpleRouter()
router.register("chargepoints", ChargePointViewSet)
router.register("connectors", ConnectorViewSet)
router.register("status-notifications", StatusNotificationViewSet)
router.register("security-events", SecurityEventViewSet)
router.register("charger-events", ChargerEventViewSet)
router.register("device-model-variables", DeviceModelVariableViewSet)
router.register("device-model-reports", DeviceModelReportViewSet)

urlpatterns = router.urls

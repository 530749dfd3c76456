from rest_framework.routers import SimpleRouter

from chargepoints.api.views import (
    ChargePointViewSet,
    ChargerEventViewSet,
    ChargerReportViewSet,
    ConfigurationKeyViewSet,
    ConnectorViewSet,
    DeviceModelVariableViewSet,
    DisplayMessageViewSet,
    SecurityEventViewSet,
    StatusNotificationViewSet,
    VariableMonitorViewSet,
)

router = SimpleRouter()
router.register("chargepoints", ChargePointViewSet)
router.register("connectors", ConnectorViewSet)
router.register("status-notifications", StatusNotificationViewSet)
router.register("security-events", SecurityEventViewSet)
router.register("charger-events", ChargerEventViewSet)
router.register("configuration-keys", ConfigurationKeyViewSet)
router.register("device-model-variables", DeviceModelVariableViewSet)
router.register("variable-monitors", VariableMonitorViewSet)
router.register("charger-reports", ChargerReportViewSet)
router.register("display-messages", DisplayMessageViewSet)

urlpatterns = router.urls

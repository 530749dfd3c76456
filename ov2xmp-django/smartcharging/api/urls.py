from rest_framework.routers import SimpleRouter

from smartcharging.api.views import (
    ChargingLimitViewSet,
    ChargingNeedsViewSet,
    EvChargingScheduleViewSet,
    ReportedChargingProfileViewSet,
)

router = SimpleRouter()
router.register("charging-needs", ChargingNeedsViewSet)
router.register("ev-charging-schedules", EvChargingScheduleViewSet)
router.register("charging-limits", ChargingLimitViewSet)
router.register("reported-charging-profiles", ReportedChargingProfileViewSet)

urlpatterns = router.urls

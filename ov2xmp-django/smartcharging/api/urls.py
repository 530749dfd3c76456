from django.urls import path
from rest_framework.routers import SimpleRouter

from smartcharging.api.views import (
    ChargingLimitViewSet,
    ChargingNeedsViewSet,
    ChargingProfileViewSet,
    CompositeScheduleView,
    DerEventViewSet,
    EvChargingScheduleViewSet,
    GridSignalViewSet,
    LoadGroupViewSet,
    OperationModeView,
    ReportedChargingProfileViewSet,
)

router = SimpleRouter()
router.register("charging-needs", ChargingNeedsViewSet)
router.register("ev-charging-schedules", EvChargingScheduleViewSet)
router.register("charging-limits", ChargingLimitViewSet)
router.register("reported-charging-profiles", ReportedChargingProfileViewSet)
router.register("der-events", DerEventViewSet)

router.register("charging-profiles", ChargingProfileViewSet)
router.register("load-groups", LoadGroupViewSet)
router.register("grid-signals", GridSignalViewSet)

urlpatterns = [
    path(
        "chargepoints/<str:charge_point_id>/composite-schedule/",
        CompositeScheduleView.as_view(),
        name="chargepoint-composite-schedule",
    ),
    path(
        "transactions/<int:pk>/operation-mode/",
        OperationModeView.as_view(),
        name="transaction-operation-mode",
    ),
    *router.urls,
]

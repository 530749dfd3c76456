from rest_framework.routers import SimpleRouter

from reservations.api.views import ReservationViewSet

router = SimpleRouter()
router.register("reservations", ReservationViewSet)

urlpatterns = router.urls

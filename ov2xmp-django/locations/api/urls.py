from rest_framework.routers import SimpleRouter

from locations.api.views import LocationViewSet

router = SimpleRouter()
router.register("locations", LocationViewSet)

urlpatterns = router.urls

from rest_framework.routers import SimpleRouter

from ocpp_messages.api.views import OcppMessageViewSet

router = SimpleRouter()
router.register("ocpp-messages", OcppMessageViewSet)

urlpatterns = router.urls

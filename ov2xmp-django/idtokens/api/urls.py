from rest_framework.routers import SimpleRouter

from idtokens.api.views import IdTokenViewSet

router = SimpleRouter()
router.register("id-tokens", IdTokenViewSet)

urlpatterns = router.urls

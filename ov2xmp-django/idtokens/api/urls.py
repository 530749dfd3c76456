from django.urls import URLPattern, URLResolver, re_path
from rest_framework.routers import SimpleRouter

from idtokens.api.views import (
    IdTokenViewSet,
    LocalListUpdateViewSet,
    LocalListVersionView,
    LocalListView,
)

router = SimpleRouter()
router.register("id-tokens", IdTokenViewSet)
router.register("local-list-updates", LocalListUpdateViewSet)

CHARGER = r"chargepoints/(?P<pk>[A-Za-z0-9*\-_=:+|@.]{1,48})"

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(rf"^{CHARGER}/local-list/$", LocalListView.as_view(), name="chargepoint-local-list"),
    re_path(
        rf"^{CHARGER}/local-list-version/$",
        LocalListVersionView.as_view(),
        name="chargepoint-local-list-version",
    ),
]
urlpatterns += router.urls

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenVerifyView

from config.api_root import ApiRootView
from config.health import healthz
from files import http as files_http

api_urlpatterns: list[URLPattern | URLResolver] = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("token/", TokenObtainPairView.as_view(), name="token-obtain"),
    path("token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("token/verify/", TokenVerifyView.as_view(), name="token-verify"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("accounts.api.urls")),
    path("", include("chargepoints.api.urls")),
    path("", include("locations.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("idtokens.api.urls")),
    path("", include("transactions.api.urls")),
    path("", include("reservations.api.urls")),
    path("", include("smartcharging.api.urls")),
    path("", include("certificates.api.urls")),
    path("", include("commands.api.urls")),
    path("", include("files.api.urls")),
    path("", include("ocpp_messages.api.urls")),
]

urlpatterns = [
    # The HTTP file service (files/http.py); `ov2xmp http-files` serves only these.
    path("files/upload/<str:username>/", files_http.upload, name="files-upload"),
    path("files/upload/<str:username>/<str:name>", files_http.upload, name="files-upload-named"),
    path("files/download/<str:username>/<str:name>", files_http.download, name="files-download"),
    path("api/", include(api_urlpatterns)),
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
    # Password reset pages: /password-reset/…
    path("", include("accounts.urls")),
    # The operator dashboard: /, /chargers/, /sessions/, /login/.
    path("", include("dashboard.urls")),
]

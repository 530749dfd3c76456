from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api.views import (
    MeView,
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetRequestView,
    UserViewSet,
    VehicleViewSet,
)

router = SimpleRouter()
router.register("users", UserViewSet)
router.register("vehicles", VehicleViewSet)

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("me/password/", PasswordChangeView.as_view(), name="me-password"),
    path("password-reset/", PasswordResetRequestView.as_view(), name="password-reset"),
    path(
        "password-reset/confirm/",
        PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    *router.urls,
]

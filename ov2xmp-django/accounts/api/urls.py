from django.urls import path

from accounts.api.views import PasswordResetConfirmView, PasswordResetRequestView

urlpatterns = [
    path("password-reset/", PasswordResetRequestView.as_view(), name="password-reset"),
    path(
        "password-reset/confirm/",
        PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
]

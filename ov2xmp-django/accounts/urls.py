"""The dashboard's password reset pages (the API's are in accounts/api/urls.py)."""

from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("password-reset/", views.PasswordResetRequestPage.as_view(), name="password-reset"),
    path("password-reset/sent/", views.PasswordResetSentPage.as_view(), name="password-reset-sent"),
    path(
        "password-reset/done/",
        views.PasswordResetCompletePage.as_view(),
        name="password-reset-complete",
    ),
    # The link in the mail.
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmPage.as_view(),
        name="password-reset-confirm",
    ),
]

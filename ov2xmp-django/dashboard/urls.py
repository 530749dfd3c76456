from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("chargers/", views.chargers, name="chargers"),
    path("chargers/<str:charger_id>/", views.charger, name="charger"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<int:session_id>/", views.session, name="session"),
    path("smart-charging/", views.smart_charging, name="smart-charging"),
    path("feed-token/", views.feed_token, name="feed-token"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="dashboard/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

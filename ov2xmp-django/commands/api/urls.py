from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from commands.api.views import CommandViewSet, send_view
from commands.catalog import COMMANDS

router = SimpleRouter()
router.register("commands", CommandViewSet)

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        f"commands/{spec.url_segment}/{spec.action}/",
        send_view(spec).as_view(),
        name=f"command-send-{spec.url_segment}-{spec.action}",
    )
    for spec in COMMANDS.values()
]
urlpatterns += router.urls

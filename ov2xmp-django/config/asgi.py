"""ASGI entry point of the web process: REST API, Swagger, admin and static files."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from files.asgi import OnlyFiles, UploadSizeLimit  # noqa: E402
from updates.routing import websocket_urlpatterns  # noqa: E402

# Static files (admin, Swagger UI) are served by the app itself, so the embedded
# mode needs no web server in front; Caddy may cache them in deployments.
application = ProtocolTypeRouter(
    {
        "http": UploadSizeLimit(ASGIStaticFilesHandler(django_asgi_app)),
        # Live updates; clients authenticate with an API token (updates.consumers).
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

# `ov2xmp http-files`: the HTTP file service alone (uploads under /files/).
files_application = OnlyFiles(application)

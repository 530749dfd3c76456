from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from updates.consumers import UpdatesConsumer


class NoSuchFeed(AsyncWebsocketConsumer):  # type: ignore[misc]
    """Any other websocket path: the handshake is refused (403), not an error
    in the log."""

    async def connect(self) -> None:
        await self.close()


websocket_urlpatterns = [
    path("ws/updates/", UpdatesConsumer.as_asgi()),
    re_path(r"", NoSuchFeed.as_asgi()),
]

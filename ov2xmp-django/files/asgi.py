"""ASGI pieces of the HTTP file service: an upload size limit enforced before
Django spools a request body to disk, and the application ``ov2xmp
http-files`` serves (the /files/ routes alone)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

PREFIX = "/files/"

Scope = dict[str, Any]


class TooLarge(Exception):
    pass


async def _respond(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class UploadSizeLimit:
    """Refuses an upload under /files/ larger than OV2XMP_UPLOAD_MAX_BYTES:
    at once by its Content-Length (413), or, sent without one, as soon as
    more has arrived. Django would otherwise read the whole body into a
    temporary file before any view could say no."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        limit = settings.OV2XMP.upload_max_bytes
        message = f"Upload larger than {limit} bytes: refused."
        length = dict(scope.get("headers", [])).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _respond(send, 413, message)
            return
        received = 0

        async def limited_receive() -> Any:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > limit:
                    raise TooLarge
            return event

        try:
            await self.app(scope, limited_receive, send)
        except TooLarge:
            await _respond(send, 413, message)


class OnlyFiles:
    """The application of ``ov2xmp http-files``: /files/ and nothing else."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":  # live updates are the web service's
            await receive()
            await send({"type": "websocket.close"})
            return
        if scope["type"] == "http" and not scope["path"].startswith(PREFIX):
            await _respond(send, 404, "This server takes file uploads under /files/ only.")
            return
        await self.app(scope, receive, send)

"""The HTTP file service: chargers upload diagnostics and logs with PUT (the
body is the file) or POST (multipart/form-data, the first file part) to the
location they were given, authenticated with HTTP Basic from the URL's
credentials. Served under /files/ by ``ov2xmp up`` and ``ov2xmp web``, and
alone by ``ov2xmp http-files``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.time import utc_now
from files.models import FileRequest
from files.services import (
    ACCEPTABLE_NAME,
    file_request_authenticate,
    file_request_receive,
    incoming_dir,
)

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024


def _error(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _unauthorized(message: str) -> JsonResponse:
    return _error(401, message, **{"WWW-Authenticate": 'Basic realm="O-V2X-MP uploads"'})


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if sep else None


def _authenticated(request: HttpRequest, username: str) -> FileRequest | JsonResponse:
    credentials = _basic_credentials(request)
    if credentials is None:
        return _unauthorized("Send the credentials of your upload URL (HTTP Basic).")
    if credentials[0] != username:
        return _unauthorized("These credentials are not for this location.")
    file_request = file_request_authenticate(
        username=credentials[0], password=credentials[1], at=utc_now()
    )
    if file_request is None:
        logger.warning(
            "HTTP upload refused for %r from %s", username, request.META.get("REMOTE_ADDR")
        )
        return _unauthorized("Wrong, expired or used credentials.")
    return file_request


def _receive(file_request: FileRequest, name: str, chunks: Any) -> JsonResponse:
    """Write the upload below the request's incoming directory, then record
    it (one rename); nothing is kept of an upload that fails or is too big."""
    limit = settings.OV2XMP.upload_max_bytes
    directory = incoming_dir(file_request)
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".part-")
    path = Path(temporary)
    size = 0
    try:
        with os.fdopen(descriptor, "wb") as stream:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    path.unlink(missing_ok=True)
                    return _error(413, f"Upload larger than {limit} bytes: refused.")
                stream.write(chunk)
        stored = file_request_receive(
            request_id=file_request.pk, source=path, name=name, at=utc_now()
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return JsonResponse(
        {"name": stored.name, "size": stored.size, "sha256": stored.sha256}, status=201
    )


def _body_chunks(request: HttpRequest) -> Any:
    while chunk := request.read(CHUNK):
        yield chunk


@csrf_exempt
def upload(request: HttpRequest, username: str, name: str = "") -> HttpResponse:
    if request.method not in ("PUT", "POST"):
        return _error(405, "Upload with PUT (the body is the file) or POST (multipart).")
    authenticated = _authenticated(request, username)
    if isinstance(authenticated, JsonResponse):
        return authenticated
    file_request = authenticated
    declared = request.headers.get("Content-Length")
    limit = settings.OV2XMP.upload_max_bytes
    if declared and declared.isdigit() and int(declared) > limit:
        return _error(413, f"Upload larger than {limit} bytes: refused.")

    if request.method == "PUT":
        if not name:
            return _error(400, "PUT to .../<file name>: the URL names the file.")
        chunks: Any = _body_chunks(request)
    else:
        if request.content_type != "multipart/form-data":
            return _error(400, "POST a multipart/form-data body with the file in it.")
        field = next(iter(request.FILES), None)
        if field is None:
            return _error(400, "The multipart body holds no file.")
        upload_part = request.FILES.getlist(field)[0]
        name = name or os.path.basename(upload_part.name or "")
        chunks = upload_part.chunks(CHUNK)
    if not ACCEPTABLE_NAME.fullmatch(name):
        return _error(400, f"File name not allowed: {name!r}.")
    return _receive(file_request, name, chunks)

"""The HTTP file service: chargers upload diagnostics and logs with PUT (the
body is the file) or POST (multipart/form-data, the first file part) to the
location they were given, and download firmware (with Range), authenticated
with HTTP Basic from the URL's credentials. Served under /files/ by ``ov2xmp
up`` and ``ov2xmp web``, and alone by ``ov2xmp http-files``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from core.time import utc_now
from files.firmware import firmware_update_authenticate, firmware_update_record_download
from files.models import FileRequest
from files.services import (
    ACCEPTABLE_NAME,
    file_request_authenticate,
    file_request_receive,
    files_dir,
    incoming_dir,
)

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# One range of bytes: "bytes=first-last", "bytes=first-" or "bytes=-suffix".
BYTE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
T = TypeVar("T")


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


def _authenticated(
    request: HttpRequest, username: str, authenticate: Callable[..., T | None]
) -> T | JsonResponse:
    """What the request's HTTP Basic credentials open, or the 401 to answer."""
    credentials = _basic_credentials(request)
    if credentials is None:
        return _unauthorized("Send the credentials of your URL (HTTP Basic).")
    if credentials[0] != username:
        return _unauthorized("These credentials are not for this location.")
    opened = authenticate(username=credentials[0], password=credentials[1], at=utc_now())
    if opened is None:
        remote = request.META.get("REMOTE_ADDR")
        logger.warning("HTTP %s refused for %r from %s", request.method, username, remote)
        return _unauthorized("Wrong, expired or used credentials.")
    return opened


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
    authenticated = _authenticated(request, username, file_request_authenticate)
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


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(first, last) of a satisfiable single range; None to send the whole file
    (no header, or one this server does not take: several ranges); False for
    a range that lies beyond the file (416)."""
    match = BYTE_RANGE.match(header.strip())
    if not header or match is None or not (match[1] or match[2]):
        return None
    if match[1]:
        first = int(match[1])
        last = min(int(match[2]), size - 1) if match[2] else size - 1
    else:
        first, last = max(0, size - int(match[2])), size - 1
    if first >= size or first > last:
        return False
    return first, last


def _read_range(path: Path, first: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as stream:
        stream.seek(first)
        while length > 0:
            chunk = stream.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


@csrf_exempt
def download(request: HttpRequest, username: str, name: str) -> HttpResponseBase:
    """A firmware image, for the update whose credentials these are; a single
    byte range on request (resumed downloads)."""
    if request.method not in ("GET", "HEAD"):
        return _error(405, "Download with GET.")
    authenticated = _authenticated(request, username, firmware_update_authenticate)
    if isinstance(authenticated, JsonResponse):
        return authenticated
    image = authenticated.firmware
    path = files_dir() / image.path
    if name != image.name or not path.is_file():
        return _error(404, "No such file for these credentials.")
    size = path.stat().st_size
    wanted = _byte_range(request.headers.get("Range", ""), size)
    if wanted is False:
        refused = _error(416, "Range not satisfiable.")
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    first, last = wanted if isinstance(wanted, tuple) else (0, size - 1)
    if first == 0 and request.method == "GET":
        firmware_update_record_download(update_id=authenticated.pk)
    length = last - first + 1
    body = _read_range(path, first, length) if request.method == "GET" else iter(())
    response = StreamingHttpResponse(
        body, status=206 if wanted else 200, content_type="application/octet-stream"
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = f'"{image.sha256}"'
    response["Content-Disposition"] = f'attachment; filename="{image.name}"'
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response

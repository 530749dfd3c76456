"""The HTTP file service: uploads with PUT and multipart POST, and the answers
to everything else."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.time import utc_now
from files.models import FileKind, FileRequest, FileRequestStatus, Protocol, StoredFile
from files.services import file_request_create, files_dir, upload_location

DATA = b"0123456789abcdef" * 4096


@pytest.fixture
def new_request(charger, files_settings):
    def create(**changes) -> tuple[FileRequest, str]:
        request, password = file_request_create(
            charge_point_id=charger.id,
            kind=FileKind.DIAGNOSTICS,
            protocol=Protocol.HTTP,
            at=utc_now(),
        )
        if changes:
            FileRequest.objects.filter(pk=request.pk).update(**changes)
            request.refresh_from_db()
        return request, password

    return create


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def put(request: FileRequest, password: str, name: str = "diag.zip", data: bytes = DATA):
    return Client().put(
        f"/files/upload/{request.username}/{name}",
        data,
        content_type="application/octet-stream",
        **basic(request.username, password),
    )


def test_the_location_names_the_upload_path_with_the_credentials(new_request, settings):
    request, password = new_request()
    assert upload_location(request, password) == (
        f"http://{request.username}:{password}@127.0.0.1:{settings.OV2XMP.api_port}"
        f"/files/upload/{request.username}/"
    )


def test_a_put_upload_is_recorded_and_ends_the_credentials(new_request):
    request, password = new_request()
    response = put(request, password)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "name": "diag.zip",
        "size": len(DATA),
        "sha256": hashlib.sha256(DATA).hexdigest(),
    }
    request.refresh_from_db()
    assert request.status == FileRequestStatus.RECEIVED
    assert (files_dir() / request.file.path).read_bytes() == DATA
    again = put(request, password, "second.zip")
    assert again.status_code == 401
    assert StoredFile.objects.count() == 1


def test_a_multipart_post_upload_is_recorded(new_request):
    request, password = new_request()
    response = Client().post(
        f"/files/upload/{request.username}/",
        {"file": SimpleUploadedFile("log 2026-11-23.txt", DATA)},
        **basic(request.username, password),
    )
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "log 2026-11-23.txt"
    assert StoredFile.objects.get().size == len(DATA)


def test_missing_wrong_expired_and_foreign_credentials_get_401(new_request):
    request, _ = new_request()
    other, other_password = new_request()
    expired, expired_password = new_request(expires_at=utc_now() - timedelta(seconds=1))
    url = f"/files/upload/{request.username}/x.zip"

    def attempt(**headers: str):
        return Client().put(url, b"x", content_type="application/octet-stream", **headers)

    answers = [
        attempt(),
        attempt(**basic(request.username, "no")),
        attempt(**basic(other.username, other_password)),
        put(expired, expired_password),
        attempt(HTTP_AUTHORIZATION="Basic !!!notbase64"),
    ]
    assert [answer.status_code for answer in answers] == [401] * 5
    assert answers[0]["WWW-Authenticate"].startswith("Basic")
    assert StoredFile.objects.count() == 0


def test_bad_requests_get_4xx_and_leave_nothing(new_request):
    request, password = new_request()
    auth = basic(request.username, password)
    base = f"/files/upload/{request.username}/"
    raw = "application/octet-stream"
    client = Client()
    assert client.get(base + "x.zip", **auth).status_code == 405
    assert client.put(base, DATA, content_type=raw, **auth).status_code == 400  # no name
    assert put(request, password, ".hidden").status_code == 400
    assert client.post(base, {"field": "value"}, **auth).status_code == 400  # no file part
    assert client.post(base, DATA, content_type=raw, **auth).status_code == 400  # not multipart
    assert client.put(base + "a/b.zip", DATA, **auth).status_code == 404
    assert StoredFile.objects.count() == 0
    assert not [p for p in (files_dir() / ".incoming").rglob("*") if p.is_file()]


async def _asgi_put(path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]):
    from config.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 8000),
    }
    communicator = ApplicationCommunicator(application, scope)
    for index, chunk in enumerate(chunks):
        await communicator.send_input(
            {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        )
    start = await communicator.receive_output(timeout=10)
    await communicator.receive_output(timeout=10)
    return start["status"]


async def test_an_oversized_upload_is_refused_before_it_is_stored(
    transactional_db, new_request, files_settings
):
    from asgiref.sync import sync_to_async

    request, password = await sync_to_async(new_request)()
    files_settings(upload_max_bytes=4096)
    token = base64.b64encode(f"{request.username}:{password}".encode())
    auth = (b"authorization", b"Basic " + token)
    path = f"/files/upload/{request.username}/big.bin"
    # Declared too big: refused before any of the body is read.
    assert await _asgi_put(path, [auth, (b"content-length", b"100000")], [b""]) == 413
    # Sent without a length (chunked): refused once more than the limit came.
    assert await _asgi_put(path, [auth], [b"x" * 3000, b"x" * 3000, b"x" * 3000]) == 413
    assert await StoredFile.objects.acount() == 0
    await request.arefresh_from_db()
    assert request.used_at is None

"""The whole flow, end to end: the API asks, the command reaches a real
websocket charger, the charger answers, reports its progress and uploads over
FTP to the location it was given, and the file shows in the API."""

from __future__ import annotations

import asyncio
import ftplib
import hashlib
import io
from typing import Any
from urllib.parse import urlsplit

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from commands.tests.charger import answering_charger
from csms.tests.helpers import eventually, in_thread
from files.models import FileRequest, FileRequestStatus, StoredFile
from files.services import files_dir

DATA = b"log line\n" * 5000


def ftp_upload(location: str, name: str, data: bytes) -> None:
    """What a charger does with the location it was given."""
    url = urlsplit(location)
    client = ftplib.FTP()
    client.connect(url.hostname, url.port, timeout=10)
    client.login(url.username, url.password)
    if url.path not in ("", "/"):
        client.cwd(url.path)
    client.storbinary(f"STOR {name}", io.BytesIO(data))
    client.quit()


def uploading_16(charger: Any):
    def answer(payload: dict[str, Any]) -> dict[str, Any]:
        async def upload() -> None:
            await charger.call(call16.DiagnosticsStatusNotification(status="Uploading"))
            await asyncio.to_thread(ftp_upload, payload["location"], "diag.tar.gz", DATA)
            await charger.call(call16.DiagnosticsStatusNotification(status="Uploaded"))

        charger.uploads.append(asyncio.get_running_loop().create_task(upload()))
        return {"fileName": "diag.tar.gz"}

    charger.uploads = []
    return answer


async def _received(request_id: int) -> FileRequest | None:
    request = await FileRequest.objects.aget(pk=request_id)
    return request if request.status == FileRequestStatus.RECEIVED else None


async def test_diagnostics_of_a_16_charger_arrive_over_ftp(csms, ftp_server, api):
    async with answering_charger(csms.url, "CP-1") as charger:
        charger.answers["GetDiagnostics"] = uploading_16(charger)
        response = await in_thread(
            api.post,
            "/api/file-requests/",
            {"charge_point": "CP-1", "kind": "Diagnostics", "start_time": "2026-11-22T00:00:00Z"},
        )
        assert response.status_code == 201, response.content
        body = response.json()
        # The charger starts uploading as soon as it has answered.
        assert body["status"] in ("Accepted", "Uploading", "Uploaded", "Received")
        assert body["command"]["status"] == "Answered"
        assert body["file_name"] == "diag.tar.gz"
        sent = charger.requests("GetDiagnostics")[0]
        assert sent["location"].startswith("ftp://u")
        assert sent["startTime"] == "2026-11-22T00:00:00.000Z"
        await asyncio.gather(*charger.uploads)
        request = await eventually(lambda: _received(body["id"]))
    assert request.charger_status == "Uploaded"  # the notification after the file
    stored = await StoredFile.objects.aget(pk=request.file_id)
    assert (stored.size, stored.sha256) == (len(DATA), hashlib.sha256(DATA).hexdigest())

    listed = (await in_thread(api.get, "/api/files/?charge_point=CP-1")).json()["results"]
    assert [row["id"] for row in listed] == [stored.pk]
    content = await in_thread(api.get, listed[0]["content"])
    assert content.status_code == 200
    assert b"".join(content.streaming_content) == DATA
    assert "diag.tar.gz" in content["Content-Disposition"]

    deleted = await in_thread(api.delete, listed[0]["url"])
    assert deleted.status_code == 204
    assert not (files_dir() / stored.path).exists()
    detail = (await in_thread(api.get, f"/api/file-requests/{body['id']}/")).json()
    assert (detail["status"], detail["file"]) == ("Received", None)


async def test_a_201_log_request_is_followed_by_its_request_id(csms, ftp_server, api):
    async with answering_charger(csms.url, "CP-2", "ocpp2.0.1") as charger:
        uploads = []

        def answer(payload: dict[str, Any]) -> dict[str, Any]:
            async def upload() -> None:
                request_id = payload["requestId"]
                await charger.call(
                    call201.LogStatusNotification(status="Uploading", request_id=request_id)
                )
                location = payload["log"]["remoteLocation"]
                await asyncio.to_thread(ftp_upload, location, "security.log", DATA)
                await charger.call(
                    call201.LogStatusNotification(status="Uploaded", request_id=request_id)
                )

            uploads.append(asyncio.get_running_loop().create_task(upload()))
            return {"status": "Accepted", "filename": "security.log"}

        charger.answers["GetLog"] = answer
        response = await in_thread(
            api.post, "/api/file-requests/", {"charge_point": "CP-2", "kind": "SecurityLog"}
        )
        assert response.status_code == 201, response.content
        body = response.json()
        sent = charger.requests("GetLog")[0]
        assert (sent["logType"], sent["requestId"]) == ("SecurityLog", body["id"])
        await asyncio.gather(*uploads)
        request = await eventually(lambda: _received(body["id"]))
    assert request.file_name == "security.log"


async def test_a_rejected_request_ends_its_credentials(csms, ftp_server, api):
    async with answering_charger(csms.url, "CP-2", "ocpp2.0.1") as charger:
        charger.answers["GetLog"] = {"status": "Rejected"}
        response = await in_thread(
            api.post, "/api/file-requests/", {"charge_point": "CP-2", "kind": "DiagnosticsLog"}
        )
    assert response.status_code == 201
    assert response.json()["status"] == "Rejected"
    location = charger.requests("GetLog")[0]["log"]["remoteLocation"]
    with pytest.raises(ftplib.error_perm, match="530"):
        await asyncio.to_thread(ftp_upload, location, "late.log", b"x")


async def test_an_offline_charger_fails_the_request(csms, api):
    async with answering_charger(csms.url, "CP-1"):
        pass
    response = await in_thread(
        api.post, "/api/file-requests/", {"charge_point": "CP-1", "kind": "Diagnostics"}
    )
    assert response.status_code == 409
    assert response.json()["status"] == "Failed"
    assert response.json()["command"]["status"] == "NotConnected"


async def test_bad_requests_are_refused(csms, api):
    async with answering_charger(csms.url, "CP-1"):
        pass
    for body in [
        {"charge_point": "CP-1", "kind": "Everything"},
        {"charge_point": "NOPE", "kind": "Diagnostics"},
        {
            "charge_point": "CP-1",
            "kind": "Diagnostics",
            "start_time": "2026-11-23T10:00:00Z",
            "stop_time": "2026-11-22T10:00:00Z",
        },
        {"charge_point": "CP-1", "kind": "Diagnostics", "retries": -1},
    ]:
        response = await in_thread(api.post, "/api/file-requests/", body)
        assert response.status_code == 400, body
    assert await FileRequest.objects.acount() == 0

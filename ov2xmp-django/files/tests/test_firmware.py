"""Firmware: images uploaded through the API, served to the charger an update
is for (FTP or HTTP, with Range), and followed to Installed."""

from __future__ import annotations

import asyncio
import base64
import ftplib
import hashlib
import io
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from commands.tests.charger import answering_charger
from core.time import utc_now
from csms.tests.helpers import eventually, in_thread
from files.models import FirmwareImage, FirmwareUpdate

IMAGE = bytes(range(256)) * 400  # 102400 bytes


def upload_image(api, name: str = "fw-2.1.0.bin", **fields: Any):
    return api.post(
        "/api/firmware/",
        {"file": SimpleUploadedFile(name, IMAGE), "version": "2.1.0", **fields},
        format="multipart",
    )


def ftp_download(location: str) -> bytes:
    url = urlsplit(location)
    client = ftplib.FTP()
    client.connect(url.hostname, url.port, timeout=10)
    client.login(url.username, url.password)
    received = io.BytesIO()
    client.retrbinary(f"RETR {unquote(url.path)}", received.write)
    # The download login may read, not write.
    with pytest.raises(ftplib.error_perm, match="550"):
        client.storbinary("STOR evil.bin", io.BytesIO(b"x"))
    client.quit()
    return received.getvalue()


def http_get(location: str, **headers: str):
    url = urlsplit(location)
    token = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
    return Client().get(url.path, HTTP_AUTHORIZATION=f"Basic {token}", **headers)


def test_an_image_is_uploaded_listed_downloaded_and_deleted(api, files_settings):
    response = upload_image(api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["size"], body["sha256"]) == (
        "fw-2.1.0.bin",
        len(IMAGE),
        hashlib.sha256(IMAGE).hexdigest(),
    )
    content = api.get(body["content"])
    assert b"".join(content.streaming_content) == IMAGE
    assert upload_image(api, name=".hidden").status_code == 400
    assert api.delete(body["url"]).status_code == 204
    assert FirmwareImage.objects.count() == 0


async def test_a_16_charger_downloads_over_ftp_and_installs(csms, ftp_server, api):
    image = (await in_thread(upload_image, api)).json()
    async with answering_charger(csms.url, "CP-1") as charger:
        downloads: list[asyncio.Task[None]] = []

        def answer(payload: dict[str, Any]) -> dict[str, Any]:
            async def update() -> None:
                await charger.call(call16.FirmwareStatusNotification(status="Downloading"))
                data = await asyncio.to_thread(ftp_download, payload["location"])
                assert data == IMAGE
                for status in ("Downloaded", "Installing", "Installed"):
                    await charger.call(call16.FirmwareStatusNotification(status=status))

            downloads.append(asyncio.get_running_loop().create_task(update()))
            return {}

        charger.answers["UpdateFirmware"] = answer
        response = await in_thread(
            api.post,
            "/api/firmware-updates/",
            {"charge_point": "CP-1", "firmware": image["id"], "protocol": "ftp", "retries": 2},
        )
        assert response.status_code == 201, response.content
        sent = charger.requests("UpdateFirmware")[0]
        assert sent["location"].startswith("ftp://f")
        assert sent["location"].endswith("/fw-2.1.0.bin")
        assert sent["retries"] == 2
        await asyncio.gather(*downloads)

        async def installed() -> FirmwareUpdate | None:
            update = await FirmwareUpdate.objects.aget(pk=response.json()["id"])
            return update if update.status == "Installed" else None

        update = await eventually(installed)
    assert update.downloads == 1
    referenced = await in_thread(api.delete, image["url"])
    assert referenced.status_code == 409


async def test_a_201_charger_downloads_over_http_with_ranges(csms, api, files_settings):
    image = (await in_thread(upload_image, api)).json()
    async with answering_charger(csms.url, "CP-2", "ocpp2.0.1") as charger:
        charger.answers["UpdateFirmware"] = {"status": "Accepted"}
        response = await in_thread(
            api.post,
            "/api/firmware-updates/",
            {
                "charge_point": "CP-2",
                "firmware": image["id"],
                "protocol": "http",
                "install_date": "2026-11-24T03:00:00Z",
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        sent = charger.requests("UpdateFirmware")[0]
        assert sent["requestId"] == body["id"]
        assert sent["firmware"]["installDateTime"] == "2026-11-24T03:00:00.000Z"
        location = sent["firmware"]["location"]

        whole = await in_thread(http_get, location)
        assert whole.status_code == 200
        assert b"".join(whole.streaming_content) == IMAGE
        assert whole["Accept-Ranges"] == "bytes"
        part = await in_thread(http_get, location, HTTP_RANGE="bytes=100-199")
        assert part.status_code == 206
        assert part["Content-Range"] == f"bytes 100-199/{len(IMAGE)}"
        assert b"".join(part.streaming_content) == IMAGE[100:200]
        tail = await in_thread(http_get, location, HTTP_RANGE="bytes=-10")
        assert b"".join(tail.streaming_content) == IMAGE[-10:]
        beyond = await in_thread(http_get, location, HTTP_RANGE=f"bytes={len(IMAGE)}-")
        assert beyond.status_code == 416
        wrong_name = await in_thread(http_get, location.rsplit("/", 1)[0] + "/other.bin")
        assert wrong_name.status_code == 404

        await charger.call(
            call201.FirmwareStatusNotification(status="Installed", request_id=body["id"])
        )
    update = await FirmwareUpdate.objects.aget(pk=body["id"])
    assert (update.status, update.downloads) == ("Installed", 1)


async def test_expired_download_credentials_are_refused(csms, api, files_settings):
    image = (await in_thread(upload_image, api)).json()
    async with answering_charger(csms.url, "CP-2", "ocpp2.0.1") as charger:
        charger.answers["UpdateFirmware"] = {"status": "Accepted"}
        body = (
            await in_thread(
                api.post,
                "/api/firmware-updates/",
                {"charge_point": "CP-2", "firmware": image["id"], "protocol": "http"},
            )
        ).json()
    await FirmwareUpdate.objects.filter(pk=body["id"]).aupdate(
        expires_at=utc_now() - timedelta(seconds=1)
    )
    location = charger.requests("UpdateFirmware")[0]["firmware"]["location"]
    assert (await in_thread(http_get, location)).status_code == 401


async def test_a_signed_16_update_sends_the_signature(csms, api, files_settings):
    unsigned = (await in_thread(upload_image, api)).json()
    signed = (
        await in_thread(
            upload_image,
            api,
            name="fw-signed.bin",
            signing_certificate="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            signature="c2lnbmF0dXJl",
        )
    ).json()
    async with answering_charger(csms.url, "CP-1") as charger:
        charger.answers["SignedUpdateFirmware"] = {"status": "InvalidCertificate"}
        refused = await in_thread(
            api.post,
            "/api/firmware-updates/",
            {"charge_point": "CP-1", "firmware": unsigned["id"], "signed": True},
        )
        assert refused.status_code == 400
        assert "signature" in refused.json()["signed"][0]
        response = await in_thread(
            api.post,
            "/api/firmware-updates/",
            {"charge_point": "CP-1", "firmware": signed["id"], "signed": True},
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "InvalidCertificate"
    sent = charger.requests("SignedUpdateFirmware")[0]
    assert sent["firmware"]["signature"] == "c2lnbmF0dXJl"
    assert sent["requestId"] == response.json()["id"]

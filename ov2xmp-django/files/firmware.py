"""Writes for firmware: images operators upload, and updates that point
chargers at a download location the platform serves (HTTP or FTP), with
credentials for that update alone."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.db.models import F

from commands.catalog import OCPP16
from commands.models import Command
from core.time import format_timestamp
from files.models import FirmwareImage, FirmwareUpdate, Protocol
from files.services import (
    base_url,
    files_dir,
    password_hash,
    retry_fields,
    storage_name,
    transfer_attach_command,
)

# Accepted answers to SignedUpdateFirmware / 2.0.1 UpdateFirmware.
ACCEPTED = ("Accepted", "AcceptedCanceled")


def firmware_dir() -> Path:
    return files_dir() / "firmware"


def firmware_download_dir(update: FirmwareUpdate) -> Path:
    """What an FTP download login sees: the image alone, under its name (a
    hard link to the stored image, or a copy where links are not possible)."""
    directory = files_dir() / ".downloads" / str(update.pk)
    target = directory / update.firmware.name
    if not target.exists():
        directory.mkdir(parents=True, exist_ok=True)
        source = files_dir() / update.firmware.path
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    return directory


def firmware_image_store(
    *,
    name: str,
    chunks: Iterable[bytes],
    version: str = "",
    description: str = "",
    signing_certificate: str = "",
    signature: str = "",
    created_by: Any = None,
) -> FirmwareImage:
    """Keep an uploaded image: written to a temporary file, hashed, renamed
    into place, recorded."""
    directory = firmware_dir()
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".part-")
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(descriptor, "wb") as stream:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                stream.write(chunk)
        with transaction.atomic():
            image = FirmwareImage.objects.create(
                name=name,
                version=version,
                description=description,
                signing_certificate=signing_certificate,
                signature=signature,
                path="",
                size=size,
                sha256=digest.hexdigest(),
                created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
            )
            relative = Path("firmware") / f"{image.pk}-{storage_name(name)}"
            os.replace(temporary, files_dir() / relative)
            image.path = str(relative)
            image.save(update_fields=["path"])
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return image


def firmware_image_delete(*, image: FirmwareImage) -> None:
    """Delete an image no update refers to (the PROTECT key refuses otherwise);
    files/signals.py removes the file."""
    image.delete()


def download_location(update: FirmwareUpdate, password: str) -> str:
    scheme, rest = base_url(update.protocol).split("://", 1)
    name = quote(update.firmware.name)
    path = (
        f"/files/download/{update.username}/{name}"
        if update.protocol == Protocol.HTTP
        else f"/{name}"
    )
    return f"{scheme}://{update.username}:{password}@{rest}{path}"


def _update_command(
    update: FirmwareUpdate,
    *,
    ocpp_version: str,
    location: str,
    options: dict[str, Any],
    at: datetime,
) -> tuple[str, dict[str, Any]]:
    retrieve = options.get("retrieve_date") or at
    install = options.get("install_date")
    retries = retry_fields(options)
    if ocpp_version == OCPP16 and not update.signed:
        return "UpdateFirmware", {
            "location": location,
            "retrieveDate": format_timestamp(retrieve),
            **retries,
        }
    image = update.firmware
    firmware: dict[str, Any] = {
        "location": location,
        "retrieveDateTime": format_timestamp(retrieve),
    }
    if install:
        firmware["installDateTime"] = format_timestamp(install)
    if update.signed or image.signing_certificate:
        if not (image.signing_certificate and image.signature):
            # The API checks this first; reaching here is a caller's bug.
            raise ValueError("A signed update needs the image's signing certificate and signature.")
        firmware["signingCertificate"] = image.signing_certificate
        firmware["signature"] = image.signature
    action = "SignedUpdateFirmware" if ocpp_version == OCPP16 else "UpdateFirmware"
    return action, {"requestId": update.request_id, "firmware": firmware, **retries}


@transaction.atomic
def firmware_update_start(
    *,
    charge_point_id: str,
    ocpp_version: str,
    firmware: FirmwareImage,
    options: dict[str, Any],
    protocol: str | None = None,
    signed: bool = False,
    created_by: Any = None,
    at: datetime,
) -> FirmwareUpdate:
    """Create the update, its download credentials and the command that
    carries the location (the caller dispatches it). The credentials last
    from now until the retrieve date plus the credential lifetime and the
    retries' time."""
    config = settings.OV2XMP
    retrieve = options.get("retrieve_date") or at
    retry_time = (options.get("retries") or 0) * (options.get("retry_interval") or 0)
    password = secrets.token_urlsafe(32)
    update = FirmwareUpdate.objects.create(
        charge_point_id=charge_point_id,
        firmware=firmware,
        protocol=protocol or ("http" if config.upload_protocol == "http" else "ftp"),
        signed=signed,
        username="f" + secrets.token_hex(8),
        password_hash=password_hash(password),
        expires_at=max(retrieve, at)
        + timedelta(minutes=config.file_credential_minutes, seconds=retry_time),
        status_at=at,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    action, payload = _update_command(
        update,
        ocpp_version=ocpp_version,
        location=download_location(update, password),
        options=options,
        at=at,
    )
    transfer_attach_command(
        update, ocpp_version=ocpp_version, action=action, payload=payload, at=at
    )
    return update


def firmware_update_authenticate(
    *, username: str, password: str, at: datetime
) -> FirmwareUpdate | None:
    """The update whose download credentials these are, while they last. They
    may be used again (retries, resumed downloads) until they expire."""
    update = FirmwareUpdate.objects.select_related("firmware").filter(username=username).first()
    if update is None or not secrets.compare_digest(update.password_hash, password_hash(password)):
        return None
    if update.expires_at <= at or update.status in ("Rejected", "Failed"):
        return None
    return update


def firmware_update_record_download(*, update_id: int) -> None:
    FirmwareUpdate.objects.filter(pk=update_id).update(downloads=F("downloads") + 1)


def _set_answer_status(update: FirmwareUpdate, status: str, at: datetime) -> None:
    """The command's outcome, unless the charger has reported progress already
    (it may start downloading before its answer is recorded)."""
    FirmwareUpdate.objects.filter(pk=update.pk, status="Requested").update(
        status=status, status_at=at
    )


def firmware_update_record_answer(
    *, command: Command, response: dict[str, Any], at: datetime
) -> None:
    update = FirmwareUpdate.objects.filter(command=command).first()
    if update is None:
        return
    if command.action == "UpdateFirmware" and command.ocpp_version == OCPP16:
        status = "Accepted"  # 1.6 answers UpdateFirmware with an empty payload
    else:
        answer = response.get("status", "")
        status = "Accepted" if answer in ACCEPTED else (answer or "Rejected")
    _set_answer_status(update, status, at)


def firmware_update_record_failure(*, command: Command, at: datetime) -> None:
    update = FirmwareUpdate.objects.filter(command=command).first()
    if update is not None:
        _set_answer_status(update, "Failed", at)


def firmware_update_record_status(
    *, charge_point_id: str, status: str, request_id: int | None, at: datetime
) -> FirmwareUpdate | None:
    """FirmwareStatusNotification (1.6: no request id, the newest unsigned
    update; 2.0.1 and SignedFirmwareStatusNotification: the requestId)."""
    updates = FirmwareUpdate.objects.filter(charge_point_id=charge_point_id)
    if request_id is None:
        updates = updates.filter(signed=False, command__ocpp_version=OCPP16)
    else:
        updates = updates.filter(pk=request_id)
    update = updates.order_by("-created_at").first()
    if update is not None and status != "Idle":
        update.status = status
        update.status_at = at
        update.save(update_fields=["status", "status_at"])
    return update

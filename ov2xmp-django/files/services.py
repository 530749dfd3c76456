"""Writes of the file services: upload requests with one-off credentials, the
files that arrive, and what the charger reports on the way."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from commands.catalog import OCPP16, command_spec
from commands.models import Command
from commands.services import command_create
from core.time import format_timestamp
from files.models import (
    FINAL_STATUSES,
    FileKind,
    FileRequest,
    FileRequestStatus,
    FirmwareUpdate,
    Protocol,
    StoredFile,
)
from updates.events import charger_event
from updates.services import events_publish

logger = logging.getLogger(__name__)

# A name a charger may give its upload: no path, no control characters, not
# hidden. Stored files get a name of our own; this one is kept for display.
ACCEPTABLE_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f.][^/\\\x00-\x1f\x7f]{0,254}$")
# The statuses of DiagnosticsStatusNotification / LogStatusNotification that
# mean the same to a request.
CHARGER_STATUS = {
    "Uploading": FileRequestStatus.UPLOADING,
    "Uploaded": FileRequestStatus.UPLOADED,
    "UploadFailed": FileRequestStatus.UPLOAD_FAILED,
    "UploadFailure": FileRequestStatus.UPLOAD_FAILED,
    "BadMessage": FileRequestStatus.UPLOAD_FAILED,
    "NotSupportedOperation": FileRequestStatus.UPLOAD_FAILED,
    "PermissionDenied": FileRequestStatus.UPLOAD_FAILED,
}
GET_LOG_TYPES = {
    FileKind.DIAGNOSTICS: "DiagnosticsLog",
    FileKind.DIAGNOSTICS_LOG: "DiagnosticsLog",
    FileKind.SECURITY_LOG: "SecurityLog",
}


def files_dir() -> Path:
    return settings.OV2XMP.files_dir


def incoming_dir(request: FileRequest) -> Path:
    """Where a request's upload lands while it is being written: never shown
    as a file until it is complete and moved out."""
    return files_dir() / ".incoming" / str(request.pk)


def password_hash(password: str) -> str:
    # The password is 32 random bytes: a fast hash is as good as a slow one.
    return hashlib.sha256(password.encode()).hexdigest()


def _bind_host() -> str:
    bind = settings.OV2XMP.bind
    host = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind
    return f"[{host}]" if ":" in host else host


def base_url(protocol: str) -> str:
    """Where chargers reach the file service of a protocol (no credentials)."""
    config = settings.OV2XMP
    if protocol == Protocol.HTTP:
        configured = config.http_files_public_url
        return (configured or f"http://{_bind_host()}:{config.api_port}").rstrip("/")
    return (config.ftp_public_url or f"ftp://{_bind_host()}:{config.ftp_port}").rstrip("/")


def upload_location(request: FileRequest, password: str) -> str:
    """The URL the charger uploads to, credentials included: an FTP
    directory, or the HTTP location to PUT a file below or POST it to."""
    scheme, rest = base_url(request.protocol).split("://", 1)
    path = f"/files/upload/{request.username}/" if request.protocol == Protocol.HTTP else "/"
    return f"{scheme}://{request.username}:{password}@{rest}{path}"


def file_request_create(
    *,
    charge_point_id: str,
    kind: str,
    protocol: str | None = None,
    created_by: Any = None,
    at: datetime,
) -> tuple[FileRequest, str]:
    """A request with fresh credentials; returns it and the password (only
    its hash is stored)."""
    password = secrets.token_urlsafe(32)
    request = FileRequest.objects.create(
        charge_point_id=charge_point_id,
        kind=kind,
        protocol=protocol or settings.OV2XMP.upload_protocol,
        username="u" + secrets.token_hex(8),
        password_hash=password_hash(password),
        expires_at=at + timedelta(minutes=settings.OV2XMP.file_credential_minutes),
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        status_at=at,
    )
    return request, password


def retry_fields(options: dict[str, Any]) -> dict[str, int]:
    """``retries`` and ``retryInterval``, as every transfer command spells them."""
    fields = {"retries": options.get("retries"), "retryInterval": options.get("retry_interval")}
    return {key: value for key, value in fields.items() if value is not None}


def upload_command_payload(
    request: FileRequest, *, ocpp_version: str, location: str, options: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The command that asks for the upload: (action, OCPP payload).
    ``options``: start_time, stop_time (datetimes), retries, retry_interval."""
    retries = retry_fields(options)
    start, stop = options.get("start_time"), options.get("stop_time")
    if ocpp_version == OCPP16 and request.kind == FileKind.DIAGNOSTICS:
        payload: dict[str, Any] = {"location": location, **retries}
        if start:
            payload["startTime"] = format_timestamp(start)
        if stop:
            payload["stopTime"] = format_timestamp(stop)
        return "GetDiagnostics", payload
    log: dict[str, Any] = {"remoteLocation": location}
    if start:
        log["oldestTimestamp"] = format_timestamp(start)
    if stop:
        log["latestTimestamp"] = format_timestamp(stop)
    payload = {
        "logType": GET_LOG_TYPES[FileKind(request.kind)],
        "requestId": request.request_id,
        "log": log,
        **retries,
    }
    return "GetLog", payload


@transaction.atomic
def file_request_start(
    *,
    charge_point_id: str,
    ocpp_version: str,
    kind: str,
    options: dict[str, Any],
    protocol: str | None = None,
    created_by: Any = None,
    at: datetime,
) -> FileRequest:
    """Create the request and the command that carries its location (the
    caller dispatches the command)."""
    request, password = file_request_create(
        charge_point_id=charge_point_id,
        kind=kind,
        protocol=protocol,
        created_by=created_by,
        at=at,
    )
    action, payload = upload_command_payload(
        request,
        ocpp_version=ocpp_version,
        location=upload_location(request, password),
        options=options,
    )
    transfer_attach_command(
        request, ocpp_version=ocpp_version, action=action, payload=payload, at=at
    )
    return request


def transfer_attach_command(
    transfer: FileRequest | Any,
    *,
    ocpp_version: str,
    action: str,
    payload: dict[str, Any],
    at: datetime,
) -> Command:
    """The command that carries a transfer's location, created (not yet sent)
    and linked to it."""
    spec = command_spec(ocpp_version, action)
    errors = spec.request_errors(payload)
    if errors:  # our own payload: a bug, not bad input
        raise ValueError(f"{action} payload invalid: {errors}")
    transfer.command = command_create(
        charge_point_id=transfer.charge_point_id,
        spec=spec,
        payload=payload,
        created_by=transfer.created_by,
        at=at,
    )
    transfer.save(update_fields=["command"])
    return transfer.command


def file_request_authenticate(*, username: str, password: str, at: datetime) -> FileRequest | None:
    """The request whose credentials these are, if they are still good: not
    expired, not used, the request not ended."""
    request = FileRequest.objects.filter(username=username).first()
    if request is None or not hmac.compare_digest(request.password_hash, password_hash(password)):
        return None
    if request.expires_at <= at or request.used_at is not None:
        return None
    if request.status in (FileRequestStatus.REJECTED, FileRequestStatus.FAILED):
        return None
    return request


def _set_status(request: FileRequest, status: str, at: datetime) -> None:
    if request.status not in FINAL_STATUSES:
        request.status = status
        request.status_at = at


def file_request_record_answer(*, command: Command, response: dict[str, Any], at: datetime) -> None:
    """The charger's answer to GetDiagnostics (a file name, or none: nothing
    to upload) or GetLog (Accepted, Rejected, AcceptedCanceled)."""
    request = FileRequest.objects.filter(command=command).first()
    if request is None:
        return  # sent directly through /api/commands/, not as a file request
    if command.action == "GetDiagnostics":
        request.file_name = response.get("fileName", "")
        accepted = bool(request.file_name)
    else:
        request.file_name = response.get("filename", "")
        accepted = response.get("status") in ("Accepted", "AcceptedCanceled")
    _set_status(request, FileRequestStatus.ACCEPTED if accepted else FileRequestStatus.REJECTED, at)
    request.save(update_fields=["file_name", "status", "status_at"])


def file_request_record_failure(*, command: Command, at: datetime) -> None:
    """The command did not get an answer (not connected, timed out, …)."""
    request = FileRequest.objects.filter(command=command).first()
    if request is not None:
        _set_status(request, FileRequestStatus.FAILED, at)
        request.save(update_fields=["status", "status_at"])


def file_request_record_upload_status(
    *, charge_point_id: str, status: str, action: str, request_id: int | None, at: datetime
) -> FileRequest | None:
    """A DiagnosticsStatusNotification (``action`` GetDiagnostics) or
    LogStatusNotification (GetLog): for the request its requestId names or,
    without one, the newest request sent with that action."""
    requests = FileRequest.objects.filter(charge_point_id=charge_point_id)
    if request_id is None:
        requests = requests.filter(command__action=action)
    else:
        requests = requests.filter(pk=request_id)
    request = requests.order_by("-created_at").first()
    if request is None:
        return None
    request.charger_status = status
    mapped = CHARGER_STATUS.get(status)
    if mapped is not None:
        _set_status(request, mapped, at)
    request.save(update_fields=["charger_status", "status", "status_at"])
    return request


def file_request_receive(*, request_id: int, source: Path, name: str, at: datetime) -> StoredFile:
    """A complete upload: moved out of the incoming directory (one rename, so
    a file is either whole and recorded or not there at all) and recorded
    with its size and SHA-256. The credentials end with it."""
    request = FileRequest.objects.get(pk=request_id)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    relative = Path(request.charge_point_id) / f"{request.pk}-{storage_name(name)}"
    target = files_dir() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                charge_point_id=request.charge_point_id,
                kind=request.kind,
                name=name,
                path=str(relative),
                size=size,
                sha256=digest.hexdigest(),
            )
            request.file = stored
            request.used_at = at
            request.status = FileRequestStatus.RECEIVED
            request.status_at = at
            request.save(update_fields=["file", "used_at", "status", "status_at"])
            events_publish(
                events=[
                    charger_event(
                        "file.received",
                        charge_point_id=request.charge_point_id,
                        at=at,
                        file_id=stored.pk,
                        file_request_id=request.pk,
                        file_kind=request.kind,
                        name=name,
                        size=size,
                    )
                ]
            )
    except Exception:
        target.unlink(missing_ok=True)
        raise
    logger.info(
        "%s: received %s (%d bytes) for %s request %s",
        request.charge_point_id,
        name,
        size,
        request.kind,
        request.pk,
    )
    return stored


def storage_name(name: str) -> str:
    """A name safe on every filesystem, for the file on disk."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return cleaned[:200] or "upload"


def stored_file_delete(*, stored_file: StoredFile) -> None:
    """The row and, by files/signals.py, the file."""
    stored_file.delete()


def incoming_discard(path: Path) -> None:
    """Remove what an aborted or refused upload left."""
    path.unlink(missing_ok=True)


# Directories of ended transfers are kept this long, so that a transfer
# still running when its credentials end can finish.
TRANSFER_DIRECTORY_GRACE = timedelta(hours=1)
PARTIAL_IMAGE_AGE = timedelta(days=1)


def transfer_directories_clean(*, at: datetime) -> int:
    """Remove the incoming (upload) and download directories of transfers
    whose credentials ended more than an hour ago, and image uploads left
    half-written; returns how many were removed."""
    since = at - TRANSFER_DIRECTORY_GRACE
    live_uploads = FileRequest.objects.filter(expires_at__gt=since).exclude(used_at__lt=since)
    live_downloads = FirmwareUpdate.objects.filter(expires_at__gt=since)
    removed = 0
    for directory, live in (
        (files_dir() / ".incoming", live_uploads),
        (files_dir() / ".downloads", live_downloads),
    ):
        if not directory.is_dir():
            continue
        keep = {str(pk) for pk in live.values_list("pk", flat=True)}
        for entry in directory.iterdir():
            if entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    cutoff = (at - PARTIAL_IMAGE_AGE).timestamp()
    for partial in (files_dir() / "firmware").glob(".part-*"):
        if partial.stat().st_mtime < cutoff:
            partial.unlink(missing_ok=True)
            removed += 1
    return removed

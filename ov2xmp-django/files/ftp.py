"""The FTP server chargers upload diagnostics and logs to (pyftpdlib).

Each upload request has its own username and password, good until they
expire or a file has arrived; they open only that request's incoming
directory, where the charger may store (and list) files and nothing else. A
file is recorded when its transfer completes; an aborted or oversized one is
deleted. A firmware update's credentials (usernames starting with ``f``)
open a directory holding only its image, to read. Runs as ``ov2xmp ftp``, or
inside ``ov2xmp up`` on a thread.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

from core.time import utc_now
from files.firmware import (
    firmware_download_dir,
    firmware_update_authenticate,
    firmware_update_record_download,
)
from files.services import (
    ACCEPTABLE_NAME,
    file_request_authenticate,
    file_request_receive,
    incoming_dir,
    incoming_discard,
)

logger = logging.getLogger(__name__)

# e: change directory, l: list, w: store, r: read. Never delete, rename, mkdir.
UPLOAD_PERMISSIONS = "elw"
DOWNLOAD_PERMISSIONS = "elr"
FIRMWARE_USER_PREFIX = "f"


def permissions(username: str) -> str:
    return DOWNLOAD_PERMISSIONS if username.startswith(FIRMWARE_USER_PREFIX) else UPLOAD_PERMISSIONS


class RequestAuthorizer(DummyAuthorizer):
    """Logins are file requests' credentials, looked up in the database."""

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        close_old_connections()
        now = utc_now()
        if username.startswith(FIRMWARE_USER_PREFIX):
            update = firmware_update_authenticate(username=username, password=password, at=now)
            if update is not None:
                handler.firmware_update_id = update.pk
                handler.home_dir = str(firmware_download_dir(update))
                return
        else:
            request = file_request_authenticate(username=username, password=password, at=now)
            if request is not None:
                home = incoming_dir(request)
                home.mkdir(parents=True, exist_ok=True)
                handler.file_request_id = request.pk
                handler.home_dir = str(home)
                return
        logger.warning("FTP login refused for %r from %s", username, handler.remote_ip)
        raise AuthenticationFailed("Authentication failed.")

    # pyftpdlib asks these by username; the session (handler) knows the
    # answer: TransferHandler.handle_auth_success uses the session's home.
    def get_home_dir(self, username: str) -> str:
        return ""

    def has_user(self, username: str) -> bool:
        return True

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        return perm in permissions(username)

    def get_perms(self, username: str) -> str:
        return permissions(username)

    def get_msg_login(self, username: str) -> str:
        if username.startswith(FIRMWARE_USER_PREFIX):
            return "Logged in: download your firmware."
        return "Logged in: upload your file."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."

    def impersonate_user(self, username: str, password: str) -> None:
        pass

    def terminate_impersonation(self, username: str) -> None:
        pass


class LimitedDTPHandler(DTPHandler):
    """Stops an upload that grows beyond OV2XMP_UPLOAD_MAX_BYTES."""

    def handle_read(self) -> None:
        super().handle_read()
        limit = settings.OV2XMP.upload_max_bytes
        if self.receive and self.tot_bytes_received > limit:
            self.transfer_finished = False
            self._resp = (f"552 Upload larger than {limit} bytes: refused.", logger.warning)
            self.close()

    # The base class aliases its own handle_read under this name.
    handle_read_event = handle_read


class LimitedTLSDTPHandler(TLS_DTPHandler, LimitedDTPHandler):
    """The same over TLS: the TLS layer reads, then hands over to the limit."""


class TransferHandler(FTPHandler):
    authorizer = RequestAuthorizer()
    dtp_handler = LimitedDTPHandler
    banner = "O-V2X-MP file service: log in with the credentials of your URL."
    file_request_id: int | None = None
    firmware_update_id: int | None = None
    home_dir = ""

    def handle_auth_success(self, home: str, password: str, msg_login: str) -> None:
        super().handle_auth_success(self.home_dir, password, msg_login)

    def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
        # pyftpdlib keeps every path inside the home directory anyway; a name
        # that tries to climb out is refused rather than quietly re-rooted.
        if cmd in ("STOR", "STOU", "APPE") and ".." in arg.replace("\\", "/").split("/"):
            self.respond("553 File name not allowed.")
            logger.warning("FTP upload refused: path %r", arg)
            return
        super().pre_process_command(line, cmd, arg)

    def ftp_STOR(self, file: str, mode: str = "w") -> str | None:
        name = os.path.basename(file)
        if not ACCEPTABLE_NAME.fullmatch(name):
            self.respond("553 File name not allowed.")
            logger.warning("FTP upload refused: file name %r", name)
            return None
        return super().ftp_STOR(file, mode)

    def on_file_received(self, file: str) -> None:
        assert self.file_request_id is not None
        close_old_connections()
        try:
            file_request_receive(
                request_id=self.file_request_id,
                source=Path(file),
                name=os.path.basename(file),
                at=utc_now(),
            )
        except Exception:
            logger.exception("FTP upload %s could not be recorded", file)
            incoming_discard(Path(file))

    def on_file_sent(self, file: str) -> None:
        if self.firmware_update_id is not None:
            close_old_connections()
            firmware_update_record_download(update_id=self.firmware_update_id)

    def on_incomplete_file_received(self, file: str) -> None:
        logger.warning("FTP upload %s aborted: discarded", os.path.basename(file))
        incoming_discard(Path(file))


def build_ftp_server(host: str, port: int) -> FTPServer:
    config = settings.OV2XMP
    passive = config.ftp_passive_ports
    bases: tuple[type, ...] = (TransferHandler,)
    attributes: dict[str, Any] = {
        "passive_ports": range(passive[0], passive[1] + 1) if passive else None,
        "masquerade_address": config.ftp_masquerade_address,
    }
    if config.ftp_tls_certificate:
        bases = (TransferHandler, TLS_FTPHandler)
        attributes |= {
            "certfile": str(config.ftp_tls_certificate),
            "keyfile": str(config.ftp_tls_private_key),
            "tls_control_required": config.ftp_tls_required,
            "tls_data_required": config.ftp_tls_required,
            "dtp_handler": LimitedTLSDTPHandler,
        }
    handler = type("ConfiguredTransferHandler", bases, attributes)
    (config.files_dir / ".incoming").mkdir(parents=True, exist_ok=True)
    return FTPServer((host, port), handler)


class FtpServerThread(threading.Thread):
    """Runs an FTP server's loop on a thread of its own (inside ``ov2xmp up``,
    and in tests) until ``stop()``."""

    def __init__(self, server: FTPServer) -> None:
        super().__init__(name="ftp-server", daemon=True)
        self.server = server
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server.address[1])

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                self.server.serve_forever(timeout=0.1, blocking=False, handle_exit=False)
        finally:
            self.server.close_all()
            connections.close_all()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)

from __future__ import annotations

import dataclasses

import pytest

from chargepoints.models import ChargePoint
from files.ftp import FtpServerThread, TransferHandler, build_ftp_server


@pytest.fixture
def files_settings(settings, tmp_path):
    """File services writing below the test's own directory."""

    def configure(**overrides):
        settings.OV2XMP = dataclasses.replace(
            settings.OV2XMP, **{"files_dir": tmp_path / "files", **overrides}
        )
        return settings.OV2XMP

    configure()
    return configure


@pytest.fixture
def ftp_server(transactional_db, files_settings, monkeypatch):
    """A real FTP server on a free loopback port, on a thread of its own."""
    # pyftpdlib answers a failed login only after 3 s (against guessing).
    monkeypatch.setattr(TransferHandler, "auth_failed_timeout", 0.05)
    thread = FtpServerThread(build_ftp_server("127.0.0.1", 0))
    thread.start()
    files_settings(ftp_port=thread.port)
    yield thread
    thread.stop()


@pytest.fixture
def charger(transactional_db):
    return ChargePoint.objects.create(id="CP-F", ocpp_version="1.6")

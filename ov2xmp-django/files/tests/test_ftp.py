"""The FTP server against Python's ftplib, a real client, on loopback."""

from __future__ import annotations

import contextlib
import errno
import ftplib
import hashlib
import io
import ssl
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyftpdlib.filesystems import AbstractedFS

from core.testing import free_port
from core.time import utc_now
from files.ftp import FtpServerThread, build_ftp_server
from files.models import FileKind, FileRequest, FileRequestStatus, StoredFile
from files.services import (
    file_request_create,
    files_dir,
    transfer_directories_clean,
    upload_location,
)

DATA = b"diagnostics " * 1000


def new_request(charger, **changes) -> tuple[FileRequest, str]:
    request, password = file_request_create(
        charge_point_id=charger.id, kind=FileKind.DIAGNOSTICS, at=utc_now()
    )
    if changes:
        FileRequest.objects.filter(pk=request.pk).update(**changes)
        request.refresh_from_db()
    return request, password


def login(ftp_server, username: str, password: str, *, passive: bool = True) -> ftplib.FTP:
    client = ftplib.FTP()
    client.connect("127.0.0.1", ftp_server.port, timeout=10)
    client.set_pasv(passive)
    client.login(username, password)
    return client


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_an_upload_is_recorded_with_size_and_sha256(ftp_server, charger, passive):
    request, password = new_request(charger)
    client = login(ftp_server, request.username, password, passive=passive)
    client.storbinary("STOR diag CP-F 2026-11-23T10:00:00Z.tar.gz", io.BytesIO(DATA))
    client.quit()

    request.refresh_from_db()
    stored = StoredFile.objects.get()
    assert request.status == FileRequestStatus.RECEIVED
    assert request.file == stored
    assert request.used_at is not None
    assert (stored.name, stored.size, stored.sha256) == (
        "diag CP-F 2026-11-23T10:00:00Z.tar.gz",
        len(DATA),
        hashlib.sha256(DATA).hexdigest(),
    )
    on_disk = files_dir() / stored.path
    assert on_disk.read_bytes() == DATA
    assert on_disk.name == f"{request.pk}-diag_CP-F_2026-11-23T10_00_00Z.tar.gz"
    assert not any((files_dir() / ".incoming" / str(request.pk)).iterdir())


def test_the_credentials_end_with_the_upload(ftp_server, charger):
    request, password = new_request(charger)
    client = login(ftp_server, request.username, password)
    client.storbinary("STOR first.log", io.BytesIO(b"one"))
    client.quit()
    with pytest.raises(ftplib.error_perm, match="530"):
        login(ftp_server, request.username, password)


def test_wrong_expired_and_foreign_credentials_are_refused(ftp_server, charger):
    request, _ = new_request(charger)
    _, other_password = new_request(charger)
    expired, expired_password = new_request(charger, expires_at=utc_now() - timedelta(seconds=1))
    for username, secret in [
        (request.username, "wrong"),
        (request.username, other_password),
        (expired.username, expired_password),
        ("anonymous", "guest@example.com"),
    ]:
        with pytest.raises(ftplib.error_perm, match="530"):
            login(ftp_server, username, secret)
    assert StoredFile.objects.count() == 0


def test_paths_outside_the_upload_directory_and_odd_names_are_refused(ftp_server, charger):
    request, password = new_request(charger)
    client = login(ftp_server, request.username, password)
    for name in ["../../outside.txt", "/etc/passwd", ".hidden", "sub/dir.txt", "a\\..\\b"]:
        with pytest.raises(ftplib.error_perm, match=r"55[03]"):
            client.storbinary(f"STOR {name}", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="550"):
        client.retrbinary("RETR anything", lambda _: None)
    with pytest.raises(ftplib.error_perm, match="550"):
        client.mkd("sub")
    client.quit()
    assert StoredFile.objects.count() == 0
    assert not (files_dir().parent / "outside.txt").exists()


def test_an_oversized_upload_is_refused_and_leaves_nothing(ftp_server, files_settings, charger):
    files_settings(upload_max_bytes=4096, ftp_port=ftp_server.port)
    request, password = new_request(charger)
    client = login(ftp_server, request.username, password)
    connection = client.transfercmd("STOR big.bin")
    with contextlib.suppress(OSError):  # the server closes the data connection
        connection.sendall(b"x" * 100_000)
    connection.close()
    with pytest.raises(ftplib.error_perm, match="552"):
        client.voidresp()
    client.quit()
    assert StoredFile.objects.count() == 0
    assert not any((files_dir() / ".incoming" / str(request.pk)).iterdir())
    request.refresh_from_db()
    assert request.used_at is None  # the charger may try again


def test_an_aborted_upload_leaves_nothing(ftp_server, charger):
    request, password = new_request(charger)
    client = login(ftp_server, request.username, password)
    connection = client.transfercmd("STOR partial.bin")
    connection.sendall(b"x" * 10_000)
    client.abort()
    connection.close()
    client.close()
    incoming = files_dir() / ".incoming" / str(request.pk)
    deadline = time.monotonic() + 5
    while any(incoming.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(incoming.iterdir())
    assert StoredFile.objects.count() == 0


def test_the_location_carries_the_credentials(ftp_server, charger):
    request, password = new_request(charger)
    assert upload_location(request, password) == (
        f"ftp://{request.username}:{password}@127.0.0.1:{ftp_server.port}/"
    )


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = directory / "ftp.crt", directory / "ftp.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_file, key_file


def test_ftps_when_configured_and_required(transactional_db, files_settings, charger, tmp_path):
    certificate, key = self_signed(tmp_path)
    files_settings(ftp_tls_certificate=certificate, ftp_tls_private_key=key, ftp_tls_required=True)
    server = FtpServerThread(build_ftp_server("127.0.0.1", 0))
    server.start()
    try:
        request, password = new_request(charger)
        plain = ftplib.FTP()
        plain.connect("127.0.0.1", server.port, timeout=10)
        with pytest.raises(ftplib.error_perm, match="550"):
            plain.login(request.username, password)
        plain.close()

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        secure = ftplib.FTP_TLS(context=context)
        secure.connect("127.0.0.1", server.port, timeout=10)
        secure.login(request.username, password)  # AUTH TLS first
        secure.prot_p()
        secure.storbinary("STOR secret.log", io.BytesIO(DATA))
        secure.quit()

        # The size limit holds over TLS too.
        files_settings(upload_max_bytes=4096)
        request, password = new_request(charger)
        secure = ftplib.FTP_TLS(context=context)
        secure.connect("127.0.0.1", server.port, timeout=10)
        secure.login(request.username, password)
        secure.prot_p()
        connection = secure.transfercmd("STOR big.bin")
        with contextlib.suppress(OSError):
            connection.sendall(b"x" * 100_000)
        connection.close()
        with pytest.raises(ftplib.error_perm, match="552"):
            secure.voidresp()
        secure.close()
    finally:
        server.stop()
    stored = StoredFile.objects.get()
    assert (stored.size, stored.sha256) == (len(DATA), hashlib.sha256(DATA).hexdigest())


def test_a_full_disk_aborts_the_upload_and_leaves_nothing(ftp_server, charger, monkeypatch):
    real_open = AbstractedFS.open

    class FullDisk:
        def __init__(self, stream):
            self._stream = stream
            self.name = stream.name
            self.closed = False

        def write(self, chunk):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            self.closed = True
            self._stream.close()

    def open_on_full_disk(fs, filename, mode):
        return FullDisk(real_open(fs, filename, mode))

    monkeypatch.setattr(AbstractedFS, "open", open_on_full_disk)
    request, password = new_request(charger)
    client = login(ftp_server, request.username, password)
    with pytest.raises(ftplib.Error, match=r"^4"):
        client.storbinary("STOR full.bin", io.BytesIO(DATA))
    client.quit()
    assert StoredFile.objects.count() == 0
    assert not any((files_dir() / ".incoming" / str(request.pk)).iterdir())


def test_passive_mode_uses_the_configured_ports(transactional_db, files_settings, charger):
    first = free_port()
    files_settings(ftp_passive_ports=(first, first), ftp_masquerade_address="127.0.0.1")
    server = FtpServerThread(build_ftp_server("127.0.0.1", 0))
    server.start()
    try:
        request, password = new_request(charger)
        client = login(server, request.username, password)
        host, port = ftplib.parse227(client.sendcmd("PASV"))
        assert (host, port) == ("127.0.0.1", first)
        client.quit()
    finally:
        server.stop()


def test_ended_transfers_leave_nothing_on_disk(ftp_server, charger):
    ended, _ = new_request(charger, expires_at=utc_now() - timedelta(hours=2))
    live, _ = new_request(charger)
    for request in (ended, live):
        directory = files_dir() / ".incoming" / str(request.pk)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "leftover.bin").write_bytes(b"x")
    assert transfer_directories_clean(at=utc_now()) == 1
    assert not (files_dir() / ".incoming" / str(ended.pk)).exists()
    assert (files_dir() / ".incoming" / str(live.pk) / "leftover.bin").exists()


def test_a_deleted_charger_takes_its_files_along(ftp_server, charger):
    request, password = new_request(charger)
    client = login(ftp_server, request.username, password)
    client.storbinary("STOR diag.zip", io.BytesIO(DATA))
    client.quit()
    path = files_dir() / StoredFile.objects.get().path
    assert path.exists()
    charger.delete()
    assert StoredFile.objects.count() == 0
    assert not path.exists()

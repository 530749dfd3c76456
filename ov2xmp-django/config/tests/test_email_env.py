"""The mail and password reset settings: OV2XMP_EMAIL_URL (with
OV2XMP_EMAIL_PASSWORD), OV2XMP_DEFAULT_FROM_EMAIL, OV2XMP_PUBLIC_URL and
OV2XMP_PASSWORD_RESET_TIMEOUT; bad values stop the start, naming the variable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from config.env import (
    ConfigurationError,
    email_address,
    email_from_url,
    local_url,
    public_url,
)
from ov2xmp.tests.platform import OV2XMP

DATA = Path("/srv/ov2xmp")
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def test_unset_mails_go_to_files_in_the_data_directory():
    for url in (None, "", "file", "FILE"):
        configured = email_from_url(url, password=None, data_dir=DATA)
        assert configured.backend == "django.core.mail.backends.filebased.EmailBackend"
        assert configured.file_path == DATA / "mail"


def test_console_and_a_directory_of_ones_own():
    assert email_from_url("console", password=None, data_dir=DATA).backend == (
        "django.core.mail.backends.console.EmailBackend"
    )
    configured = email_from_url("file:///var/mail/ov2xmp", password=None, data_dir=DATA)
    assert configured.file_path == Path("/var/mail/ov2xmp")


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "ssl"),
    [
        ("smtp://mail.example.org", "mail.example.org", 25, False, False),
        ("smtp://mail.example.org:2525", "mail.example.org", 2525, False, False),
        ("smtp+tls://mail.example.org", "mail.example.org", 587, True, False),
        ("SMTPS://mail.example.org", "mail.example.org", 465, False, True),
        ("smtp+ssl://[::1]:4650", "::1", 4650, False, True),
    ],
)
def test_smtp_urls(url, host, port, tls, ssl):
    configured = email_from_url(url, password=None, data_dir=DATA)
    assert configured.backend == SMTP
    assert (configured.host, configured.port, configured.use_tls, configured.use_ssl) == (
        host,
        port,
        tls,
        ssl,
    )
    assert (configured.user, configured.password, configured.timeout) == ("", "", 10.0)


def test_the_login_comes_from_the_url_or_the_password_variable():
    in_url = email_from_url(
        "smtp+tls://me%40example.org:p%2Fw@mail.example.org", password=None, data_dir=DATA
    )
    assert (in_url.user, in_url.password) == ("me@example.org", "p/w")
    apart = email_from_url(
        "smtp://mailer@mail.example.org?timeout=2.5", password="s3cret", data_dir=DATA
    )
    assert (apart.user, apart.password, apart.timeout) == ("mailer", "s3cret", 2.5)


@pytest.mark.parametrize(
    ("url", "password", "problem"),
    [
        ("mailto:x@example.org", None, "unsupported scheme 'mailto'"),
        ("https://mail.example.org", None, "unsupported scheme 'https'"),
        ("smtp://", None, "names no host"),
        ("smtp://mail.example.org:port", None, "the port is not a number"),
        ("smtp://mail.example.org:70000", None, "the port is not a number"),
        ("smtp://mail.example.org/inbox", None, "has no path"),
        ("smtp://:pw@mail.example.org", None, "a password needs a user name"),
        ("smtp://mail.example.org", "s3cret", "a password needs a user name"),
        ("smtp://u:pw@mail.example.org", "s3cret", "set only one"),
        ("smtp://mail.example.org?tls=1", None, "unknown option 'tls'"),
        ("smtp://mail.example.org?timeout=soon", None, "timeout='soon' is not a number"),
        ("smtp://mail.example.org?timeout=0", None, "must be above 0"),
        ("file://relative/dir", None, "absolute directory"),
        ("console", "s3cret", "sends no mail over SMTP"),
    ],
)
def test_bad_email_urls_are_refused_by_name(url, password, problem):
    with pytest.raises(ConfigurationError, match="OV2XMP_EMAIL") as error:
        email_from_url(url, password=password, data_dir=DATA)
    assert problem in str(error.value)


def test_sender_addresses():
    assert email_address("noreply@example.org", variable="V") == "noreply@example.org"
    assert email_address(" CSMS <noreply@example.org> ", variable="V") == (
        "CSMS <noreply@example.org>"
    )
    for bad in ("noreply", "CSMS <>", "@example.org", "no reply@example.org"):
        with pytest.raises(ConfigurationError, match=r"^V="):
            email_address(bad, variable="V")


def test_public_urls():
    assert public_url("https://csms.example.org/") == "https://csms.example.org"
    assert public_url("HTTP://csms.example.org:8443") == "http://csms.example.org:8443"
    for bad in (
        "csms.example.org",
        "ftp://csms.example.org",
        "https://csms.example.org/dashboard",
        "https://csms.example.org/?next=/",
        "https://user@csms.example.org",
        "https://csms.example.org:x",
    ):
        with pytest.raises(ConfigurationError, match=r"^OV2XMP_PUBLIC_URL="):
            public_url(bad)


def test_without_a_public_url_links_point_to_the_api_port():
    assert local_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert local_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert local_url("::1", 8000) == "http://[::1]:8000"


def check(tmp_path, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OV2XMP_")}
    environment |= {"OV2XMP_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [OV2XMP, "manage", "check"],
        env=environment | variables,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "OV2XMP_PASSWORD_RESET_TIMEOUT",
            "1h",
            "OV2XMP_PASSWORD_RESET_TIMEOUT='1h': expected a whole number",
        ),
        (
            "OV2XMP_PASSWORD_RESET_TIMEOUT",
            "30",
            "OV2XMP_PASSWORD_RESET_TIMEOUT=30: must be at least 60",
        ),
        ("OV2XMP_EMAIL_URL", "smtp//mail", "OV2XMP_EMAIL_URL: unsupported scheme"),
        ("OV2XMP_DEFAULT_FROM_EMAIL", "noreply", "OV2XMP_DEFAULT_FROM_EMAIL='noreply'"),
        ("OV2XMP_PUBLIC_URL", "csms.example.org", "OV2XMP_PUBLIC_URL='csms.example.org'"),
    ],
)
def test_a_bad_value_stops_the_start(tmp_path, variable, value, message):
    refused = check(tmp_path, **{variable: value})
    assert refused.returncode == 1
    assert f"ov2xmp: configuration error: {message}" in refused.stderr


@pytest.mark.slow
def test_the_password_may_come_from_a_file(tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    started = check(
        tmp_path,
        OV2XMP_EMAIL_URL="smtp+tls://mailer@mail.example.org",
        OV2XMP_EMAIL_PASSWORD_FILE=str(secret),
    )
    assert started.returncode == 0, started.stderr
    both = check(
        tmp_path,
        OV2XMP_EMAIL_URL="smtp+tls://mailer@mail.example.org",
        OV2XMP_EMAIL_PASSWORD="s3cret",
        OV2XMP_EMAIL_PASSWORD_FILE=str(secret),
    )
    assert both.returncode == 1
    assert "OV2XMP_EMAIL_PASSWORD and OV2XMP_EMAIL_PASSWORD_FILE are both set" in both.stderr

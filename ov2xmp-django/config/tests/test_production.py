"""OV2XMP_ENVIRONMENT=production refuses an insecure configuration at start."""

from __future__ import annotations

import os
import subprocess

import pytest

from config.production import insecure_settings
from ov2xmp.tests.platform import OV2XMP

SAFE = {
    "debug": False,
    "secret_key_configured": True,
    "allowed_hosts": ["csms.example.org"],
    "tls_proxy": True,
    "ocpp_tls": False,
}


def test_a_safe_configuration_has_no_problems():
    assert insecure_settings(**SAFE) == []
    assert insecure_settings(**SAFE | {"tls_proxy": False, "ocpp_tls": True}) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"debug": True}, "OV2XMP_DEBUG is on"),
        ({"secret_key_configured": False}, "OV2XMP_SECRET_KEY is not set"),
        ({"allowed_hosts": ["csms.example.org", "*"]}, "OV2XMP_ALLOWED_HOSTS contains '*'"),
        ({"tls_proxy": False}, "no TLS"),
    ],
)
def test_each_insecure_setting_is_named(change, problem):
    (found,) = insecure_settings(**SAFE | change)
    assert found.startswith(problem)


def check(tmp_path, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OV2XMP_")}
    environment |= {"OV2XMP_DATA_DIR": str(tmp_path), "OV2XMP_ENVIRONMENT": "production"}
    return subprocess.run(
        [OV2XMP, "manage", "check"],
        env=environment | variables,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_production_does_not_start_insecure(tmp_path):
    refused = check(tmp_path, OV2XMP_DEBUG="true", OV2XMP_ALLOWED_HOSTS="*")
    assert refused.returncode != 0
    for problem in ("OV2XMP_DEBUG is on", "SECRET_KEY is not set", "contains '*'", "no TLS"):
        assert problem in refused.stderr

    secure = {"OV2XMP_SECRET_KEY": "k" * 50, "OV2XMP_TRUSTED_PROXIES": "172.30.1.10"}
    started = check(tmp_path, **secure)
    assert started.returncode == 0, started.stderr
    assert "insecure" not in started.stderr

    allowed = check(tmp_path, OV2XMP_ALLOW_INSECURE="true")
    assert allowed.returncode == 0, allowed.stderr
    assert "insecure configuration allowed: no TLS" in allowed.stderr

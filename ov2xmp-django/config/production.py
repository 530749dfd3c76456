"""What makes a production configuration unsafe. With
``OV2XMP_ENVIRONMENT=production`` the settings refuse to load while any of
these holds, unless ``OV2XMP_ALLOW_INSECURE=true`` (then each is a warning)."""

from __future__ import annotations

from config.env import PREFIX


def insecure_settings(
    *,
    debug: bool,
    secret_key_configured: bool,
    allowed_hosts: list[str],
    tls_proxy: bool,
    ocpp_tls: bool,
) -> list[str]:
    problems = []
    if debug:
        problems.append(f"{PREFIX}DEBUG is on: error pages would show settings and code")
    if not secret_key_configured:
        problems.append(
            f"{PREFIX}SECRET_KEY is not set: every process needs the same configured key"
        )
    if "*" in allowed_hosts:
        problems.append(f"{PREFIX}ALLOWED_HOSTS contains '*': name the public host names")
    if not (tls_proxy or ocpp_tls):
        problems.append(
            "no TLS: set OV2XMP_TRUSTED_PROXIES to the TLS proxy in front (Caddy), or "
            f"{PREFIX}OCPP_TLS_CERTIFICATE and {PREFIX}OCPP_TLS_PRIVATE_KEY"
        )
    return problems

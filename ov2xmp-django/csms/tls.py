"""TLS on the OCPP port itself, for sites without a proxy in front
(``OV2XMP_OCPP_TLS_*``): wss:// for security profiles 2 and 3."""

from __future__ import annotations

import ssl

from config.env import PlatformSettings


def server_ssl_context(config: PlatformSettings) -> ssl.SSLContext | None:
    """None when no certificate is configured (plain ws://)."""
    if config.ocpp_tls_certificate is None or config.ocpp_tls_private_key is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # OCPP's security profiles ask for TLS 1.2 or newer.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.ocpp_tls_certificate, config.ocpp_tls_private_key)
    if config.ocpp_tls_client_ca is not None:
        # Optional, so that profile 2 chargers (no certificate) connect too; a
        # certificate that is given must verify, or the handshake fails.
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(cafile=config.ocpp_tls_client_ca)
    return context

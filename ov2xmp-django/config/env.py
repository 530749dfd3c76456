"""Typed reading of ``OV2XMP_*`` environment variables.

Every setting the platform reads from the environment goes through these
functions, so that a bad value stops the process at start with a message that
names the variable, instead of surfacing later as a confusing failure.
A variable ``OV2XMP_X`` may also be given as ``OV2XMP_X_FILE``: the path of a
file whose content (without the trailing newline) is the value, for secrets
mounted by Docker or systemd.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

PREFIX = "OV2XMP_"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class ConfigurationError(Exception):
    """A setting in the environment is missing or malformed."""


@dataclass(frozen=True)
class Env:
    """Reads settings from one mapping (``os.environ`` by default)."""

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def raw(self, name: str) -> str | None:
        key = PREFIX + name
        file_key = key + "_FILE"
        value = self.environ.get(key)
        file_path = self.environ.get(file_key)
        if value not in (None, "") and file_path:
            raise ConfigurationError(f"{key} and {file_key} are both set: set only one")
        if file_path:
            try:
                return Path(file_path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigurationError(f"{file_key}={file_path}: cannot read: {exc}") from exc
        if value == "":
            return None
        return value

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name)
        return default if value is None else value

    def text_or(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None else value

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ConfigurationError(f"{PREFIX}{name}={value!r}: expected a whole number") from None
        if minimum is not None and number < minimum:
            raise ConfigurationError(f"{PREFIX}{name}={number}: must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise ConfigurationError(f"{PREFIX}{name}={number}: must be at most {maximum}")
        return number

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = float(value.strip())
        except ValueError:
            raise ConfigurationError(f"{PREFIX}{name}={value!r}: expected a number") from None
        if minimum is not None and number < minimum:
            raise ConfigurationError(f"{PREFIX}{name}={number}: must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise ConfigurationError(f"{PREFIX}{name}={number}: must be at most {maximum}")
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ConfigurationError(
            f"{PREFIX}{name}={value!r}: expected one of "
            f"{', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}"
        )

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        value = self.raw(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word not in choices:
            raise ConfigurationError(
                f"{PREFIX}{name}={value!r}: expected one of {', '.join(choices)}"
            )
        return word

    def csv(self, name: str, default: Sequence[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def networks(self, name: str) -> tuple[IPNetwork, ...]:
        """Comma-separated addresses or networks (``10.0.0.0/8``, ``::1``)."""
        networks = []
        for item in self.csv(name, []):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"{PREFIX}{name}: {item!r} is not an IP address or network"
                ) from None
        return tuple(networks)

    def path(self, name: str, default: Path) -> Path:
        value = self.raw(name)
        return (Path(value).expanduser() if value else default).resolve()

    def port_range(self, name: str) -> tuple[int, int] | None:
        """``first-last`` (inclusive), e.g. ``60000-60099``; None when unset."""
        value = self.raw(name)
        if value is None:
            return None
        try:
            first, last = (int(part) for part in value.split("-"))
        except ValueError:
            raise ConfigurationError(
                f"{PREFIX}{name}={value!r}: expected first-last, e.g. 60000-60099"
            ) from None
        if not 1 <= first <= last <= 65535:
            raise ConfigurationError(
                f"{PREFIX}{name}={value!r}: ports must be 1-65535, the first not above the last"
            )
        return first, last

    def existing_file(self, name: str) -> Path | None:
        """An optional path that, when given, must name an existing file."""
        value = self.raw(name)
        if value is None:
            return None
        path = Path(value).expanduser().resolve()
        if not path.is_file():
            raise ConfigurationError(f"{PREFIX}{name}={value}: no such file")
        return path


def database_from_url(
    url: str, *, variable: str = PREFIX + "DATABASE_URL", pool_size: int = 20
) -> dict[str, object]:
    """Turn ``postgres://user:pass@host:port/name?opt=v`` or ``sqlite:///path`` into
    a Django ``DATABASES`` entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # As elsewhere: sqlite:///relative/path.db and sqlite:////absolute/path.db
        path = unquote(url.split("://", 1)[1])
        path = path.removeprefix("/")
        if not path or path == "/":
            raise ConfigurationError(f"{variable}={url!r}: a SQLite URL needs a file path")
        return sqlite_database(Path(path))
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigurationError(f"{variable}: the PostgreSQL URL names no database")
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError(f"{variable}: the port is not a number") from None
        options: dict[str, object] = {
            "pool": {"min_size": 1, "max_size": pool_size},
            # Parameters go to the server apart from the query, dumped by
            # psycopg in C, instead of quoted into it in Python: the
            # csms's batched writes carry hundreds (docs/performance.md).
            "server_side_binding": True,
            # A statement run five times on a connection is prepared there
            # (psycopg's default, which Django turns off for external
            # poolers): PostgreSQL then plans the csms's batch statements
            # once per connection, not once per batch (ADR 0011). Behind a
            # pooler in transaction mode: ?prepare_threshold=none.
            "prepare_threshold": 5,
        } | dict(parse_qsl(parts.query))
        threshold = options["prepare_threshold"]
        if isinstance(threshold, str):
            try:
                options["prepare_threshold"] = (
                    None if threshold.lower() == "none" else int(threshold)
                )
            except ValueError:
                raise ConfigurationError(
                    f"{variable}: prepare_threshold is a number or none"
                ) from None
        return {
            # Django's, with integers that cannot wrap around (core/postgresql).
            "ENGINE": "core.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(port or ""),
            # Connections come from a pool (psycopg_pool), kept per process:
            # under ASGI each request runs on a thread of its own, and without
            # a pool each would open a new PostgreSQL connection (ADR 0011).
            "CONN_MAX_AGE": 0,
            "OPTIONS": options,
        }
    raise ConfigurationError(
        f"{variable}: unsupported scheme {scheme!r}; use postgres://… or sqlite:///…"
    )


def sqlite_database(path: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets readers (the API) run while the CSMS writes; IMMEDIATE
            # avoids "database is locked" upgrades from read to write locks.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        # Tests use a file too: an in-memory database shared between threads
        # (the csms's and the API's) locks whole tables instead of waiting.
        "TEST": {"NAME": str(path.with_name(f"test_{path.name}"))},
    }


@dataclass(frozen=True)
class PlatformSettings:
    """The platform's own settings (``settings.OV2XMP``), typed; tests change
    them with ``dataclasses.replace``."""

    bind: str
    api_port: int
    ocpp_port: int
    csms_processes: int
    csms_stop_seconds: float
    unknown_chargers: str
    heartbeat_interval: int
    boot_retry_interval: int
    ocpp_ping_interval: float
    ocpp_ping_timeout: float
    ocpp_max_message_bytes: int
    ocpp_response_timeout: float
    command_queue_timeout: float
    message_log_flush_seconds: float
    batch_gather_seconds: float
    admin_username: str | None
    admin_password: str | None
    # The certificate authority seam (certificates/authority.py).
    ca_certificate: Path | None
    ca_private_key: Path | None
    v2g_ca_certificate: Path | None
    v2g_ca_private_key: Path | None
    certificate_validity_days: int
    ocsp_responders: tuple[str, ...]
    ev_certificate_provider: str | None
    # File services (files/): where files live, the FTP server, upload limits.
    files_dir: Path
    ftp_port: int
    ftp_public_url: str | None
    ftp_passive_ports: tuple[int, int] | None
    ftp_masquerade_address: str | None
    ftp_tls_certificate: Path | None
    ftp_tls_private_key: Path | None
    ftp_tls_required: bool
    upload_max_bytes: int
    file_credential_minutes: int
    http_files_port: int
    http_files_public_url: str | None
    upload_protocol: str
    # Charger authentication (csms/admission.py): the lowest security profile
    # admitted, the proxies whose X-Forwarded-* and client-certificate headers
    # the csms believes, and TLS on the OCPP port itself.
    minimum_security_profile: int = 0
    trusted_proxies: tuple[IPNetwork, ...] = ()
    ocpp_tls_certificate: Path | None = None
    ocpp_tls_private_key: Path | None = None
    ocpp_tls_client_ca: Path | None = None

    def __post_init__(self) -> None:
        # Checked here, not only when reading the environment, so that a test's
        # dataclasses.replace is held to the same rules.
        for certificate, key in [
            ("CA_CERTIFICATE", "CA_PRIVATE_KEY"),
            ("V2G_CA_CERTIFICATE", "V2G_CA_PRIVATE_KEY"),
            ("FTP_TLS_CERTIFICATE", "FTP_TLS_PRIVATE_KEY"),
            ("OCPP_TLS_CERTIFICATE", "OCPP_TLS_PRIVATE_KEY"),
        ]:
            if (getattr(self, certificate.lower()) is None) != (getattr(self, key.lower()) is None):
                raise ConfigurationError(
                    f"{PREFIX}{certificate} and {PREFIX}{key} go together: set both or neither"
                )
        if self.ocpp_tls_client_ca is not None and self.ocpp_tls_certificate is None:
            raise ConfigurationError(
                f"{PREFIX}OCPP_TLS_CLIENT_CA needs {PREFIX}OCPP_TLS_CERTIFICATE and "
                f"{PREFIX}OCPP_TLS_PRIVATE_KEY: client certificates come with TLS"
            )
        for responder in self.ocsp_responders:
            parts = urlsplit(responder)
            try:
                parts.port  # noqa: B018 - raises ValueError for a port that is not a number
            except ValueError:
                parts = parts._replace(netloc="")
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise ConfigurationError(
                    f"{PREFIX}OCSP_RESPONDERS: {responder!r} is not an http:// or https:// URL"
                )


OPENSTREETMAP_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def map_tiles_url(value: str, *, variable: str = PREFIX + "MAP_TILES_URL") -> str:
    """A tile URL template, or "" for none (the word ``none``)."""
    if value.strip().lower() == "none":
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{variable}={value!r}: expected an http(s) URL, or none")
    if not all(part in value for part in ("{z}", "{x}", "{y}")):
        raise ConfigurationError(f"{variable}={value!r}: the URL needs {{z}}, {{x}} and {{y}}")
    return value


# --- E-mail ---------------------------------------------------------------------------

SMTP_SCHEMES = {
    # scheme: (default port, STARTTLS, implicit TLS)
    "smtp": (25, False, False),
    "smtp+tls": (587, True, False),
    "smtps": (465, False, True),
    "smtp+ssl": (465, False, True),
}


@dataclass(frozen=True)
class EmailSettings:
    """Where the platform's mails go, as Django's ``EMAIL_*`` settings."""

    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    file_path: Path | None = None
    timeout: float = 10.0


def email_from_url(
    url: str | None,
    *,
    password: str | None,
    data_dir: Path,
    variable: str = PREFIX + "EMAIL_URL",
) -> EmailSettings:
    """``console``, ``file`` (``$OV2XMP_DATA_DIR/mail``), ``file:///absolute/dir``,
    or ``smtp://[user[:password]@]host[:port]`` (also ``smtp+tls://``: STARTTLS,
    ``smtps://``: TLS from the start), with ``?timeout=<seconds>``. Unset: ``file``.
    The password may come apart from the URL (``OV2XMP_EMAIL_PASSWORD[_FILE]``)."""
    value = (url or "file").strip()
    scheme = value.split(":", 1)[0].lower()
    if scheme in ("console", "file") and value.lower() in (scheme, scheme + ":", scheme + "://"):
        if password:
            raise ConfigurationError(
                f"{PREFIX}EMAIL_PASSWORD is set, but {variable}={value!r} sends no mail over SMTP"
            )
        if scheme == "console":
            return EmailSettings(backend="django.core.mail.backends.console.EmailBackend")
        return EmailSettings(
            backend="django.core.mail.backends.filebased.EmailBackend", file_path=data_dir / "mail"
        )
    parts = urlsplit(value)
    if scheme == "file":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/"):
            raise ConfigurationError(
                f"{variable}={value!r}: a file URL names an absolute directory: file:///var/mail/ov2xmp"
            )
        if password:
            raise ConfigurationError(
                f"{PREFIX}EMAIL_PASSWORD is set, but {variable}={value!r} sends no mail over SMTP"
            )
        return EmailSettings(
            backend="django.core.mail.backends.filebased.EmailBackend", file_path=Path(path)
        )
    if scheme not in SMTP_SCHEMES:
        raise ConfigurationError(
            f"{variable}: unsupported scheme {scheme!r}; use smtp://, smtp+tls://, smtps://, "
            "console or file"
        )
    default_port, starttls, implicit_tls = SMTP_SCHEMES[scheme]
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"{variable}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ConfigurationError(f"{variable}: the SMTP URL names no host")
    if parts.path not in ("", "/"):
        raise ConfigurationError(f"{variable}: an SMTP URL has no path")
    user = unquote(parts.username or "")
    in_url = unquote(parts.password) if parts.password is not None else None
    if in_url and password:
        raise ConfigurationError(
            f"{variable} holds a password and {PREFIX}EMAIL_PASSWORD is set: set only one"
        )
    secret = in_url or password or ""
    if secret and not user:
        raise ConfigurationError(f"{variable}: a password needs a user name (smtp://user@host)")
    timeout = 10.0
    for key, item in parse_qsl(parts.query, keep_blank_values=True):
        if key != "timeout":
            raise ConfigurationError(f"{variable}: unknown option {key!r}; only timeout=<seconds>")
        try:
            timeout = float(item)
        except ValueError:
            raise ConfigurationError(f"{variable}: timeout={item!r} is not a number") from None
        if timeout <= 0:
            raise ConfigurationError(f"{variable}: timeout must be above 0 seconds")
    return EmailSettings(
        backend="django.core.mail.backends.smtp.EmailBackend",
        host=parts.hostname,
        port=port or default_port,
        user=user,
        password=secret,
        use_tls=starttls,
        use_ssl=implicit_tls,
        timeout=timeout,
    )


def email_address(value: str, *, variable: str) -> str:
    """A sender such as ``noreply@example.org`` or ``O-V2X-MP <noreply@example.org>``."""
    _name, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if not local or not domain or any(character.isspace() for character in address):
        raise ConfigurationError(
            f"{variable}={value!r}: expected an address, e.g. O-V2X-MP <noreply@example.org>"
        )
    return value.strip()


def public_url(value: str, *, variable: str = PREFIX + "PUBLIC_URL") -> str:
    """The site's address as users reach it: ``https://host[:port]``, no path."""
    parts = urlsplit(value.strip())
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigurationError(f"{variable}={value!r}: the port is not a number") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{variable}={value!r}: expected http(s)://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigurationError(
            f"{variable}={value!r}: give the scheme, host and port only, e.g. "
            "https://csms.example.org"
        )
    return f"{parts.scheme.lower()}://{parts.netloc}"


def local_url(bind: str, port: int) -> str:
    """``http://<bind>:<port>``, with a wildcard address read as the loopback one."""
    host = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

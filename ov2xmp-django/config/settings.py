"""Django settings for O-V2X-MP, read from ``OV2XMP_*`` environment variables.

Every variable is documented in ``docs/configuration.md`` and ``.env.example``.
The defaults give the embedded mode: SQLite in ``OV2XMP_DATA_DIR``, an
in-memory channel layer and Celery tasks run in-process.
"""

from __future__ import annotations

import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from config.env import (
    OPENSTREETMAP_TILES,
    ConfigurationError,
    Env,
    PlatformSettings,
    database_from_url,
    email_address,
    email_from_url,
    local_url,
    map_tiles_url,
    public_url,
    sqlite_database,
)
from config.production import insecure_settings

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent

DATA_DIR = env.path("DATA_DIR", Path.cwd() / "ov2xmp-data")
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ConfigurationError(f"OV2XMP_DATA_DIR={DATA_DIR}: cannot create: {exc}") from exc


def _secret_key() -> str:
    configured = env.text("SECRET_KEY")
    if configured:
        if len(configured) < 32:
            raise ConfigurationError("OV2XMP_SECRET_KEY: use at least 32 characters")
        return configured
    # No key configured: keep a generated one beside the data, so sessions and
    # tokens survive restarts and two data directories never share a key.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env.flag("DEBUG", False)
ALLOWED_HOSTS = env.csv("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.csv("CSRF_TRUSTED_ORIGINS", [])
# Behind Caddy (or another proxy that sets them), trust X-Forwarded-* for the
# client address, scheme and host; never when clients reach the app directly.
TRUST_PROXY_HEADERS = env.flag("TRUST_PROXY_HEADERS", False)
if TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "accounts",
    "chargepoints",
    "idtokens",
    "transactions",
    "reservations",
    "smartcharging",
    "certificates",
    "commands",
    "files",
    "ocpp_messages",
    "csms",
    "updates",
    "locations",
    "billing",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RunSynchronously",  # last: see its docstring
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database_url = env.text("DATABASE_URL")
DATABASES = {
    "default": database_from_url(
        _database_url, pool_size=env.integer("DATABASE_POOL_SIZE", 20, minimum=1)
    )
    if _database_url
    else sqlite_database(DATA_DIR / "db.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Django's own per-user and per-group permissions, and those of the user's role.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "accounts.backends.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The dashboard's map: a tile server URL ({z}/{x}/{y}), or "none" for markers
# on a blank background (no request leaves the site).
MAP_TILES_URL = map_tiles_url(env.text_or("MAP_TILES_URL", OPENSTREETMAP_TILES))
MAP_ATTRIBUTION = env.text_or("MAP_ATTRIBUTION", "© OpenStreetMap contributors")
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "dashboard:login"
STATIC_ROOT = env.path("STATIC_ROOT", DATA_DIR / "static")

# --- Channels and Celery: in-process by default, Redis when configured ----------
REDIS_URL = env.text("REDIS_URL")
# The cache holds the API's throttling counts: shared by every process in Redis.
CACHES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if not REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ov2xmp",
    }
}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # Longer than the layer's 5 s blocking receive: redis-py's own
                # 5 s default would end every idle receive with a TimeoutError.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": "ov2xmp",
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker the tasks run in the calling process (embedded mode).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Nothing reads a task's result. With results kept, queueing a task made the
# csms subscribe to its result's Redis channel, which was never left: one more
# subscription per ended session, for the life of the process (celery#3808).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Periodic housekeeping: run by `ov2xmp beat` in distributed mode and by
# `ov2xmp up` itself in the embedded default.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "commands-expire": {"task": "commands.tasks.commands_expire", "schedule": 30.0},
    "files-clean": {"task": "files.tasks.files_clean", "schedule": 3600.0},
    "cdrs-make-missing": {"task": "billing.tasks.cdrs_make_missing", "schedule": 300.0},
    "load-groups-refresh": {
        "task": "smartcharging.tasks.load_groups_refresh",
        "schedule": 900.0,
    },
    "reservations-expire": {"task": "reservations.tasks.reservations_expire", "schedule": 30.0},
}

# --- REST API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Reads need the model's view permission, writes its add/change/delete.
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        # First: what a vendor or a driver may see at all (accounts.scoping).
        "accounts.scoping.RoleScopeFilter",
        "django_filters.rest_framework.DjangoFilterBackend",
        "core.api.filters.NullsLastOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Throttles key on REMOTE_ADDR alone, never on a client's X-Forwarded-For:
    # behind a trusted proxy daphne has already put the client's address there.
    "NUM_PROXIES": 0,
    # The public password reset endpoints (accounts/throttles.py): mails to one
    # address, and requests from one client address.
    "DEFAULT_THROTTLE_RATES": {
        "password_reset_address": "3/hour",
        "password_reset_client": "20/hour",
        "password_reset_confirm": "30/hour",
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.integer("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.integer("JWT_REFRESH_DAYS", 1, minimum=1)),
    "UPDATE_LAST_LOGIN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "O-V2X-MP API",
    "DESCRIPTION": (
        "REST API of the Open V2X Management Platform, a Charging Station Management "
        "System for OCPP 1.6J and 2.0.1 chargers. Obtain a token at /api/token/ and "
        "send it as `Authorization: Bearer <token>`."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CertificateAnswerStatusEnum": "certificates.models.AnswerStatus",
        "RevocationReasonEnum": "certificates.models.RevocationReason",
        "CommandStatusEnum": "commands.models.CommandStatus",
        "FileKindEnum": "files.models.FileKind",
        "FileRequestStatusEnum": "files.models.FileRequestStatus",
        "IdTokenTypeEnum": "idtokens.models.IdTokenType",
        "LocalListUpdateTypeEnum": "idtokens.models.LocalListUpdateType",
    },
}

# --- OCPP server -------------------------------------------------------------------
OV2XMP = PlatformSettings(
    bind=env.text_or("BIND", "127.0.0.1"),
    api_port=env.integer("API_PORT", 8000, minimum=0, maximum=65535),
    ocpp_port=env.integer("OCPP_PORT", 9000, minimum=0, maximum=65535),
    # `ov2xmp csms` in this many processes on the OCPP port (needs Redis).
    csms_processes=env.integer("CSMS_PROCESSES", 1, minimum=1, maximum=64),
    # How long a csms process may take to stop before it abandons what is left.
    csms_stop_seconds=env.number("CSMS_STOP_SECONDS", 5.0, minimum=0.1),
    # What to do with a charger id the platform does not know.
    unknown_chargers=env.choice("UNKNOWN_CHARGERS", "accept", ["accept", "pending", "reject"]),
    heartbeat_interval=env.integer("HEARTBEAT_INTERVAL", 300, minimum=1),
    boot_retry_interval=env.integer("BOOT_RETRY_INTERVAL", 60, minimum=1),
    ocpp_ping_interval=env.number("OCPP_PING_INTERVAL", 30.0, minimum=0.1),
    ocpp_ping_timeout=env.number("OCPP_PING_TIMEOUT", 30.0, minimum=0.1),
    ocpp_max_message_bytes=env.integer("OCPP_MAX_MESSAGE_BYTES", 1024 * 1024, minimum=1024),
    ocpp_response_timeout=env.number("OCPP_RESPONSE_TIMEOUT", 30.0, minimum=0.1),
    # How long a command may wait behind earlier ones to the same charger.
    command_queue_timeout=env.number("COMMAND_QUEUE_SECONDS", 60.0, minimum=0.1),
    message_log_flush_seconds=env.number("MESSAGE_LOG_FLUSH_SECONDS", 0.2, minimum=0.01),
    # How long a batched write waits after its first message for more.
    batch_gather_seconds=env.number("BATCH_GATHER_SECONDS", 0.003, minimum=0, maximum=1),
    admin_username=env.text("ADMIN_USERNAME"),
    admin_password=env.text("ADMIN_PASSWORD"),
    # The CA that signs chargers' CSRs (PEM files); the V2G pair falls back to it.
    ca_certificate=env.existing_file("CA_CERTIFICATE"),
    ca_private_key=env.existing_file("CA_PRIVATE_KEY"),
    v2g_ca_certificate=env.existing_file("V2G_CA_CERTIFICATE"),
    v2g_ca_private_key=env.existing_file("V2G_CA_PRIVATE_KEY"),
    certificate_validity_days=env.integer("CERTIFICATE_VALIDITY_DAYS", 365, minimum=1),
    # Responder URL prefixes GetCertificateStatus may be forwarded to; none by default.
    ocsp_responders=tuple(env.csv("OCSP_RESPONDERS", [])),
    ev_certificate_provider=env.text("EV_CERTIFICATE_PROVIDER"),
    files_dir=env.path("FILES_DIR", DATA_DIR / "files"),
    ftp_port=env.integer("FTP_PORT", 2121, minimum=0, maximum=65535),
    # The FTP address chargers are told, when it is not ftp://<bind>:<port>.
    ftp_public_url=env.text("FTP_PUBLIC_URL"),
    ftp_passive_ports=env.port_range("FTP_PASSIVE_PORTS"),
    ftp_masquerade_address=env.text("FTP_MASQUERADE_ADDRESS"),
    # FTPS (explicit, AUTH TLS) with this certificate chain and key (PEM).
    ftp_tls_certificate=env.existing_file("FTP_TLS_CERTIFICATE"),
    ftp_tls_private_key=env.existing_file("FTP_TLS_PRIVATE_KEY"),
    ftp_tls_required=env.flag("FTP_TLS_REQUIRED", False),
    upload_max_bytes=env.integer("UPLOAD_MAX_BYTES", 200 * 1024 * 1024, minimum=1024),
    file_credential_minutes=env.integer("FILE_CREDENTIAL_MINUTES", 60, minimum=1),
    # `ov2xmp http-files`; `ov2xmp up` and `web` serve the same /files/ routes.
    http_files_port=env.integer("HTTP_FILES_PORT", 8021, minimum=0, maximum=65535),
    # The HTTP address chargers are given, when it is not http://<bind>:<API port>.
    http_files_public_url=env.text("HTTP_FILES_PUBLIC_URL"),
    # How chargers upload when a request does not say.
    upload_protocol=env.choice("UPLOAD_PROTOCOL", "ftp", ["ftp", "http"]),
    # Chargers below this OCPP security profile are refused (0: all admitted).
    minimum_security_profile=env.integer("MINIMUM_SECURITY_PROFILE", 0, minimum=0, maximum=3),
    # Peers (Caddy) whose X-Forwarded-* and client-certificate headers the csms believes.
    trusted_proxies=env.networks("TRUSTED_PROXIES"),
    # TLS on the OCPP port itself (wss:// without a proxy), and the CA of
    # chargers' client certificates (security profile 3).
    ocpp_tls_certificate=env.existing_file("OCPP_TLS_CERTIFICATE"),
    ocpp_tls_private_key=env.existing_file("OCPP_TLS_PRIVATE_KEY"),
    ocpp_tls_client_ca=env.existing_file("OCPP_TLS_CLIENT_CA"),
)

# --- E-mail and password reset (accounts/) --------------------------------------------
# Where users reach the dashboard: the links in mails start with it.
_public_url = env.text("PUBLIC_URL")
PUBLIC_URL = public_url(_public_url) if _public_url else local_url(OV2XMP.bind, OV2XMP.api_port)
_email = email_from_url(
    env.text("EMAIL_URL"), password=env.text("EMAIL_PASSWORD"), data_dir=DATA_DIR
)
EMAIL_BACKEND = _email.backend
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.user
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_TLS = _email.use_tls
EMAIL_USE_SSL = _email.use_ssl
EMAIL_TIMEOUT = _email.timeout
if _email.file_path is not None:
    EMAIL_FILE_PATH = str(_email.file_path)
DEFAULT_FROM_EMAIL = SERVER_EMAIL = email_address(
    env.text_or("DEFAULT_FROM_EMAIL", "O-V2X-MP <noreply@localhost>"),
    variable="OV2XMP_DEFAULT_FROM_EMAIL",
)
# How long a password reset link works, in seconds.
PASSWORD_RESET_TIMEOUT = env.integer(
    "PASSWORD_RESET_TIMEOUT", 3600, minimum=60, maximum=7 * 24 * 3600
)

# --- Production: refuse to run insecurely (config/production.py) ------------------------
ENVIRONMENT = env.choice("ENVIRONMENT", "development", ["development", "production"])
if ENVIRONMENT == "production":
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    _insecure = insecure_settings(
        debug=DEBUG,
        secret_key_configured=bool(env.text("SECRET_KEY")),
        allowed_hosts=ALLOWED_HOSTS,
        tls_proxy=bool(OV2XMP.trusted_proxies),
        ocpp_tls=OV2XMP.ocpp_tls_certificate is not None,
    )
    if _insecure and not env.flag("ALLOW_INSECURE", False):
        raise ConfigurationError(
            "OV2XMP_ENVIRONMENT=production, but the configuration is insecure "
            "(OV2XMP_ALLOW_INSECURE=true starts anyway):\n  " + "\n  ".join(_insecure)
        )
    for _problem in _insecure:
        print(f"ov2xmp: insecure configuration allowed: {_problem}", file=sys.stderr)

# --- Logging ------------------------------------------------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", "info", ["debug", "info", "warning", "error"]).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The ocpp library logs every frame at INFO; the message log keeps them.
        "ocpp": {"level": "WARNING"},
        "websockets": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
    },
}

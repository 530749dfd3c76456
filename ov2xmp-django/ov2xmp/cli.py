"""``ov2xmp``: one command, a subcommand per service.

    ov2xmp up        the whole platform in one process (embedded default)
    ov2xmp csms      the OCPP websocket server alone (distributed mode)
    ov2xmp web       the API, Swagger and admin (ASGI, daphne)
    ov2xmp ftp       the FTP server chargers upload diagnostics and logs to
    ov2xmp http-files  the HTTP file service (uploads under /files/)
    ov2xmp worker    a Celery worker          ov2xmp beat   the Celery scheduler
    ov2xmp manage …  Django's manage.py commands (migrate, createsuperuser, …)
    ov2xmp health S  whether service S on this host is up (container health checks)

Flags override the ``OV2XMP_*`` environment variables they name.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

# The services `ov2xmp health` checks (ov2xmp/health.py).
HEALTH_CHECKED = ("web", "csms", "ftp", "http-files", "worker")
PASS_THROUGH = {
    "worker": "run a Celery worker (options go to 'celery worker')",
    "beat": "run the Celery scheduler (options go to 'celery beat')",
    "manage": "run a Django management command (migrate, createsuperuser, …)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ov2xmp",
        description="O-V2X-MP, the Open V2X Management Platform (an OCPP CSMS).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def network_flags(
        command: argparse.ArgumentParser,
        *,
        api: bool = False,
        ocpp: bool = False,
        ftp: bool = False,
        http_files: bool = False,
    ) -> None:
        command.add_argument("--bind", help="address to listen on [OV2XMP_BIND, 127.0.0.1]")
        if api:
            command.add_argument("--api-port", type=int, help="API port [OV2XMP_API_PORT, 8000]")
        if ocpp:
            command.add_argument(
                "--ocpp-port", type=int, help="OCPP websocket port [OV2XMP_OCPP_PORT, 9000]"
            )
        if ftp:
            command.add_argument("--ftp-port", type=int, help="FTP port [OV2XMP_FTP_PORT, 2121]")
        if http_files:
            command.add_argument(
                "--http-files-port",
                type=int,
                help="HTTP file service port [OV2XMP_HTTP_FILES_PORT, 8021]",
            )
        command.add_argument("--data-dir", help="where data lives [OV2XMP_DATA_DIR]")

    network_flags(
        commands.add_parser("up", help="run the whole platform in one process"),
        api=True,
        ocpp=True,
        ftp=True,
    )
    csms = commands.add_parser("csms", help="run the OCPP server")
    network_flags(csms, ocpp=True)
    csms.add_argument(
        "--processes",
        type=int,
        help="csms processes sharing the OCPP port; > 1 needs Redis [OV2XMP_CSMS_PROCESSES, 1]",
    )
    network_flags(commands.add_parser("web", help="run the API and admin"), api=True)
    network_flags(commands.add_parser("ftp", help="run the FTP server for uploads"), ftp=True)
    network_flags(
        commands.add_parser("http-files", help="run the HTTP file service for uploads"),
        http_files=True,
    )
    health = commands.add_parser(
        "health", help="check that a service on this host is up (container health checks)"
    )
    health.add_argument("service", choices=HEALTH_CHECKED)
    network_flags(health, api=True, ocpp=True, ftp=True, http_files=True)
    # These pass everything after their name on untouched (see main()).
    for name, text in PASS_THROUGH.items():
        commands.add_parser(name, help=text, add_help=False)
    return parser


def apply_flags(arguments: argparse.Namespace) -> None:
    """Flags win over the environment: they are written into it before the
    settings are read."""
    for flag, variable in (
        ("bind", "OV2XMP_BIND"),
        ("api_port", "OV2XMP_API_PORT"),
        ("ocpp_port", "OV2XMP_OCPP_PORT"),
        ("ftp_port", "OV2XMP_FTP_PORT"),
        ("http_files_port", "OV2XMP_HTTP_FILES_PORT"),
        ("data_dir", "OV2XMP_DATA_DIR"),
        ("processes", "OV2XMP_CSMS_PROCESSES"),
    ):
        value = getattr(arguments, flag, None)
        if value is not None:
            os.environ[variable] = str(value)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    from config.env import ConfigurationError

    try:
        django.setup()
    except ConfigurationError as error:
        sys.exit(f"ov2xmp: configuration error: {error}")


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASS_THROUGH:
        command, rest = argv[0], argv[1:]
        setup_django()
        if command == "manage":
            from django.core.management import execute_from_command_line

            execute_from_command_line(["ov2xmp manage", *rest])
        else:
            from ov2xmp import services

            services.run_celery(command, rest)
        return

    arguments = build_parser().parse_args(argv)
    apply_flags(arguments)
    if arguments.command in ("up", "web", "http-files"):
        # daphne installs its Twisted reactor on import; it must come first.
        import daphne.server  # noqa: F401
    setup_django()

    if arguments.command == "health":
        from ov2xmp import health

        health.run(arguments.service)
        return

    from ov2xmp import services

    runner = {
        "up": services.run_up,
        "csms": services.run_csms,
        "web": services.run_web,
        "ftp": services.run_ftp,
        "http-files": services.run_http_files,
    }
    runner[arguments.command]()


if __name__ == "__main__":
    main()

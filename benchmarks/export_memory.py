"""O-V2X-MP benchmark: the memory and time of the exports (docs/billing.md,
"Exports") over a large database.

    .venv/bin/python benchmarks/export_memory.py 500000       # meter values, SQLite
    .venv/bin/python benchmarks/export_memory.py 500000 \\
        --postgres-url postgres://postgres@127.0.0.1:5432/ov2xmp_exports_bench
    .venv/bin/python benchmarks/export_memory.py 2000 --smoke  # tiny: checks the script

It makes a fresh database (a temporary SQLite file, or the PostgreSQL
database the URL names, which must not exist yet and is dropped afterwards)
with N meter values: sessions of --values-per-session values each, on ten
chargers at one location, and one CDR per session. Then each export
(meter values, sessions, CDRs) in each format is requested through the real
ASGI application, as daphne serves it, in a fresh process of its own, and
the body is read and thrown away. For each it prints the time to the last
byte, the size, the process's resident memory before the request and its
peak while it runs (sampled every 5 ms), and, in a second run under
tracemalloc, the peak of Python's own allocations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from servers import setup_django

EXPORTS = ["meter-values", "sessions", "cdrs"]
FORMATS = ["csv", "json", "xlsx"]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# --- The data ---------------------------------------------------------------------------


def fill(values: int, per_session: int) -> dict[str, int]:
    """Chargers, sessions, their meter values and CDRs, written in batches."""
    from django.core.management import call_command
    from django.db import transaction

    from accounts.models import User
    from billing.models import Cdr
    from chargepoints.models import ChargePoint, OcppVersion
    from core.db import insert_rows
    from idtokens.models import IdToken
    from locations.models import Location
    from transactions.models import ENERGY_REGISTER, MeterValue, Transaction

    call_command("migrate", verbosity=0)
    site = Location.objects.create(
        name="Bench", address="Rua 1", city="Lisboa", country="PRT", time_zone="Europe/Lisbon"
    )
    chargers = [f"BENCH-{n:02d}" for n in range(10)]
    ChargePoint.objects.bulk_create(
        ChargePoint(id=charger, location=site, ocpp_version=OcppVersion.V16) for charger in chargers
    )
    driver = User.objects.create_user(username="driver", password="driver-pass-123")
    token = IdToken.objects.create(value="BENCH-TAG", owner=driver)
    sessions = max(1, values // per_session)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(days=365) / sessions
    with transaction.atomic():
        insert_rows(
            Transaction,
            [
                {
                    "charge_point_id": chargers[n % 10],
                    "ocpp_transaction_id": str(n + 1),
                    "ocpp_version": OcppVersion.V16,
                    "evse_id": 1,
                    "connector_id": 1,
                    "status": "Ended",
                    "id_token_id": token.pk,
                    "id_token_value": token.value,
                    "authorization_status": "Accepted",
                    "started_at": start + n * step,
                    "stopped_at": start + n * step + timedelta(hours=1),
                    "stop_reason": "Local",
                    "meter_start_wh": Decimal("1000.000"),
                    "meter_stop_wh": Decimal("1000.000") + 100 * per_session,
                }
                for n in range(sessions)
            ],
        )
    ids = list(
        Transaction.objects.order_by("id").values_list("id", "charge_point_id", "started_at")
    )
    batch: list[dict] = []
    made = 0
    for session_id, charger, started_at in ids:
        for k in range(per_session):
            if made == values:
                break
            batch.append(
                {
                    "charge_point_id": charger,
                    "transaction_id": session_id,
                    "evse_id": 1,
                    "connector_id": 1,
                    "timestamp": started_at + timedelta(seconds=36 * k),
                    "measurand": ENERGY_REGISTER,
                    "unit": "Wh",
                    "context": "Sample.Periodic",
                    "value": str(1000 + 100 * k),
                    "numeric_value": Decimal(1000 + 100 * k),
                }
            )
            made += 1
        if len(batch) >= 20_000:
            with transaction.atomic():
                insert_rows(MeterValue, batch)
            batch = []
    if batch:
        with transaction.atomic():
            insert_rows(MeterValue, batch)
    with transaction.atomic():
        insert_rows(
            Cdr,
            [
                {
                    "transaction_id": session_id,
                    "charge_point_id": charger,
                    "id_token_value": token.value,
                    "started_at": started_at,
                    "stopped_at": started_at + timedelta(hours=1),
                    "time_zone": "Europe/Lisbon",
                    "currency": "EUR",
                    "energy_wh": Decimal(100 * per_session),
                    "charging_seconds": Decimal(3600),
                    "parking_seconds": Decimal(0),
                    "cost_energy": Decimal("2.97"),
                    "total_excl_vat": Decimal("2.97"),
                    "vat": Decimal("0.68"),
                    "total_incl_vat": Decimal("3.65"),
                    "is_current": True,
                    "reason": "session ended",
                }
                for session_id, charger, started_at in ids
            ],
        )
    User.objects.create_superuser(username="bench", password="bench-pass-123")
    return {
        "meter-values": MeterValue.objects.count(),
        "sessions": Transaction.objects.count(),
        "cdrs": Cdr.objects.count(),
    }


# --- One export, in a process of its own --------------------------------------------------


async def asgi_get(path: str, token: str, query: str = "") -> tuple[int, int, int, float]:
    """GET through config.asgi.application: status, bytes, body messages, and
    the seconds to the first body byte."""
    from config.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"localhost"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 8000),
    }
    sent = False
    finished = asyncio.Event()
    result: dict[str, Any] = {"status": 0, "bytes": 0, "messages": 0, "first": 0.0}
    started = time.perf_counter()

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            result["status"] = message["status"]
        elif message["type"] == "http.response.body":
            if message.get("body") and not result["bytes"]:
                result["first"] = time.perf_counter() - started
            result["bytes"] += len(message.get("body", b""))
            result["messages"] += 1
            if not message.get("more_body"):
                finished.set()

    await application(scope, receive, send)
    return result["status"], result["bytes"], result["messages"], result["first"]


def child(arguments: argparse.Namespace) -> None:
    setup_django(arguments.database_url, arguments.data_dir)
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User

    token = str(RefreshToken.for_user(User.objects.get(username="bench")).access_token)
    if arguments.naive:
        # What a plain sync iterator gets under ASGI: Django reads it whole
        # into a list before sending anything (for comparison only).
        import core.api.exports

        core.api.exports.AsyncChunks = lambda chunks: chunks  # type: ignore[assignment,misc,return-value]
    path = f"/api/exports/{arguments.export}.{arguments.format}"
    # Warm up with an empty export: what the first request imports and
    # builds once (URLs, DRF, openpyxl) is not the export's memory.
    warm = asyncio.run(asgi_get(path, token, "charge_point=NO-SUCH-CHARGER"))
    assert warm[0] == 200, warm
    if arguments.tracemalloc:
        tracemalloc.start()
    before = rss_kib()
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        # The process's peak over its life (ru_maxrss) may predate the
        # export; sample its resident memory while the export runs instead.
        while not stop.wait(0.005):
            peak[0] = max(peak[0], rss_kib())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    status, size, messages, first = asyncio.run(asgi_get(path, token))
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    peak[0] = max(peak[0], rss_kib())
    report = {
        "status": status,
        "bytes": size,
        "messages": messages,
        "first_byte_s": first,
        "seconds": seconds,
        "rss_before_kib": before,
        "rss_peak_kib": peak[0],
    }
    if arguments.tracemalloc:
        report["python_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
    print(json.dumps(report))


def run_child(arguments: argparse.Namespace, export: str, fmt: str, *, trace: bool) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        "--database-url",
        arguments.database_url,
        "--data-dir",
        arguments.data_dir,
        "--export",
        export,
        "--format",
        fmt,
    ]
    if trace:
        command.append("--tracemalloc")
    if arguments.naive:
        command.append("--naive")
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if done.returncode:
        raise SystemExit(f"{export}.{fmt} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Main -------------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().split()[1]
    return (
        f"{cpu}, {os.cpu_count()} cores, {int(memory) // 1024 // 1024} GiB; "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("values", nargs="?", type=int, default=500_000, help="meter values")
    parser.add_argument("--values-per-session", type=int, default=100)
    parser.add_argument("--postgres-url", help="a PostgreSQL database to create and drop")
    parser.add_argument("--exports", default=",".join(EXPORTS))
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the second runs")
    parser.add_argument(
        "--naive",
        action="store_true",
        help="for comparison: hand Django a sync iterator, as a plain StreamingHttpResponse "
        "does (under ASGI Django then reads it whole before sending)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny: 2,000 values")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments)
        return
    if arguments.smoke:
        arguments.values = min(arguments.values, 2000)

    with tempfile.TemporaryDirectory(prefix="ov2xmp-export-bench-") as data_dir:
        arguments.data_dir = data_dir
        drop = None
        if arguments.postgres_url:
            import psycopg

            parts = urlsplit(arguments.postgres_url)
            name = parts.path.lstrip("/")
            admin_url = arguments.postgres_url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin_url, autocommit=True) as admin:
                # Never touches an existing database: creating it fails instead.
                admin.execute(f'CREATE DATABASE "{name}"')

            def drop() -> None:
                with psycopg.connect(admin_url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

            arguments.database_url = arguments.postgres_url
        else:
            arguments.database_url = f"sqlite:///{data_dir}/bench.sqlite3"
        try:
            setup_django(arguments.database_url, data_dir)
            from django.db import connection

            started = time.perf_counter()
            counts = fill(arguments.values, arguments.values_per_session)
            vendor = connection.vendor
            connection.close()
            if vendor == "postgresql":
                connection.close_pool()  # type: ignore[attr-defined]
            print(f"machine: {machine()}")
            print(
                f"database: {vendor}; {counts['meter-values']:,} meter values, "
                f"{counts['sessions']:,} sessions, {counts['cdrs']:,} CDRs "
                f"(made in {time.perf_counter() - started:.0f} s)"
            )
            print(
                f"{'export':<20} {'rows':>9} {'size MiB':>9} {'seconds':>8} {'1st byte s':>10} "
                f"{'RSS before':>10} {'RSS peak':>9} {'growth':>8} {'py peak':>8}"
            )
            for export in arguments.exports.split(","):
                for fmt in arguments.formats.split(","):
                    report = run_child(arguments, export, fmt, trace=False)
                    assert report["status"] == 200, report
                    traced = "-"
                    if not arguments.no_tracemalloc:
                        peak = run_child(arguments, export, fmt, trace=True)["python_peak_kib"]
                        traced = f"{peak / 1024:.1f}"
                    before, peak_rss = report["rss_before_kib"], report["rss_peak_kib"]
                    print(
                        f"{export + '.' + fmt:<20} {counts[export]:>9,} "
                        f"{report['bytes'] / 2**20:>9.1f} {report['seconds']:>8.1f} "
                        f"{report['first_byte_s']:>10.2f} "
                        f"{before / 1024:>8.0f}Mi {peak_rss / 1024:>7.0f}Mi "
                        f"{(peak_rss - before) / 1024:>6.0f}Mi {traced:>6}Mi",
                        flush=True,
                    )
        finally:
            if drop is not None:
                drop()


if __name__ == "__main__":
    main()

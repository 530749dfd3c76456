"""What one batch of each frequent write costs, in the csms's thread and in
PostgreSQL, by batch size: the costs the paced runs only show summed and
mixed, measured on their own (docs/performance.md).

    .venv/bin/python benchmarks/batch_costs.py
    .venv/bin/python benchmarks/batch_costs.py --sizes 1,10,50 --writes statuses
    .venv/bin/python benchmarks/batch_costs.py --against main --writes meter-values

It makes a fresh PostgreSQL database (dropped afterwards) with --chargers
connected chargers, each with a connector and a running session, and runs
each write's service (the function a csms batch writer calls) on batches of
each size, in this process: the time it takes, the CPU time of this thread,
and the CPU time of the database's backends. Each figure is the median of
--rounds rounds of --items items. PostgreSQL's CPU is read from /proc in
clock ticks (10 ms), so a round spans many batches.

The figures drift with the machine too (in one slow stretch they doubled
within minutes). To compare a change, ``--against REV`` runs each write's
service as a git revision has it too, in the same process, database and
connection, the two taking turns round by round: a row for each. It loads
that revision's module of the service (with this checkout's everything else),
so it suits changes within those modules.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from servers import database_cpu_seconds, setup_django

# Each write's service: (module, function), as the csms's batch writers call it.
SERVICES = {
    "heartbeats": ("chargepoints.services", "chargepoints_record_heartbeat"),
    "statuses": ("chargepoints.statuses", "connector_record_statuses"),
    "meter-values": ("transactions.meter_values", "meter_values_record"),
    "message-log": ("ocpp_messages.services", "ocpp_messages_record"),
    "transaction-updates": ("transactions.transaction_updates", "transaction_updates_record"),
}
WRITES = tuple(SERVICES)
# The seqNos of the TransactionEvents, shared by the versions measured.
SEQ_NOS = itertools.count(1)
Service = Callable[..., object]


def prepare(chargers: int) -> tuple[list[str], dict[str, int]]:
    """Connected chargers, each with connector 1 and a running session."""
    from django.core.management import call_command

    from chargepoints.services import ConnectionReport, chargepoints_connect
    from chargepoints.statuses import StatusReport, connector_record_statuses
    from core.time import utc_now
    from transactions.services import transaction_start

    call_command("migrate", verbosity=0)
    ids = [f"COST-{n:05d}" for n in range(chargers)]
    chargepoints_connect(
        reports=[
            ConnectionReport(
                charge_point_id=charger,
                ocpp_version="1.6",
                connection_id=uuid.uuid4().hex,
                remote_address="127.0.0.1",
                registration_status_if_new="Accepted",
            )
            for charger in ids
        ],
        at=utc_now(),
    )
    connector_record_statuses(
        reports=[
            StatusReport(
                charge_point_id=charger,
                evse_id=1,
                connector_id=1,
                status="Preparing",
                timestamp=utc_now(),
            )
            for charger in ids
        ]
    )
    sessions = {}
    for charger in ids:
        started = transaction_start(
            charge_point_id=charger,
            ocpp_version="1.6",
            evse_id=1,
            connector_id=1,
            id_token_value="COST-TAG",
            started_at=utc_now(),
            meter_start_wh=Decimal(0),
        )
        sessions[charger] = started.transaction.pk
    return ids, sessions


def this_service(write: str) -> Service:
    module, function = SERVICES[write]
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


# Where a service's module was before it moved: a revision before the move
# has the service there.
FORMERLY = {"transactions.transaction_updates": "transactions.transaction_events"}


def service_at(revision: str, write: str) -> Service:
    """``write``'s service as ``revision`` has it: its module's source at that
    revision, run as a module of its own beside this checkout's."""
    module, function = SERVICES[write]
    for candidate in (module, FORMERLY.get(module)):
        if candidate is None:
            continue
        path = f"ov2xmp-django/{candidate.replace('.', '/')}.py"
        shown = subprocess.run(
            ["git", "show", f"{revision}:{path}"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
        )
        if shown.returncode == 0:
            break
    else:
        raise SystemExit(f"{revision} has no module for {write}: {shown.stderr.strip()}")
    source = shown.stdout
    name = f"{module}_at_{revision}"
    loaded = types.ModuleType(name)
    sys.modules[name] = loaded  # dataclasses look their module up
    exec(compile(source, f"{revision}:{path}", "exec"), loaded.__dict__)
    return getattr(loaded, function)  # type: ignore[no-any-return]


def writers(
    sessions: dict[str, int], service: Callable[[str], Service] = this_service
) -> dict[str, Callable[[list[str]], object]]:
    """Each write as its batcher calls it, for a batch of chargers' messages,
    through the services ``service`` gives."""
    from chargepoints.statuses import StatusReport
    from core.time import utc_now
    from ocpp_messages.models import Direction
    from transactions.meter_values import MeterValuesReport
    from transactions.services import MeterReading, SampledValue
    from transactions.transaction_events import TransactionEventData
    from transactions.transaction_updates import TransactionUpdate

    meter_values_record = service("meter-values")
    connector_record_statuses = service("statuses")
    ocpp_messages_record = service("message-log")
    chargepoints_record_heartbeat = service("heartbeats")
    transaction_updates_record = service("transaction-updates")

    register = [0]

    def readings() -> list[MeterReading]:
        # As the throughput fleet sends them: an energy register and a power.
        register[0] += 1
        return [
            MeterReading(
                timestamp=utc_now(),
                sampled_values=[
                    SampledValue(value=str(register[0]), unit="Wh"),
                    SampledValue(value="7.2", measurand="Power.Active.Import", unit="kW"),
                ],
            )
        ]

    def meter_values(batch: list[str]) -> object:
        sampled = readings()
        return meter_values_record(
            reports=[
                MeterValuesReport(
                    charge_point_id=charger,
                    evse_id=1,
                    connector_id=1,
                    ocpp_transaction_id=str(sessions[charger]),
                    readings=sampled,
                )
                for charger in batch
            ]
        )

    def transaction_updates(batch: list[str]) -> object:
        # A 2.0.1 charger's TransactionEvent(Updated) with its meter values,
        # each newer than the last, in whichever version (a seqNo stored
        # already would make it a repeat, which costs less).
        sampled = readings()
        seq_no = next(SEQ_NOS)
        return transaction_updates_record(
            updates=[
                TransactionUpdate(
                    charge_point_id=charger,
                    event=TransactionEventData(
                        ocpp_transaction_id=str(sessions[charger]),
                        event_type="Updated",
                        seq_no=seq_no,
                        timestamp=sampled[0].timestamp,
                        trigger_reason="MeterValuePeriodic",
                        evse_id=1,
                        connector_id=1,
                        charging_state="Charging",
                        readings=sampled,
                    ),
                )
                for charger in batch
            ]
        )

    def statuses(batch: list[str]) -> object:
        status = "Charging" if register[0] % 2 else "SuspendedEV"
        register[0] += 1
        return connector_record_statuses(
            reports=[
                StatusReport(
                    charge_point_id=charger,
                    evse_id=1,
                    connector_id=1,
                    status=status,
                    timestamp=utc_now(),
                )
                for charger in batch
            ]
        )

    def message_log(batch: list[str]) -> object:
        # One logged frame per charger: a MeterValues call.
        return ocpp_messages_record(
            messages=[
                {
                    "charge_point_id": charger,
                    "direction": Direction.RECEIVED,
                    "message_type": 2,
                    "unique_id": uuid.uuid4().hex,
                    "action": "MeterValues",
                    "payload": {
                        "connectorId": 1,
                        "transactionId": sessions[charger],
                        "meterValue": [{"timestamp": "2026-11-24T12:00:00Z", "sampledValue": []}],
                    },
                    "error_code": "",
                    "raw": "",
                    "ocpp_version": "1.6",
                    "timestamp": utc_now(),
                }
                for charger in batch
            ]
        )

    return {
        "heartbeats": lambda batch: chargepoints_record_heartbeat(
            charge_point_ids=batch, at=utc_now()
        ),
        "statuses": statuses,
        "meter-values": meter_values,
        "message-log": message_log,
        "transaction-updates": transaction_updates,
    }


def measure(
    write: Callable[[list[str]], object], ids: list[str], size: int, items: int, database: str
) -> tuple[float, float, float]:
    """ms per batch: wall, this thread's CPU, the database's CPU. Each batch
    as a batch writer runs it: with a connection from the pool, given back."""
    from django.db import close_old_connections

    def one(batch: list[str]) -> None:
        close_old_connections()
        try:
            write(batch)
        finally:
            close_old_connections()

    for start in range(0, 5 * size, size):  # warm: statements prepared
        one(ids[start : start + size])
    batches = max(20, items // size)
    position = 0
    wall, cpu = time.perf_counter(), time.thread_time()
    database_cpu = database_cpu_seconds(database)
    for _ in range(batches):
        if position + size > len(ids):
            position = 0
        one(ids[position : position + size])
        position += size
    return (
        (time.perf_counter() - wall) * 1000 / batches,
        (time.thread_time() - cpu) * 1000 / batches,
        (database_cpu_seconds(database) - database_cpu) * 1000 / batches,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "OV2XMP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/ov2xmp"
        ),
        help="a server and database name; a fresh database is made beside it",
    )
    parser.add_argument("--chargers", type=int, default=500)
    parser.add_argument("--sizes", default="1,10,50", help="batch sizes, comma-separated")
    parser.add_argument("--writes", default=",".join(WRITES), help="comma-separated")
    parser.add_argument("--items", type=int, default=1000, help="items per round and size")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny: checks the script")
    parser.add_argument(
        "--against", metavar="REV", help="also each service as this git revision has it"
    )
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.chargers, arguments.sizes, arguments.items, arguments.rounds = 20, "1,5", 20, 1
    sizes = [int(size) for size in arguments.sizes.split(",")]
    chosen = arguments.writes.split(",")
    if unknown := set(chosen) - set(WRITES):
        parser.error(f"unknown writes: {', '.join(sorted(unknown))}; known: {', '.join(WRITES)}")
    if max(sizes) > arguments.chargers:
        parser.error("a batch holds each charger once: --chargers must be ≥ every size")

    import psycopg

    base = arguments.postgres_url.rsplit("/", 1)[0]
    database = f"ov2xmp_costs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    django_ready = False
    try:
        setup_django(f"{base}/{database}", tempfile.mkdtemp(prefix="ov2xmp-batch-costs-"))
        django_ready = True
        ids, sessions = prepare(arguments.chargers)
        print(
            f"# batch costs: {arguments.chargers} chargers, median of {arguments.rounds} "
            f"rounds of {arguments.items} items"
        )
        print(
            "\n| write | batch | version | ms per batch: wall / csms CPU / PostgreSQL CPU "
            "| µs per item: csms / PostgreSQL |"
        )
        print("| --- | --- | --- | --- | --- |")
        versions = {"this checkout": writers(sessions)}
        if arguments.against:
            against = arguments.against
            versions[against] = writers(sessions, lambda write: service_at(against, write))
        for name in chosen:
            for size in sizes:
                rounds: dict[str, list[tuple[float, float, float]]] = {v: [] for v in versions}
                for number in range(arguments.rounds):
                    # In turn, the first one first in every other round.
                    order = list(versions) if number % 2 == 0 else list(versions)[::-1]
                    for version in order:
                        write = versions[version][name]
                        figures = measure(write, ids, size, arguments.items, database)
                        rounds[version].append(figures)
                for version, measured in rounds.items():
                    wall, cpu, database_cpu = (
                        statistics.median(figures) for figures in zip(*measured, strict=True)
                    )
                    print(
                        f"| {name} | {size} | {version} "
                        f"| {wall:.2f} / {cpu:.2f} / {database_cpu:.2f} "
                        f"| {cpu * 1000 / size:.0f} / {database_cpu * 1000 / size:.0f} |"
                    )
    finally:
        if django_ready:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()

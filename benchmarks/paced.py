"""Ours alone under the throughput scenario's fleet, paced at a fixed rate: the
paced run of `bench.py throughput` without the baseline and the saturated
runs, to compare two versions back to back (docs/performance.md).

    .venv/bin/python benchmarks/paced.py --rate 1800
    .venv/bin/python benchmarks/paced.py --rate 2400 --csms-processes 2
    .venv/bin/python benchmarks/paced.py --rate 1800 --ov2xmp ../other/.venv/bin/ov2xmp
    .venv/bin/python benchmarks/paced.py --rate 1800 --ocpp-version 2.0.1
    .venv/bin/python benchmarks/paced.py --rate 1500 --runs 4 --against ../other/.venv/bin/ov2xmp

Prints the rate answered, the reply latency (all messages, then by message),
and the CPU time per answer of the csms (all its processes) and of
PostgreSQL, counted on the connections to the run's own database only (other
databases on the same server do not count).

On a machine whose speed drifts, one run says little: ``--runs N`` runs N
times, and ``--against`` another ov2xmp command as often, the two taking
turns (A B, B A, A B, …, so that a steady drift favours neither). Then a
summary: each version's median p50, p99 and CPU per answer, the range of
its p99, and how many of its runs met p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import servers
from fleet import OCPP_VERSIONS, LoadResult, Plan, percentile, run_fleet
from servers import database_cpu_seconds, postgres_or_none, start_ours, tree_cpu_seconds


def database_of(pid: int) -> str:
    environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    url = next(v for v in environment if v.startswith(b"OV2XMP_DATABASE_URL=")).decode()
    return url.rsplit("/", 1)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1800, help="messages per second offered")
    parser.add_argument("--chargers", type=int, default=500)
    parser.add_argument("--charging", type=float, default=0.5)
    parser.add_argument("--duration", type=float, default=15, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2, help="load processes")
    parser.add_argument("--csms-processes", type=int, default=1)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "OV2XMP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/ov2xmp"
        ),
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--ov2xmp", help="the ov2xmp command to run (another checkout's)")
    parser.add_argument(
        "--ocpp-version",
        choices=OCPP_VERSIONS,
        default="1.6",
        help="the chargers' OCPP version, default 1.6",
    )
    parser.add_argument("--runs", type=int, default=1, help="runs of each version")
    parser.add_argument("--against", help="another ov2xmp command, run in turn with this one")
    arguments = parser.parse_args()
    if arguments.runs < 1:
        parser.error("--runs is at least 1")
    postgres_url = postgres_or_none(arguments.postgres_url)
    if postgres_url is None:
        raise SystemExit("paced.py needs PostgreSQL (--postgres-url)")
    versions = {"A": arguments.ov2xmp or servers.OV2XMP}
    if arguments.against:
        versions["B"] = arguments.against
    several_runs = arguments.runs > 1 or len(versions) > 1
    if several_runs:
        for label, command in versions.items():
            print(f"{label}: {command}")
    runs: dict[str, list[Run]] = {label: [] for label in versions}
    for turn in range(arguments.runs):
        order = list(versions) if turn % 2 == 0 else list(reversed(versions))
        for label in order:
            run = paced_run(arguments, postgres_url, versions[label])
            runs[label].append(run)
            report(arguments, run, label=label if several_runs else "")
    if several_runs:
        summarise(runs)


@dataclass
class Run:
    result: LoadResult
    server_cpu: float
    database_cpu: float

    @property
    def p50(self) -> float:
        return self.result.percentile(0.5)

    @property
    def p99(self) -> float:
        return self.result.percentile(0.99)


def paced_run(arguments: argparse.Namespace, postgres_url: str, command: str) -> Run:
    servers.OV2XMP = command
    several = arguments.csms_processes > 1
    server = start_ours(
        postgres_url,
        processes=arguments.csms_processes,
        redis_url=arguments.redis_url if several else None,
    )
    used: dict[str, float] = {}
    try:
        database = database_of(server.pid)

        def measure() -> None:
            server_before = tree_cpu_seconds(server.pid)
            database_before = database_cpu_seconds(database)
            time.sleep(arguments.duration)
            used["server"] = tree_cpu_seconds(server.pid) - server_before
            used["database"] = database_cpu_seconds(database) - database_before

        result = run_fleet(
            Plan(
                url=server.url,
                start_at=time.time() + arguments.warmup,
                duration=arguments.duration,
                period=arguments.chargers / arguments.rate,
                charging_share=arguments.charging,
                ocpp_version=arguments.ocpp_version,
            ),
            chargers=arguments.chargers,
            processes=arguments.processes,
            while_running=measure,
        )
    finally:
        server.stop()
    return Run(result, used["server"], used["database"])


def report(arguments: argparse.Namespace, run: Run, *, label: str) -> None:
    result = run.result
    # The default, 1.6, goes unsaid: the line reads as it always has.
    version = "" if arguments.ocpp_version == "1.6" else f"OCPP {arguments.ocpp_version}: "
    print(
        f"{label + ': ' if label else ''}{version}offered {arguments.rate:,.0f}/s, "
        f"answered {result.rate:,.0f}/s, p50 {run.p50:.1f} ms, p99 {run.p99:.1f} ms, "
        f"max {result.slowest:.1f} ms, {result.errors} errors; CPU ms per answer: "
        f"csms {result.cpu_per_reply(run.server_cpu):.3f}, "
        f"PostgreSQL {result.cpu_per_reply(run.database_cpu):.3f}",
        flush=True,
    )
    for action, latencies in sorted(result.by_action().items()):
        print(
            f"  {action}: {len(latencies)} answers, p50 {percentile(latencies, 0.5):.1f} ms, "
            f"p99 {percentile(latencies, 0.99):.1f} ms"
        )


def summarise(runs: dict[str, list[Run]]) -> None:
    print(
        "\n| version | runs | p50 ms (median) | p99 ms (median) | p99 ms (range) "
        "| runs with p99 < 100 ms | CPU ms per answer, csms / PostgreSQL (median) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, of_version in runs.items():
        p99s = [run.p99 for run in of_version]
        csms = statistics.median(run.result.cpu_per_reply(run.server_cpu) for run in of_version)
        database = statistics.median(
            run.result.cpu_per_reply(run.database_cpu) for run in of_version
        )
        print(
            f"| {label} | {len(of_version)} | "
            f"{statistics.median(run.p50 for run in of_version):.1f} | "
            f"{statistics.median(p99s):.1f} | {min(p99s):.1f} to {max(p99s):.1f} | "
            f"{sum(p99 < 100 for p99 in p99s)} | {csms:.3f} / {database:.3f} |"
        )


if __name__ == "__main__":
    main()

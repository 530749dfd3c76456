"""Ours alone under the throughput scenario's fleet, paced at a fixed rate: the
paced run of `bench.py throughput` without the baseline and the saturated
runs, to compare two versions back to back (docs/performance.md).

    .venv/bin/python benchmarks/paced.py --rate 1800
    .venv/bin/python benchmarks/paced.py --rate 2400 --csms-processes 2
    .venv/bin/python benchmarks/paced.py --rate 1800 --ov2xmp ../other/.venv/bin/ov2xmp
    .venv/bin/python benchmarks/paced.py --rate 1800 --ocpp-version 2.0.1

Prints the rate answered, the reply latency (all messages, then by message),
and the CPU time per answer of the csms (all its processes) and of
PostgreSQL, counted on the connections to the run's own database only (other
databases on the same server do not count).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import servers
from fleet import OCPP_VERSIONS, Plan, percentile, run_fleet
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
    arguments = parser.parse_args()
    if arguments.ov2xmp:
        servers.OV2XMP = arguments.ov2xmp
    postgres_url = postgres_or_none(arguments.postgres_url)
    if postgres_url is None:
        raise SystemExit("paced.py needs PostgreSQL (--postgres-url)")
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
    # The default, 1.6, goes unsaid: the line reads as it always has.
    version = "" if arguments.ocpp_version == "1.6" else f"OCPP {arguments.ocpp_version}: "
    print(
        f"{version}offered {arguments.rate:,.0f}/s, answered {result.rate:,.0f}/s, "
        f"p50 {result.percentile(0.5):.1f} ms, p99 {result.percentile(0.99):.1f} ms, "
        f"max {result.slowest:.1f} ms, {result.errors} errors; CPU ms per answer: "
        f"csms {result.cpu_per_reply(used['server']):.3f}, "
        f"PostgreSQL {result.cpu_per_reply(used['database']):.3f}"
    )
    for action, latencies in sorted(result.by_action().items()):
        print(
            f"  {action}: {len(latencies)} answers, p50 {percentile(latencies, 0.5):.1f} ms, "
            f"p99 {percentile(latencies, 0.99):.1f} ms"
        )


if __name__ == "__main__":
    main()

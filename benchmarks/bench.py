"""O-V2X-MP benchmark: the CSMS under a charger fleet, side by side with a
bare baseline (benchmarks/baseline_server.py) in the same run.

    python benchmarks/bench.py                       # every scenario, default scale
    python benchmarks/bench.py throughput --chargers 1000 --duration 30
    python benchmarks/bench.py throughput --ocpp-version 2.0.1   # 2.0.1 chargers
    python benchmarks/bench.py --smoke               # tiny and fast: checks the harness

Scenarios:
  throughput   1. saturated: chargers send back to back (one call in flight
               each, as OCPP allows): the most replies per second, ours
               (every message validated and persisted) against the baseline.
               2. paced: the same chargers offer --paced-share (0.5) of the
               baseline's saturated rate, on a fixed schedule: does each
               server keep up, and with what reply latency (p50/p99/max)?
  connections  chargers connect, boot and stay: memory per connection.
  storm        chargers connect, boot, part of them start a transaction; then
               every connection drops at once and every charger reconnects at
               once: time until all are booted again (and their sessions
               resumed), commands to a sample of them, and every session
               accounted for afterwards (through `ov2xmp up` and its API).
  command      REST → charger → REST round trips: `ov2xmp up` (embedded), and
               csms + worker + web processes over Redis (distributed).
  feed         live updates: the same paced load on `ov2xmp up` without and
               with --feed-clients clients of /ws/updates/ subscribed to every
               charger: what watching costs the chargers' replies, and how
               soon an event reaches the clients.

The chargers are raw OCPP-J websocket clients in separate processes, on
loopback; every run stops by itself. They speak OCPP 1.6, or with
--ocpp-version 2.0.1 OCPP 2.0.1 (throughput only: the other scenarios are
1.6 only). Ours runs on a fresh database:
PostgreSQL when --postgres-url answers, else SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from fleet import (
    OCPP_VERSIONS,
    Charger,
    LoadResult,
    Plan,
    charger_ids,
    percentile,
    run_fleet,
)
from servers import (
    Api,
    Server,
    postgres_cpu_seconds,
    postgres_or_none,
    redis_or_none,
    rss_kib,
    start_baseline,
    start_distributed,
    start_ours,
    tree_cpu_seconds,
)
from websockets.asyncio.client import connect

PACED_P99_TARGET_MS = 100.0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def load(server: Server, arguments: argparse.Namespace, *, period: float) -> LoadResult:
    used: dict[str, float] = {}

    def measure_cpu() -> None:
        # Over the measured window only: connecting and booting are not in it.
        server_before, database_before = tree_cpu_seconds(server.pid), postgres_cpu_seconds()
        time.sleep(arguments.duration)
        used["server"] = tree_cpu_seconds(server.pid) - server_before
        used["database"] = postgres_cpu_seconds() - database_before

    result = run_fleet(
        Plan(
            url=server.url,
            start_at=time.time() + arguments.warmup,
            duration=arguments.duration,
            period=period,
            charging_share=arguments.charging,
            ocpp_version=arguments.ocpp_version,
        ),
        chargers=arguments.chargers,
        processes=arguments.processes,
        while_running=measure_cpu,
    )
    result.server_cpu, result.database_cpu = used.get("server", 0.0), used.get("database", 0.0)
    return result


def with_server(start: Callable[[], Server], work: Callable[[Server], Any]) -> Any:
    server = start()
    try:
        return work(server)
    finally:
        server.stop()


def scenario_throughput(arguments: argparse.Namespace) -> None:
    print(
        f"\n## throughput: {arguments.chargers} chargers, {arguments.charging:.0%} charging, "
        f"{arguments.duration:g} s measured, {arguments.processes} load processes"
    )
    servers: list[tuple[str, Callable[[], Server]]] = [
        ("baseline", start_baseline),
        ("ov2xmp", lambda: start_ours(arguments.postgres_url)),
    ]
    processes = arguments.csms_processes
    if processes > 1:
        redis_url = redis_or_none(arguments.redis_url)
        if redis_url and arguments.postgres_url:
            servers.append(
                (
                    f"ov2xmp, {processes} processes",
                    lambda: start_ours(
                        arguments.postgres_url, processes=processes, redis_url=redis_url
                    ),
                )
            )
        else:
            print(f"(--csms-processes {processes} skipped: it needs PostgreSQL and Redis)")
    saturated = {
        name: with_server(start, lambda s: load(s, arguments, period=0.0))
        for name, start in servers
    }
    baseline_rate = saturated["baseline"].rate
    offered = arguments.paced_share * baseline_rate
    period = arguments.chargers / offered if offered else 1.0
    paced = {
        name: with_server(start, lambda s: load(s, arguments, period=period))
        for name, start in servers
    }
    print("\nSaturated (back to back):\n")
    print(
        "| server | replies/s | p50 ms | p99 ms | max ms | errors | rate vs baseline "
        "| CPU ms per reply: server / PostgreSQL |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, result in saturated.items():
        print(
            f"| {name} | {result.rate:,.0f} | {result.percentile(0.5):.1f} | "
            f"{result.percentile(0.99):.1f} | {result.slowest:.1f} | {result.errors} | "
            f"{result.rate / baseline_rate:.0%} | {result.cpu_per_reply(result.server_cpu):.2f} / "
            f"{result.cpu_per_reply(result.database_cpu):.2f} |"
        )
    print(
        f"\nPaced at {arguments.paced_share:.0%} of the baseline's saturated rate "
        f"({offered:,.0f} messages/s offered; each charger every {period:.2f} s):\n"
    )
    print("| server | replies/s | share of offered | p50 ms | p99 ms | max ms | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, result in paced.items():
        print(
            f"| {name} | {result.rate:,.0f} | {result.rate / offered:.0%} | "
            f"{result.percentile(0.5):.1f} | {result.percentile(0.99):.1f} | "
            f"{result.slowest:.1f} | {result.errors} |"
        )
    print("\nReply latency by message, ms (p50 / p99), saturated and paced:\n")
    print(
        "| message | " + " | ".join(f"{name} saturated | {name} paced" for name in saturated) + " |"
    )
    print("| --- |" + " --- | --- |" * len(saturated))
    runs = [run for name in saturated for run in (saturated[name], paced[name])]
    for action in sorted({action for run in runs for action in run.actions}):
        cells = []
        for run in runs:
            latencies = run.by_action().get(action, [])
            cells.append(f"{percentile(latencies, 0.5):.1f} / {percentile(latencies, 0.99):.1f}")
        print(f"| {action} | " + " | ".join(cells) + " |")
    print()
    for name, ours in paced.items():
        if name == "baseline":
            continue
        kept_up = ours.rate >= 0.95 * offered and ours.percentile(0.99) < PACED_P99_TARGET_MS
        print(
            f"{name} at {arguments.paced_share:.0%} of the baseline: "
            f"{'kept up' if kept_up else 'did not keep up'} "
            f"(target: the offered rate with p99 < {PACED_P99_TARGET_MS:g} ms)"
        )


def scenario_connections(arguments: argparse.Namespace) -> None:
    count, period = arguments.connections, arguments.connections_period
    print(
        f"\n## connections: {count} chargers connect, boot and stay, each sending a message "
        f"every {period:g} s"
    )
    print(
        "| server | connected | RSS before MiB | RSS with all MiB | KiB per connection "
        "| messages answered while held | errors | reply p99 ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for start in (start_baseline, lambda: start_ours(arguments.postgres_url)):
        server = start()
        measured: dict[str, int] = {}
        try:
            time.sleep(1)
            measured["before"] = rss_kib(server.pid)
            start_at = time.time() + arguments.warmup

            def measure(server: Server = server, measured: dict[str, int] = measured) -> None:
                time.sleep(arguments.hold / 2)
                measured["after"] = rss_kib(server.pid)

            result = run_fleet(
                Plan(
                    url=server.url,
                    start_at=start_at,
                    # Heartbeat and StatusNotification, in turn, while held:
                    # memory is read with the connections in use.
                    duration=arguments.hold,
                    period=period,
                    after_all_booted=True,
                    # Released when measured; this is only a bound.
                    hold_until=start_at + arguments.hold + 300,
                ),
                chargers=count,
                processes=arguments.processes,
                while_running=measure,
            )
        finally:
            server.stop()
        per = (measured["after"] - measured["before"]) / count
        print(
            f"| {server.name} | {count - result.chargers_failed} | "
            f"{measured['before'] / 1024:.0f} | {measured['after'] / 1024:.0f} | {per:.1f} | "
            f"{result.messages:,} | {result.errors - result.chargers_failed} | "
            f"{result.percentile(0.99):.1f} |"
        )


def scenario_storm(arguments: argparse.Namespace) -> None:
    count, charging = arguments.storm_chargers, int(arguments.storm_chargers * arguments.charging)
    print(f"\n## storm: {count} chargers ({charging} in a transaction) drop and reconnect at once")
    print(
        "| server | all booted again after s | p50 s | reconnect attempts | "
        "commands answered | sessions started / ended |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for start in (start_baseline, lambda: start_ours(arguments.postgres_url, embedded=True)):
        server = start()
        checks: dict[str, str] = {"commands": "—", "sessions": "—"}
        try:
            result = _storm(server, arguments, count, checks)
        finally:
            server.stop()
        settled = sorted(result.settled)
        print(
            f"| {server.name} | {max(settled, default=float('nan')):.2f} | "
            f"{statistics.median(settled) if settled else float('nan'):.2f} | "
            f"{sum(result.attempts)} for {len(result.attempts)} chargers | "
            f"{checks['commands']} | {checks['sessions']} |"
        )
        if result.errors or len(settled) != count:
            print(f"  {result.errors} chargers failed; {len(settled)} of {count} came back")


def _storm(
    server: Server, arguments: argparse.Namespace, count: int, checks: dict[str, str]
) -> LoadResult:
    settle = arguments.storm_settle

    def after_drop() -> None:
        if not server.api:
            return
        # Called once all are connected, as they drop.
        time.sleep(settle)  # the chargers are back by now, or the figure says so
        api = Api(server.api)
        connected = api.count("/api/chargepoints/?is_connected=true&page_size=1")
        sample = random.sample(charger_ids(count), min(arguments.storm_commands, count))
        with ThreadPoolExecutor(10) as pool:
            outcomes = list(pool.map(api.reset, sample))
        answered = sum(outcome.get("status") == "Answered" for outcome in outcomes)
        checks["commands"] = f"{answered} of {len(sample)} ({connected} connected)"

    result = run_fleet(
        Plan(
            url=server.url,
            start_at=time.time(),  # the drop comes when all are connected
            charging_share=arguments.charging,
            hold_until=time.time() + 600,  # a bound: released when checked
            storm=True,
        ),
        chargers=count,
        processes=arguments.processes,
        while_running=after_drop,
    )
    if server.api:
        api = Api(server.api)
        started = api.count("/api/transactions/?page_size=1")
        ended = api.count("/api/transactions/?status=Ended&page_size=1")
        checks["sessions"] = f"{started} / {ended} (expected {int(count * arguments.charging)})"
    return result


def scenario_command(arguments: argparse.Namespace) -> None:
    print(f"\n## command: {arguments.commands} Reset commands, REST → charger → REST")
    print("| mode | round trips | p50 ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- |")
    modes: list[tuple[str, Callable[[], Server]]] = [
        ("embedded (`ov2xmp up`)", lambda: start_ours(arguments.postgres_url, embedded=True))
    ]
    redis_url = redis_or_none(arguments.redis_url)
    if arguments.postgres_url and redis_url:
        modes.append(
            (
                "distributed (csms, worker, web; Redis)",
                lambda: start_distributed(arguments.postgres_url, redis_url),
            )
        )
    for mode, start in modes:
        latencies = sorted(with_server(start, lambda s: _round_trips(s, arguments.commands)))
        print(
            f"| {mode} | {len(latencies)} | {ms(statistics.median(latencies))} | "
            f"{ms(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))])} | "
            f"{ms(latencies[-1])} |"
        )
    if len(modes) == 1:
        print("(distributed mode skipped: it needs PostgreSQL and Redis)")


def _round_trips(server: Server, count: int) -> list[float]:
    latencies: list[float] = []

    def send_commands() -> None:
        api = Api(server.api)
        for _ in range(count):
            started = time.perf_counter()
            outcome = api.reset("BENCH-00000")
            latencies.append(time.perf_counter() - started)
            if outcome.get("status") != "Answered":
                raise SystemExit(f"command not answered: {outcome}")

    _with_one_charger(server, send_commands)
    return latencies


def _with_one_charger(server: Server, work: Callable[[], None]) -> None:
    """One charger connected and answering while ``work`` runs."""

    async def main() -> None:
        charger = Charger(server.url, "BENCH-00000")
        await charger.connect()
        await charger.boot()
        answering = asyncio.create_task(charger.answer_calls())
        try:
            await asyncio.to_thread(work)
        finally:
            answering.cancel()
            await charger.close()

    asyncio.run(main())


def scenario_feed(arguments: argparse.Namespace) -> None:
    period = arguments.chargers / arguments.feed_rate
    print(
        f"\n## feed: {arguments.chargers} chargers paced at {arguments.feed_rate:g} messages/s "
        f"on `ov2xmp up`, {arguments.duration:g} s measured"
    )
    print(
        "| feed clients (topic `chargers`) | replies/s | reply p50 / p99 ms | "
        "CPU ms per reply: server / PostgreSQL | events per client per s | "
        "event delay p50 / p99 ms |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for clients in (0, arguments.feed_clients):
        result, delays, events = with_server(
            lambda: start_ours(arguments.postgres_url, embedded=True),
            functools.partial(_load_watched, arguments=arguments, period=period, clients=clients),
        )
        per_client = f"{events / clients / arguments.duration:,.0f}" if clients else "—"
        delay = (
            f"{ms(statistics.median(delays))} / {ms(percentile(delays, 0.99) / 1000)}"
            if delays
            else "—"
        )
        print(
            f"| {clients} | {result.rate:,.0f} | {result.percentile(0.5):.1f} / "
            f"{result.percentile(0.99):.1f} | {result.cpu_per_reply(result.server_cpu):.2f} / "
            f"{result.cpu_per_reply(result.database_cpu):.2f} | {per_client} | {delay} |"
        )
    print(
        "(event delay: from the csms receiving a StatusNotification or Heartbeat, the "
        "event's `at`, to a feed client holding the event)"
    )


def _load_watched(
    server: Server, *, arguments: argparse.Namespace, period: float, clients: int
) -> tuple[LoadResult, list[float], int]:
    """The paced load with ``clients`` feed clients watching; the delays of the
    status and heartbeat events in the measured window, and how many events
    the clients received in it."""
    window: list[float] = []
    delays: list[float] = []
    counted, lost = [0], [0]
    subscribed = threading.Event()
    stop = threading.Event()

    async def watch(url: str) -> None:
        async with connect(url, open_timeout=30, max_queue=None) as feed:
            await feed.recv()  # authenticated
            await feed.send(json.dumps({"type": "subscribe", "topic": "chargers"}))
            await feed.recv()
            watching.append(feed)
            if len(watching) == clients:
                subscribed.set()
            while not stop.is_set():
                try:
                    message = json.loads(await asyncio.wait_for(feed.recv(), 0.5))
                except TimeoutError:
                    continue
                arrived = time.time()
                if message["type"] == "events_lost":  # the channel layer dropped some
                    lost[0] += 1
                    continue
                at = datetime.fromisoformat(message["at"]).timestamp()
                if window and window[0] <= at <= window[1]:
                    counted[0] += 1
                    if message["type"] in ("connector.status", "charger.heartbeat"):
                        delays.append(arrived - at)

    watching: list[Any] = []

    def feeds() -> None:
        url = server.api.replace("http", "ws", 1) + f"/ws/updates/?token={Api(server.api).token}"

        async def all_of_them() -> None:
            await asyncio.gather(*(watch(url) for _ in range(clients)))

        asyncio.run(all_of_them())

    thread = threading.Thread(target=feeds, daemon=True)
    if clients:
        thread.start()
        if not subscribed.wait(60):
            raise SystemExit("feed clients did not subscribe")
    opens = time.time() + arguments.warmup
    window[:] = [opens, opens + arguments.duration]
    try:
        result = load(server, arguments, period=period)
    finally:
        stop.set()
        if clients:
            thread.join(30)
    if lost[0]:
        print(f"({clients} feed clients: {lost[0]} events_lost notices)")
    return result, delays, counted[0]


SCENARIOS = {
    "throughput": scenario_throughput,
    "connections": scenario_connections,
    "storm": scenario_storm,
    "command": scenario_command,
    "feed": scenario_feed,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], default=[])
    parser.add_argument("--chargers", type=int, default=500, help="throughput: chargers")
    parser.add_argument("--charging", type=float, default=0.5, help="share in a transaction")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument(
        "--paced-share",
        type=float,
        default=0.5,
        help="throughput: paced load as a share of the baseline's saturated rate",
    )
    parser.add_argument("--connections", type=int, default=5000, help="connections scenario")
    parser.add_argument("--storm-chargers", type=int, default=2000, help="storm scenario")
    parser.add_argument(
        "--storm-settle", type=float, default=30.0, help="storm: seconds before checking"
    )
    parser.add_argument(
        "--storm-commands", type=int, default=50, help="storm: chargers sent a command after"
    )
    parser.add_argument("--commands", type=int, default=200, help="command round trips")
    parser.add_argument(
        "--feed-rate", type=float, default=500.0, help="feed: messages per second offered"
    )
    parser.add_argument("--feed-clients", type=int, default=20, help="feed: live-update clients")
    parser.add_argument("--processes", type=int, default=2, help="load processes")
    parser.add_argument(
        "--ocpp-version",
        choices=OCPP_VERSIONS,
        default="1.6",
        help="throughput: the chargers' OCPP version, default 1.6 (the other scenarios: 1.6 only)",
    )
    parser.add_argument(
        "--csms-processes",
        type=int,
        default=1,
        help="throughput: also run ours as `ov2xmp csms --processes N` (needs Redis)",
    )
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds to connect first")
    parser.add_argument(
        "--hold", type=float, default=10.0, help="connections: seconds all stay connected"
    )
    parser.add_argument(
        "--connections-period",
        type=float,
        default=5.0,
        help="connections: seconds between one charger's messages while held",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "OV2XMP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/ov2xmp"
        ),
        help="PostgreSQL server for ours (a fresh database is made); SQLite if it does not answer",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/13",
        help="Redis for the distributed command scenario (this database is emptied)",
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny, fast run of every scenario")
    arguments = parser.parse_args()
    scenarios = arguments.scenarios or list(SCENARIOS)
    if arguments.ocpp_version != "1.6" and set(scenarios) != {"throughput"}:
        parser.error(
            f"--ocpp-version {arguments.ocpp_version} is for the throughput scenario only: "
            f"bench.py throughput --ocpp-version {arguments.ocpp_version}"
        )
    if arguments.smoke:
        arguments.chargers, arguments.duration, arguments.connections = 10, 2.0, 20
        arguments.storm_chargers, arguments.storm_settle, arguments.storm_commands = 10, 3.0, 3
        arguments.commands, arguments.warmup, arguments.processes = 10, 3.0, 1
        arguments.feed_rate, arguments.feed_clients = 50.0, 2
        arguments.hold, arguments.connections_period = 2.0, 0.5
    arguments.postgres_url = postgres_or_none(arguments.postgres_url)
    database = "PostgreSQL" if arguments.postgres_url else "SQLite"
    stamp = time.strftime("%Y-%m-%d %H:%M")
    # The default, 1.6, goes unsaid: the header reads as it always has.
    version = "" if arguments.ocpp_version == "1.6" else f", OCPP {arguments.ocpp_version} chargers"
    print(f"# O-V2X-MP benchmark, {stamp}, {os.cpu_count()} CPUs, ours on {database}{version}")
    for name in scenarios:
        SCENARIOS[name](arguments)


if __name__ == "__main__":
    main()

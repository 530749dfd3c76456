"""O-V2X-MP benchmark: the CSMS under a charger fleet, side by side with a
bare baseline (benchmarks/baseline_server.py) in the same run.

    python benchmarks/bench.py                       # every scenario, default scale
    python benchmarks/bench.py throughput --chargers 1000 --duration 30
    python benchmarks/bench.py --smoke               # tiny and fast: checks the harness

Scenarios:
  throughput   chargers send back to back (one call in flight each, as OCPP
               allows): sustained replies per second and reply latency, ours
               (every message validated and persisted) against the baseline.
  connections  chargers connect, boot and stay: memory per connection.
  command      REST → charger → REST round trips through `ov2xmp up`.

The chargers are raw OCPP-J websocket clients in separate processes, on
loopback; every run stops by itself. Ours runs as `ov2xmp csms` (or `up`) on
a fresh database: PostgreSQL when --postgres-url answers, else SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
OV2XMP = str(Path(sys.executable).with_name("ov2xmp"))
ADMIN = ("bench", "bench-password-123")


# --- servers ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident memory of a process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Server:
    name: str
    process: subprocess.Popen[str]
    url: str
    api: str = ""
    cleanup: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for undo in self.cleanup:
            undo()


def _start(name: str, argv: list[str], env: dict[str, str], ready: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if ready in line:
            # Keep reading, so that a full pipe never blocks the server.
            threading_drain(process)
            return process
    process.kill()
    raise SystemExit(f"{name} did not start:\n{''.join(seen)}")


def threading_drain(process: subprocess.Popen[str]) -> None:
    import threading

    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


def start_baseline() -> Server:
    port = free_port()
    process = _start(
        "baseline",
        [sys.executable, str(HERE / "baseline_server.py"), "--port", str(port)],
        dict(os.environ),
        "listening",
    )
    return Server("baseline", process, f"ws://127.0.0.1:{port}/")


def ours_environment(postgres_url: str | None) -> tuple[dict[str, str], list[Any]]:
    """A fresh data directory and database for one run of ours."""
    data = tempfile.mkdtemp(prefix="ov2xmp-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OV2XMP_")}
    env |= {
        "OV2XMP_DATA_DIR": data,
        "OV2XMP_LOG_LEVEL": "warning",
        "OV2XMP_ADMIN_USERNAME": ADMIN[0],
        "OV2XMP_ADMIN_PASSWORD": ADMIN[1],
    }
    cleanup: list[Any] = [lambda: subprocess.run(["rm", "-rf", data], check=False)]
    if postgres_url:
        import psycopg

        name = f"ov2xmp_bench_{uuid.uuid4().hex[:8]}"
        base, _ = postgres_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        cleanup.append(drop)
        env["OV2XMP_DATABASE_URL"] = f"{base}/{name}"
    migrated = subprocess.run(
        [OV2XMP, "manage", "migrate", "--noinput"], env=env, capture_output=True, text=True
    )
    if migrated.returncode:
        raise SystemExit(f"migrate failed:\n{migrated.stderr}")
    return env, cleanup


def start_ours(postgres_url: str | None, *, embedded: bool = False) -> Server:
    env, cleanup = ours_environment(postgres_url)
    ocpp, api = free_port(), free_port()
    argv = (
        [OV2XMP, "up", "--api-port", str(api), "--ftp-port", str(free_port())]
        if embedded
        else [OV2XMP, "csms"]
    )
    process = _start("ov2xmp", [*argv, "--ocpp-port", str(ocpp)], env, "Stop with Ctrl+C")
    server = Server("ov2xmp", process, f"ws://127.0.0.1:{ocpp}/ws/ocpp/", cleanup=cleanup)
    server.api = f"http://127.0.0.1:{api}" if embedded else ""
    return server


# --- chargers -------------------------------------------------------------------------


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Charger:
    """One charger: one websocket, one call in flight (as OCPP allows)."""

    def __init__(self, websocket: Any, charger_id: str) -> None:
        self.websocket = websocket
        self.id = charger_id
        self.counter = 0
        self.transaction: int | None = None
        self.meter = 0

    async def call(self, action: str, payload: dict[str, Any]) -> tuple[float, Any]:
        self.counter += 1
        unique_id = str(self.counter)
        started = time.perf_counter()
        await self.websocket.send(json.dumps([2, unique_id, action, payload]))
        while True:
            reply = json.loads(await self.websocket.recv())
            if reply[0] == 2:  # a call from the server: not expected here
                continue
            if reply[1] == unique_id:
                break
        elapsed = time.perf_counter() - started
        if reply[0] != 3:
            raise RuntimeError(f"{self.id}: {action} answered {reply}")
        return elapsed, reply[2]

    async def boot(self) -> None:
        await self.call(
            "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Load"}
        )
        await self.call(
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
        )

    async def next_message(self, charging: bool) -> tuple[str, float]:
        """One message of the mix; (action, reply latency)."""
        if not charging:
            action = random.choice(("Heartbeat", "StatusNotification"))
            payload: dict[str, Any] = (
                {}
                if action == "Heartbeat"
                else {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
            )
        elif self.transaction is None:
            action = "StartTransaction"
            payload = {
                "connectorId": 1,
                "idTag": "BENCH",
                "meterStart": self.meter,
                "timestamp": now(),
            }
        elif random.random() < 0.02:
            action = "StopTransaction"
            payload = {
                "transactionId": self.transaction,
                "meterStop": self.meter,
                "timestamp": now(),
            }
        else:
            action = "MeterValues"
            self.meter += random.randint(1, 50)
            payload = {
                "connectorId": 1,
                "transactionId": self.transaction,
                "meterValue": [
                    {
                        "timestamp": now(),
                        "sampledValue": [
                            {
                                "value": str(self.meter),
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                            {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                        ],
                    }
                ],
            }
        elapsed, answer = await self.call(action, payload)
        if action == "StartTransaction":
            self.transaction = answer["transactionId"]
        elif action == "StopTransaction":
            self.transaction = None
        return action, elapsed


async def _fleet(options: dict[str, Any], ids: list[str], results: Any) -> None:
    """Connect and boot every charger of this process, wait for the common
    start, then send for the duration; report latencies."""
    latencies: list[float] = []
    errors = 0
    ready = asyncio.Semaphore(200)  # connect in waves, not all at once

    async def one(charger_id: str, charging: bool) -> None:
        nonlocal errors
        async with ready:
            websocket = await connect(
                options["url"] + charger_id,
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                open_timeout=120,
                ping_interval=None,
                max_queue=None,
            )
        try:
            charger = Charger(websocket, charger_id)
            await charger.boot()
            await asyncio.sleep(max(0.0, options["start_at"] - time.time()))
            deadline = options["start_at"] + options["duration"]
            while time.time() < deadline:
                try:
                    _, elapsed = await charger.next_message(charging)
                    latencies.append(elapsed)
                except Exception:
                    errors += 1
                if options["period"]:
                    await asyncio.sleep(options["period"])
            if options["hold"]:
                await asyncio.sleep(max(0.0, options["hold_until"] - time.time()))
        finally:
            await websocket.close()

    share = options["charging_share"]
    outcomes = await asyncio.gather(
        *(one(cid, index < len(ids) * share) for index, cid in enumerate(ids)),
        return_exceptions=True,
    )
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    results.put(
        {
            "latencies": latencies,
            "errors": errors + len(failed),
            "failed": [repr(f) for f in failed[:3]],
        }
    )


def _fleet_process(options: dict[str, Any], ids: list[str], results: Any) -> None:
    asyncio.run(_fleet(options, ids, results))


@dataclass
class LoadResult:
    messages: int
    errors: int
    duration: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.messages / self.duration

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def run_fleet(
    url: str,
    *,
    chargers: int,
    duration: float,
    period: float,
    charging_share: float,
    processes: int,
    warmup: float,
    hold: float = 0.0,
    on_all_connected: Any = None,
) -> LoadResult:
    """Run the fleet in ``processes`` worker processes and gather the results."""
    start_at = time.time() + warmup
    options = {
        "url": url,
        "duration": duration,
        "period": period,
        "charging_share": charging_share,
        "start_at": start_at,
        "hold": hold,
        "hold_until": start_at + duration + hold,
    }
    ids = [f"BENCH-{n:05d}" for n in range(chargers)]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=_fleet_process, args=(options, ids[i::processes], results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    if on_all_connected is not None:
        time.sleep(max(0.0, start_at + duration + hold / 2 - time.time()))
        on_all_connected()
    parts = [results.get(timeout=warmup + duration + hold + 300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    for part in parts:
        if part["failed"]:
            print(f"  charger failures (first ones): {part['failed']}", file=sys.stderr)
    latencies = [value for part in parts for value in part["latencies"]]
    return LoadResult(
        messages=len(latencies),
        errors=sum(part["errors"] for part in parts),
        duration=duration,
        latencies=latencies,
    )


# --- scenarios ---------------------------------------------------------------------------


def scenario_throughput(arguments: argparse.Namespace) -> None:
    print(
        f"\n## throughput: {arguments.chargers} chargers, {arguments.charging:.0%} charging, "
        f"back to back for {arguments.duration:g} s, {arguments.processes} load processes"
    )
    rows = []
    for start in (start_baseline, lambda: start_ours(arguments.postgres_url)):
        server = start()
        try:
            result = run_fleet(
                server.url,
                chargers=arguments.chargers,
                duration=arguments.duration,
                period=0.0,
                charging_share=arguments.charging,
                processes=arguments.processes,
                warmup=arguments.warmup,
            )
        finally:
            server.stop()
        rows.append((server.name, result))
    baseline = rows[0][1]
    print("| server | messages/s | p50 ms | p99 ms | max ms | errors | rate vs baseline |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, result in rows:
        print(
            f"| {name} | {result.rate:,.0f} | {result.percentile(0.5):.1f} | "
            f"{result.percentile(0.99):.1f} | {max(result.latencies, default=0) * 1000:.1f} | "
            f"{result.errors} | {result.rate / baseline.rate:.0%} |"
        )


def scenario_connections(arguments: argparse.Namespace) -> None:
    print(f"\n## connections: {arguments.connections} chargers connect, boot and stay")
    print("| server | connected | RSS before MiB | RSS with all MiB | KiB per connection |")
    print("| --- | --- | --- | --- | --- |")
    for start in (start_baseline, lambda: start_ours(arguments.postgres_url)):
        server = start()
        measured: dict[str, int] = {}
        try:
            time.sleep(1)
            measured["before"] = rss_kib(server.process.pid)

            def measure(server: Server = server, measured: dict[str, int] = measured) -> None:
                measured["after"] = rss_kib(server.process.pid)

            result = run_fleet(
                server.url,
                chargers=arguments.connections,
                duration=1.0,
                period=0.5,
                charging_share=0.0,
                processes=arguments.processes,
                warmup=arguments.warmup,
                hold=arguments.hold,
                on_all_connected=measure,
            )
        finally:
            server.stop()
        per = (measured["after"] - measured["before"]) / arguments.connections
        connected = arguments.connections - result.errors
        print(
            f"| {server.name} | {connected} | {measured['before'] / 1024:.0f} | "
            f"{measured['after'] / 1024:.0f} | {per:.1f} |"
        )


def scenario_command(arguments: argparse.Namespace) -> None:
    print(f"\n## command: {arguments.commands} Reset commands through `ov2xmp up` (embedded)")
    server = start_ours(arguments.postgres_url, embedded=True)
    try:
        latencies = asyncio.run(_command_round_trips(server, arguments.commands))
    finally:
        server.stop()
    ordered = sorted(latencies)
    print("| round trips | p50 ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- |")
    print(
        f"| {len(ordered)} | {statistics.median(ordered) * 1000:.1f} | "
        f"{ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000:.1f} | "
        f"{ordered[-1] * 1000:.1f} |"
    )


async def _command_round_trips(server: Server, count: int) -> list[float]:
    def post(path: str, body: dict[str, Any], token: str = "") -> Any:
        request = urllib.request.Request(
            server.api + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    token = post("/api/token/", {"username": ADMIN[0], "password": ADMIN[1]})["access"]
    async with connect(server.url + "BENCH-CMD", subprotocols=["ocpp1.6"]) as websocket:  # type: ignore[list-item]
        charger = Charger(websocket, "BENCH-CMD")
        await charger.boot()

        async def answer_calls() -> None:
            async for frame in websocket:
                message = json.loads(frame)
                if message[0] == 2:
                    await websocket.send(json.dumps([3, message[1], {"status": "Accepted"}]))

        answering = asyncio.create_task(answer_calls())
        latencies = []
        body = {"charge_point": "BENCH-CMD", "payload": {"type": "Soft"}, "wait": 10}
        for _ in range(count):
            started = time.perf_counter()
            outcome = await asyncio.to_thread(post, "/api/commands/ocpp16/Reset/", body, token)
            latencies.append(time.perf_counter() - started)
            if outcome["status"] != "Answered":
                raise SystemExit(f"command not answered: {outcome}")
        answering.cancel()
    return latencies


SCENARIOS = {
    "throughput": scenario_throughput,
    "connections": scenario_connections,
    "command": scenario_command,
}


def postgres_or_none(url: str) -> str | None:
    try:
        import psycopg

        base = url.rsplit("/", 1)[0]
        psycopg.connect(f"{base}/postgres", connect_timeout=3).close()
        return url
    except Exception:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], default=[])
    parser.add_argument("--chargers", type=int, default=500, help="throughput: chargers")
    parser.add_argument("--charging", type=float, default=0.5, help="share in a transaction")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--connections", type=int, default=2000, help="connections scenario")
    parser.add_argument("--commands", type=int, default=200, help="command round trips")
    parser.add_argument("--processes", type=int, default=2, help="load processes")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds to connect first")
    parser.add_argument(
        "--hold", type=float, default=10.0, help="connections: seconds all stay connected"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "OV2XMP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/ov2xmp"
        ),
        help="PostgreSQL server for ours (a fresh database is made); SQLite if it does not answer",
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny, fast run of every scenario")
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.chargers, arguments.duration, arguments.connections = 10, 2.0, 20
        arguments.commands, arguments.warmup, arguments.processes = 10, 3.0, 1
        arguments.hold = 2.0
    arguments.postgres_url = postgres_or_none(arguments.postgres_url)
    database = "PostgreSQL" if arguments.postgres_url else "SQLite"
    stamp = time.strftime("%Y-%m-%d %H:%M")
    print(f"# O-V2X-MP benchmark, {stamp}, {os.cpu_count()} CPUs, ours on {database}")
    for name in arguments.scenarios or SCENARIOS:
        SCENARIOS[name](arguments)


if __name__ == "__main__":
    main()

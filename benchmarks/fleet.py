"""The simulated chargers: raw OCPP-J websocket clients, run in worker
processes apart from the server, on loopback. Every run stops by itself.
OCPP 1.6 here; the 2.0.1 charger is in fleet201.py."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import multiprocessing
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import connect

CONNECT_WAVE = 200  # chargers connecting at once, except in a storm
OCPP_VERSIONS = ("1.6", "2.0.1")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Charger:
    """One charger: one websocket, one call in flight (as OCPP allows). Calls
    from the server are answered Accepted by whoever reads next."""

    subprotocol = "ocpp1.6"
    # How the results name the messages of a transaction.
    kinds = {"start": "StartTransaction", "stop": "StopTransaction", "meter values": "MeterValues"}

    def __init__(self, url: str, charger_id: str) -> None:
        self.url = url
        self.id = charger_id
        self.websocket: Any = None
        self.counter = 0
        self.transaction: int | str | None = None
        self.meter = 0

    async def connect(self) -> None:
        self.websocket = await connect(
            self.url + self.id,
            subprotocols=[self.subprotocol],  # type: ignore[list-item]
            open_timeout=120,
            ping_interval=None,
            max_queue=None,
        )

    def drop(self) -> None:
        """The network goes: no closing handshake."""
        self.websocket.transport.abort()

    async def close(self) -> None:
        await self.websocket.close()

    async def call(self, action: str, payload: dict[str, Any]) -> tuple[float, Any]:
        self.counter += 1
        unique_id = str(self.counter)
        started = time.perf_counter()
        await self.websocket.send(json.dumps([2, unique_id, action, payload]))
        while True:
            reply = json.loads(await self.websocket.recv())
            if reply[0] == 2:  # a call from the server
                await self.websocket.send(json.dumps([3, reply[1], {"status": "Accepted"}]))
                continue
            if reply[1] == unique_id:
                break
        elapsed = time.perf_counter() - started
        if reply[0] != 3:
            raise RuntimeError(f"{self.id}: {action} answered {reply}")
        return elapsed, reply[2]

    async def answer_calls(self) -> None:
        """Answer the server's calls (commands) while idle."""
        async for frame in self.websocket:
            message = json.loads(frame)
            if message[0] == 2:
                await self.websocket.send(json.dumps([3, message[1], {"status": "Accepted"}]))

    def boot_notification(self) -> dict[str, Any]:
        return {"chargePointVendor": "Bench", "chargePointModel": "Load"}

    def status_notification(self) -> dict[str, Any]:
        return {"connectorId": 1, "errorCode": "NoError", "status": "Available"}

    async def boot(self) -> None:
        await self.call("BootNotification", self.boot_notification())
        await self.call("StatusNotification", self.status_notification())

    async def start_transaction(self) -> None:
        _, answer = await self.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "BENCH", "meterStart": self.meter, "timestamp": now()},
        )
        self.transaction = answer["transactionId"]

    async def stop_transaction(self) -> None:
        await self.call(
            "StopTransaction",
            {"transactionId": self.transaction, "meterStop": self.meter, "timestamp": now()},
        )
        self.transaction = None

    async def meter_values(self) -> None:
        self.meter += random.randint(1, 50)
        sample = {"timestamp": now(), "sampledValue": [
            {"value": str(self.meter), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
        ]}  # fmt: skip
        payload = {"connectorId": 1, "transactionId": self.transaction, "meterValue": [sample]}
        await self.call("MeterValues", payload)

    async def next_message(self, charging: bool) -> tuple[str, float]:
        """One message of the mix; (action, reply latency). Charging chargers
        send MeterValues and now and then stop and start again; the others
        alternate Heartbeat and StatusNotification."""
        started = time.perf_counter()
        if not charging:
            if random.random() < 0.5:
                action = "Heartbeat"
                await self.call(action, {})
            else:
                action = "StatusNotification"
                await self.call(action, self.status_notification())
        elif self.transaction is None:
            action = self.kinds["start"]
            await self.start_transaction()
        elif random.random() < 0.02:
            action = self.kinds["stop"]
            await self.stop_transaction()
        else:
            action = self.kinds["meter values"]
            await self.meter_values()
        return action, time.perf_counter() - started


@dataclass
class Plan:
    """What every load process does, on the same wall-clock schedule."""

    url: str
    start_at: float  # when sending starts (connect and boot before)
    duration: float = 0.0
    # Seconds between one charger's messages; 0 sends back to back.
    period: float = 0.0
    charging_share: float = 0.0
    # Stay connected (answering calls) until then, or until the parent
    # process is done with its checks (``while_running`` returned).
    hold_until: float = 0.0
    # Storm: once every charger is connected (and charging, if it is to),
    # drop every connection, reconnect at once, resume transactions, stay
    # until hold_until, then stop every transaction.
    storm: bool = False
    # Sending starts at start_at or, if later, once every charger of the fleet
    # is booted: a message is then never queued behind other chargers' boots.
    after_all_booted: bool = False
    fleet_size: int = 0  # all chargers, in all processes (set by run_fleet)
    ocpp_version: str = "1.6"  # one of OCPP_VERSIONS


def charger_class(ocpp_version: str) -> type[Charger]:
    if ocpp_version == "2.0.1":
        # Imported here: fleet201 builds on this module.
        from fleet201 import Charger201

        return Charger201
    return Charger


async def _hold(charger: Charger, released: asyncio.Event) -> None:
    answering = asyncio.create_task(charger.answer_calls())
    await released.wait()
    answering.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await answering


async def _one(
    plan: Plan,
    charger: Charger,
    charging: bool,
    wave: asyncio.Semaphore,
    released: asyncio.Event,
    booted: Any,
    all_booted: AllBooted,
) -> dict:
    outcome: dict[str, Any] = {"latencies": [], "actions": [], "errors": 0}
    async with wave:
        await charger.connect()
    try:
        await charger.boot()
        if charging:
            # Sessions are running when the measured window opens (steady
            # state); in it, they stop and start again now and then.
            await charger.start_transaction()
        with booted.get_lock():
            booted.value += 1
        if plan.storm:
            outcome |= await _storm(charger, released, all_booted)
            return outcome
        start_at = plan.start_at
        if plan.after_all_booted:
            await all_booted.now.wait()
            start_at = max(start_at, all_booted.at)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        deadline = start_at + plan.duration
        # Paced: sends fall on a fixed schedule (from a random phase), so the
        # offered load does not drop when replies slow down.
        due = start_at + random.uniform(0, plan.period)
        while time.time() < deadline:
            if plan.period:
                await asyncio.sleep(max(0.0, due - time.time()))
                due += plan.period
                if time.time() >= deadline:
                    break
            try:
                action, elapsed = await charger.next_message(charging)
                outcome["latencies"].append(elapsed)
                outcome["actions"].append(action)
            except Exception:
                outcome["errors"] += 1
        if plan.hold_until:
            await _hold(charger, released)
    finally:
        await charger.close()
    return outcome


@dataclass
class AllBooted:
    """Set when every charger of the fleet is connected (and charging, if it
    is to): in a storm, all then drop at once."""

    now: asyncio.Event
    at: float = 0.0


async def _storm(charger: Charger, released: asyncio.Event, dropping: AllBooted) -> dict[str, Any]:
    """Drop with all the others, then reconnect, boot and resume the
    transaction; report how long after the drop that was done."""
    await dropping.now.wait()
    charger.drop()
    attempts = 0
    while True:
        attempts += 1
        try:
            await charger.connect()
            await charger.boot()
            break
        except Exception:
            if time.time() > dropping.at + 120:
                raise
            await asyncio.sleep(min(5.0, 0.2 * attempts))
    if charger.transaction is not None:
        await charger.meter_values()
    settled = time.time() - dropping.at
    await _hold(charger, released)
    if charger.transaction is not None:
        await charger.stop_transaction()
    return {"settled": settled, "attempts": attempts}


async def _fleet(
    plan: Plan, ids: list[str], charging: set[str], done: Any, booted: Any, results: Any
) -> None:
    wave = asyncio.Semaphore(CONNECT_WAVE)
    released = asyncio.Event()

    async def watch() -> None:
        await asyncio.to_thread(done.wait, max(0.0, plan.hold_until - time.time()))
        released.set()

    all_booted = AllBooted(asyncio.Event())

    async def announce_all_booted() -> None:
        # Bounded as the parent's wait for them is: a charger that could not
        # boot (counted as failed) holds up the others no longer than that.
        give_up = max(time.time(), plan.start_at) + 120
        while booted.value < plan.fleet_size and time.time() < give_up:  # noqa: ASYNC110 (a counter across processes)
            await asyncio.sleep(0.05)
        all_booted.at = time.time()
        all_booted.now.set()

    watching = asyncio.create_task(watch())
    charger_type = charger_class(plan.ocpp_version)
    waiting_for_boots = asyncio.create_task(announce_all_booted())
    outcomes = await asyncio.gather(
        *(
            _one(
                plan,
                charger_type(plan.url, cid),
                cid in charging,
                wave,
                released,
                booted,
                all_booted,
            )
            for cid in ids
        ),
        return_exceptions=True,
    )
    watching.cancel()
    waiting_for_boots.cancel()
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    results.put(
        {
            "latencies": [value for o in done for value in o["latencies"]],
            "actions": [value for o in done for value in o["actions"]],
            "errors": sum(o["errors"] for o in done) + len(failed),
            "settled": [o["settled"] for o in done if "settled" in o],
            "attempts": [o["attempts"] for o in done if "attempts" in o],
            "failed": [repr(f) for f in failed[:3]],
            "chargers_failed": len(failed),
        }
    )


def _fleet_process(
    plan: Plan, ids: list[str], charging: set[str], done: Any, booted: Any, results: Any
) -> None:
    asyncio.run(_fleet(plan, ids, charging, done, booted, results))


@dataclass
class LoadResult:
    messages: int
    errors: int
    duration: float
    latencies: list[float]
    settled: list[float]
    attempts: list[int]
    # The action of each reply in ``latencies``, in the same order.
    actions: list[str] = dataclasses.field(default_factory=list)
    # Chargers that never got through (connect, boot, or their messages
    # ended by an exception); ``errors`` counts them too.
    chargers_failed: int = 0
    # CPU seconds over the measured window, when measured.
    server_cpu: float = 0.0
    database_cpu: float = 0.0

    def cpu_per_reply(self, seconds: float) -> float:
        """In ms."""
        return seconds * 1000 / self.messages if self.messages else float("nan")

    @property
    def rate(self) -> float:
        return self.messages / self.duration if self.duration else 0.0

    def percentile(self, share: float) -> float:
        """Reply latency in ms."""
        return percentile(self.latencies, share)

    def by_action(self) -> dict[str, list[float]]:
        latencies: dict[str, list[float]] = {}
        for action, latency in zip(self.actions, self.latencies, strict=True):
            latencies.setdefault(action, []).append(latency)
        return dict(sorted(latencies.items()))

    @property
    def slowest(self) -> float:
        return max(self.latencies, default=0.0) * 1000


def percentile(latencies: list[float], share: float) -> float:
    """Of latencies in seconds, in ms."""
    if not latencies:
        return float("nan")
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def charger_ids(count: int) -> list[str]:
    return [f"BENCH-{n:05d}" for n in range(count)]


def run_fleet(
    plan: Plan,
    *,
    chargers: int,
    processes: int,
    while_running: Any = None,
) -> LoadResult:
    """Run the fleet in ``processes`` worker processes; ``while_running`` is
    called in this process once ``plan.start_at`` has passed."""
    ids = charger_ids(chargers)
    plan = dataclasses.replace(plan, fleet_size=chargers)
    charging = set(ids[: int(chargers * plan.charging_share)])
    context = multiprocessing.get_context("spawn")
    results, done, booted = context.Queue(), context.Event(), context.Value("i", 0)
    workers = [
        context.Process(
            target=_fleet_process,
            args=(plan, ids[i::processes], charging, done, booted, results),
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    if while_running is not None:
        # Every charger connected and booted first (or two minutes passed).
        deadline = time.monotonic() + 120 + max(0.0, plan.start_at - time.time())
        while booted.value < chargers and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(max(0.0, plan.start_at - time.time()))
        try:
            while_running()
        finally:
            done.set()
    limit = max(plan.start_at + plan.duration, plan.hold_until) - time.time() + 300
    parts = [results.get(timeout=limit) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    for part in parts:
        if part["failed"]:
            print(f"  charger failures (first ones): {part['failed']}", file=sys.stderr)
    return LoadResult(
        messages=sum(len(part["latencies"]) for part in parts),
        errors=sum(part["errors"] for part in parts),
        duration=plan.duration,
        latencies=[value for part in parts for value in part["latencies"]],
        actions=[value for part in parts for value in part["actions"]],
        settled=[value for part in parts for value in part["settled"]],
        attempts=[value for part in parts for value in part["attempts"]],
        chargers_failed=sum(part["chargers_failed"] for part in parts),
    )

"""A csms process always ends once asked to, and never outlives its parent:
real processes on PostgreSQL and Redis, real signals.

Once, after a benchmark, a child of ``ov2xmp csms --processes 2`` was left
serving, orphaned: a cancellation inside its stop had gone astray
(core/stopping.py), the parent waited for it until the harness killed the
parent, and nothing then told the child to end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from ocpp.v16 import call

# database_url is a fixture; pytestmark (slow, needs Redis and PostgreSQL) applies here too.
from commands.tests.test_distributed import database_url, pytestmark  # noqa: F401
from core.testing import free_port
from csms.simulator import simulated_charger
from ocpp_messages.models import OcppMessage
from ov2xmp.tests.test_services import REDIS_URL, run, service_env
from ov2xmp.tests.test_up import OV2XMP

pytestmark = [
    *pytestmark,
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc"),
]

READY = "Stop with Ctrl+C"
# OV2XMP_CSMS_STOP_SECONDS in these tests, and the most a stop may take with
# it: that, the process's own grace after it (CSMS_EXIT_GRACE_SECONDS) and room.
STOP_SECONDS = 1.0
STOP_BOUND = STOP_SECONDS + 3.0 + 4.0


class Service:
    """A started ``ov2xmp`` process and everything it has printed."""

    def __init__(self, arguments: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [OV2XMP, *arguments],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, f"ended before {text!r}:\n{self.output}"
            assert time.monotonic() < deadline, f"never said {text!r}:\n{self.output}"
            time.sleep(0.05)

    def ended_within(self, seconds: float) -> bool:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=seconds)
        return self.process.poll() is not None


def children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # pid (comm) state ppid …; comm may hold spaces.
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
    return children


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def all_ended(pids: list[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(running(pid) for pid in pids)


@pytest.fixture
def env(tmp_path, database_url) -> dict[str, str]:  # noqa: F811
    return service_env(
        tmp_path,
        OV2XMP_DATABASE_URL=database_url,
        OV2XMP_REDIS_URL=REDIS_URL.rsplit("/", 1)[0] + "/8",
        OV2XMP_CSMS_STOP_SECONDS=str(STOP_SECONDS),
        OV2XMP_LOG_LEVEL="info",
    )


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Started services; whatever of them (and of their children) is still
    running after the test is killed."""
    started: list[Service] = []
    yield started
    for service in started:
        for pid in [*children_of(service.process.pid), service.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        service.process.wait()


def test_the_children_end_when_their_parent_is_killed(env, services):
    ocpp_port = free_port()
    parent = Service(["csms", "--processes", "2", "--ocpp-port", str(ocpp_port)], env)
    services.append(parent)
    parent.wait_for_line("(2 csms processes)")
    children = children_of(parent.process.pid)
    assert len(children) == 2, children
    parent.process.kill()  # no chance to stop its children itself
    parent.process.wait()
    try:
        assert all_ended(children, within=STOP_BOUND), "a child outlived its parent"
    finally:
        for child in children:  # orphans: not the fixture's to find
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


def test_a_stop_while_the_children_start_stops_them_all(env, services):
    """The children are told to stop before their event loop handles the
    signal: they used to take it for the parent's and go on serving."""
    ocpp_port = free_port()
    parent = Service(["csms", "--processes", "2", "--ocpp-port", str(ocpp_port)], env)
    services.append(parent)
    deadline = time.monotonic() + 60
    while len(children := children_of(parent.process.pid)) < 2:
        assert parent.process.poll() is None, parent.output
        assert time.monotonic() < deadline, parent.output
        time.sleep(0.005)
    parent.process.send_signal(signal.SIGINT)
    assert parent.ended_within(STOP_BOUND), f"the parent did not end:\n{parent.output}"
    assert all_ended(children, within=1.0)


def test_a_csms_whose_last_write_hangs_still_ends(env, services, database_url):  # noqa: F811
    """The message log's last frames cannot be written (another session
    holds its table locked, for ever): the process gives up on them, says
    so, and ends."""
    migrated = run(["manage", "migrate", "--noinput"], env)
    assert migrated.returncode == 0, migrated.stderr
    ocpp_port = free_port()
    csms = Service(
        ["csms", "--ocpp-port", str(ocpp_port)],
        env | {"OV2XMP_MESSAGE_LOG_FLUSH_SECONDS": "600"},  # the frames wait for the stop
    )
    services.append(csms)
    csms.wait_for_line(READY)

    async def boot() -> None:
        url = f"ws://127.0.0.1:{ocpp_port}/ws/ocpp/"
        async with simulated_charger(url, "CP-STOP") as charger:
            await charger.call(
                call.BootNotification(charge_point_model="M", charge_point_vendor="V")
            )

    asyncio.run(boot())
    csms.wait_for_line("CP-STOP: disconnected")
    with psycopg.connect(database_url) as locker:
        locker.execute(f'LOCK TABLE "{OcppMessage._meta.db_table}" IN ACCESS EXCLUSIVE MODE')
        started = time.monotonic()
        csms.process.send_signal(signal.SIGTERM)
        ended = csms.ended_within(STOP_BOUND)
        took = time.monotonic() - started
    assert ended, f"still running {STOP_BOUND} s after SIGTERM:\n{csms.output}"
    assert took < STOP_BOUND
    assert "abandoned writing the OCPP message log's last 2 frames" in csms.output, csms.output
    # The write's thread is still waiting for the lock: exiting cuts it short.
    assert "exiting now, abandoning the threads" in csms.output, csms.output

"""Starting the servers under test: the bare baseline, and O-V2X-MP embedded
(`ov2xmp csms` or `ov2xmp up`) or distributed (csms, worker and web
processes joined by Redis), each on a database of its own."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OV2XMP = str(Path(sys.executable).with_name("ov2xmp"))
ADMIN = ("bench", "bench-password-123")
READY = "Stop with Ctrl+C"


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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and the processes it started."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):  # ended meanwhile
                continue
            parents[int(entry.name)] = int(stat[1])
    family, total = {pid}, 0.0
    for child in sorted(parents):  # a child's pid is usually above its parent's
        if parents[child] in family:
            family.add(child)
    for member in family:
        try:
            total += cpu_seconds(member)
        except (OSError, IndexError):
            continue
    return total


def postgres_cpu_seconds() -> float:
    """CPU time used so far by every PostgreSQL process on this machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"postgres"):
                    total += cpu_seconds(int(entry.name))
            except (OSError, IndexError):  # ended meanwhile
                continue
    return total


def database_cpu_seconds(name: str) -> float:
    """CPU time used so far by the PostgreSQL backends connected to ``name``."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
                if command.startswith(b"postgres") and f" {name} ".encode() in command:
                    total += cpu_seconds(int(entry.name))
            except (OSError, IndexError):  # ended meanwhile
                continue
    return total


@dataclass
class Server:
    name: str
    processes: list[subprocess.Popen[str]]
    url: str
    api: str = ""
    cleanup: list[Any] = field(default_factory=list)

    @property
    def pid(self) -> int:
        """The process holding the charger connections."""
        return self.processes[0].pid

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for undo in self.cleanup:
            undo()


def _read_lines(stream: Any, name: str, lines: queue.Queue[str]) -> None:
    """Hand each line of a server's output to ``lines``, and to the file
    named by BENCH_SERVER_LOG if set, so that a full pipe never blocks it."""
    log = os.environ.get("BENCH_SERVER_LOG")
    with open(log, "a") if log else open(os.devnull, "w") as out:
        for line in stream:
            lines.put(line)
            out.write(f"{name}: {line}")


def start_process(name: str, argv: list[str], env: dict[str, str], ready: str) -> Any:
    """Start a server and wait (at most two minutes) for its line ``ready``."""
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, name, lines), daemon=True).start()
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if ready in line:
            return process
    process.kill()
    raise SystemExit(f"{name} did not start:\n{''.join(seen)}")


def start_baseline() -> Server:
    port = free_port()
    process = start_process(
        "baseline",
        [sys.executable, str(HERE / "baseline_server.py"), "--port", str(port)],
        dict(os.environ),
        "listening",
    )
    return Server("baseline", [process], f"ws://127.0.0.1:{port}/")


def setup_django(database_url: str, data_dir: str) -> None:
    """Django set up in this process, on ``database_url``, for a script that
    calls the services directly instead of starting a server."""
    os.environ["OV2XMP_DATABASE_URL"] = database_url
    os.environ["OV2XMP_DATA_DIR"] = data_dir
    os.environ.setdefault("OV2XMP_LOG_LEVEL", "warning")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ov2xmp-django"))
    import django

    django.setup()


def postgres_or_none(url: str) -> str | None:
    try:
        import psycopg

        base = url.rsplit("/", 1)[0]
        psycopg.connect(f"{base}/postgres", connect_timeout=3).close()
        return url
    except Exception:
        return None


def redis_or_none(url: str) -> str | None:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        return url
    except Exception:
        return None


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


def start_ours(
    postgres_url: str | None,
    *,
    embedded: bool = False,
    processes: int = 1,
    redis_url: str | None = None,
) -> Server:
    """`ov2xmp csms` (chargers only; in ``processes`` processes, over Redis at
    ``redis_url``, when more than one), or with ``embedded`` `ov2xmp up` (the
    API too, on an in-memory channel layer)."""
    env, cleanup = ours_environment(postgres_url)
    ocpp, api = free_port(), free_port()
    if processes > 1:
        assert redis_url, "several csms processes need Redis"
        env["OV2XMP_REDIS_URL"] = redis_url
    argv = (
        [OV2XMP, "up", "--api-port", str(api), "--ftp-port", str(free_port())]
        if embedded
        else [OV2XMP, "csms", "--processes", str(processes)]
    )
    process = start_process("ov2xmp", [*argv, "--ocpp-port", str(ocpp)], env, READY)
    server = Server("ov2xmp", [process], f"ws://127.0.0.1:{ocpp}/ws/ocpp/", cleanup=cleanup)
    server.api = f"http://127.0.0.1:{api}" if embedded else ""
    return server


def start_distributed(postgres_url: str, redis_url: str) -> Server:
    """As deployed: `ov2xmp csms`, `ov2xmp worker` and `ov2xmp web`, separate
    processes joined by Redis (channel layer and task queue) and PostgreSQL."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env, cleanup = ours_environment(postgres_url)
    env["OV2XMP_REDIS_URL"] = redis_url
    created = subprocess.run(
        [
            OV2XMP,
            "manage",
            "shell",
            "-c",
            "from accounts.services import user_ensure_admin; "
            f"user_ensure_admin(username={ADMIN[0]!r}, password={ADMIN[1]!r})",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if created.returncode:
        raise SystemExit(f"creating the administrator failed:\n{created.stderr}")
    ocpp, api = free_port(), free_port()
    processes = [
        start_process("csms", [OV2XMP, "csms", "--ocpp-port", str(ocpp)], env, READY),
        # Celery says "ready." at level info only.
        start_process(
            "worker",
            [OV2XMP, "worker", "--pool", "solo"],
            env | {"OV2XMP_LOG_LEVEL": "info"},
            "ready.",
        ),
        start_process("web", [OV2XMP, "web", "--api-port", str(api)], env, READY),
    ]
    server = Server("ov2xmp", processes, f"ws://127.0.0.1:{ocpp}/ws/ocpp/", cleanup=cleanup)
    server.api = f"http://127.0.0.1:{api}"
    return server


class Api:
    """The REST API of ours, as an operator's script uses it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""
        self.token = self.request("/api/token/", {"username": ADMIN[0], "password": ADMIN[1]})[
            "access"
        ]

    def request(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {self.token}"} if self.token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:  # 4xx/5xx: the body says why
            return json.loads(error.read() or b"{}")

    def reset(self, charger_id: str) -> dict[str, Any]:
        body = {"charge_point": charger_id, "payload": {"type": "Soft"}, "wait": 10}
        outcome: dict[str, Any] = self.request("/api/commands/ocpp16/Reset/", body)
        return outcome

    def count(self, path: str) -> int:
        return int(self.request(path)["count"])

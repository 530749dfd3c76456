"""The benchmark scripts that need PostgreSQL work: benchmarks/batch_costs.py
prints a row for each write, batch size and version (this checkout's and a git
revision's), and benchmarks/paced.py runs two
versions in turn and sums them up. They check the scripts, not the figures
(those are in docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

pytestmark = [
    pytest.mark.slow,
    # Both read the CPU time of the database's backends.
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="runs in the PostgreSQL pass",
    ),
]

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
WRITES = {"heartbeats", "statuses", "meter-values", "message-log", "transaction-updates"}


def postgres_url() -> str:
    """The test database's server, with a database name the scripts replace."""
    database = settings.DATABASES["default"]
    password = f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else ""
    user = f"{quote(database['USER'])}{password}@" if database["USER"] else ""
    return f"postgres://{user}{database['HOST']}:{database['PORT'] or 5432}/postgres"


def run(script: str, *arguments: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments, "--postgres-url", postgres_url()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def table(output: str) -> list[list[str]]:
    """The rows of the markdown table in ``output``, without its head."""
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_batch_costs_measures_every_write_at_every_size_in_both_versions():
    output = run("batch_costs.py", "--smoke", "--against", "HEAD")
    rows = table(output)
    assert {(row[0], row[1], row[2]) for row in rows} == {
        (write, size, version)
        for write in WRITES
        for size in ("1", "5")
        for version in ("this checkout", "HEAD")
    }, output
    for _write, _size, _version, per_batch, _per_item in rows:
        wall, csms, _database = (float(value) for value in per_batch.split(" / "))
        assert wall > 0, output
        assert csms > 0, output


def test_paced_runs_two_versions_in_turn_and_sums_them_up():
    this = str(Path(sys.executable).with_name("ov2xmp"))
    output = run(
        "paced.py",
        *("--rate", "40", "--chargers", "10", "--duration", "2", "--warmup", "2"),
        *("--processes", "1", "--against", this),
    )
    runs = [line for line in output.splitlines() if line.startswith(("A: offered", "B: offered"))]
    assert [line[0] for line in runs] == ["A", "B"], output
    assert all(", 0 errors;" in line for line in runs), output
    summary = table(output)
    assert [row[0] for row in summary] == ["A", "B"], output
    for row in summary:
        assert row[1] == "1", output
        assert float(row[3]) > 0, output  # the median p99, in ms

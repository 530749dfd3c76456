"""The benchmark harness (benchmarks/bench.py) works: a tiny run of every
scenario. It checks the harness, not the figures (those are in
docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [
    pytest.mark.slow,
    # It starts its own servers on SQLite: once per run is enough.
    pytest.mark.skipif(
        "postgresql" in settings.DATABASES["default"]["ENGINE"],
        reason="runs in the SQLite pass",
    ),
]

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench.py"


def test_every_scenario_runs_and_prints_its_figures():
    completed = subprocess.run(
        # An address where no PostgreSQL answers: ours runs on SQLite.
        [sys.executable, str(BENCH), "--smoke", "--postgres-url", "postgres://x@127.0.0.1:1/x"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    output = completed.stdout
    for heading in ("## throughput", "## connections", "## command"):
        assert heading in output
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith(("| baseline", "| ov2xmp"))
    ]
    assert len(rows) == 4, output  # two servers in two scenarios
    throughput, connections = rows[:2], rows[2:]
    for name, rate, *_, errors, _ in throughput:
        assert float(rate.replace(",", "")) > 0, name
        assert errors == "0", name
    for name, connected, *_ in connections:
        assert connected == "20", name
    command = output.split("## command", 1)[1].splitlines()
    assert command[-1].startswith("| 10 |"), output

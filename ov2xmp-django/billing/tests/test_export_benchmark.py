"""The export benchmark (benchmarks/export_memory.py) works: a tiny run. It
checks the script, not the figures (those are in docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [
    pytest.mark.slow,
    # It makes its own SQLite database: once per run is enough.
    pytest.mark.skipif(
        "postgresql" in settings.DATABASES["default"]["ENGINE"],
        reason="runs in the SQLite pass",
    ),
]

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "export_memory.py"


def test_the_export_benchmark_runs_and_prints_its_figures():
    completed = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--smoke",
            "--exports",
            "meter-values,cdrs",
            "--formats",
            "csv,xlsx",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert "2,000 meter values, 20 sessions, 20 CDRs" in lines[1], completed.stdout
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    assert set(rows) == {"meter-values.csv", "meter-values.xlsx", "cdrs.csv", "cdrs.xlsx"}
    assert rows["meter-values.csv"][1] == "2,000"
    # MiB sent, and seconds taken.
    assert float(rows["meter-values.csv"][2]) > 0, completed.stdout
    assert all(float(row[3]) >= 0 for row in rows.values()), completed.stdout

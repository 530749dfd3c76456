"""benchmarks/batch_costs.py works: a tiny run prints a row for each write
and batch size, with figures. It checks the script, not the figures (those
are in docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

pytestmark = [
    pytest.mark.slow,
    # It needs PostgreSQL (it reads the CPU time of the database's backends).
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="runs in the PostgreSQL pass",
    ),
]

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "batch_costs.py"
WRITES = {"heartbeats", "statuses", "meter-values", "message-log"}


def test_every_write_is_measured_at_every_size():
    database = settings.DATABASES["default"]
    password = f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else ""
    user = f"{quote(database['USER'])}{password}@" if database["USER"] else ""
    url = f"postgres://{user}{database['HOST']}:{database['PORT'] or 5432}/postgres"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--postgres-url", url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in completed.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| write") and "---" not in line
    ]
    assert {(row[0], row[1]) for row in rows} == {
        (write, size) for write in WRITES for size in ("1", "5")
    }, completed.stdout
    for _write, _size, per_batch, _per_item in rows:
        wall, csms, _database = (float(value) for value in per_batch.split(" / "))
        assert wall > 0, completed.stdout
        assert csms > 0, completed.stdout

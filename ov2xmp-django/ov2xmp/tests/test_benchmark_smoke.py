"""The benchmark harness (benchmarks/bench.py) works: a tiny run of every
scenario, and of the throughput scenario with OCPP 2.0.1 chargers. It checks
the harness, not the figures (those are in docs/performance.md)."""

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
OCPP_201_KINDS = {
    "Heartbeat",
    "StatusNotification",
    "TransactionEvent(Started)",
    "TransactionEvent(Updated)",
    "TransactionEvent(Ended)",
}


def smoke_run(*arguments: str) -> str:
    """The output of ``bench.py --smoke`` with ``arguments``."""
    completed = subprocess.run(
        # An address where no PostgreSQL answers: ours runs on SQLite.
        [
            sys.executable,
            str(BENCH),
            "--smoke",
            "--postgres-url",
            "postgres://x@127.0.0.1:1/x",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_every_scenario_runs_and_prints_its_figures():
    output = smoke_run()
    sections = {
        part.split(":", 1)[0]: part for part in output.split("\n## ")[1:]
    }  # heading → its text
    assert set(sections) == {"throughput", "connections", "storm", "command", "feed"}, output

    saturated, paced, by_message = table_rows(sections["throughput"])
    # Saturated: server, replies/s, p50, p99, max, errors, ratio, CPU; paced:
    # server, replies/s, share of offered, p50, p99, max, errors.
    for table, errors_column in ((saturated, 5), (paced, 6)):
        assert [row[0] for row in table] == ["baseline", "ov2xmp"], output
        for row in table:
            assert float(row[1].replace(",", "")) > 0, output
            assert row[errors_column] == "0", output
    for row in saturated:  # CPU per reply measured: server / PostgreSQL
        server_cpu, _database_cpu = (float(value) for value in row[7].split(" / "))
        assert server_cpu > 0, output
    # Latency by message: each kind the fleet sends, p50 / p99 in each of four runs.
    assert {row[0] for row in by_message} >= {"Heartbeat", "MeterValues"}, output
    assert all(len(row) == 5 and " / " in row[1] for row in by_message), output
    assert "ov2xmp at 50% of the baseline:" in sections["throughput"]

    (connections,) = table_rows(sections["connections"])
    assert [(name, connected) for name, connected, *_ in connections] == [
        ("baseline", "20"),
        ("ov2xmp", "20"),
    ], output
    # Messages flowed for the whole hold (20 chargers, one every 0.5 s for
    # 2 s: 80 planned; sending only at the start gave 40), all answered.
    for row in connections:
        assert int(row[5].replace(",", "")) >= 60, output
        assert row[6] == "0", output

    (storm,) = table_rows(sections["storm"])
    baseline, ours = storm
    assert float(baseline[1]) > 0, output  # seconds until all were back
    assert float(ours[1]) > 0, output
    assert ours[4] == "3 of 3 (10 connected)", output  # every sampled charger answered
    assert ours[5] == "5 / 5 (expected 5)", output  # no session lost or doubled

    (command,) = table_rows(sections["command"])
    assert command[0][:2] == ["embedded (`ov2xmp up`)", "10"], output

    (feed,) = table_rows(sections["feed"])
    unwatched, watched = feed
    assert (unwatched[0], unwatched[4], watched[0]) == ("0", "—", "2"), output
    assert float(watched[4].replace(",", "")) > 0, output  # the clients received events
    assert " / " in watched[5], output  # and their delay was measured


def test_throughput_runs_with_ocpp_201_chargers():
    output = smoke_run("throughput", "--ocpp-version", "2.0.1")
    assert output.splitlines()[0].endswith(", OCPP 2.0.1 chargers"), output
    (throughput,) = output.split("\n## ")[1:]
    saturated, paced, by_message = table_rows(throughput)
    # A message answered with a CallError (or not at all) counts as an error
    # and has no latency: zero errors is every message of every kind answered.
    for table, errors_column in ((saturated, 5), (paced, 6)):
        assert [row[0] for row in table] == ["baseline", "ov2xmp"], output
        for row in table:
            assert float(row[1].replace(",", "")) > 0, output
            assert row[errors_column] == "0", output
    # Each kind answered by each server: every run sees the frequent kinds;
    # a transaction ends (2 % of charging messages) and starts again at least
    # once in a server's two runs, by a wide margin.
    assert {row[0] for row in by_message} == OCPP_201_KINDS, output
    for kind, *cells in by_message:
        for server_runs in (cells[0:2], cells[2:4]):
            answered = [cell for cell in server_runs if cell != "nan / nan"]
            frequent = kind in {"Heartbeat", "StatusNotification", "TransactionEvent(Updated)"}
            assert len(answered) >= (2 if frequent else 1), (kind, output)


def table_rows(section: str) -> list[list[list[str]]]:
    """The body rows of each Markdown table in ``section``, split in cells."""
    tables: list[list[list[str]]] = []
    in_table = False
    for line in section.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not in_table:
            tables.append([])
            in_table = True
        elif not set(cells[0]) <= {"-"}:
            tables[-1].append(cells)
    return tables

from __future__ import annotations

import pytest
from django.db import OperationalError

from csms import message_log
from csms.message_log import MessageLog, parse_frame
from ocpp_messages.models import Direction, OcppMessage

pytestmark = pytest.mark.django_db(transaction=True)


def record(log: MessageLog, frame: str, **extra) -> tuple:
    return log.record(
        charge_point_id="CP-1",
        direction=Direction.RECEIVED,
        frame=frame,
        ocpp_version="1.6",
        **extra,
    )


def test_parse_frame_reads_every_message_type():
    assert parse_frame('[2, "a", "Heartbeat", {}]') == (2, "a", "Heartbeat", {}, "")
    assert parse_frame('[3, "a", {"currentTime": "t"}]') == (3, "a", "", {"currentTime": "t"}, "")
    assert parse_frame('[4, "a", "NotImplemented", "no", {"x": 1}]') == (
        4,
        "a",
        "",
        {"errorDescription": "no", "errorDetails": {"x": 1}},
        "NotImplemented",
    )
    assert parse_frame("nonsense")[0] is None
    assert parse_frame('[2, 5, "Heartbeat", {}]')[0] is None


def test_an_answer_takes_the_action_of_its_request():
    log = MessageLog(flush_seconds=1)
    open_calls = {"a": "Authorize"}
    assert record(log, '[3, "a", {}]', action_for=open_calls) == (3, "a", "Authorize")
    assert open_calls == {}


async def test_frames_survive_a_failed_write(monkeypatch, caplog):
    log = MessageLog(flush_seconds=1)
    record(log, '[2, "a", "Heartbeat", {}]')
    real_write = message_log.ocpp_messages_record

    def failing_write(**kwargs):
        raise OperationalError("database is down")

    monkeypatch.setattr(message_log, "ocpp_messages_record", failing_write)
    await log.flush()
    assert "will retry" in caplog.text
    assert await OcppMessage.objects.acount() == 0

    record(log, '[2, "b", "Heartbeat", {}]')
    monkeypatch.setattr(message_log, "ocpp_messages_record", real_write)
    await log.close()
    assert [m.unique_id async for m in OcppMessage.objects.order_by("id")] == ["a", "b"]


def test_a_full_backlog_drops_the_oldest_frames(monkeypatch, caplog):
    monkeypatch.setattr(message_log, "MAX_BACKLOG", 3)
    log = MessageLog(flush_seconds=1)
    for unique_id in "abcde":
        record(log, f'[2, "{unique_id}", "Heartbeat", {{}}]')
    assert log.dropped == 2
    assert "dropped" in caplog.text
    assert [m["unique_id"] for m in log._pending] == ["c", "d", "e"]


async def test_every_kind_of_frame_is_stored_as_logged():
    """PostgreSQL writes the log with COPY, SQLite with INSERT: both keep each
    column, a frame that is not OCPP-J whole, and text that needs escaping."""
    log = MessageLog(flush_seconds=1)
    record(log, '[2, "a", "DataTransfer", {"vendorId": "V", "data": "tab\\t, \\\\ and \'"}]')
    record(log, '[4, "b", "FormatViolation", "bad", {"at": [1, null]}]')
    record(log, "not json\tat all")
    await log.close()

    stored = [m async for m in OcppMessage.objects.order_by("id")]
    assert [(m.message_type, m.unique_id, m.action, m.error_code) for m in stored] == [
        (2, "a", "DataTransfer", ""),
        (4, "b", "", "FormatViolation"),
        (None, "", "", ""),
    ]
    assert stored[0].payload == {"vendorId": "V", "data": "tab\t, \\ and '"}
    assert stored[1].payload == {"errorDescription": "bad", "errorDetails": {"at": [1, None]}}
    assert (stored[2].payload, stored[2].raw) == (None, "not json\tat all")
    assert {(m.charge_point_id, m.direction, m.ocpp_version) for m in stored} == {
        ("CP-1", Direction.RECEIVED, "1.6")
    }
    assert all(m.timestamp is not None for m in stored)


async def test_a_frame_the_database_cannot_store_is_kept_with_replacements():
    """NUL and unpaired surrogates are valid JSON escapes; PostgreSQL stores
    neither, and one such frame failed every frame of its batch."""
    log = MessageLog(flush_seconds=1)
    record(log, '[2, "a", "Heartbeat", {}]')
    record(log, '[2, "b\\u0000", "DataTransfer", {"vendorId": "V", "data": "x\\u0000\\ud800"}]')
    record(log, "not json \x00 at all")
    record(log, '[2, "c", "Heartbeat", {}]')
    await log.close()

    stored = [m async for m in OcppMessage.objects.order_by("id")]
    assert [m.unique_id for m in stored] == ["a", "b\ufffd", "", "c"]
    assert stored[1].payload == {"vendorId": "V", "data": "x\ufffd\ufffd"}
    assert stored[2].raw == "not json \ufffd at all"
    assert log.unwritten == 0

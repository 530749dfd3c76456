"""Background work: off the caller's thread, in order per kind, failures logged."""

from __future__ import annotations

import threading

import pytest

from core.background import background_work_done, run_in_background, run_on_thread, run_or_queue


class Task:
    """Stands in for a Celery task: records where and how it was called."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[tuple[str, str, tuple]] = []
        self.fail = fail

    def _record(self, how: str, args: tuple) -> None:
        self.calls.append((how, threading.current_thread().name, args))
        if self.fail:
            raise ConnectionError("the broker is down")

    def __call__(self, *args):
        self._record("run", args)

    def delay(self, *args):
        self._record("queued", args)


@pytest.mark.parametrize(("eager", "how"), [(True, "run"), (False, "queued")])
def test_work_leaves_the_callers_thread_and_keeps_its_order(settings, eager, how):
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    task = Task()
    for n in range(5):
        run_in_background("test-kind", task, n, failure="test work failed")
    background_work_done()
    assert [args for _, _, args in task.calls] == [(n,) for n in range(5)]
    assert {(called, thread.split("_")[0]) for called, thread, _ in task.calls} == {
        (how, "test-kind")
    }


@pytest.mark.parametrize("eager", [True, False])
def test_a_failure_is_logged_and_the_next_job_still_runs(settings, caplog, eager):
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    broken, fine = Task(fail=True), Task()
    run_in_background("test-kind", broken, 1, failure="load group 7 could not be rebalanced")
    run_in_background("test-kind", fine, 2, failure="unused")
    background_work_done()
    assert "load group 7 could not be rebalanced" in caplog.text
    assert "the broker is down" in caplog.text
    assert [args for _, _, args in fine.calls] == [(2,)]


@pytest.mark.parametrize(("eager", "how"), [(True, "run"), (False, "queued")])
def test_work_on_the_thread_decides_there_what_to_run_or_queue(settings, eager, how):
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    task = Task()
    decided_on: list[str] = []

    def decide(n: int) -> None:
        decided_on.append(threading.current_thread().name.split("_")[0])
        if n % 2:
            run_or_queue(task, n, failure="unused")

    for n in range(4):
        run_on_thread("test-kind", decide, n, failure="test work failed")
    background_work_done()
    assert decided_on == ["test-kind"] * 4
    assert [(called, args) for called, _, args in task.calls] == [(how, (1,)), (how, (3,))]

"""Work done after the answer, off the path that asked for it.

Each kind of work has a thread of its own here, which takes its jobs one at a
time, in order. With a broker, the thread queues the Celery task, so that
the broker's round trip is not on the path either (a csms handler queues
this when a session starts or ends, before the charger is answered).
Without one (the embedded mode, where Celery would run the task eagerly
inside the caller), the thread runs the task itself.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

_threads: dict[str, ThreadPoolExecutor] = {}
_threads_made = threading.Lock()  # one thread per kind, so its jobs keep their order


def _run(task: Any, args: tuple[Any, ...], failure: str) -> None:
    close_old_connections()
    try:
        task(*args)
    except Exception:
        logger.exception(failure)
    finally:
        close_old_connections()


def _queue(task: Any, args: tuple[Any, ...], failure: str) -> None:
    try:
        task.delay(*args)
    except Exception:
        logger.exception("%s: the task could not be queued", failure)


def run_or_queue(task: Any, *args: Any, failure: str) -> None:
    """Queue the Celery ``task`` with a broker, else run it here (and log
    ``failure`` with the exception if either fails)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _run(task, args, failure)
    else:
        _queue(task, args, failure)


def _thread_of(kind: str) -> ThreadPoolExecutor:
    with _threads_made:
        if kind not in _threads:
            _threads[kind] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=kind)
        return _threads[kind]


def run_on_thread(kind: str, function: Any, *args: Any, failure: str) -> None:
    """Run ``function`` with ``args`` on the ``kind`` thread in either mode:
    work that decides there what to run or queue (with ``run_or_queue``)."""
    _thread_of(kind).submit(_run, function, args, failure)


def run_in_background(kind: str, task: Any, *args: Any, failure: str) -> None:
    """Run the Celery ``task`` with ``args`` from the ``kind`` thread: queued
    with a broker, else run there. ``failure`` is logged (with the exception)
    if queueing or the embedded run fails; say what failed, never a secret."""
    _thread_of(kind).submit(run_or_queue, task, *args, failure=failure)


def background_work_done(timeout: float = 30) -> None:
    """Wait for the embedded work asked for so far (tests, a stopping process)."""
    for thread in list(_threads.values()):
        thread.submit(lambda: None).result(timeout=timeout)

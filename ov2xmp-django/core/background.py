"""Work done after the answer, off the path that asked for it.

With a broker it is a Celery task. Without one (the embedded mode, where
Celery runs tasks eagerly inside the caller: a csms handler before the
charger is answered, a request before it returns) each kind of work has a
thread of its own here, which runs its jobs one at a time, in order.
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


def run_in_background(kind: str, task: Any, *args: Any, failure: str) -> None:
    """Run the Celery ``task`` with ``args``: queued with a broker, else on
    the ``kind`` thread. ``failure`` is logged (with the exception) if the
    embedded run fails; say what failed, never a secret."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args)
        return
    with _threads_made:
        if kind not in _threads:
            _threads[kind] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=kind)
        thread = _threads[kind]
    thread.submit(_run, task, args, failure)


def background_work_done(timeout: float = 30) -> None:
    """Wait for the embedded work asked for so far (tests, a stopping process)."""
    for thread in list(_threads.values()):
        thread.submit(lambda: None).result(timeout=timeout)

"""The Celery application as configured, against a real Redis broker."""

from __future__ import annotations

import time

import redis
from celery import Celery

from config.celery import app as project_app
from ov2xmp.tests.test_services import REDIS_URL, needs_redis


def test_every_task_of_the_platform_ignores_its_result():
    project_app.loader.import_default_modules()
    ours = [task for name, task in project_app.tasks.items() if not name.startswith("celery.")]
    assert ours
    assert [task.name for task in ours if not task.ignore_result] == []


@needs_redis
def test_queueing_a_task_leaves_no_subscription_behind():
    """With results kept, the producer subscribes to the result's channel and,
    as nobody fetches the result, stays subscribed (celery#3808)."""
    app = Celery("ov2xmp-results-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=REDIS_URL, result_backend=REDIS_URL, task_always_eager=False)

    @app.task(name="ov2xmp.tests.session_ended")
    def session_ended(transaction_id: int) -> None:  # pragma: no cover - never run
        pass

    client = redis.Redis.from_url(REDIS_URL)
    try:
        result = session_ended.delay(7)
        time.sleep(0.2)  # a subscription would be on the server by now
        assert client.pubsub_channels(f"celery-task-meta-{result.id}") == []
        assert client.llen("celery") == 1  # queued all the same
    finally:
        client.delete("celery")
        app.close()

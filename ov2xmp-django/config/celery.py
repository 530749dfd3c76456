"""The Celery application: a broker in Redis when OV2XMP_REDIS_URL is set,
otherwise tasks run eagerly inside the calling process (embedded mode)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ov2xmp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def start_live_updates(**kwargs: object) -> None:
    """Events of the tasks (a held command expiring, say) reach subscribers."""
    from updates import publisher

    publisher.start()

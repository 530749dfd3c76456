"""The Celery application: a broker in Redis when OV2XMP_REDIS_URL is set,
otherwise tasks run eagerly inside the calling process (embedded mode)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ov2xmp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""Celery application.

With ``REDIS_URL`` set, tasks go to Redis and run on a real worker
(``make worker``). Without it (the embedded default) tasks run in-process,
eagerly, so ``make run`` needs no broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("xhht")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

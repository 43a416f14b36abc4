"""Celery application.

With ``REDIS_URL`` set, tasks go to Redis and run on a real worker
(``make worker``). Without it (the embedded default) tasks run in-process,
eagerly, so ``make run`` needs no broker.

Fault tolerance (settings in config/settings/observability.py): tasks are
acknowledged late and requeued when their worker dies, one task is prefetched
at a time, and the jobs retry transient errors with back-off (core/tasks.py).
The worker logs through the project's logging (JSON lines with the task id and
the request id of the request that enqueued it: django-structlog's boot step).
"""

import os

from celery import Celery
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("xhht")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["worker"].add(DjangoStructLogInitStep)
app.autodiscover_tasks()

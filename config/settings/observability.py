"""Observability and fault tolerance (issue 10 §4, §7): Celery acknowledgement and retries, JSON logs with request and job ids, Sentry-compatible error reporting, detailed health.

``base.py`` calls :func:`apply` with its namespace at the end, so this module can
add apps and middleware in the right places and read what base defined.

Environment variables:

``LOG_FORMAT``
    ``json`` (one JSON object per line; the default) or ``console`` (readable
    lines; the default of ``config.settings.local``). ``LOG_LEVEL`` as before.
``TRUST_REQUEST_ID_HEADER``
    Use the ``X-Request-ID`` a reverse proxy sets (only behind one that
    overwrites it). Off by default: every request gets a new id.
``SENTRY_DSN``, ``SENTRY_ENVIRONMENT``, ``SENTRY_RELEASE``, ``SENTRY_TRACES_SAMPLE_RATE``
    Error reporting to Sentry or a compatible server; nothing without the DSN.
``HEALTH_TOKEN``
    Bearer token of ``/healthz/detail``; the view does not exist without it.
``CONN_MAX_AGE``, ``DB_CONNECT_TIMEOUT``
    Persistent database connections (checked before reuse) and how long a new
    connection may take before the request fails cleanly.
``CELERY_VISIBILITY_TIMEOUT``
    Seconds after which Redis hands a task whose worker vanished to another
    worker (keep it above the longest job).
``JOB_MAX_RETRIES``, ``JOB_RETRY_BACKOFF``, ``JOB_RETRY_BACKOFF_MAX``
    Retries of a job after a transient error, with exponential back-off and jitter.
``JOB_STALE_AFTER``
    Seconds after which the beat sends again a job still pending, or running
    with no live worker on it (default 3600).
"""

from __future__ import annotations

import os
from typing import Any

from config.env import env

_REQUEST_ID_MIDDLEWARE = "core.request_id.RequestIdMiddleware"
_STRUCTLOG_MIDDLEWARE = "django_structlog.middlewares.RequestMiddleware"


def _apply_database(settings: dict[str, Any]) -> None:
    """A PostgreSQL restart costs the requests of the outage, not a restart of the app."""
    database = settings["DATABASES"]["default"]
    # Broken persistent connections are detected and replaced at the next request.
    database["CONN_HEALTH_CHECKS"] = True
    database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    if database["ENGINE"] == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=3))


def _apply_celery(settings: dict[str, Any]) -> None:
    # A task is acknowledged when it ends, and requeued if its worker process dies.
    settings["CELERY_TASK_ACKS_LATE"] = True
    settings["CELERY_TASK_REJECT_ON_WORKER_LOST"] = True
    settings["CELERY_WORKER_PREFETCH_MULTIPLIER"] = 1
    settings["CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS"] = True
    settings["CELERY_BROKER_TRANSPORT_OPTIONS"] = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        # How many polling rounds between two looks for the tasks of dead workers.
        "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    }
    settings["CELERY_BROKER_CONNECTION_TIMEOUT"] = 2
    # Publishing with Redis down: two quick tries, then the request is told (503).
    settings["CELERY_TASK_PUBLISH_RETRY_POLICY"] = {
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
    settings["CELERY_WORKER_HIJACK_ROOT_LOGGER"] = False
    settings["JOB_MAX_RETRIES"] = env.int("JOB_MAX_RETRIES", default=5)
    settings["JOB_RETRY_BACKOFF"] = env.int("JOB_RETRY_BACKOFF", default=5)
    settings["JOB_RETRY_BACKOFF_MAX"] = env.int("JOB_RETRY_BACKOFF_MAX", default=300)
    # Jobs left behind by a dead worker are sent again (core.jobs.jobs_recover).
    settings["JOB_STALE_AFTER"] = env.int("JOB_STALE_AFTER", default=3600)
    settings["CELERY_BEAT_SCHEDULE"]["core-jobs-recover"] = {
        "task": "core.jobs_recover",
        "schedule": 300.0,
    }


def _apply_cache_and_storage(settings: dict[str, Any]) -> None:
    cache = settings["CACHES"]["default"]
    if cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        # Redis down: the cache misses (pages are computed), nothing raises.
        cache["BACKEND"] = "core.cache.ResilientRedisCache"
        cache.setdefault("OPTIONS", {}).update({"socket_connect_timeout": 0.5, "socket_timeout": 1})
    storage = settings["STORAGES"]["default"]
    if storage["BACKEND"] == "django.core.files.storage.FileSystemStorage":
        # Written under a partial name, renamed when complete: never half a file.
        storage["BACKEND"] = "core.storage.AtomicFileSystemStorage"


def _default_log_format() -> str:
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    return "console" if module.endswith(".local") else "json"


def _apply_logging(settings: dict[str, Any]) -> None:
    from core.structured_logging import configure_structlog, logging_config

    fmt = env.str("LOG_FORMAT", default=_default_log_format())
    if fmt not in ("json", "console"):
        fmt = "json"
    settings["LOG_FORMAT"] = fmt
    settings["LOGGING"] = logging_config(fmt=fmt, level=env.str("LOG_LEVEL", default="INFO"))
    configure_structlog()
    settings["INSTALLED_APPS"].append("django_structlog")
    middleware: list[str] = settings["MIDDLEWARE"]
    middleware.insert(0, _REQUEST_ID_MIDDLEWARE)
    middleware.insert(1, _STRUCTLOG_MIDDLEWARE)
    # Last: the first to see a view's exception (database or queue down -> 503).
    middleware.append("core.unavailable.ServiceUnavailableMiddleware")
    settings["TRUST_REQUEST_ID_HEADER"] = env.bool("TRUST_REQUEST_ID_HEADER", default=False)
    # RequestIdMiddleware leaves in the header only an id it trusts or made.
    settings["DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID"] = True
    settings["DJANGO_STRUCTLOG_IP_LOGGING_ENABLED"] = False
    settings["DJANGO_STRUCTLOG_USER_ID_FIELD"] = "pk"
    settings["DJANGO_STRUCTLOG_CELERY_ENABLED"] = True
    # One line per request: "request_finished" (at INFO), not "request_started".
    settings["DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL"] = 10  # DEBUG


def _apply_error_reporting(settings: dict[str, Any]) -> None:
    from core.error_reporting import sentry_init

    dsn = env.str("SENTRY_DSN", default="")
    settings["SENTRY_ENABLED"] = sentry_init(
        dsn=dsn,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )


def _apply_health(settings: dict[str, Any]) -> None:
    settings["HEALTH_TOKEN"] = env.str("HEALTH_TOKEN", default="")
    settings["HEALTH_MIN_FREE_BYTES"] = env.int("HEALTH_MIN_FREE_BYTES", default=1024**3)
    settings["HEALTH_CELERY_TIMEOUT"] = env.float("HEALTH_CELERY_TIMEOUT", default=1.0)
    settings["HEALTH_QUEUES"] = env.list("HEALTH_QUEUES", default=["celery"])


def apply(settings: dict[str, Any]) -> None:
    """Adjust the settings namespace ``settings`` (base.py's globals) in place."""
    _apply_database(settings)
    _apply_celery(settings)
    _apply_cache_and_storage(settings)
    _apply_logging(settings)
    _apply_error_reporting(settings)
    _apply_health(settings)

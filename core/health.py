"""Health (issue 10 §7).

``/healthz`` is liveness only: the process answers, with no query, so an
orchestrator does not restart healthy web processes while PostgreSQL or Redis
is away (they recover by themselves, see core/unavailable.py).

``/healthz/detail`` (token-protected, core/views.py) runs :func:`run_detailed`:
each check returns a dict with ``status`` "ok", "warning", "error" or
"skipped" and its figures. The answer is 503 when an *essential* check fails:
the database, its migrations, the file storage and its free space, and — when a
broker is configured — the broker and at least one Celery worker. A failing
cache is a warning (pages are computed without it). Exception texts (which may
name hosts or credentials) are never shown, only their class.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

Check = Callable[[], dict[str, Any]]


def _uses_broker() -> bool:
    return not (
        settings.CELERY_TASK_ALWAYS_EAGER or settings.CELERY_BROKER_URL.startswith("memory://")
    )


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def check_database() -> dict[str, Any]:
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "latency_ms": _ms(start), "vendor": connection.vendor}


def check_migrations() -> dict[str, Any]:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return {"status": "error" if pending else "ok", "pending": len(pending)}


def check_cache() -> dict[str, Any]:
    start = time.perf_counter()
    key = f"xhht:healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    found = cache.get(key)
    cache.delete(key)
    if found != "1":
        return {"status": "warning", "detail": "read-back failed", "latency_ms": _ms(start)}
    return {"status": "ok", "latency_ms": _ms(start)}


def check_broker() -> dict[str, Any]:
    if not _uses_broker():
        return {"status": "skipped", "detail": "tasks run in-process"}
    from config.celery import app

    start = time.perf_counter()
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    return {"status": "ok", "latency_ms": _ms(start)}


def check_workers() -> dict[str, Any]:
    if not _uses_broker():
        return {"status": "skipped", "detail": "tasks run in-process"}
    from config.celery import app

    replies = app.control.ping(timeout=getattr(settings, "HEALTH_CELERY_TIMEOUT", 1.0)) or []
    names = sorted(name for reply in replies for name in reply)
    return {"status": "ok" if names else "error", "responding": len(names)}


def check_queues() -> dict[str, Any]:
    from core.models import Job, JobStatus

    jobs = Job.objects.filter(status=JobStatus.PENDING)
    oldest = jobs.order_by("created_at").values_list("created_at", flat=True).first()
    result: dict[str, Any] = {
        "status": "ok",
        "jobs_pending": jobs.count(),
        "jobs_running": Job.objects.filter(status=JobStatus.RUNNING).count(),
        "oldest_pending_job_age_s": (
            round((timezone.now() - oldest).total_seconds()) if oldest else None
        ),
    }
    if _uses_broker() and settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
        )
        try:
            result["queue_lengths"] = {
                name: int(client.llen(name))
                for name in getattr(settings, "HEALTH_QUEUES", ("celery",))
            }
        finally:
            client.close()
    return result


def check_storage() -> dict[str, Any]:
    start = time.perf_counter()
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name, "rb") as handle:
            ok = handle.read() == b"ok"
    finally:
        default_storage.delete(name)
    return {"status": "ok" if ok else "error", "latency_ms": _ms(start)}


def check_disk() -> dict[str, Any]:
    storage = getattr(default_storage, "_wrapped", default_storage)
    if not isinstance(storage, FileSystemStorage):
        return {"status": "skipped", "detail": "object storage"}
    usage = shutil.disk_usage(settings.MEDIA_ROOT)
    low = usage.free < getattr(settings, "HEALTH_MIN_FREE_BYTES", 1024**3)
    return {
        "status": "error" if low else "ok",
        "free_bytes": usage.free,
        "free_percent": round(usage.free * 100 / usage.total, 1) if usage.total else None,
    }


#: name -> (check, essential)
CHECKS: dict[str, tuple[Check, bool]] = {
    "database": (check_database, True),
    "migrations": (check_migrations, True),
    "cache": (check_cache, False),
    "broker": (check_broker, True),
    "workers": (check_workers, True),
    "queues": (check_queues, False),
    "storage": (check_storage, True),
    "disk": (check_disk, True),
}


def run_detailed() -> tuple[bool, dict[str, Any]]:
    """Run every check; return (healthy, body). Never raises."""
    results: dict[str, Any] = {}
    failing: list[str] = []
    degraded: list[str] = []
    for name, (check, essential) in CHECKS.items():
        start = time.perf_counter()
        try:
            result = check()
        except Exception as exc:  # any failure is reported, never raised
            result = {"status": "error", "error": type(exc).__name__}
        result.setdefault("took_ms", _ms(start))
        results[name] = result
        if result["status"] == "error":
            (failing if essential else degraded).append(name)
        elif result["status"] == "warning":
            degraded.append(name)
    healthy = not failing
    status = "error" if failing else ("degraded" if degraded else "ok")
    return healthy, {
        "status": status,
        "checks": results,
        "failing": failing,
        "degraded": degraded,
        "time": timezone.now().isoformat(),
    }

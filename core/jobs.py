"""Jobs: long work done by Celery, tracked by a :class:`~core.models.Job` row.

A service creates the job and enqueues :func:`core.tasks.run_job` on commit;
the task looks the handler up by ``kind`` in :data:`HANDLERS` and calls it with
the job. Progress is written with plain UPDATEs outside any transaction so the
UI's polling partial sees it while the work goes on. A handler that raises an
:class:`~core.exceptions.ApplicationError` ends the job "failed" with that
message; anything else ends it "failed" with a generic message (the traceback
goes to the log), never half-done: handlers do their writes in one transaction.

Fault tolerance (issue 10 §4): the task is acknowledged only when it ends
(``acks_late``) and requeued when its worker dies; the next attempt takes the
job over (:func:`job_run`), removes what the dead one wrote without committing
(:mod:`core.job_journal`) and runs it again; the row counts the ``attempts``.
Transient errors (database connection, storage) are retried with exponential
back-off and jitter up to ``JOB_MAX_RETRIES``. When the queue itself is down the
job ends "failed" with the reason at once (:func:`job_enqueue`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sentry_sdk
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import job_journal
from core.exceptions import ApplicationError
from core.faults import fault_point
from core.models import Job, JobStatus
from core.structured_logging import bind_job, unbind_job
from core.transient import QUEUE_ERRORS, TRANSIENT_ERRORS, is_transient

log = logging.getLogger(__name__)

#: kind -> "module:function" of the handler, resolved lazily (no import cycles).
HANDLERS: dict[str, str] = {
    "decision.issue": "recognition.services.decision:decision_issue_run",
    "decision.preview": "recognition.services.decision:decision_preview_run",
    "decision.certificates": "recognition.services.decision:certificates_run",
    "report.build": "reports.report_services:report_build_run",
    "import.validate": "spreadsheets.services:import_validate_run",
    "import.apply": "spreadsheets.services:import_apply_run",
    "export.build": "spreadsheets.exports:export_build_run",
}

#: Namespace of the jobs' PostgreSQL advisory locks (pg_try_advisory_lock(ns, id)).
ADVISORY_NAMESPACE = 0x7868  # "xh"

SYSTEM_ERROR_MESSAGE = gettext_lazy(
    "The work could not be completed because of a system error. Nothing was changed; try again."
)
RETRYING_MESSAGE = gettext_lazy(
    "A temporary problem interrupted the work; it will be retried automatically in a moment."
)
QUEUE_DOWN_MESSAGE = gettext_lazy(
    "The task queue is unavailable at the moment, so this work was not started and "
    "nothing was changed by it. Try again in a few minutes."
)


class JobError(ApplicationError):
    code = "job_error"


class QueueUnavailableError(ApplicationError):
    """The broker (Redis) refused the job: answered 503, the job row ends "failed"."""

    code = "queue_unavailable"
    default_message = QUEUE_DOWN_MESSAGE
    http_status = 503


class JobTransientError(Exception):
    """Raised to the Celery task so that it retries the job later."""


@contextmanager
def job_lease(job_id: int) -> Iterator[bool]:
    """Hold the job's advisory lock while it runs (PostgreSQL); yield whether we got it.

    The lock belongs to the database session: when a worker is killed its
    connection closes and the lock is released, so a lock that can be taken
    means nobody is running the job. Other databases (SQLite, development) have
    no such lock: the lease is always granted and a "running" job is taken over
    only on a redelivered or retried message.
    """
    if not _leases_are_exclusive():
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, job_id])
        leased = bool(cursor.fetchone()[0])
    try:
        yield leased
    finally:
        if leased:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, job_id]
                    )
            except TRANSIENT_ERRORS:
                # The connection is gone, and the session's locks with it.
                log.warning("job %s: advisory lock released with the lost connection", job_id)


def _leases_are_exclusive() -> bool:
    return connection.vendor == "postgresql"


def _handler(kind: str) -> Callable[[Job], None]:
    module, _sep, name = HANDLERS[kind].partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def job_create(
    *,
    kind: str,
    actor: Any,
    unit: Any,
    label: str,
    obj: Any = None,
    params: dict[str, Any] | None = None,
) -> Job:
    """Create a pending job and enqueue it when the surrounding transaction commits."""
    if kind not in HANDLERS:
        raise JobError(_("Unknown job kind."))
    job = Job.objects.create(
        tenant_id=getattr(unit, "tenant_id", None),
        unit=unit,
        kind=kind,
        label=label,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(getattr(obj, "public_id", "")) if obj is not None else "",
        params=params or {},
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    transaction.on_commit(lambda: job_enqueue(job))
    return job


def job_enqueue(job: Job) -> None:
    """Send the job to the task queue; with the queue down, end it "failed" with the
    reason and raise :class:`QueueUnavailableError` (nothing waits forever)."""
    from core.tasks import run_job

    try:
        run_job.delay(job.pk)
    except QUEUE_ERRORS as exc:
        log.error(
            "job %s (%s): the task queue is unavailable: %s",
            job.public_id,
            job.kind,
            type(exc).__name__,
        )
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), message=str(QUEUE_DOWN_MESSAGE)
        )
        raise QueueUnavailableError() from exc


def job_progress(job: Job, percent: int, message: str | None = None) -> None:
    """Record progress (0–100); visible at once to the polling UI."""
    fault_point(f"job.progress:{job.kind}")
    percent = max(0, min(100, int(percent)))
    fields: dict[str, Any] = {"progress": percent}
    if message is not None:
        fields["message"] = message
    Job.objects.filter(pk=job.pk).update(**fields)
    job.progress = percent


def job_attach(job: Job, *, content: bytes, file_name: str) -> None:
    """Store the job's result file (the storage may be S3 in production)."""
    job.file.save(file_name, ContentFile(content), save=False)
    job.file_name = file_name
    Job.objects.filter(pk=job.pk).update(file=job.file.name, file_name=file_name)


def job_run(job_id: int, *, recover: bool = False, final_attempt: bool = True) -> str:
    """Run one job (called by the Celery task). Safe to call twice.

    Returns "done", "failed", "skipped" (finished already), or "busy" (another
    live worker runs it). A job left "running" by a worker that died is taken
    over: on PostgreSQL whenever no session holds the job's advisory lock (the
    dead worker's connection released it), elsewhere when ``recover`` says the
    message was redelivered or retried. Files the dead attempt wrote and no row
    refers to are deleted first (core/job_journal.py).

    A transient error (database connection lost, storage unreachable) raises
    :class:`JobTransientError` for the task to retry later, unless
    ``final_attempt``: then the job ends "failed" like any other error.
    """
    with job_lease(job_id) as leased:
        if not leased:
            return "busy"
        claimable = [JobStatus.PENDING, JobStatus.FAILED]
        if recover or _leases_are_exclusive():
            claimable.append(JobStatus.RUNNING)
        previous = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
        claimed = Job.objects.filter(pk=job_id, status__in=claimable).update(
            status=JobStatus.RUNNING,
            started_at=timezone.now(),
            finished_at=None,
            progress=0,
            message="",
            attempts=F("attempts") + 1,
        )
        if not claimed:
            return "skipped"
        job = Job.objects.get(pk=job_id)
        bind_job(job_id=str(job.public_id), kind=job.kind)
        try:
            if previous == JobStatus.RUNNING:
                log.warning(
                    "job %s (%s): taking over from a worker that stopped", job.public_id, job.kind
                )
            job_journal.sweep(job)
            return _run_claimed(job, final_attempt=final_attempt)
        finally:
            unbind_job()


def _run_claimed(job: Job, *, final_attempt: bool) -> str:
    try:
        with job_journal.journal(job):
            fault_point(f"job.start:{job.kind}")
            _handler(job.kind)(job)
    except ApplicationError as exc:
        _finish(job, JobStatus.FAILED, str(exc))
        return "failed"
    except TRANSIENT_ERRORS as exc:
        if final_attempt or not is_transient(exc):
            log.exception("job %s (%s) failed after its retries", job.public_id, job.kind)
            _finish(job, JobStatus.FAILED, str(SYSTEM_ERROR_MESSAGE))
            return "failed"
        log.warning(
            "job %s (%s): transient %s, will retry", job.public_id, job.kind, type(exc).__name__
        )
        _back_to_pending(job)
        raise JobTransientError(type(exc).__name__) from exc
    except Exception as exc:
        log.exception("job %s (%s) failed", job.public_id, job.kind)
        # A bug, not bad input: to the error reports too (no-op without SENTRY_DSN).
        sentry_sdk.capture_exception(exc)
        _finish(job, JobStatus.FAILED, str(SYSTEM_ERROR_MESSAGE))
        return "failed"
    _finish(job, JobStatus.DONE, None)
    return "done"


def _back_to_pending(job: Job) -> None:
    """Wait for the retry; if even this fails (database down), the retry takes over."""
    try:
        job_journal.sweep(job)
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.PENDING, message=str(RETRYING_MESSAGE), progress=0
        )
    except TRANSIENT_ERRORS:
        log.warning("job %s: could not record the retry", job.public_id)


def _finish(job: Job, status: str, message: str | None) -> None:
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now()}
    if status == JobStatus.DONE:
        fields["progress"] = 100
        fields["message"] = ""
        job_journal.forget(job)
    else:
        job_journal.sweep(job)
    if message is not None:
        fields["message"] = message
    Job.objects.filter(pk=job.pk).update(**fields)


def jobs_recover(*, stale_after_s: int) -> dict[str, int]:
    """Send again the jobs nobody is working on (the beat runs this every few minutes).

    A job stays "running" with nobody on it when its worker died after its
    message was acknowledged (a duplicate delivery answered "busy" meanwhile,
    or the database was down through the last retry); on PostgreSQL its
    advisory lock is then free. A job "pending" for longer than
    ``stale_after_s`` lost its message (a broker restarted without its data).
    Sending a job again is harmless: :func:`job_run` runs it at most once.
    """
    cutoff = timezone.now() - dt.timedelta(seconds=stale_after_s)
    sent = {"running": 0, "pending": 0}
    if _leases_are_exclusive():
        running = Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=cutoff)
        for job_id in running.values_list("pk", flat=True):
            with job_lease(job_id) as free:
                abandoned = free
            if abandoned:
                log.warning("job %s: running with nobody on it, sent again", job_id)
                job_enqueue(Job.objects.get(pk=job_id))
                sent["running"] += 1
    for job in Job.objects.filter(status=JobStatus.PENDING, created_at__lt=cutoff):
        job_enqueue(job)
        sent["pending"] += 1
    return sent


def job_retry(*, actor: Any, job: Job) -> Job:
    """Run a failed job again (e.g. after a storage outage)."""
    if job.status != JobStatus.FAILED:
        raise JobError(_("Only a failed job can be retried."))
    Job.objects.filter(pk=job.pk).update(status=JobStatus.PENDING, progress=0, message="")
    job.refresh_from_db()
    transaction.on_commit(lambda: job_enqueue(job))
    return job

"""Jobs: long work done by Celery, tracked by a :class:`~core.models.Job` row.

A service creates the job and enqueues :func:`core.tasks.run_job` on commit;
the task looks the handler up by ``kind`` in :data:`HANDLERS` and calls it with
the job. Progress is written with plain UPDATEs outside any transaction so the
UI's polling partial sees it while the work goes on. A handler that raises an
:class:`~core.exceptions.ApplicationError` ends the job "failed" with that
message; anything else ends it "failed" with a generic message (the traceback
goes to the log), never half-done: handlers do their writes in one transaction.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.models import Job, JobStatus

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


class JobError(ApplicationError):
    code = "job_error"


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
    from core.tasks import run_job

    run_job.delay(job.pk)


def job_progress(job: Job, percent: int, message: str | None = None) -> None:
    """Record progress (0–100); visible at once to the polling UI."""
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


def job_run(job_id: int) -> str:
    """Run one job (called by the Celery task). Safe to call twice: a job
    that is already finished, or running elsewhere, is left alone."""
    claimed = Job.objects.filter(
        pk=job_id, status__in=[JobStatus.PENDING, JobStatus.FAILED]
    ).update(
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        progress=0,
        message="",
    )
    if not claimed:
        return "skipped"
    job = Job.objects.get(pk=job_id)
    Job.objects.filter(pk=job_id).update(attempts=job.attempts + 1)
    try:
        _handler(job.kind)(job)
    except ApplicationError as exc:
        _finish(job, JobStatus.FAILED, str(exc))
        return "failed"
    except Exception:
        log.exception("job %s (%s) failed", job.public_id, job.kind)
        _finish(
            job,
            JobStatus.FAILED,
            _(
                "The work could not be completed because of a system error. Nothing was changed; try again."
            ),
        )
        return "failed"
    _finish(job, JobStatus.DONE, None)
    return "done"


def _finish(job: Job, status: str, message: str | None) -> None:
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now()}
    if status == JobStatus.DONE:
        fields["progress"] = 100
        fields["message"] = ""
    if message is not None:
        fields["message"] = message
    Job.objects.filter(pk=job.pk).update(**fields)


def job_retry(*, actor: Any, job: Job) -> Job:
    """Run a failed job again (e.g. after a storage outage)."""
    if job.status != JobStatus.FAILED:
        raise JobError(_("Only a failed job can be retried."))
    Job.objects.filter(pk=job.pk).update(status=JobStatus.PENDING, progress=0, message="")
    job.refresh_from_db()
    transaction.on_commit(lambda: job_enqueue(job))
    return job

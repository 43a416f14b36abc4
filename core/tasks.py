"""Celery tasks of the core app: thin, idempotent, primitive arguments."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from core.transient import TRANSIENT_ERRORS, is_transient


def retry_delay(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: exponential, capped, full jitter.

    With the defaults (``JOB_RETRY_BACKOFF`` 5 s, ``JOB_RETRY_BACKOFF_MAX`` 300 s)
    the n-th retry waits a random time up to 5·2ⁿ seconds, so workers that all
    lost the database at once do not all come back in the same second.
    """
    return int(
        get_exponential_backoff_interval(
            factor=getattr(settings, "JOB_RETRY_BACKOFF", 5),
            retries=retries,
            maximum=getattr(settings, "JOB_RETRY_BACKOFF_MAX", 300),
            full_jitter=True,
        )
    )


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job(self: Any, job_id: int) -> str:
    """Run the :class:`~core.models.Job` with ``job_id`` (see core/jobs.py).

    A transient error is retried after :func:`retry_delay` up to
    ``JOB_MAX_RETRIES`` times; the last attempt ends the job "failed". A message
    delivered again because its worker died (``redelivered``) may take over the
    job that worker left "running".
    """
    from core.jobs import JobTransientError, job_run

    request = self.request
    redelivered = bool((request.delivery_info or {}).get("redelivered"))
    final = bool(request.is_eager) or request.retries >= getattr(settings, "JOB_MAX_RETRIES", 5)
    try:
        return job_run(job_id, recover=redelivered or request.retries > 0, final_attempt=final)
    except JobTransientError as exc:
        raise self.retry(exc=exc, countdown=retry_delay(request.retries)) from exc
    except TRANSIENT_ERRORS as exc:
        # The database went away before the job could even be claimed or closed.
        if final or not is_transient(exc):
            raise
        raise self.retry(exc=exc, countdown=retry_delay(request.retries)) from exc


@shared_task(name="core.jobs_recover", acks_late=True)
def jobs_recover_task() -> dict[str, int]:
    """Beat: send again the jobs a dead worker left behind (core/jobs.py)."""
    from core.jobs import jobs_recover

    return jobs_recover(stale_after_s=getattr(settings, "JOB_STALE_AFTER", 3600))

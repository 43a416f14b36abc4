"""Celery tasks of the core app: thin, idempotent, primitive arguments."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def run_job(job_id: int) -> str:
    """Run the :class:`~core.models.Job` with ``job_id`` (see core/jobs.py)."""
    from core.jobs import job_run

    return job_run(job_id)

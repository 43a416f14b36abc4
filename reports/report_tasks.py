"""Celery task of the reports, run daily by beat (CELERY_BEAT_SCHEDULE).

Registered through reports/tasks.py (Celery's autodiscovery):
    from reports.report_tasks import schedule_from_milestones_task  # noqa: F401
Thin and idempotent: a second run the same day creates nothing more.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone


@shared_task(name="reports.schedule_from_milestones", acks_late=True)
def schedule_from_milestones_task(today: str | None = None) -> int:
    """Draft and build the reviews and yearly reports whose milestone is near."""
    from reports.report_services import reports_schedule_from_milestones

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    return reports_schedule_from_milestones(today=day)

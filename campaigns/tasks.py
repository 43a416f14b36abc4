"""Celery tasks of campaigns: thin, idempotent, run by beat (CELERY_BEAT_SCHEDULE).

Each loads nothing but the day and calls one service; running one twice the
same day sends nothing more (campaigns/services/reminders.py).
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone


def _day(today: str | None) -> dt.date:
    return dt.date.fromisoformat(today) if today else timezone.localdate()


@shared_task(name="campaigns.reminders_send", acks_late=True)
def reminders_send_task(today: str | None = None) -> int:
    """E-mail the officials of units that have not met a deadline coming up."""
    from campaigns.services.reminders import reminders_send

    return reminders_send(today=_day(today))


@shared_task(name="campaigns.digest_send", acks_late=True)
def digest_send_task(today: str | None = None) -> int:
    """The reviewers' daily digest: what arrived yesterday, what is overdue."""
    from campaigns.services.reminders import digest_send

    return digest_send(today=_day(today))

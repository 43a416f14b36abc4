"""The deadline lock: after a stage's deadline its forms refuse changes.

Deadlines themselves come from campaigns (next issue); the lock lives here so
every write of the cycle checks it the same way.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from recognition.exceptions import DeadlineLockedError
from recognition.models import FormLock, LockExtension
from units.models import AdministrativeUnit


def active_lock(
    *, unit: AdministrativeUnit, title: str, year: int, stage: str, now: dt.datetime | None = None
) -> FormLock | None:
    """The lock that closes ``stage`` for ``unit`` now, or ``None``.

    A lock set on any ancestor applies; an extension granted to the unit or an
    ancestor for that lock reopens it until the extension ends.
    """
    now = now or timezone.now()
    ancestor_ids = [*unit.ancestor_ids(), unit.pk]
    locks = FormLock.objects.filter(
        tenant_id=unit.tenant_id,
        title=title,
        year=year,
        stage=stage,
        unit_id__in=ancestor_ids,
        locks_at__lte=now,
    )
    for lock in locks.order_by("locks_at"):
        extended = LockExtension.objects.filter(
            Q(unit_id__in=ancestor_ids), lock=lock, until__gt=now
        ).exists()
        if not extended:
            return lock
    return None


def check_open(
    *, unit: AdministrativeUnit, title: str, year: int, stage: str, now: dt.datetime | None = None
) -> None:
    """Raise :class:`DeadlineLockedError` when the stage is locked for ``unit``."""
    lock = active_lock(unit=unit, title=title, year=year, stage=stage, now=now)
    if lock is not None:
        raise DeadlineLockedError(
            DeadlineLockedError.default_message,
            locks_at=lock.locks_at.isoformat(),
        )

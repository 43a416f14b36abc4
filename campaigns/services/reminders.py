"""Reminders before a deadline and the reviewers' daily digest (Celery beat).

* :func:`reminders_send` — from ``remind_days`` before a deadline up to its
  day, the officials of every unit that has not met it (ward officials and
  reviewers assigned AT the unit) get one e-mail.
* :func:`digest_send` — once a day every reviewer gets what arrived in their
  units yesterday and which deadlines under them are overdue, with the late
  units; nothing is sent when there is nothing to say.

Both are idempotent: a ``campaigns.Reminder`` row is inserted first under a
unique constraint (deadline, unit, "before") or (user, "digest:<day>"); when it
already exists the unit or reviewer is skipped. The e-mail is sent with
``transaction.on_commit``, so a failed run sends nothing and a second run —
beat firing twice, a retried task — sends nothing again. (The price is
at-most-once: a mail server failing after the commit loses that one e-mail;
the failure is logged.)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from campaigns.models import Deadline, Reminder
from campaigns.selectors.deadlines import (
    DEADLINE_RELATED,
    applicable_deadlines,
    concerned_units,
    drop_superseded,
    extended_until,
    late_units,
    met_units,
)
from campaigns.services.deadlines import local_tz
from recognition.models import Dossier
from units.models import AdministrativeUnit, RoleAssignment
from units.roles import Role

logger = logging.getLogger(__name__)

BEFORE = "before"
#: Roles whose holders AT a unit are its officials for reminders.
OFFICIAL_ROLES = (Role.WARD_OFFICIAL, Role.REVIEWER)
#: Late units listed per deadline in one digest (the calendar lists them all).
DIGEST_LATE_LIMIT = 30


def _link(path: str, **query: Any) -> str:
    url = settings.SITE_URL.rstrip("/") + path
    return f"{url}?{urlencode(query)}" if query else url


def officials_at(unit: AdministrativeUnit) -> QuerySet[User]:
    """Active users with an e-mail holding a ward-official or reviewer role AT ``unit``."""
    return (
        User.objects.filter(
            is_active=True,
            tenant_id=unit.tenant_id,
            role_assignments__unit=unit,
            role_assignments__role__in=OFFICIAL_ROLES,
        )
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def _message(template: str, context: dict[str, Any], to: list[str]) -> EmailMultiAlternatives:
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"campaigns/email/{template}_subject.txt", context)
        text = render_to_string(f"campaigns/email/{template}_message.txt", context)
        html = render_to_string(f"campaigns/email/{template}_message.html", context)
    message = EmailMultiAlternatives(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        body=text,
        to=to,
    )
    message.attach_alternative(html, "text/html")
    return message


def _send_on_commit(message: EmailMultiAlternatives, what: str) -> None:
    def send() -> None:
        try:
            message.send()
        except Exception:
            logger.exception("campaigns: sending %s failed", what)

    transaction.on_commit(send)


def _record(**values: Any) -> Reminder | None:
    """Insert the idempotency row; ``None`` when it already exists."""
    try:
        with transaction.atomic():
            return Reminder.objects.create(**values)
    except IntegrityError:
        return None


# --- Reminders before a deadline -----------------------------------------------------


def due_for_reminder(today: dt.date) -> QuerySet[Deadline]:
    """Deadlines whose reminder window (due − remind_days … due) contains ``today``."""
    horizon = today + dt.timedelta(days=366)
    candidates = Deadline.objects.select_related(*DEADLINE_RELATED).filter(
        remind_days__gt=0, due_on__gte=today, due_on__lte=horizon
    )
    ids = [d.pk for d in candidates if d.due_on - dt.timedelta(days=d.remind_days) <= today]
    return candidates.filter(pk__in=ids).order_by("due_on", "pk")


def _remind_deadline(deadline: Deadline, today: dt.date) -> int:
    units = list(concerned_units(deadline, on=today))
    if not units:
        return 0
    met = met_units(deadline, [u.pk for u in units])
    extended = extended_until(deadline, units)
    already = set(
        Reminder.objects.filter(deadline=deadline, kind=BEFORE).values_list("unit_id", flat=True)
    )
    sent = 0
    for unit in units:
        if unit.pk in met or unit.pk in already or unit.pk in extended:
            continue
        recipients = list(officials_at(unit))
        if not recipients:
            # Nobody to tell yet: no row, so an official assigned later is reminded.
            continue
        addresses = [u.email for u in recipients]
        if _record(deadline=deadline, unit=unit, kind=BEFORE, recipients=addresses) is None:
            continue
        context = {
            "deadline": deadline,
            "unit": unit,
            "days_left": (deadline.due_on - today).days,
            "link": _link(
                reverse("campaigns:calendar"),
                unit=str(unit.public_id),
                year=str(deadline.due_on.year),
            ),
        }
        _send_on_commit(
            _message("reminder", context, addresses), f"reminder {deadline.pk}/{unit.pk}"
        )
        sent += 1
    return sent


def reminders_send(*, today: dt.date) -> int:
    """Remind the units that have not met a deadline coming up; returns how many
    units were reminded now (0 on a second run the same day)."""
    total = 0
    for deadline in due_for_reminder(today):
        with transaction.atomic():
            total += _remind_deadline(deadline, today)
    return total


# --- The reviewers' daily digest -------------------------------------------------------


@dataclass
class OverdueItem:
    deadline: Deadline
    units: list[AdministrativeUnit]
    more: int = 0


@dataclass
class Digest:
    user: User
    units: list[AdministrativeUnit]
    arrived: list[Dossier] = field(default_factory=list)
    overdue: list[OverdueItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.arrived and not self.overdue


def digest_kind(today: dt.date) -> str:
    return f"digest:{today.isoformat()}"


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=local_tz())
    return start, start + dt.timedelta(days=1)


def _roots(units: list[AdministrativeUnit]) -> list[AdministrativeUnit]:
    roots: list[AdministrativeUnit] = []
    for unit in sorted(units, key=lambda u: u.path):
        if not any(unit.path.startswith(r.path) for r in roots):
            roots.append(unit)
    return roots


def digest_for(user: User, units: list[AdministrativeUnit], today: dt.date) -> Digest:
    """What a reviewer of ``units`` hears about on ``today``."""
    digest = Digest(user=user, units=units)
    start, end = _day_bounds(today - dt.timedelta(days=1))
    under = Q(pk__in=[])
    for unit in units:
        under |= Q(reviewing_unit__path__startswith=unit.path)
    digest.arrived = list(
        Dossier.objects.filter(under, tenant_id=units[0].tenant_id)
        .filter(submitted_at__gte=start, submitted_at__lt=end)
        .select_related("proposing_unit", "reviewing_unit")
        .order_by("submitted_at", "pk")
    )
    since = today - dt.timedelta(days=settings.CAMPAIGN_DIGEST_OVERDUE_DAYS)
    seen: set[int] = set()
    for unit in units:
        # Where a plan between (or the reviewer's own) set an earlier date, that
        # deadline replaces the one it derives from.
        overdue = applicable_deadlines(unit=unit).filter(due_on__lt=today, due_on__gte=since)
        for deadline in drop_superseded(list(overdue)):
            if deadline.pk in seen:
                continue
            seen.add(deadline.pk)
            late = late_units(deadline, within=unit, today=today)
            if late:
                digest.overdue.append(
                    OverdueItem(
                        deadline=deadline,
                        units=late[:DIGEST_LATE_LIMIT],
                        more=max(0, len(late) - DIGEST_LATE_LIMIT),
                    )
                )
    digest.overdue.sort(key=lambda item: (item.deadline.due_on, item.deadline.pk))
    return digest


def reviewers_with_units() -> list[tuple[User, list[AdministrativeUnit]]]:
    """Every active reviewer with an e-mail, and the units they review."""
    by_user: dict[int, tuple[User, list[AdministrativeUnit]]] = {}
    for assignment in (
        RoleAssignment.objects.filter(
            role=Role.REVIEWER, user__is_active=True, user__tenant_id__isnull=False
        )
        .exclude(user__email="")
        .select_related("user", "unit")
        .order_by("user_id", "unit__path")
    ):
        if assignment.unit.tenant_id != assignment.user.tenant_id:
            continue
        by_user.setdefault(assignment.user_id, (assignment.user, []))[1].append(assignment.unit)
    return [(user, _roots(units)) for user, units in by_user.values()]


def digest_send(*, today: dt.date) -> int:
    """One e-mail per reviewer per day; returns how many were sent now."""
    kind = digest_kind(today)
    done = set(Reminder.objects.filter(kind=kind).values_list("user_id", flat=True))
    sent = 0
    for user, units in reviewers_with_units():
        if user.pk in done:
            continue
        digest = digest_for(user, units, today)
        if digest.empty:
            continue
        with transaction.atomic():
            if _record(user=user, unit=units[0], kind=kind, recipients=[user.email]) is None:
                continue
            context = {
                "digest": digest,
                "user": user,
                "today": today,
                "review_link": _link(reverse("recognition:review-queue")),
                "calendar_link": _link(reverse("campaigns:calendar")),
            }
            _send_on_commit(_message("digest", context, [user.email]), f"digest {user.pk}")
        sent += 1
    return sent

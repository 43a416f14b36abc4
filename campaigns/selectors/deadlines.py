"""Reads of deadlines: who sees them, whether a unit met one, and the calendar.

Visibility: a deadline (and its plan) is visible to a user who sees the plan's
issuing unit, or a unit under it — deadlines set by the city or the district
apply to the ward, so its officials read them. Anything else is a 404.

Whether a unit met a deadline (:func:`met_units`, :func:`deadline_met`):

* DOSSIER — the unit's dossier of the title and year was submitted (status
  submitted or reviewed); after the end of the due day it counts as done late;
* REGISTRATION — the unit (as the proposing unit, or as the subject's unit)
  has registrations of the title and year;
* ASSESSMENT — it has assessments of the title and year and none is still
  being assessed (draft);
* DECISION — an issued recognition decision of the title and year was issued
  by the unit, or annexes one of its items;
* REPORT — there is no periodic report model yet (the reports issue comes
  next): a report deadline is never "done", only due or late by its date.

A deadline for every title (blank title) is met by any title.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Min, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from campaigns.models import Deadline, DeadlineKind, Plan
from campaigns.services.deadlines import end_of_day, last_day
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Decision,
    DecisionItem,
    DecisionKind,
    DecisionStatus,
    Dossier,
    DossierStatus,
    LockExtension,
    Registration,
    RegistrationStatus,
)
from units.levels import level_rank
from units.models import AdministrativeUnit, path_ids
from units.selectors import parse_public_id, scope_paths, subtree

DEADLINE_RELATED = ("plan__issuing_unit", "plan__tenant", "form_lock", "source")


# --- Visibility ------------------------------------------------------------------------


def _visible_q(user: Any, prefix: str) -> Q:
    """Plans (under ``prefix``) issued by a unit in the user's subtrees or above them."""
    paths = scope_paths(user)
    if not paths or getattr(user, "tenant_id", None) is None:
        return Q(pk__in=[])
    ancestor_ids = {pk for p in paths for pk in path_ids(p)}
    q = Q(**{f"{prefix}issuing_unit_id__in": ancestor_ids})
    for path in paths:
        q |= Q(**{f"{prefix}issuing_unit__path__startswith": path})
    return Q(**{f"{prefix}tenant_id": user.tenant_id}) & q


def plans_visible_to(user: Any) -> QuerySet[Plan]:
    if not getattr(user, "is_authenticated", False):
        return Plan.objects.none()
    return Plan.objects.select_related("issuing_unit", "tenant", "parent").filter(
        _visible_q(user, "")
    )


def get_plan_for_deadlines(user: Any, public_id: Any) -> Plan:
    """The plan whose deadlines the user asks for, else 404."""
    plan = plans_visible_to(user).filter(public_id=parse_public_id(public_id)).first()
    if plan is None:
        raise Http404
    return plan


def deadlines_for_user(user: Any) -> QuerySet[Deadline]:
    if not getattr(user, "is_authenticated", False):
        return Deadline.objects.none()
    return Deadline.objects.select_related(*DEADLINE_RELATED).filter(_visible_q(user, "plan__"))


def get_deadline_for_user(user: Any, public_id: Any) -> Deadline:
    deadline = deadlines_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if deadline is None:
        raise Http404
    return deadline


def deadlines_of_plan(plan: Plan) -> QuerySet[Deadline]:
    return plan.deadlines.select_related(*DEADLINE_RELATED).order_by(
        "due_on", "kind", "level", "title"
    )


def extensions_of(deadline: Deadline) -> QuerySet[LockExtension]:
    if deadline.form_lock_id is None:
        return LockExtension.objects.none()
    return (
        LockExtension.objects.filter(lock_id=deadline.form_lock_id)
        .select_related("unit", "granted_by")
        .order_by("-created_at", "-pk")
    )


# --- Which units a deadline concerns ---------------------------------------------------


def _valid_on(qs: QuerySet[AdministrativeUnit], on: dt.date) -> QuerySet[AdministrativeUnit]:
    return qs.filter(valid_from__lte=on).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def superseded_paths(deadline: Deadline) -> list[str]:
    """Subtrees where a plan implementing this one set its own (tighter) deadline:
    there the derived deadline applies instead."""
    return list(
        Deadline.objects.filter(source=deadline).values_list("plan__issuing_unit__path", flat=True)
    )


def concerned_units(
    deadline: Deadline,
    *,
    within: AdministrativeUnit | None = None,
    on: dt.date | None = None,
    superseded: bool = False,
) -> QuerySet[AdministrativeUnit]:
    """The units at the deadline's level under its plan's unit (and under
    ``within``), existing on ``on`` (default: the due date). Unless
    ``superseded``, the subtrees where a derived deadline applies instead are
    left out (their units are reminded of that one)."""
    root = deadline.plan.issuing_unit
    qs = subtree(root).filter(level=deadline.level)
    if within is not None:
        qs = qs.filter(path__startswith=within.path)
    qs = _valid_on(qs, on or deadline.due_on)
    if not superseded:
        for path in superseded_paths(deadline):
            qs = qs.exclude(path__startswith=path)
    return qs.order_by("sort_name")


# --- Met or not ------------------------------------------------------------------------


@dataclass(frozen=True)
class Met:
    """A unit met the deadline at ``at`` (on time unless ``late``)."""

    at: dt.datetime | None
    late: bool


def _title_q(deadline: Deadline, field_name: str = "title") -> Q:
    return Q(**{field_name: deadline.title}) if deadline.title else Q()


def met_units(deadline: Deadline, unit_ids: Iterable[int]) -> dict[int, Met]:
    """Which of ``unit_ids`` met the deadline, in a few queries."""
    ids = list(unit_ids)
    if not ids:
        return {}
    ends = end_of_day(deadline.due_on)
    kind = deadline.kind
    firsts: dict[int, Any] = {}
    if kind == DeadlineKind.DOSSIER:
        rows = (
            Dossier.objects.filter(
                _title_q(deadline),
                proposing_unit_id__in=ids,
                year=deadline.year,
                status__in=[DossierStatus.SUBMITTED, DossierStatus.APPROVED],
                submitted_at__isnull=False,
            )
            .values("proposing_unit_id")
            .annotate(first=Min("submitted_at"))
        )
        firsts = {r["proposing_unit_id"]: r["first"] for r in rows}
    elif kind == DeadlineKind.REGISTRATION:
        base = Registration.objects.filter(
            _title_q(deadline), year=deadline.year, status=RegistrationStatus.REGISTERED
        )
        for key in ("proposing_unit_id", "unit_id"):
            rows = base.filter(**{f"{key}__in": ids}).values(key).annotate(first=Min("created_at"))
            for r in rows:
                current = firsts.get(r[key])
                firsts[r[key]] = r["first"] if current is None else min(current, r["first"])
    elif kind == DeadlineKind.ASSESSMENT:
        assessments = Assessment.objects.filter(
            _title_q(deadline, "registration__title"),
            registration__year=deadline.year,
            registration__proposing_unit_id__in=ids,
        )
        pending = set(
            assessments.filter(status=AssessmentStatus.DRAFT).values_list(
                "registration__proposing_unit_id", flat=True
            )
        )
        finished = set(
            assessments.exclude(status=AssessmentStatus.DRAFT).values_list(
                "registration__proposing_unit_id", flat=True
            )
        )
        firsts = {unit_id: None for unit_id in finished - pending}
    elif kind == DeadlineKind.DECISION:
        issued = Q(status__in=[DecisionStatus.ISSUED, DecisionStatus.REVOKED]) & Q(
            kind=DecisionKind.RECOGNITION, year=deadline.year
        )
        for r in (
            Decision.objects.filter(issued, _title_q(deadline), issuing_unit_id__in=ids)
            .values("issuing_unit_id")
            .annotate(first=Min("issued_on"))
        ):
            firsts[r["issuing_unit_id"]] = r["first"]
        key = "assessment__registration__proposing_unit_id"
        for r in (
            DecisionItem.objects.filter(
                _title_q(deadline, "decision__title"),
                decision__status__in=[DecisionStatus.ISSUED, DecisionStatus.REVOKED],
                decision__kind=DecisionKind.RECOGNITION,
                decision__year=deadline.year,
                **{f"{key}__in": ids},
            )
            .values(key)
            .annotate(first=Min("decision__issued_on"))
        ):
            current = firsts.get(r[key])
            firsts[r[key]] = r["first"] if current is None else min(current, r["first"])
    out: dict[int, Met] = {}
    for unit_id, first in firsts.items():
        if isinstance(first, dt.datetime):
            late = first >= ends
        elif isinstance(first, dt.date):
            late = first > deadline.due_on
        else:
            late = False
        out[unit_id] = Met(at=first if isinstance(first, dt.datetime) else None, late=late)
    return out


def deadline_met(deadline: Deadline, unit: AdministrativeUnit) -> Met | None:
    """How ``unit`` met the deadline, or ``None`` if it has not."""
    return met_units(deadline, [unit.pk]).get(unit.pk)


def extended_until(
    deadline: Deadline, units: Iterable[AdministrativeUnit], *, now: dt.datetime | None = None
) -> dict[int, dt.datetime]:
    """Units (of ``units``) with a running extension of the deadline, and until when
    (an extension granted to a unit above counts for the units below it)."""
    if deadline.form_lock_id is None:
        return {}
    now = now or timezone.now()
    running: dict[int, dt.datetime] = {}
    for unit_id, until in LockExtension.objects.filter(
        lock_id=deadline.form_lock_id, until__gt=now
    ).values_list("unit_id", "until"):
        running[unit_id] = max(until, running.get(unit_id, until))
    if not running:
        return {}
    out: dict[int, dt.datetime] = {}
    for unit in units:
        ends = [running[i] for i in [*unit.ancestor_ids(), unit.pk] if i in running]
        if ends:
            out[unit.pk] = max(ends)
    return out


# --- The calendar ----------------------------------------------------------------------

DONE, DUE, LATE = "done", "due", "late"


@dataclass
class CalendarRow:
    deadline: Deadline
    #: "own": the unit itself must act; "below": units under it must.
    scope: str
    status: str = DUE
    days_left: int = 0
    done_late: bool = False
    extended_until: dt.datetime | None = None
    total: int = 0
    done: int = 0
    late: int = 0
    pending: int = 0
    late_units: list[AdministrativeUnit] = field(default_factory=list)

    @property
    def extended_to(self) -> dt.date | None:
        """The last day of the running extension."""
        return last_day(self.extended_until) if self.extended_until else None

    @property
    def month(self) -> dt.date:
        return self.deadline.due_on.replace(day=1)


def _status(
    deadline: Deadline, met: Met | None, today: dt.date, extended: dt.datetime | None
) -> tuple[str, int]:
    if met is not None:
        return DONE, 0
    if today <= deadline.due_on:
        return DUE, (deadline.due_on - today).days
    if extended is not None:
        return DUE, max(0, (last_day(extended) - today).days)
    return LATE, (deadline.due_on - today).days


def applicable_deadlines(
    *, unit: AdministrativeUnit, year: int | None = None
) -> QuerySet[Deadline]:
    """Deadlines of plans issued by ``unit`` or an ancestor, for the unit's level or below."""
    levels = _levels_from(unit.level)
    qs = Deadline.objects.select_related(*DEADLINE_RELATED).filter(
        plan__tenant_id=unit.tenant_id,
        plan__issuing_unit_id__in=[*unit.ancestor_ids(), unit.pk],
        level__in=levels,
    )
    if year is not None:
        qs = qs.filter(due_on__year=year)
    return qs.order_by("due_on", "kind", "pk")


def _levels_from(level: str) -> list[str]:
    from units.levels import LEVEL_ORDER

    return [lv for lv in LEVEL_ORDER if level_rank(lv) >= level_rank(level)]


def drop_superseded(deadlines: list[Deadline]) -> list[Deadline]:
    """A deadline derived for this unit (or above it) replaces the one it derives from."""
    replaced = {d.source_id for d in deadlines if d.source_id}
    return [d for d in deadlines if d.pk not in replaced]


def calendar_for_unit(
    *, unit: AdministrativeUnit, year: int, today: dt.date, late_limit: int = 100
) -> list[CalendarRow]:
    """What ``unit`` must do in ``year`` (by due date) and what the units under
    it must do, each with its status.

    For the unit's own level: done / due (days left; an extension counts) /
    late. For a level below: how many of the units under it met the deadline,
    how many are late, and the first ``late_limit`` late units.
    """
    now = timezone.now()
    rows: list[CalendarRow] = []
    deadlines = drop_superseded(list(applicable_deadlines(unit=unit, year=year)))
    for deadline in deadlines:
        if deadline.level == unit.level:
            met = deadline_met(deadline, unit)
            ext = extended_until(deadline, [unit], now=now).get(unit.pk)
            status, days = _status(deadline, met, today, ext)
            rows.append(
                CalendarRow(
                    deadline=deadline,
                    scope="own",
                    status=status,
                    days_left=days,
                    done_late=bool(met and met.late),
                    extended_until=ext,
                )
            )
            continue
        # Measured against this deadline's own date, including the subtrees
        # where a plan below set an earlier one.
        units = list(concerned_units(deadline, within=unit, superseded=True))
        if not units:
            continue
        met_map = met_units(deadline, [u.pk for u in units])
        ext_map = extended_until(deadline, units, now=now)
        row = CalendarRow(deadline=deadline, scope="below", total=len(units))
        for u in units:
            status, _days = _status(deadline, met_map.get(u.pk), today, ext_map.get(u.pk))
            if status == DONE:
                row.done += 1
            elif status == LATE:
                row.late += 1
                if len(row.late_units) < late_limit:
                    row.late_units.append(u)
            else:
                row.pending += 1
        if row.done == row.total:
            row.status = DONE
        elif row.late:
            row.status = LATE
        else:
            row.status = DUE
        row.days_left = (deadline.due_on - today).days
        rows.append(row)
    return rows


def group_by_month(rows: list[CalendarRow]) -> list[tuple[dt.date, list[CalendarRow]]]:
    grouped: dict[dt.date, list[CalendarRow]] = defaultdict(list)
    for row in rows:
        grouped[row.month].append(row)
    return sorted(grouped.items())


def late_units(
    deadline: Deadline, *, within: AdministrativeUnit | None = None, today: dt.date
) -> list[AdministrativeUnit]:
    """Units concerned by the deadline (under ``within``) that are late on ``today``,
    measured against this deadline's date (a unit under a plan that set an earlier
    one is late for this one too once it passes)."""
    if today <= deadline.due_on:
        return []
    units = list(concerned_units(deadline, within=within, superseded=True))
    met_map = met_units(deadline, [u.pk for u in units])
    ext_map = extended_until(deadline, units)
    return [u for u in units if u.pk not in met_map and u.pk not in ext_map]

"""Reads of events, their reports and photos, scoped through units/selectors.py.

A user sees the events of the units in their subtrees and of the units above
them (a ward reports to the district's week); a report or a photo is seen by
whoever sees the reporting unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from campaigns.models import Event, EventPhoto, EventReport
from campaigns.permissions import PLANNERS
from units.models import PATH_SEGMENT_WIDTH, AdministrativeUnit
from units.selectors import parse_public_id, scope_paths, scope_queryset, user_grants


def _ancestor_paths(paths: list[str]) -> set[str]:
    """Every proper prefix (an ancestor's path) of the given paths."""
    out: set[str] = set()
    for path in paths:
        for end in range(PATH_SEGMENT_WIDTH, len(path), PATH_SEGMENT_WIDTH):
            out.add(path[:end])
    return out


def events_for_user(user: Any) -> QuerySet[Event]:
    """Events organised in the user's subtrees or by a unit above them."""
    below = scope_queryset(Event.objects.all(), user)
    above = _ancestor_paths(scope_paths(user))
    qs = Event.objects.select_related("unit", "plan")
    if not above:
        return qs.filter(pk__in=below.values("pk"))
    return qs.filter(
        Q(pk__in=below.values("pk"))
        | Q(tenant_id=user.tenant_id, unit__tenant_id=user.tenant_id, unit__path__in=above)
    )


def get_event_for_user(user: Any, public_id: Any) -> Event:
    event = events_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if event is None:
        raise Http404
    return event


def reports_for_user(user: Any) -> QuerySet[EventReport]:
    return scope_queryset(
        EventReport.objects.select_related("event", "event__unit", "unit", "submitted_by"), user
    )


def get_report_for_user(user: Any, public_id: Any) -> EventReport:
    report = reports_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if report is None:
        raise Http404
    return report


def photos_for_user(user: Any) -> QuerySet[EventPhoto]:
    return scope_queryset(
        EventPhoto.objects.select_related("report", "report__unit", "report__event"),
        user,
        unit_field="report__unit",
    )


def get_photo_for_user(user: Any, public_id: Any) -> EventPhoto:
    photo = photos_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if photo is None:
        raise Http404
    return photo


def reporting_units(user: Any, event: Event) -> list[AdministrativeUnit]:
    """The units under the event's organiser that the user reports for: the units of
    their planner grants strictly inside the organiser's subtree (a ward official:
    their ward)."""
    paths = sorted(
        {
            g.path
            for g in user_grants(user)
            if g.role in PLANNERS
            and g.path.startswith(event.unit.path)
            and g.path != event.unit.path
        }
    )
    if not paths:
        return []
    return list(
        AdministrativeUnit.objects.filter(tenant_id=event.tenant_id, path__in=paths).order_by(
            "sort_name"
        )
    )


@dataclass
class ProgressRow:
    unit: AdministrativeUnit
    report: EventReport | None
    #: Totals of the reports in the unit's subtree (the unit's own included).
    participants: int = 0
    sessions: int = 0
    reports: int = 0


@dataclass
class Progress:
    rows: list[ProgressRow] = field(default_factory=list)
    reported: int = 0
    participants: int = 0
    sessions: int = 0
    reports: int = 0


def event_progress(event: Event) -> Progress:
    """For the organiser: each unit one level down, its report (or none), and totals."""
    on = event.starts_on
    children = list(
        AdministrativeUnit.objects.filter(tenant_id=event.tenant_id, parent=event.unit)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("sort_name")
    )
    reports = list(
        EventReport.objects.filter(event=event).select_related("unit").order_by("unit__path")
    )
    own = {r.unit_id: r for r in reports}
    progress = Progress()
    for child in children:
        inside = [r for r in reports if r.unit.path.startswith(child.path)]
        row = ProgressRow(
            unit=child,
            report=own.get(child.pk),
            participants=sum(r.participants for r in inside),
            sessions=sum(r.sessions for r in inside),
            reports=len(inside),
        )
        progress.rows.append(row)
        if inside:
            progress.reported += 1
    totals = EventReport.objects.filter(event=event).aggregate(
        p=Sum("participants"), s=Sum("sessions")
    )
    progress.participants = totals["p"] or 0
    progress.sessions = totals["s"] or 0
    progress.reports = len(reports)
    return progress

"""The report's figures in either view across an administrative reorganisation.

The same choice as the dashboard's view switch (issue 9 §3,
:mod:`reports.dashboard`), stored on the report (``Report.view``):

- ``then`` ("Đơn vị tại thời điểm đó"): the child units in force at some time
  in the report's year (a ward merged in mid-2025 and the ward that continues
  it both show in 2025), each with its own rollup rows, as they were stored;
- ``mapped`` ("Quy về đơn vị hiện nay"): today's child units, each carrying the
  figures of the closed units that map onto it. The figures come from
  :func:`reports.dashboard.mapped_figures`, the dashboard's selector (one call
  per title and scope level present in the rollups): the mapping is never
  computed twice. A report of a unit that no longer exists has no "today" to
  map onto, so :func:`check_view` refuses it.

Both return the shape of ``reports.report_services._counts``: ``(unit pk, title)
-> {registered, assessed, approved, recognised, eligible}``, summed over the
community title's scope levels like the stored view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Q
from django.utils.translation import gettext as _

from reports.dashboard import mapped_figures
from reports.models import Rollup
from reports.report_models import ReportView
from units.models import AdministrativeUnit

#: The line under the document's heading that says which view it shows.
VIEW_LINE_THEN = "Số liệu theo đơn vị hành chính tại thời điểm đó"
VIEW_LINE_MAPPED = "Số liệu quy về đơn vị hành chính hiện nay (ngày {date})"


def view_line(view: str, mapped_on: str | None) -> str:
    """ "Số liệu quy về đơn vị hành chính hiện nay (ngày 24/11/2026)" or the stored view."""
    if view == ReportView.MAPPED and mapped_on:
        day = dt.date.fromisoformat(mapped_on)
        return VIEW_LINE_MAPPED.format(date=day.strftime("%d/%m/%Y"))
    return VIEW_LINE_THEN


def check_view(unit: AdministrativeUnit, view: str, *, today: dt.date) -> str | None:
    """Why ``unit`` cannot be reported in ``view`` (None: it can)."""
    if view not in ReportView.values:
        return _("Choose how the units are shown: as they were then or mapped onto today's.")
    if view == ReportView.MAPPED and not unit.is_valid_on(today):
        return _(
            "%(unit)s is no longer in force: its figures can only be shown as the units "
            "were then. Report on the unit that continues it to map them onto today's units."
        ) % {"unit": unit.name}
    return None


def children_then(unit: AdministrativeUnit, year: int) -> list[AdministrativeUnit]:
    """The child units in force at some time in ``year``, in the tree's order."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return list(
        AdministrativeUnit.objects.filter(
            tenant_id=unit.tenant_id, parent=unit, valid_from__lte=last
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))
        .order_by("sort_name", "pk")
    )


def children_today(unit: AdministrativeUnit, today: dt.date) -> list[AdministrativeUnit]:
    """Today's child units, in the tree's order."""
    return list(
        AdministrativeUnit.objects.filter(
            tenant_id=unit.tenant_id, parent=unit, valid_from__lte=today
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .order_by("sort_name", "pk")
    )


def mapped_counts(
    units: Sequence[AdministrativeUnit], year: int, *, today: dt.date
) -> dict[tuple[int, str], dict[str, int]]:
    """``(unit pk, title) -> counters`` of ``units`` (in force today) mapped onto
    today's units, through the dashboard's :func:`mapped_figures`."""
    if not units:
        return {}
    tenant_id = units[0].tenant_id
    pairs = (
        Rollup.objects.filter(tenant_id=tenant_id, year=year)
        .order_by()
        .values_list("title", "scope_level")
        .distinct()
    )
    out: dict[tuple[int, str], dict[str, int]] = {}
    for title, scope_level in sorted(set(pairs)):
        figures, _shared = mapped_figures(
            units=list(units), title=title, years=[year], scope_level=scope_level, today=today
        )
        for (unit_id, _year), f in figures.items():
            acc = out.setdefault(
                (unit_id, title),
                {"registered": 0, "assessed": 0, "approved": 0, "recognised": 0, "eligible": 0},
            )
            acc["registered"] += f.registered
            acc["assessed"] += f.assessed
            acc["approved"] += f.approved
            acc["recognised"] += f.recognised
            acc["eligible"] += f.eligible_base
    return out

"""The steering dashboard: figures of a unit's children against their targets,
the trend, submissions against the campaign deadlines; every table also as XLSX.

Read-only for every role, steering viewers included; a unit outside the
user's scope is a 404 (units.selectors.get_unit_for_user).

The figure sections (summary, children, lagging units, trend, the charts' data)
are rendered once per unit × year × title × scope level × language and kept in
the cache under a fingerprint of their inputs (``figures_fingerprint``: the
rollup rows, the children, the targets), so a recognition changes the key and
the next request renders the new figures. They hold nothing that depends on
the user: the scope check runs before the cache is read, and everything in the
fragment lies in the unit's subtree. Submissions (live, they depend on today)
and the user's reports are rendered on every request.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from campaigns.models import TargetKind
from core.http import AuthedRequest
from recognition.titles import Title
from reports.dashboard import (
    MODE_MAPPED,
    MODE_THEN,
    VIEW_MODES,
    Dashboard,
    Figures,
    Submissions,
    TargetCheck,
    dashboard_for_unit,
    default_scope_level,
    figures_fingerprint,
    rollup_years,
    scope_levels_for,
    submission_deadlines,
    submissions,
)
from reports.xlsx import COUNT, DECIMAL, INTEGER, RATE, Column, Table, xlsx_response
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import get_unit_for_user, home_units, visible_ancestors

TABLES = ("children", "trend", "submissions", "lagging")
#: Seconds a rendered figure fragment is kept. Its key changes with every rollup,
#: child unit or target change; the timeout only bounds what the fingerprint
#: does not see (e.g. a plan's status changed without touching the plan row).
CACHE_SECONDS = 600
#: Lagging units listed by name below the table (the table flags every one, the
#: XLSX export lists them all).
LAGGING_LIMIT = 20


def _year(value: Any, default: int) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if 2000 <= year <= 2100 else default


def _target_value(check: TargetCheck) -> Decimal | None:
    return check.target.value if check.target is not None else None


def _rate_target(check: TargetCheck) -> float | None:
    """A rate target for the charts (count targets are not drawn on a rate axis)."""
    if check.target is None or check.target.kind != TargetKind.RATE:
        return None
    return float(check.target.value)


def _figure_cells(figures: Figures) -> list[Any]:
    return [figures.eligible_base, figures.registered, figures.recognised, figures.rate]


def dashboard_tables(board: Dashboard) -> dict[str, Table]:
    """The page's tables with the same rows, for the XLSX export."""
    period = f"{board.unit.name} · {Title(board.title).label} · {board.year}"
    figures = [
        Column(_("Eligible base"), COUNT),
        Column(_("Registered"), COUNT),
        Column(_("Recognised"), COUNT),
        Column(_("Rate (%)"), RATE, 10),
    ]
    target = [Column(_("Target"), DECIMAL, 10), Column(_("Gap to target"), DECIMAL, 12)]
    lag = _("Lagging")
    children = Table(
        title=_("Units"),
        caption=period,
        columns=[Column(_("Unit"), width=32), *figures, *target, Column(lag, width=10)],
        rows=[
            [
                r.unit.name,
                *_figure_cells(r.figures),
                _target_value(r.check),
                r.check.gap,
                lag if r.check.lagging else "",
            ]
            for r in board.children
        ],
        totals=[
            _("Total"),
            *_figure_cells(board.figures),
            _target_value(board.check),
            board.check.gap,
            lag if board.check.lagging else "",
        ],
    )
    trend = Table(
        title=_("Trend"),
        caption=f"{board.unit.name} · {Title(board.title).label}",
        columns=[Column(_("Year"), INTEGER, 8), *figures, *target],
        rows=[
            [p.year, *_figure_cells(p.figures), _target_value(p.check), p.check.gap]
            for p in board.trend
        ],
    )
    submissions = Table(
        title=_("Submissions"),
        caption=period,
        columns=[
            Column(_("Deadline"), width=36),
            Column(_("Due date"), width=12),
            Column(_("Unit"), width=32),
            Column(_("Units concerned"), COUNT),
            Column(_("Submitted on time"), COUNT),
            Column(_("Submitted late"), COUNT),
            Column(_("Not submitted"), COUNT),
            Column(_("Not yet due"), COUNT),
        ],
        rows=[
            [
                s.deadline.label or s.deadline.get_kind_display(),
                s.deadline.due_on.strftime("%d/%m/%Y"),
                r.unit.name,
                r.total,
                r.on_time,
                r.late,
                r.missing,
                r.pending,
            ]
            for s in board.submissions
            for r in s.rows
        ],
    )
    lagging = Table(
        title=_("Lagging units"),
        caption=period,
        columns=[Column(_("Unit"), width=32), Column(_("Rate (%)"), RATE, 10), *target],
        rows=[
            [r.unit.name, r.figures.rate, _target_value(r.check), r.check.gap]
            for r in board.lagging
        ],
    )
    return {
        "children": children,
        "trend": trend,
        "submissions": submissions,
        "lagging": lagging,
    }


def _charts(board: Dashboard) -> dict[str, Any]:
    """Data for the two ECharts charts (the tables beside them carry the same)."""

    def rate(value: Decimal | None) -> float | None:
        return float(value) if value is not None else None

    return {
        "children": {
            "names": [r.unit.name for r in board.children],
            "rates": [rate(r.figures.rate) for r in board.children],
            "targets": [_rate_target(r.check) for r in board.children],
            "rateLabel": _("Rate (%)"),
            "targetLabel": _("Target"),
        },
        "trend": {
            "years": [str(p.year) for p in board.trend],
            "rates": [rate(p.figures.rate) for p in board.trend],
            "targets": [_rate_target(p.check) for p in board.trend],
            "rateLabel": _("Rate (%)"),
            "targetLabel": _("Target"),
        },
    }


def _years(unit: AdministrativeUnit, today: dt.date) -> list[int]:
    return sorted({*rollup_years(unit=unit), *range(today.year - 4, today.year + 1)}, reverse=True)


@login_required
@require_GET
def dashboard_view(request: AuthedRequest) -> HttpResponse:
    """``?unit=&year=&title=`` (and ``scope=`` for the community title;
    ``view=then|mapped``: as the units were then, or mapped onto today's units);
    ``&format=xlsx&table=<name>`` downloads one table."""
    today = timezone.localdate()
    if request.GET.get("unit"):
        unit: AdministrativeUnit | None = get_unit_for_user(request.user, request.GET["unit"])
    else:
        unit = home_units(request.user).first()
    title = request.GET.get("title", "")
    if title not in Title.values:
        title = Title.FAMILY
    if unit is None:
        return render(request, "reports/dashboard.html", {"unit": None, "title": title})
    years = _years(unit, today)
    year = _year(request.GET.get("year"), years[0] if years[0] <= today.year else today.year)
    levels = scope_levels_for(title)
    scope = request.GET.get("scope", "")
    level = scope if scope in levels else default_scope_level(title)
    mode = request.GET.get("view", MODE_THEN)
    if mode not in VIEW_MODES:
        mode = MODE_THEN
    query = {"unit": str(unit.public_id), "year": str(year), "title": title}
    if levels:
        query["scope"] = level
    if mode != MODE_THEN:
        query["view"] = mode
    if request.GET.get("format") == "xlsx":
        board = dashboard_for_unit(
            unit=unit, title=title, year=year, today=today, scope_level=level, mode=mode
        )
        tables = dashboard_tables(board)
        name = request.GET.get("table", "children")
        if name not in tables:
            raise Http404
        filename = f"dashboard-{slugify(unit.code)}-{title}-{year}-{name}.xlsx"
        return xlsx_response([tables[name]], filename=filename)
    shared = {
        "unit": unit,
        "year": year,
        "exports": {
            name: "?" + urlencode({**query, "format": "xlsx", "table": name}) for name in TABLES
        },
        "drill_query": urlencode({k: v for k, v in query.items() if k != "unit"}),
    }
    figures_html, blocks = _figures_and_submissions(
        unit=unit, title=title, year=year, scope_level=level, today=today, context=shared, mode=mode
    )
    context = {
        **shared,
        "title": title,
        "scope_level": level,
        "view": mode,
        "view_modes": [
            (MODE_THEN, _("As the units were then")),
            (MODE_MAPPED, _("Mapped onto today's units")),
        ],
        "years": years,
        "titles": Title.choices,
        "scope_levels": [(lv, Level(lv).label) for lv in levels],
        "breadcrumb": [a for a in visible_ancestors(request.user, unit) if a.pk != unit.pk],
        "figures_html": figures_html,
        "submissions": blocks,
        "unit_reports": _unit_reports(request.user, unit, year),
    }
    return render(request, "reports/dashboard.html", context)


def figures_cache_key(
    *,
    unit: AdministrativeUnit,
    title: str,
    year: int,
    scope_level: str,
    fingerprint: str,
    mode: str = MODE_THEN,
) -> str:
    """The cache key of a rendered figure fragment (the language and the view,
    as the units were then or mapped onto today's units, are part of it)."""
    parts = (unit.pk, year, title, scope_level or "-", mode, get_language() or "-", fingerprint)
    return "reports:dashboard:" + ":".join(str(p) for p in parts)


def _figures_and_submissions(
    *,
    unit: AdministrativeUnit,
    title: str,
    year: int,
    scope_level: str,
    today: dt.date,
    context: dict[str, Any],
    mode: str = MODE_THEN,
) -> tuple[SafeString, list[Submissions]]:
    """The rendered figure sections (from the cache when their inputs did not
    change) and the submissions against the deadlines (always live)."""
    fingerprint = figures_fingerprint(
        unit=unit, title=title, year=year, scope_level=scope_level, mode=mode, today=today
    )
    key = figures_cache_key(
        unit=unit,
        title=title,
        year=year,
        scope_level=scope_level,
        fingerprint=fingerprint,
        mode=mode,
    )
    cached = cache.get(key)
    if cached is not None:
        deadlines = submission_deadlines(unit=unit, title=title, year=year)
        blocks: list[Submissions] = []
        if deadlines:
            by_pk = AdministrativeUnit.objects.in_bulk(cached["children"])
            blocks = submissions(
                unit=unit,
                children=[by_pk[pk] for pk in cached["children"] if pk in by_pk],
                title=title,
                year=year,
                today=today,
                deadlines=deadlines,
            )
        return mark_safe(cached["html"]), blocks  # noqa: S308 - our own rendered template
    board = dashboard_for_unit(
        unit=unit, title=title, year=year, today=today, scope_level=scope_level, mode=mode
    )
    lagging = board.lagging
    html = render_to_string(
        "reports/_dashboard_figures.html",
        {
            **context,
            "board": board,
            "lagging": lagging[:LAGGING_LIMIT],
            "lagging_more": max(0, len(lagging) - LAGGING_LIMIT),
            "charts": _charts(board),
        },
    )
    cache.set(
        key, {"html": str(html), "children": [r.unit.pk for r in board.children]}, CACHE_SECONDS
    )
    return html, board.submissions


def _unit_reports(user: Any, unit: AdministrativeUnit, year: int) -> list[Any]:
    """The unit's built reports (yearly, sơ kết, tổng kết) the user may download:
    the finalised ones first, then the newest drafts of the year."""
    from reports.report_services import reports_for_user

    return list(
        reports_for_user(user)
        .filter(unit=unit)
        .exclude(pdf="")
        .filter(year__in=[year, year - 1])
        .order_by("-status", "-year", "-built_at")[:10]
    )

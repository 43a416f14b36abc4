"""Reads of the steering dashboard (issue 7, item 2).

Every figure comes from :class:`reports.models.Rollup` (never from raw
assessment rows): a unit's own row holds its subtree's totals, its children's
rows the breakdown. Targets come from the campaign plans (the nearest target
walking up, as :func:`campaigns.selectors.plans.effective_targets` decides,
batched here for all children at once); submissions from the campaign
deadlines (:mod:`campaigns.selectors.deadlines`).

Two views across an administrative reorganisation (issue 9 §3):

- ``then`` ("as the units were then"): the stored tree, the rollup rows as they
  are; a closed ward keeps its figures and shows among its parent's children.
- ``mapped`` ("mapped onto today's units"): a unit in force today also carries
  the figures of the closed units that map onto it or onto a unit under it
  (:func:`units.reorganisation.selectors.today_map`); the children are today's.
  Only the top-most such closed units are added (their rollup rows already hold
  their subtrees), and never one that already lies in the unit's own subtree
  (its figures are in the unit's row). A split unit's figures go once to the
  successor that took them (the default target) and are flagged as shared.
  Still rollups only: a few more indexed reads, no assessment rows.

The caller has already checked the unit against the user's scope
(:func:`units.selectors.get_unit_for_user`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import Deadline, Plan, Target, TargetKind
from campaigns.selectors.deadlines import (
    applicable_deadlines,
    concerned_units,
    drop_superseded,
    extended_until,
    met_units,
)
from campaigns.selectors.plans import effective_targets
from recognition.titles import Title
from reports.models import Rollup
from units.levels import Level, level_rank
from units.models import AdministrativeUnit, path_ids
from units.selectors import children_of

#: Years shown in the trend (the chosen year and the four before it).
TREND_YEARS = 5
#: Names listed per child and deadline (who has not submitted, who was late).
NAME_LIMIT = 50
COUNTERS = ("registered", "assessed", "approved", "recognised", "eligible_base")
#: Counters that add up across units of one year; the eligible base is today's
#: subjects (the same for every year) and is not carried from closed units.
YEAR_COUNTERS = ("registered", "assessed", "approved", "recognised")
#: The dashboard's views across a reorganisation.
MODE_THEN = "then"
MODE_MAPPED = "mapped"
VIEW_MODES = (MODE_THEN, MODE_MAPPED)
HUNDRED = Decimal(100)
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Figures:
    """The rollup counters of one unit (its whole subtree) for a title and year."""

    registered: int = 0
    assessed: int = 0
    approved: int = 0
    recognised: int = 0
    eligible_base: int = 0

    @property
    def exact_rate(self) -> Decimal | None:
        """Recognised / eligible base in per cent, unrounded (None without a base)."""
        if not self.eligible_base:
            return None
        return Decimal(self.recognised) * HUNDRED / Decimal(self.eligible_base)

    @property
    def rate(self) -> Decimal | None:
        """The rate to one decimal, as shown."""
        exact = self.exact_rate
        return None if exact is None else exact.quantize(TENTH, rounding=ROUND_HALF_UP)


def _figures(row: dict[str, int | None]) -> Figures:
    return Figures(**{name: int(row.get(name) or 0) for name in COUNTERS})


@dataclass(frozen=True)
class TargetCheck:
    """A target in force and how the figures compare with it."""

    target: Target | None
    gap: Decimal | None
    lagging: bool

    @property
    def is_rate(self) -> bool:
        return self.target is not None and self.target.kind == TargetKind.RATE


def check_target(figures: Figures, target: Target | None) -> TargetCheck:
    """Gap to the target (percentage points for a rate, subjects for a count);
    lagging when below it."""
    if target is None:
        return TargetCheck(target=None, gap=None, lagging=False)
    if target.kind == TargetKind.RATE:
        rate = figures.exact_rate
        if rate is None:
            return TargetCheck(target=target, gap=None, lagging=False)
        # Lagging is decided on the unrounded rate (49,96 % is below 50 %).
        exact = rate - target.value
        gap = exact.quantize(TENTH, rounding=ROUND_HALF_UP)
    else:
        exact = gap = Decimal(figures.recognised) - target.value
    return TargetCheck(target=target, gap=gap, lagging=exact < 0)


@dataclass(frozen=True)
class ChildRow:
    unit: AdministrativeUnit
    figures: Figures
    check: TargetCheck
    #: The unit has units under it: the dashboard can drill down into it.
    drillable: bool
    #: Mapped view: the figures include a split unit's, shown once, here.
    shared: bool = False


@dataclass(frozen=True)
class TrendPoint:
    year: int
    figures: Figures
    check: TargetCheck
    #: Mapped view: the figures include a split unit's, shown once, here.
    shared: bool = False


@dataclass
class SubmissionRow:
    """One child unit against one deadline: the units concerned under it (the
    child itself when it is at the deadline's level) and how they stand."""

    unit: AdministrativeUnit
    total: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0
    missing_units: list[AdministrativeUnit] = field(default_factory=list)
    late_units: list[AdministrativeUnit] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        return self.on_time + self.late


@dataclass
class Submissions:
    deadline: Deadline
    rows: list[SubmissionRow]

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rows)

    @property
    def submitted(self) -> int:
        return sum(r.submitted for r in self.rows)

    @property
    def late(self) -> int:
        return sum(r.late for r in self.rows)

    @property
    def missing(self) -> int:
        return sum(r.missing for r in self.rows)


@dataclass
class Dashboard:
    unit: AdministrativeUnit
    title: str
    year: int
    scope_level: str
    figures: Figures
    check: TargetCheck
    children: list[ChildRow]
    trend: list[TrendPoint]
    submissions: list[Submissions]
    mode: str = MODE_THEN
    #: Mapped view: the unit's figures include a split unit's, shown once, here.
    shared: bool = False

    @property
    def any_shared(self) -> bool:
        return self.shared or any(r.shared for r in self.children)

    @property
    def lagging(self) -> list[ChildRow]:
        """Children below their target, furthest behind first."""
        rows = [r for r in self.children if r.check.lagging]
        return sorted(rows, key=lambda r: (r.check.gap or Decimal(0), r.unit.sort_name))

    @property
    def children_total(self) -> Figures:
        return Figures(
            **{name: sum(getattr(r.figures, name) for r in self.children) for name in COUNTERS}
        )


# --- Rollup reads ----------------------------------------------------------------------


def default_scope_level(title: str) -> str:
    """The rollup's scope level to read: blank, except for the community title
    (rated per level of the registered units; neighbourhoods by default)."""
    return Level.NEIGHBOURHOOD if title == Title.COMMUNITY else ""


def _rollups(unit: AdministrativeUnit, *, title: str, scope_level: str) -> QuerySet[Rollup]:
    return Rollup.objects.filter(tenant_id=unit.tenant_id, title=title, scope_level=scope_level)


def unit_figures(
    *, unit: AdministrativeUnit, title: str, year: int, scope_level: str = ""
) -> Figures:
    row = (
        _rollups(unit, title=title, scope_level=scope_level)
        .filter(unit=unit, year=year)
        .values(*COUNTERS)
        .first()
    )
    return _figures(row) if row else Figures()


def children_figures(
    *, unit: AdministrativeUnit, title: str, year: int, scope_level: str = ""
) -> dict[int, Figures]:
    """The rollup of each child of ``unit`` (children without a row are absent)."""
    rows = (
        _rollups(unit, title=title, scope_level=scope_level)
        .filter(unit__parent=unit, year=year)
        .values("unit_id", *COUNTERS)
    )
    return {r["unit_id"]: _figures(r) for r in rows}


def yearly_figures(
    *, unit: AdministrativeUnit, title: str, years: list[int], scope_level: str = ""
) -> dict[int, Figures]:
    rows = (
        _rollups(unit, title=title, scope_level=scope_level)
        .filter(unit=unit, year__in=years)
        .values("year", *COUNTERS)
    )
    return {r["year"]: _figures(r) for r in rows}


def rollup_years(*, unit: AdministrativeUnit) -> list[int]:
    """Years with figures for ``unit``, newest first."""
    return sorted(
        set(
            Rollup.objects.filter(tenant_id=unit.tenant_id, unit=unit)
            .order_by()
            .values_list("year", flat=True)
            .distinct()
        ),
        reverse=True,
    )


# --- Mapped onto today's units ------------------------------------------------------------


@dataclass
class Carried:
    """For each unit in force today (a bucket), the top-most closed units whose
    figures it takes over in the mapped view, and which of them were split."""

    by_bucket: dict[int, list[int]] = field(default_factory=dict)
    shared: set[int] = field(default_factory=set)

    def ids(self) -> set[int]:
        return {pk for pks in self.by_bucket.values() for pk in pks}

    def is_shared(self, bucket: int) -> bool:
        return any(pk in self.shared for pk in self.by_bucket.get(bucket, ()))


def carried_units(*, tenant_id: int, buckets: list[AdministrativeUnit], today: dt.date) -> Carried:
    """Which closed units each of ``buckets`` carries in the mapped view (two or
    three small queries: the tenant's mapping, the paths, the lineage of splits)."""
    from units.reorganisation.selectors import lineage_links, today_map

    mapping = today_map(tenant=tenant_id, on=today)
    if not mapping:
        return Carried()
    ids = {*mapping, *mapping.values()}
    paths = dict(AdministrativeUnit.objects.filter(pk__in=ids).values_list("pk", "path"))
    out = Carried()
    for bucket in buckets:
        hits = {
            old
            for old, new in mapping.items()
            if old in paths
            and new in paths
            and paths[new].startswith(bucket.path)
            and not paths[old].startswith(bucket.path)
        }
        out.by_bucket[bucket.pk] = sorted(
            old for old in hits if not any(a in hits for a in path_ids(paths[old])[:-1])
        )
    carried = out.ids()
    if carried:
        links = lineage_links(tenant_id)
        out.shared = {pk for pk in carried if len(links.get(pk, ())) > 1}
    return out


def _base_of(*, units: list[AdministrativeUnit], title: str, scope_level: str) -> dict[int, int]:
    """Each unit's eligible base (today's subjects: the same in every year's row),
    from its latest rollup row."""
    if not units:
        return {}
    rows = (
        Rollup.objects.filter(
            tenant_id=units[0].tenant_id,
            title=title,
            scope_level=scope_level,
            unit_id__in=[u.pk for u in units],
        )
        .order_by("unit_id", "year")
        .values_list("unit_id", "eligible_base")
    )
    bases = dict(rows)
    # A unit in force with no row of its own yet (a new ward whose subjects
    # came from the wards it continues, none registered since) is counted live.
    missing = [u for u in units if u.pk not in bases]
    if missing:
        from reports.services import eligible_bases

        bases.update(eligible_bases(missing, title, scope_level))
    return bases


def mapped_figures(
    *,
    units: list[AdministrativeUnit],
    title: str,
    years: list[int],
    scope_level: str,
    today: dt.date,
) -> tuple[dict[tuple[int, int], Figures], set[int]]:
    """``(unit pk, year) -> Figures`` mapped onto today's units for each of
    ``units`` (in force today), and the units whose figures include a split
    unit's. Reads: the units' own rows, the carried closed units' rows, the bases."""
    if not units:
        return {}, set()
    tenant_id = units[0].tenant_id
    carried = carried_units(tenant_id=tenant_id, buckets=units, today=today)
    own = Rollup.objects.filter(
        tenant_id=tenant_id,
        title=title,
        scope_level=scope_level,
        year__in=years,
        unit_id__in=[u.pk for u in units],
    ).values_list("unit_id", "year", *YEAR_COUNTERS)
    sums: dict[tuple[int, int], list[int]] = {}
    for unit_id, year, *counts in own:
        sums[(unit_id, year)] = [int(c or 0) for c in counts]
    extra_ids = carried.ids()
    if extra_ids:
        bucket_of: dict[int, list[int]] = {}
        for bucket, pks in carried.by_bucket.items():
            for pk in pks:
                bucket_of.setdefault(pk, []).append(bucket)
        rows = Rollup.objects.filter(
            tenant_id=tenant_id,
            title=title,
            scope_level=scope_level,
            year__in=years,
            unit_id__in=sorted(extra_ids),
        ).values_list("unit_id", "year", *YEAR_COUNTERS)
        for unit_id, year, *counts in rows:
            for bucket in bucket_of[unit_id]:
                acc = sums.setdefault((bucket, year), [0] * len(YEAR_COUNTERS))
                for i, c in enumerate(counts):
                    acc[i] += int(c or 0)
    bases = _base_of(units=units, title=title, scope_level=scope_level)
    out = {
        key: Figures(
            **dict(zip(YEAR_COUNTERS, counts, strict=True)), eligible_base=bases.get(key[0], 0)
        )
        for key, counts in sums.items()
    }
    shared = {u.pk for u in units if carried.is_shared(u.pk)}
    return out, shared


# --- Targets ---------------------------------------------------------------------------


def _rank(target: Target) -> tuple[int, int, int, int]:
    # The order of campaigns.selectors.plans.effective_targets: nearest unit,
    # then nearest issuer, then the later plan.
    return (target.unit.depth, target.plan.issuing_unit.depth, target.plan.start_year, target.pk)


def effective_targets_for_units(
    *, parent: AdministrativeUnit, units: list[AdministrativeUnit], title: str, year: int
) -> dict[int, Target | None]:
    """The target in force for each of ``units`` (children of ``parent``), in one
    query: the same answer as ``effective_target(unit=u, ...)`` for each."""
    shared = [*parent.ancestor_ids(), parent.pk]
    own = [u.pk for u in units]
    candidates = list(
        Target.objects.filter(
            plan__tenant_id=parent.tenant_id,
            plan__issuing_unit_id__in=[*shared, *own],
            unit_id__in=[*shared, *own],
            title=title,
            year=year,
        ).select_related("unit", "plan", "plan__issuing_unit")
    )
    out: dict[int, Target | None] = {}
    for unit in units:
        lineage = {*unit.ancestor_ids(), unit.pk}
        fitting = [
            t for t in candidates if t.unit_id in lineage and t.plan.issuing_unit_id in lineage
        ]
        out[unit.pk] = max(fitting, key=_rank) if fitting else None
    return out


def yearly_targets(
    *, unit: AdministrativeUnit, title: str, years: list[int]
) -> dict[int, Target | None]:
    """The target in force for ``unit`` in each of ``years`` (one query)."""
    by_year = {t.year: t for t in effective_targets(unit=unit, title=title)}
    return {y: by_year.get(y) for y in years}


# --- Submissions against the deadlines ---------------------------------------------------


def figures_fingerprint(
    *,
    unit: AdministrativeUnit,
    title: str,
    year: int,
    scope_level: str,
    mode: str = MODE_THEN,
    today: dt.date | None = None,
) -> str:
    """A short digest of every input of the dashboard's figure sections (summary,
    children, lagging units, trend, charts), read in one query of indexed lookups:

    - the unit's children (count, versions, last change, how many have ended) and
      the units below them (count, last change: drill-down links);
    - the rollup rows of the unit and its children over the trend's years (count,
      last ``updated_at`` and the sum of every counter: every recognition-affecting
      change moves the unit's own row in the same transaction);
    - the targets of the title over those years (count, rate targets, sum, last
      id) and the tenant's plans (last change);
    - in the mapped view, also the rollup rows of every closed unit of the
      tenant over those years, the applied reorganisations' mappings, and today
      (a plan dated later comes into force, today's children change).

    When the digest is unchanged, so are the figures.
    """
    quote = connection.ops.quote_name
    units = quote(AdministrativeUnit._meta.db_table)
    years = list(range(year - TREND_YEARS + 1, year + 1))
    params: dict[str, Any] = {"u": unit.pk, "t": unit.tenant_id, "title": title, "lv": scope_level}
    params.update({f"y{i}": y for i, y in enumerate(years)})
    in_years = ", ".join(f"%(y{i})s" for i in range(len(years)))
    children = f"FROM {units} c WHERE c.parent_id = %(u)s"
    below = f"FROM {units} g JOIN {units} c ON g.parent_id = c.id WHERE c.parent_id = %(u)s"
    rollups = (
        f"FROM {quote(Rollup._meta.db_table)} r WHERE r.tenant_id = %(t)s "  # noqa: S608
        f"AND r.title = %(title)s AND r.scope_level = %(lv)s AND r.year IN ({in_years}) "
        f"AND r.unit_id IN (SELECT c.id FROM {units} c WHERE c.parent_id = %(u)s OR c.id = %(u)s)"
    )
    targets = (
        f"FROM {quote(Target._meta.db_table)} t JOIN {quote(Plan._meta.db_table)} p "
        f"ON p.id = t.plan_id WHERE p.tenant_id = %(t)s AND t.title = %(title)s "
        f"AND t.year IN ({in_years})"
    )
    plans = f"FROM {quote(Plan._meta.db_table)} p WHERE p.tenant_id = %(t)s"
    sums = ", ".join(f"SUM(r.{quote(name)})" for name in COUNTERS)
    parts = [
        f"SELECT COUNT(*), SUM(c.version), MAX(c.updated_at), COUNT(c.valid_to) {children}",
        f"SELECT COUNT(*), MAX(g.updated_at) {below}",
        f"SELECT COUNT(*), MAX(r.updated_at), {sums} {rollups}",
        "SELECT COUNT(*), COUNT(CASE WHEN t.kind = 'rate' THEN 1 END), SUM(t.value), "
        f"MAX(t.id) {targets}",
        f"SELECT MAX(p.updated_at) {plans}",
    ]
    if mode == MODE_MAPPED:
        from units.reorganisation.models import (
            Reorganisation,
            ReorganisationMapping,
            ReorganisationStatus,
        )

        params["applied"] = ReorganisationStatus.APPLIED.value

        closed_rollups = (
            f"FROM {quote(Rollup._meta.db_table)} r JOIN {units} c ON c.id = r.unit_id "
            f"WHERE r.tenant_id = %(t)s AND r.title = %(title)s AND r.scope_level = %(lv)s "
            f"AND r.year IN ({in_years}) AND c.valid_to IS NOT NULL"
        )
        mappings = (
            f"FROM {quote(ReorganisationMapping._meta.db_table)} m "
            f"JOIN {quote(Reorganisation._meta.db_table)} p ON p.id = m.plan_id "
            f"WHERE p.tenant_id = %(t)s AND p.status = %(applied)s"
        )
        parts += [
            f"SELECT COUNT(*), MAX(r.updated_at), {sums} {closed_rollups}",
            f"SELECT COUNT(*), MAX(m.id) {mappings}",
        ]
    # Each part is an aggregate without GROUP BY: exactly one row, joined side by side.
    sql = "SELECT * FROM " + " CROSS JOIN ".join(f"({q}) q{i}" for i, q in enumerate(parts))  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    when = (today or timezone.localdate()).isoformat() if mode == MODE_MAPPED else ""
    raw = repr((unit.pk, unit.version, unit.updated_at, title, scope_level, year, mode, when, row))
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def _title_fits(deadline: Deadline, title: str) -> bool:
    return not deadline.title or deadline.title == title


def submissions(
    *,
    unit: AdministrativeUnit,
    children: list[AdministrativeUnit],
    title: str,
    year: int,
    today: dt.date,
    deadlines: list[Deadline] | None = None,
) -> list[Submissions]:
    """For each deadline of ``year`` (of ``title`` or of every title) that the
    units under ``unit`` must meet (``deadlines`` when already read): per child,
    how many concerned units submitted on time, late, have not submitted
    although the date has passed, or still may; a few queries per deadline."""
    out: list[Submissions] = []
    if deadlines is None:
        deadlines = submission_deadlines(unit=unit, title=title, year=year)
    for deadline in deadlines:
        concerned = list(concerned_units(deadline, within=unit, superseded=True))
        if not concerned:
            continue
        met = met_units(deadline, [u.pk for u in concerned])
        extended = extended_until(deadline, concerned)
        by_child = {c.pk: SubmissionRow(unit=c) for c in children}
        for u in concerned:
            row = by_child.get(_child_id(unit, u))
            if row is None:
                continue
            row.total += 1
            done = met.get(u.pk)
            if done is not None and done.late:
                row.late += 1
                if len(row.late_units) < NAME_LIMIT:
                    row.late_units.append(u)
            elif done is not None:
                row.on_time += 1
            elif today <= deadline.due_on or u.pk in extended:
                row.pending += 1
            else:
                row.missing += 1
                if len(row.missing_units) < NAME_LIMIT:
                    row.missing_units.append(u)
        rows = [r for r in by_child.values() if r.total]
        if rows:
            out.append(Submissions(deadline=deadline, rows=rows))
    return out


def submission_deadlines(*, unit: AdministrativeUnit, title: str, year: int) -> list[Deadline]:
    """The deadlines of ``year`` (of ``title`` or of every title) that the units
    under ``unit`` must meet."""
    return [
        d
        for d in drop_superseded(list(applicable_deadlines(unit=unit, year=year)))
        if level_rank(d.level) > level_rank(unit.level) and _title_fits(d, title)
    ]


def _child_id(unit: AdministrativeUnit, below: AdministrativeUnit) -> int:
    """The child of ``unit`` on the way down to ``below`` (from its path; 0 if none)."""
    ids = path_ids(below.path)
    return ids[unit.depth + 1] if len(ids) > unit.depth + 1 else 0


# --- The whole page ----------------------------------------------------------------------


def dashboard_children(
    unit: AdministrativeUnit, figures: dict[int, Figures], year: int | None = None
) -> list[AdministrativeUnit]:
    """The children with figures, and those in force during ``year`` (today's
    children without a year): "as the units were then", a year before a
    reorganisation lists the units of that year, not the ones created since."""
    if year is None:
        return [c for c in children_of(unit) if c.valid_to is None or c.pk in figures]
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return [
        c
        for c in children_of(unit)
        if c.pk in figures or (c.valid_from <= last and (c.valid_to is None or c.valid_to >= first))
    ]


def dashboard_for_unit(
    *,
    unit: AdministrativeUnit,
    title: str,
    year: int,
    today: dt.date,
    scope_level: str | None = None,
    mode: str = MODE_THEN,
) -> Dashboard:
    level = default_scope_level(title) if scope_level is None else scope_level
    if mode == MODE_MAPPED:
        return _mapped_dashboard(unit=unit, title=title, year=year, today=today, level=level)
    by_child = children_figures(unit=unit, title=title, year=year, scope_level=level)
    children = dashboard_children(unit, by_child, year)
    child_targets = effective_targets_for_units(parent=unit, units=children, title=title, year=year)
    years = list(range(year - TREND_YEARS + 1, year + 1))
    yearly = yearly_figures(unit=unit, title=title, years=years, scope_level=level)
    year_targets = yearly_targets(unit=unit, title=title, years=years)
    figures = yearly.get(year, Figures())
    return Dashboard(
        unit=unit,
        title=title,
        year=year,
        scope_level=level,
        figures=figures,
        check=check_target(figures, year_targets[year]),
        children=[
            ChildRow(
                unit=c,
                figures=by_child.get(c.pk, Figures()),
                check=check_target(by_child.get(c.pk, Figures()), child_targets.get(c.pk)),
                drillable=bool(getattr(c, "child_count", 0)),
            )
            for c in children
        ],
        trend=[
            TrendPoint(
                year=y,
                figures=yearly.get(y, Figures()),
                check=check_target(yearly.get(y, Figures()), year_targets[y]),
            )
            for y in years
        ],
        submissions=submissions(unit=unit, children=children, title=title, year=year, today=today),
    )


def _mapped_dashboard(
    *, unit: AdministrativeUnit, title: str, year: int, today: dt.date, level: str
) -> Dashboard:
    """The page mapped onto today's units: today's children, every figure with
    the closed units that map onto it."""
    children = [c for c in children_of(unit) if c.is_valid_on(today)]
    years = list(range(year - TREND_YEARS + 1, year + 1))
    figures, shared = mapped_figures(
        units=[unit, *children], title=title, years=years, scope_level=level, today=today
    )
    child_targets = effective_targets_for_units(parent=unit, units=children, title=title, year=year)
    year_targets = yearly_targets(unit=unit, title=title, years=years)
    own = figures.get((unit.pk, year), Figures())
    return Dashboard(
        unit=unit,
        title=title,
        year=year,
        scope_level=level,
        figures=own,
        check=check_target(own, year_targets[year]),
        children=[
            ChildRow(
                unit=c,
                figures=figures.get((c.pk, year), Figures()),
                check=check_target(figures.get((c.pk, year), Figures()), child_targets.get(c.pk)),
                drillable=bool(getattr(c, "child_count", 0)),
                shared=c.pk in shared,
            )
            for c in children
        ],
        trend=[
            TrendPoint(
                year=y,
                figures=figures.get((unit.pk, y), Figures()),
                check=check_target(figures.get((unit.pk, y), Figures()), year_targets[y]),
                shared=unit.pk in shared,
            )
            for y in years
        ],
        submissions=submissions(unit=unit, children=children, title=title, year=year, today=today),
        mode=MODE_MAPPED,
        shared=unit.pk in shared,
    )


def scope_levels_for(title: str) -> list[str]:
    """Levels a community-title dashboard can be read at."""
    if title != Title.COMMUNITY:
        return []
    return [Level.NEIGHBOURHOOD, Level.COMMUNE, Level.DISTRICT]

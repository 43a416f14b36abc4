"""Writes of the reports app: the rollup counters (see :class:`reports.models.Rollup`).

The recognition services call the ``rollup_*`` hooks inside their own
transaction, so the counters move with the change they count;
:func:`rollups_rebuild` recomputes everything from the source tables.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Greatest
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from recognition.models import (
    Assessment,
    AssessmentStatus,
    Citizen,
    Clan,
    Household,
    Organisation,
    Registration,
    RegistrationStatus,
)
from recognition.titles import Title
from reports.models import FrozenBase, Rollup
from units.models import AdministrativeUnit, Tenant, path_ids

COUNTERS = ("registered", "assessed", "approved", "recognised")

#: The subjects counted in the eligible base of each title (cong_dong counts units).
TITLE_SUBJECT_MODEL: dict[str, type[models.Model]] = {
    Title.FAMILY: Household,
    Title.CLAN: Clan,
    Title.ORGANISATION: Organisation,
    Title.CITIZEN: Citizen,
}
MODEL_TITLE: dict[type[models.Model], str] = {m: t for t, m in TITLE_SUBJECT_MODEL.items()}

Key = tuple[int, int, str, str]  # unit_id, year, title, scope_level


def scope_level_for(title: str, unit_level: str) -> str:
    """The rollup's scope level: the registered unit's level for the community title."""
    return unit_level if title == Title.COMMUNITY else ""


def assessment_flags(status: str) -> tuple[int, int, int]:
    """(assessed, approved, recognised) of one assessment in ``status``."""
    return (
        int(status != AssessmentStatus.DRAFT),
        int(status in (AssessmentStatus.APPROVED, AssessmentStatus.RECOGNISED)),
        int(status == AssessmentStatus.RECOGNISED),
    )


def eligible_bases(units: list[AdministrativeUnit], title: str, scope_level: str) -> dict[int, int]:
    """The eligible base of each unit's subtree, in one query."""
    if title == Title.COMMUNITY:
        qs: Any = AdministrativeUnit.objects.filter(level=scope_level, valid_to__isnull=True)
        prefix = "path"
    else:
        qs = TITLE_SUBJECT_MODEL[title].objects.filter(is_active=True)  # type: ignore[attr-defined]
        prefix = "unit__path"
    counts = qs.filter(tenant_id=units[0].tenant_id).aggregate(
        **{f"u{u.pk}": Count("pk", filter=Q(**{f"{prefix}__startswith": u.path})) for u in units}
    )
    out = {u.pk: counts[f"u{u.pk}"] for u in units}
    frozen = FrozenBase.objects.filter(
        unit_id__in=list(out), title=title, scope_level=scope_level
    ).values_list("unit_id", "eligible_base")
    out.update(frozen)
    return out


def bases_freeze(*, unit_ids: Iterable[int], on: dt.date) -> int:
    """Keep the eligible base of units a reorganisation is about to close
    (see :class:`reports.models.FrozenBase`), from their rollup rows, before
    their subjects move. A unit closes once; a second call changes nothing.
    Returns the number of rows kept."""
    kept = 0
    ids = sorted(set(unit_ids))
    for start in range(0, len(ids), 5000):
        rows = (
            Rollup.objects.filter(unit_id__in=ids[start : start + 5000])
            .values_list("tenant_id", "unit_id", "title", "scope_level")
            .annotate(base=Max("eligible_base"))
            .order_by()
        )
        created = FrozenBase.objects.bulk_create(
            [
                FrozenBase(
                    tenant_id=tenant_id,
                    unit_id=unit_id,
                    title=title,
                    scope_level=scope_level,
                    eligible_base=base,
                    frozen_on=on,
                )
                for tenant_id, unit_id, title, scope_level, base in rows
            ],
            ignore_conflicts=True,
            batch_size=5000,
        )
        kept += len(created)
    return kept


def _increments(deltas: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, delta in deltas.items():
        if delta > 0:
            out[name] = F(name) + delta
        elif delta < 0:
            # Never below zero (rows rebuilt after a bulk load stay consistent).
            out[name] = Greatest(F(name) - (-delta), 0)
    return out


def rollup_apply(
    *,
    unit_paths_or_ids: str | Iterable[int],
    year: int,
    title: str,
    scope_level: str,
    deltas: dict[str, int],
) -> None:
    """Add ``deltas`` (counter name → change) to the rows of a unit and its ancestors.

    ``unit_paths_or_ids`` is the unit's materialised path, or the ids of the
    unit and all its ancestors. One UPDATE moves every existing row (in the
    unique index's unit order, so concurrent transitions lock ancestors in the
    same order) and returns which units it found; only when some rows are
    missing are they created (with their eligible base) and moved in turn.
    """
    if isinstance(unit_paths_or_ids, str):
        ids = path_ids(unit_paths_or_ids)
    else:
        ids = list(unit_paths_or_ids)
    increments = _increments(deltas)
    if not increments or not ids:
        return
    found = _move(ids, year=year, title=title, scope_level=scope_level, increments=increments)
    missing = [pk for pk in ids if pk not in found]
    if not missing:
        return
    units = {
        u.pk: u
        for u in AdministrativeUnit.objects.filter(pk__in=missing).only("pk", "tenant_id", "path")
    }
    missing = [pk for pk in missing if pk in units]
    if not missing:
        return
    bases = eligible_bases([units[pk] for pk in missing], title, scope_level)
    Rollup.objects.bulk_create(
        [
            Rollup(
                tenant_id=units[pk].tenant_id,
                unit_id=pk,
                year=year,
                title=title,
                scope_level=scope_level,
                eligible_base=bases[pk],
            )
            for pk in missing
        ],
        ignore_conflicts=True,
    )
    _move(missing, year=year, title=title, scope_level=scope_level, increments=increments)


def _move(
    ids: list[int], *, year: int, title: str, scope_level: str, increments: dict[str, Any]
) -> set[int]:
    """One UPDATE of the rows of ``ids``; returns the units whose row it moved."""
    rows = Rollup.objects.filter(unit_id__in=ids, year=year, title=title, scope_level=scope_level)
    if connection.vendor != "postgresql":
        found = set(rows.values_list("unit_id", flat=True))
        rows.update(**increments, updated_at=timezone.now())
        return found
    # Django's UPDATE with RETURNING (QuerySet.update returns a count only).
    query = rows.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)  # noqa: S101 - narrows the type for mypy
    query.add_update_values({**increments, "updated_at": timezone.now()})
    sql, params = query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {connection.ops.quote_name('unit_id')}", params)
        return {row[0] for row in cursor.fetchall()}


def rollup_registrations(
    *, units: Iterable[AdministrativeUnit], title: str, year: int, sign: int = 1
) -> None:
    """``registered ± 1`` for each registration (the unit of each registration)."""
    per_unit: Counter[int] = Counter()
    by_pk: dict[int, AdministrativeUnit] = {}
    for unit in units:
        per_unit[unit.pk] += 1
        by_pk[unit.pk] = unit
    for unit_id, n in per_unit.items():
        unit = by_pk[unit_id]
        rollup_apply(
            unit_paths_or_ids=unit.path,
            year=year,
            title=title,
            scope_level=scope_level_for(title, unit.level),
            deltas={"registered": sign * n},
        )


def rollup_assessments_moved(*, moves: Iterable[tuple[int, str]], new_status: str) -> None:
    """Count assessments moving from their old status (``(pk, old_status)``) to
    ``new_status``: the deltas are summed per unit first, one update per unit."""
    old_by_pk = dict(moves)
    if not old_by_pk:
        return
    new = assessment_flags(new_status)
    totals: dict[tuple[str, int, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = Assessment.objects.filter(pk__in=list(old_by_pk)).values_list(
        "pk", "unit__path", "unit__level", "registration__year", "registration__title"
    )
    for pk, path, level, year, title in rows.iterator(chunk_size=5000):
        old = assessment_flags(old_by_pk[pk])
        acc = totals[(path, year, title, scope_level_for(title, level))]
        for i in range(3):
            acc[i] += new[i] - old[i]
    for (path, year, title, scope_level), (assessed, approved, recognised) in totals.items():
        rollup_apply(
            unit_paths_or_ids=path,
            year=year,
            title=title,
            scope_level=scope_level,
            deltas={"assessed": assessed, "approved": approved, "recognised": recognised},
        )


def rollup_subject_changed(*, subject: Any, delta: int, unit_id: int | None = None) -> None:
    """A subject was created (+1), deactivated (-1) or reactivated (+1): move the
    eligible base of its title's existing rows (every year) on its unit (``unit_id``,
    by default the subject's) and ancestors."""
    title = MODEL_TITLE.get(type(subject))
    if title is None or not delta:
        return
    unit = AdministrativeUnit.objects.only("path").get(pk=unit_id or subject.unit_id)
    Rollup.objects.filter(unit_id__in=path_ids(unit.path), title=title).update(
        **_increments({"eligible_base": delta}), updated_at=timezone.now()
    )


def rollup_bases_moved(*, model: type[models.Model], deltas: dict[int, int]) -> None:
    """Bulk form of :func:`rollup_subject_changed` (imports): ``deltas`` is the net
    change of active subjects per unit. Each unit adds to itself and its ancestors,
    and units with the same net change are moved by one UPDATE."""
    title = MODEL_TITLE.get(model)
    if title is None:
        return
    paths = dict(
        AdministrativeUnit.objects.filter(pk__in=[u for u, d in deltas.items() if d]).values_list(
            "pk", "path"
        )
    )
    totals: Counter[int] = Counter()
    for unit_id, delta in deltas.items():
        if delta and unit_id in paths:
            for pk in path_ids(paths[unit_id]):
                totals[pk] += delta
    by_delta: dict[int, list[int]] = defaultdict(list)
    for pk, delta in totals.items():
        if delta:
            by_delta[delta].append(pk)
    now = timezone.now()
    for delta, unit_ids in by_delta.items():
        Rollup.objects.filter(unit_id__in=unit_ids, title=title).update(
            **_increments({"eligible_base": delta}), updated_at=now
        )


# --- Rebuild ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RebuildResult:
    rows: int
    registrations: int
    assessments: int
    seconds: float


def _expand(
    leaf_counts: dict[int, int] | Counter[int], units: dict[int, tuple[str, str]]
) -> Counter[int]:
    """Per-unit counts → subtree counts (each leaf adds to itself and its ancestors)."""
    out: Counter[int] = Counter()
    for unit_id, n in leaf_counts.items():
        for pk in path_ids(units[unit_id][0]):
            out[pk] += n
    return out


@transaction.atomic
def rollups_rebuild(*, tenant: Tenant | None = None) -> RebuildResult:
    """Recompute every rollup row (of ``tenant``, or of every tenant) from scratch
    with GROUP BY queries and replace the rows, in one transaction."""
    started = time.perf_counter()
    tenant_q = Q(tenant=tenant) if tenant is not None else Q()
    unit_rows = AdministrativeUnit.objects.filter(tenant_q).values_list(
        "pk", "path", "level", "tenant_id", "valid_to"
    )
    units: dict[int, tuple[str, str]] = {}
    tenant_of: dict[int, int] = {}
    current_by_level: dict[str, Counter[int]] = defaultdict(Counter)
    for pk, path, level, tenant_id, valid_to in unit_rows.iterator(chunk_size=10000):
        units[pk] = (path, level)
        tenant_of[pk] = tenant_id
        if valid_to is None:
            current_by_level[level][pk] += 1

    leaf: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    registrations = 0
    reg_rows = (
        Registration.objects.filter(tenant_q)
        .values_list("unit_id", "year", "title")
        .annotate(
            total=Count("pk"),
            registered=Count("pk", filter=Q(status=RegistrationStatus.REGISTERED)),
        )
        .order_by()
    )
    for unit_id, year, title, total, registered in reg_rows:
        key = (unit_id, year, title, scope_level_for(title, units[unit_id][1]))
        leaf[key][0] += registered
        registrations += total
    assessments = 0
    not_draft = ~Q(status=AssessmentStatus.DRAFT)
    approved = Q(status__in=[AssessmentStatus.APPROVED, AssessmentStatus.RECOGNISED])
    ass_rows = (
        Assessment.objects.filter(tenant_q)
        .values_list("unit_id", "registration__year", "registration__title")
        .annotate(
            total=Count("pk"),
            assessed=Count("pk", filter=not_draft),
            approved=Count("pk", filter=approved),
            recognised=Count("pk", filter=Q(status=AssessmentStatus.RECOGNISED)),
        )
        .order_by()
    )
    for unit_id, year, title, total, n_assessed, n_approved, n_recognised in ass_rows:
        key = (unit_id, year, title, scope_level_for(title, units[unit_id][1]))
        acc = leaf[key]
        acc[1] += n_assessed
        acc[2] += n_approved
        acc[3] += n_recognised
        assessments += total

    totals: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (unit_id, year, title, scope_level), counts in leaf.items():
        for pk in path_ids(units[unit_id][0]):
            acc = totals[(pk, year, title, scope_level)]
            for i in range(4):
                acc[i] += counts[i]

    # Eligible bases, computed only for the titles (and levels) that have rows.
    needed = {(title, scope_level) for _u, _y, title, scope_level in totals}
    bases: dict[tuple[str, str], Counter[int]] = {}
    for title, scope_level in needed:
        if title == Title.COMMUNITY:
            bases[(title, scope_level)] = _expand(current_by_level[scope_level], units)
        else:
            model = TITLE_SUBJECT_MODEL[title]
            per_unit = dict(
                model.objects.filter(tenant_q, is_active=True)  # type: ignore[attr-defined]
                .values_list("unit_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            bases[(title, scope_level)] = _expand(per_unit, units)

    # Units closed by a reorganisation keep the base they had when they closed.
    frozen = FrozenBase.objects.filter(tenant_q).values_list(
        "unit_id", "title", "scope_level", "eligible_base"
    )
    for unit_id, title, scope_level, base in frozen.iterator(chunk_size=10000):
        if (title, scope_level) in bases:
            bases[(title, scope_level)][unit_id] = base

    Rollup.objects.filter(tenant_q).delete()
    now = timezone.now()
    Rollup.objects.bulk_create(
        (
            Rollup(
                tenant_id=tenant_of[unit_id],
                unit_id=unit_id,
                year=year,
                title=title,
                scope_level=scope_level,
                registered=c[0],
                assessed=c[1],
                approved=c[2],
                recognised=c[3],
                eligible_base=bases[(title, scope_level)][unit_id],
                updated_at=now,
            )
            for (unit_id, year, title, scope_level), c in totals.items()
        ),
        batch_size=5000,
    )
    return RebuildResult(
        rows=len(totals),
        registrations=registrations,
        assessments=assessments,
        seconds=time.perf_counter() - started,
    )

"""Rollups at scale: rebuild time, dashboard read vs live GROUP BY, incremental latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench .venv/bin/python bench/rollups.py [--rows 2000000]

Generates (or reuses) the throwaway tenant ``bench-rollups``: a unit tree from
``manage.py generate_units`` and ``--rows`` households, registrations and
assessments (statuses spread over the cycle) inserted with INSERT … SELECT
generate_series. Then times ``rollups_rebuild``, the naive live GROUP BY of a
city dashboard (counts per child unit for one title and year) beside the same
read from the rollup rows, and ``rollup_apply`` per recognition (200 runs):
the time it adds inside the recognition's transaction, and the same with a
transaction and commit of its own.

``--tenant SLUG`` measures an existing tenant instead (e.g. ``bench-city``, the
17 M-assessment city that ``bench/dashboard.py --households 6600000`` generates)
and skips the generation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

SLUG = "bench-rollups"
YEAR = 2025


def _insert_select(model: Any, overrides: dict[str, str], source: str) -> str:
    """INSERT INTO <model> (every concrete column) SELECT … FROM ``source``;
    columns not in ``overrides`` take their default (NULL, now(), a fresh uuid)."""
    from django.db import models

    cols, exprs = [], []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField):
            continue
        column = field.column
        cols.append(f'"{column}"')
        if column in overrides:
            exprs.append(overrides[column])
        elif isinstance(field, models.UUIDField):
            exprs.append("gen_random_uuid()")
        elif isinstance(field, models.DateTimeField):
            exprs.append("now()")
        elif field.has_default() and not callable(field.default):
            default = field.get_db_prep_value(field.default, connection=None, prepared=True)
            exprs.append("NULL" if default is None else repr(default).replace('"', "'"))
        elif isinstance(field, models.CharField | models.TextField):
            exprs.append("''")
        else:
            exprs.append("NULL")
    return f'INSERT INTO "{model._meta.db_table}" ({", ".join(cols)}) SELECT {", ".join(exprs)} FROM {source}'  # noqa: S608 - our own SQL


def generate(rows: int) -> Any:
    from django.core.management import call_command
    from django.db import connection, transaction

    from recognition.models import Assessment, CriteriaSet, Household, Registration
    from units.models import AdministrativeUnit, Tenant

    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant and Assessment.objects.filter(tenant=tenant).count() == rows:
        return tenant
    if tenant:
        with connection.cursor() as cur:
            for table in (
                "reports_rollup",
                "recognition_assessment",
                "recognition_registration",
                "recognition_household",
            ):
                cur.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
    call_command(
        "generate_units", tenant_slug=SLUG, units=20_000, districts=20, communes=300, replace=True
    )
    tenant = Tenant.objects.get(slug=SLUG)
    leaves = list(
        AdministrativeUnit.objects.filter(tenant=tenant, level="neighbourhood")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    cs = CriteriaSet.objects.filter(title="gia_dinh").first()
    if cs is None:
        from recognition.shipped import load_shipped_criteria

        load_shipped_criteria()
        cs = CriteriaSet.objects.filter(title="gia_dinh").first()
    started = time.perf_counter()
    statuses = (
        "(ARRAY['draft','ready','submitted','returned','approved','rejected',"
        "'recognised','recognised','approved','recognised'])[1 + r.id % 10]"
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_leaves (n int PRIMARY KEY, unit_id int) ON COMMIT DROP"
        )
        cur.execute(
            "INSERT INTO bench_leaves SELECT n - 1, u FROM unnest(%s::int[]) WITH ORDINALITY AS t(u, n)",
            [leaves],
        )
        src = f"generate_series(1, {rows}) g JOIN bench_leaves l ON l.n = g % {len(leaves)}"
        cur.execute(
            _insert_select(
                Household,
                {
                    "tenant_id": str(tenant.pk),
                    "unit_id": "l.unit_id",
                    "code": "'B' || g",
                    "head_name": "'Hộ ' || g",
                    "member_count": "4",
                    "is_active": "true",
                    "version": "1",
                },
                src,
            )
        )
        cur.execute(
            _insert_select(
                Registration,
                {
                    "tenant_id": str(tenant.pk),
                    "unit_id": "h.unit_id",
                    "proposing_unit_id": "h.unit_id",
                    "title": "'gia_dinh'",
                    "year": str(YEAR),
                    "subject_kind": "'household'",
                    "household_id": "h.id",
                    "status": "'registered'",
                },
                f"recognition_household h WHERE h.tenant_id = {tenant.pk}",
            )
        )
        cur.execute(
            _insert_select(
                Assessment,
                {
                    "tenant_id": str(tenant.pk),
                    "unit_id": "r.unit_id",
                    "registration_id": "r.id",
                    "criteria_set_id": str(cs.pk),
                    "area_class": "'normal'",
                    "version": "1",
                    "status": statuses,
                },
                f"recognition_registration r WHERE r.tenant_id = {tenant.pk}",
            )
        )
        cur.execute("ANALYZE recognition_household")
        cur.execute("ANALYZE recognition_registration")
        cur.execute("ANALYZE recognition_assessment")
    print(
        f"generated {rows:,} households, registrations, assessments in "
        f"{time.perf_counter() - started:.1f} s over {len(leaves):,} neighbourhoods"
    )
    return tenant


def ms(fn: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tenant", default="", help="an existing tenant's slug (no generation)")
    args, _unknown = parser.parse_known_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("bench/rollups.py needs DATABASE_URL pointing at PostgreSQL", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    from subtree import ensure_database

    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import Count, Q

    call_command("migrate", interactive=False, verbosity=0)
    from recognition.models import Assessment
    from reports.models import Rollup
    from reports.services import rollup_apply, rollups_rebuild
    from units.models import AdministrativeUnit, Tenant

    tenant = Tenant.objects.get(slug=args.tenant) if args.tenant else generate(args.rows)
    result = rollups_rebuild(tenant=tenant)
    print(
        f"rollups_rebuild: {result.rows:,} rows from {result.assessments:,} assessments "
        f"in {result.seconds:.2f} s"
    )
    city = AdministrativeUnit.objects.get(tenant=tenant, parent__isnull=True)
    children = list(AdministrativeUnit.objects.filter(parent=city).values_list("pk", "path"))

    child_ids = [pk for pk, _path in children]

    def live() -> list[Any]:
        # The naive dashboard: one GROUP BY over the assessments per child subtree.
        out = []
        for pk, path in children:
            out.append(
                (
                    pk,
                    Assessment.objects.filter(
                        tenant=tenant,
                        registration__year=YEAR,
                        registration__title="gia_dinh",
                        unit__path__startswith=path,
                    ).aggregate(
                        assessed=Count("pk", filter=~Q(status="draft")),
                        recognised=Count("pk", filter=Q(status="recognised")),
                    ),
                )
            )
        return out

    def rolled() -> list[Any]:
        return list(
            Rollup.objects.filter(
                unit_id__in=child_ids, year=YEAR, title="gia_dinh", scope_level=""
            ).values_list("unit_id", "assessed", "recognised")
        )

    live_ms = ms(live, max(1, args.runs // 2))
    rolled_ms = ms(rolled, args.runs * 10)
    print(
        f"city dashboard ({len(children)} child units): live GROUP BY median "
        f"{statistics.median(live_ms):.1f} ms; from rollups median {statistics.median(rolled_ms):.2f} ms"
    )
    leaf = AdministrativeUnit.objects.filter(tenant=tenant, level="neighbourhood").first()
    sign = [1]

    def apply() -> None:
        # Back and forth, so the counters stay where they were.
        sign[0] = -sign[0]
        rollup_apply(
            unit_paths_or_ids=leaf.path,
            year=YEAR,
            title="gia_dinh",
            scope_level="",
            deltas={"approved": sign[0], "recognised": -sign[0]},
        )

    def committed() -> None:
        with transaction.atomic():
            apply()

    inside: list[float] = []
    for _ in range(200):
        with transaction.atomic():
            started = time.perf_counter()
            apply()
            inside.append((time.perf_counter() - started) * 1000)
    apply_ms = ms(committed, 200)
    for label, samples in (
        ("inside the recognition's transaction", inside),
        ("with its own transaction and commit", apply_ms),
    ):
        print(
            f"rollup_apply per recognition, {label}: median {statistics.median(samples):.2f} ms, "
            f"p95 {sorted(samples)[189]:.2f} ms (200 runs; target ≤ 20 ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

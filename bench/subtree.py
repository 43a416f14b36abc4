"""Subtree queries on a 200,000-unit tenant.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench .venv/bin/python bench/subtree.py

Creates the database if it is missing, migrates it, generates the synthetic
tenant ``bench`` with ``manage.py generate_units`` (reused on later runs when
it already has the requested size), then times the subtree query — one
``path LIKE 'prefix%'`` on ``unit_tenant_path_idx`` — for the province, one
district and one commune, plus the scoping selector for a district official,
and prints the PostgreSQL plans. Exits 1 when the district or commune query
does not use the index. Results also go to ``bench/out/subtree.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

INDEX = "unit_tenant_path_idx"
OUT = BASE_DIR / "bench" / "out" / "subtree.json"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist."""
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        return
    params = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    conninfo = {key: value for key, value in params.items() if value}
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        name = config["NAME"]
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"created database {name}")


def timed(fn: Callable[[], Any], runs: int) -> tuple[dict[str, float], Any]:
    """Run ``fn`` once to warm up, then ``runs`` times; times in milliseconds."""
    result = fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    stats = {
        "median_ms": round(statistics.median(samples), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
    }
    return stats, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per query (median)")
    parser.add_argument("--tenant-slug", default="bench")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the tenant's tree")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url:
        print(
            "DATABASE_URL is not set. Example:\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench "
            ".venv/bin/python bench/subtree.py",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    ensure_database(url)

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection

    from accounts.services import user_ensure
    from units import services
    from units.models import AdministrativeUnit, Tenant
    from units.roles import Role
    from units.selectors import forget_grants, units_for_user

    call_command("migrate", interactive=False, verbosity=0)
    slug = args.tenant_slug
    tenant = Tenant.objects.filter(slug=slug).first()
    have = AdministrativeUnit.objects.filter(tenant=tenant).count() if tenant else 0
    if have != args.units or args.regenerate:
        call_command("generate_units", tenant_slug=slug, units=args.units, replace=True)
    else:
        print(f"reusing tenant {slug!r} with {have:,} units (--regenerate to rebuild)")
    tenant = Tenant.objects.get(slug=slug)

    units = AdministrativeUnit.objects.filter(tenant=tenant)
    province = units.get(depth=0)
    districts = list(units.filter(depth=1).order_by("path"))
    district = districts[len(districts) // 2]
    communes = list(units.filter(parent=district).order_by("path"))
    commune = communes[len(communes) // 2]

    def subtree(unit: Any) -> Any:
        return AdministrativeUnit.objects.filter(tenant_id=tenant.pk, path__startswith=unit.path)

    official = user_ensure(
        tenant=tenant,
        username=f"{slug}.district.reviewer",
        email=f"{slug}.district.reviewer@bench.invalid",
        full_name="Bench reviewer",
        password="bench-only-password",  # noqa: S106
    )
    services.role_assign(actor=None, user=official, unit=district, role=Role.REVIEWER)

    def scoped_count() -> int:
        forget_grants(official)
        return units_for_user(official).count()

    vendor = connection.vendor
    server = ""
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SHOW server_version")
            server = f"PostgreSQL {cursor.fetchone()[0]}"
        elif vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            server = f"SQLite {cursor.fetchone()[0]}"

    print()
    print(f"XHHT subtree bench — {server}, Python {platform.python_version()}")
    print(f"tenant {slug!r}: {units.count():,} units; median of {args.runs} runs (after 1 warm-up)")
    print()
    header = f"{'query':<44} {'rows':>9} {'median ms':>10} {'min ms':>8} {'max ms':>8}"
    print(header)
    print("-" * len(header))

    results: list[dict[str, Any]] = []
    cases: list[tuple[str, Callable[[], Any]]] = []
    for label, unit in (("province", province), ("district", district), ("commune", commune)):
        qs = subtree(unit)
        cases.append((f"{label} subtree: count()", qs.count))
        cases.append(
            (
                f"{label} subtree: fetch ids (by path)",
                lambda qs=qs: list(qs.values_list("id", flat=True)),
            )
        )
    cases.append(("units_for_user(district reviewer).count()", scoped_count))
    for name, fn in cases:
        stats, result = timed(fn, args.runs)
        rows = result if isinstance(result, int) else len(result)
        results.append({"query": name, "rows": rows, **stats})
        print(
            f"{name:<44} {rows:>9,} {stats['median_ms']:>10.2f} "
            f"{stats['min_ms']:>8.2f} {stats['max_ms']:>8.2f}"
        )

    plans: dict[str, str] = {}
    index_used: dict[str, bool] = {}
    for label, unit in (("commune", commune), ("district", district), ("province", province)):
        qs = subtree(unit).values_list("id", flat=True)
        # ANALYZE runs the query: the plan shows real rows, time and buffers.
        plan = qs.explain(analyze=True, buffers=True) if vendor == "postgresql" else qs.explain()
        plans[label] = plan
        index_used[label] = INDEX in plan
        print()
        print(
            f"EXPLAIN {label} subtree ({'uses' if index_used[label] else 'does not use'} {INDEX}):"
        )
        print(f"  SQL: {qs.query}")
        for line in plan.splitlines():
            print(f"  {line}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "server": server,
                "units": units.count(),
                "runs": args.runs,
                "results": results,
                "index_used": index_used,
                "plans": plans,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    print()
    print(f"results written to {args.out.relative_to(BASE_DIR)}")
    if vendor == "postgresql" and not (index_used["commune"] and index_used["district"]):
        print(f"FAIL: the district/commune subtree query does not use {INDEX}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

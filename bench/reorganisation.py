"""The national reorganisation plan (issue 9): 10,035 communes merged into 3,321, districts abolished.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench_reorg .venv/bin/python bench/reorganisation.py
    ... bench/reorganisation.py --households 27000000      # the full country (~34 min to generate)

1. Creates the database if missing, migrates it and, once, generates the
   national tenant ``bench-reorg-<households/1000>k``: 63 provinces, 10,035
   communes, ~9 neighbourhoods each (~90,000), ``--households`` households
   (default 2,000,000), registrations and assessments of 2025. By default with
   ``bench/national_tenant.py`` (rows generated inside PostgreSQL: 27 M households,
   72.8 M rows in 33 min on 2 shared cores); ``--generator copy`` uses
   ``manage.py generate_synthetic`` (rows built in Python and COPYed, ~24,000
   rows/s: ~2 h at 27 M). Both write the same tables, columns and proportions.
   Both write the two-tier tree, so the benchmark then puts the
   communes under ~14-commune districts (the tree before 01/07/2025: paths
   rewritten with two UPDATEs, the district level in force since 1900). Reused
   when present (the tenant slug carries the household count).
2. Writes the official-style mapping (XLSX, 10,035 rows: communes of the same
   district merge in groups of ~3 into 3,321 new communes that reuse the first
   old code; effective 01/07/2025) under /tmp.
3. Times, each in a fresh process (so ``ru_maxrss`` is its own peak):
   ``plan_from_mapping`` (read, check, one ``steps_add``), ``reorganisation_preview``
   and ``reorganisation_apply`` with ``abolish_level="district"``. Apply runs in an
   outer transaction that is rolled back afterwards, so the tenant can be reused
   (``--commit`` keeps it; the tenant is then spent); the deferred foreign-key
   checks a commit would run are forced (``SET CONSTRAINTS ALL IMMEDIATE``) and
   counted in its time.

Prints seconds, peak RSS and the load average (``os.getloadavg()``) at the start and
end of each phase; also writes ``bench/out/reorganisation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
OUT = BASE_DIR / "bench" / "out" / "reorganisation.json"
PROVINCES = 63
COMMUNES = 10_035
NEW_COMMUNES = 3_321
NEIGHBOURHOODS = 9
COMMUNES_PER_DISTRICT = 14
EFFECTIVE = "01/07/2025"
MIB = 1024**2


def _setup() -> None:
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)


def _slug(households: int) -> str:
    return f"bench-reorg-{households // 1000}k"


def _mapping_path(households: int) -> Path:
    return Path(f"/tmp/xhht-bench-reorg-{households // 1000}k.xlsx")  # noqa: S108


# --- 1. The tenant ----------------------------------------------------------------------


def prepare(households: int, generator: str = "sql") -> None:
    from subtree import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    _setup()
    from django.core.management import call_command

    from units.models import Tenant

    call_command("migrate", interactive=False, verbosity=0)
    slug = _slug(households)
    if not Tenant.objects.filter(slug=slug).exists():
        per = max(1, round(households / (COMMUNES * NEIGHBOURHOODS)))
        started = time.perf_counter()
        if generator == "sql":
            from national_tenant import generate

            generate(
                slug=slug, provinces=PROVINCES, communes=COMMUNES,
                neighbourhoods_per_commune=NEIGHBOURHOODS, households_per_neighbourhood=per,
                years=(2025,),
            )  # fmt: skip
        else:
            call_command(
                "generate_synthetic",
                tenant=slug,
                provinces=PROVINCES,
                communes=COMMUNES,
                neighbourhoods_per_commune=NEIGHBOURHOODS,
                households_per_neighbourhood=per,
                years="2025",
                no_rebuild=True,
                batch_size=200_000,
            )
        print(f"generated {slug} ({generator}) in {time.perf_counter() - started:.0f} s")
    tenant = Tenant.objects.get(slug=slug)
    _add_districts(tenant)
    path = _mapping_path(households)
    if not path.exists():
        _write_mapping(tenant, path)


def _add_districts(tenant: Any) -> None:
    """Put the communes under districts (the tree before 01/07/2025), once."""
    import datetime as dt

    from django.db import connection, transaction

    from core.text import fold, natural_key
    from units.levels import Kind, Level
    from units.models import PATH_SEGMENT_WIDTH, AdministrativeUnit, TenantLevel, path_segment
    from units.reorganisation.apply import _allocate_ids

    if AdministrativeUnit.objects.filter(tenant=tenant, level=Level.DISTRICT).exists():
        return
    started = time.perf_counter()
    far_past = dt.date(1900, 1, 1)
    with transaction.atomic():
        TenantLevel.objects.get_or_create(
            tenant=tenant, level=Level.DISTRICT, valid_from=far_past, defaults={"valid_to": None}
        )
        provinces = list(AdministrativeUnit.objects.filter(tenant=tenant, level=Level.PROVINCE))
        communes: dict[int, list[int]] = {}
        for pk, parent_id in (
            AdministrativeUnit.objects.filter(tenant=tenant, level=Level.COMMUNE)
            .order_by("code")
            .values_list("pk", "parent_id")
        ):
            communes.setdefault(parent_id, []).append(pk)
        plan: list[tuple[Any, list[int]]] = []
        for province in provinces:
            members = communes.get(province.pk, [])
            count = max(1, round(len(members) / COMMUNES_PER_DISTRICT))
            for index in range(count):
                plan.append((province, members[index::count]))
        ids = _allocate_ids(len(plan))
        rows, links = [], []
        for number, (province, members) in enumerate(plan, start=1):
            pk = next(ids)
            urban = number % 3 != 0
            name = f"{'Quận' if urban else 'Huyện'} Tổng hợp {number}"
            rows.append(
                AdministrativeUnit(
                    id=pk, tenant=tenant, parent=province, path=province.path + path_segment(pk),
                    depth=1, level=Level.DISTRICT,
                    kind=Kind.URBAN_DISTRICT if urban else Kind.RURAL_DISTRICT, name=name,
                    search_name=fold(name), sort_name=natural_key(name), code=f"D{number:04d}",
                    valid_from=far_past,
                )
            )  # fmt: skip
            links.extend((commune, pk, path_segment(pk)) for commune in members)
        AdministrativeUnit.objects.bulk_create(rows, batch_size=2000)
        table = AdministrativeUnit._meta.db_table
        width = PATH_SEGMENT_WIDTH
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_district (commune_id bigint PRIMARY KEY, "
                "district_id bigint, seg text) ON COMMIT DROP"
            )
            with cursor.cursor.copy("COPY bench_district FROM STDIN") as copy:
                for link in links:
                    copy.write_row(link)
            cursor.execute(
                f"UPDATE {table} u SET parent_id = m.district_id, depth = u.depth + 1, "  # noqa: S608
                f"path = substr(u.path, 1, {width}) || m.seg || substr(u.path, {width + 1}) "
                "FROM bench_district m WHERE u.id = m.commune_id"
            )
            cursor.execute(
                f"UPDATE {table} u SET depth = u.depth + 1, "  # noqa: S608
                f"path = substr(u.path, 1, {width}) || m.seg || substr(u.path, {width + 1}) "
                "FROM bench_district m WHERE u.parent_id = m.commune_id"
            )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {AdministrativeUnit._meta.db_table}")
    print(f"{len(rows):,} districts added in {time.perf_counter() - started:.1f} s")


def _write_mapping(tenant: Any, path: Path) -> None:
    """10,035 old → 3,321 new: communes of one district merge in groups of ~3."""
    from spreadsheets.writers import ColumnSpec, write_xlsx
    from units.levels import Kind, Level
    from units.models import AdministrativeUnit
    from units.reorganisation.mapping import COLUMNS

    by_district: dict[int, list[tuple[str, str]]] = {}
    for parent_id, code, kind in (
        AdministrativeUnit.objects.filter(tenant=tenant, level=Level.COMMUNE, valid_to__isnull=True)
        .order_by("code")
        .values_list("parent_id", "code", "kind")
    ):
        by_district.setdefault(parent_id, []).append((code, kind))
    total = sum(len(v) for v in by_district.values())
    target = round(NEW_COMMUNES * total / COMMUNES)
    groups = {d: max(1, round(len(v) / 3)) for d, v in by_district.items()}
    ranked = sorted(by_district, key=lambda d: len(by_district[d]) / groups[d], reverse=True)
    index = 0
    while sum(groups.values()) != target:
        district = ranked[index % len(ranked)]
        step = 1 if sum(groups.values()) < target else -1
        if 1 <= groups[district] + step <= len(by_district[district]):
            groups[district] += step
        index += 1
    rows = []
    for district, members in by_district.items():
        count = groups[district]
        for number in range(count):
            chunk = members[number::count]
            new_code = chunk[0][0]
            ward = any(kind == Kind.WARD for _code, kind in chunk)
            label = "phường" if ward else "xã"
            for old_code, _kind in chunk:
                rows.append([old_code, new_code, f"{label.title()} Mới {new_code}", label,
                             EFFECTIVE, ""])  # fmt: skip
    with path.open("wb") as out:
        write_xlsx(out, columns=[ColumnSpec(c) for c in COLUMNS], rows=rows)
    print(f"mapping: {len(rows):,} rows, {target:,} new communes -> {path}")


# --- 2. One phase in a fresh process -------------------------------------------------------


def phase(name: str, households: int, commit: bool) -> dict[str, Any]:
    _setup()
    from django.db import connection, transaction

    from units.models import Tenant
    from units.reorganisation.mapping import plan_from_mapping, plan_warnings
    from units.reorganisation.models import Reorganisation, ReorganisationStatus
    from units.reorganisation.services import reorganisation_apply, reorganisation_preview

    tenant = Tenant.objects.get(slug=_slug(households))
    out: dict[str, Any] = {"phase": name, "load_start": os.getloadavg()}
    started = time.perf_counter()
    if name == "plan":
        Reorganisation.objects.filter(tenant=tenant, status=ReorganisationStatus.DRAFT).delete()
        started = time.perf_counter()
        with _mapping_path(households).open("rb") as file:
            plan = plan_from_mapping(
                actor=None, file=file, filename="mapping.xlsx", name="Bench 2025",
                abolish_level="district", tenant=tenant,
            )  # fmt: skip
        out["steps"] = plan.steps.count()
        out["warnings"] = len(plan_warnings(plan))
    else:
        plan = Reorganisation.objects.get(tenant=tenant, status=ReorganisationStatus.DRAFT)
        if name == "preview":
            preview = reorganisation_preview(plan=plan)
            out["counts"] = dict(preview.counts)
            out["conflicts"] = len(preview.conflicts)
            out["first_conflicts"] = [c.message for c in preview.conflicts[:5]]
        else:
            with transaction.atomic():
                applied = reorganisation_apply(actor=None, plan=plan, expected_version=plan.version)
                out["result"] = applied.result
                out["seconds_apply"] = time.perf_counter() - started
                # The deferred foreign-key checks a commit would run (one per moved row).
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                out["seconds_fk_checks"] = time.perf_counter() - started - out["seconds_apply"]
                if not commit:
                    transaction.set_rollback(True)
    out["seconds"] = time.perf_counter() - started
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["load_end"] = os.getloadavg()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=2_000_000)
    parser.add_argument("--commit", action="store_true", help="keep the applied plan")
    parser.add_argument(
        "--generator",
        choices=["sql", "copy"],
        default="sql",
        help="sql: bench/national_tenant.py (inside PostgreSQL, default); "
        "copy: manage.py generate_synthetic",
    )
    parser.add_argument(
        "--phase", choices=["prepare", "plan", "preview", "apply"], help=argparse.SUPPRESS
    )
    args, _rest = parser.parse_known_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("bench/reorganisation.py needs DATABASE_URL pointing at PostgreSQL", file=sys.stderr)
        return 2
    if args.phase and args.phase != "prepare":
        print(json.dumps(phase(args.phase, args.households, args.commit), default=str))
        return 0
    if args.phase == "prepare":
        prepare(args.households, args.generator)
        return 0
    # Every step in a child, so this parent stays small: Linux keeps ``ru_maxrss``
    # across fork and exec, a child would report a big parent's peak as its own.
    command = [sys.executable, __file__, "--phase", "prepare", "--households", str(args.households),
               "--generator", args.generator]  # fmt: skip
    if subprocess.call(command):  # noqa: S603 - this script
        return 1
    results = []
    for name in ("plan", "preview", "apply"):
        command = [sys.executable, __file__, "--phase", name, "--households", str(args.households)]
        if args.commit:
            command.append("--commit")
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode:
            print(done.stdout, done.stderr, file=sys.stderr)
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"{name:8} {result['seconds']:8.1f} s   peak RSS {result['peak_rss_mib']:7.0f} MiB")
        for key in (
            "steps", "warnings", "conflicts", "counts", "result", "first_conflicts",
            "seconds_apply", "seconds_fk_checks", "load_start", "load_end",
        ):  # fmt: skip
            if key in result:
                print(f"         {key}: {result[key]}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"households": args.households, "phases": results}, indent=2))
    return 1 if any(r.get("conflicts") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Spreadsheet imports (issue 8's performance targets): ours beside django-import-export's defaults.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench .venv/bin/python bench/imports.py
    ... bench/imports.py --rows 100000 --stream-rows 1000000 --default-rows 20000

1. Creates the database if it is missing, migrates it and, once, a synthetic
   tenant ``bench-import`` (``manage.py generate_units``: 1 province, 2
   districts, 20 wards, ~1,980 neighbourhoods) with a tenant admin.
2. Writes a household file of ``--rows`` rows (default 100,000) as XLSX and as
   CSV, and a CSV of ``--stream-rows`` rows (default 1,000,000), under /tmp.
3. Each measurement runs in a fresh process (so its peak RSS, ``ru_maxrss``, is
   its own) on an empty household table of the tenant:
   - **library default**: django-import-export's ``ModelResource.import_data``
     with default settings (one ``ForeignKeyWidget`` lookup, instance lookup,
     diff and save per row) on ``--default-rows`` rows (default 20,000);
   - **ours, check**: the preview pass (``spreadsheets.engine.run_import`` with
     ``apply=False``) of the XLSX and of the CSV;
   - **ours, check + write**: the apply pass (``apply=True`` in one
     transaction, as ``import_apply_run`` does: the file is checked again and
     written a batch at a time) — the issue's "validated and written";
   - **ours, re-import**: the same file again (every row "unchanged");
   - **streaming**: the check of the ``--stream-rows`` CSV (rows/s and peak RSS).

Targets: 100,000 rows validated and written ≤ 30 s (≥ 3,300 rows/s, ~10× the
default) with peak memory ≤ 1 GiB. Exits 1 when a target is missed. Results
also go to ``bench/out/imports.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
OUT = BASE_DIR / "bench" / "out" / "imports.json"
WORK = Path("/tmp/xhht-bench-imports")  # noqa: S108 - scratch files of a benchmark
SLUG = "bench-import"
TARGET_SECONDS = 30.0
TARGET_PEAK = 1024**3
GIB = 1024**3
MIB = 1024**2


def _setup() -> None:
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)


def prepare(rows: int, stream_rows: int) -> None:
    """Database, tenant and files (reused when present)."""
    from subtree import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    _setup()
    from django.core.management import call_command

    from accounts.models import User
    from units.models import AdministrativeUnit, RoleAssignment, Tenant
    from units.roles import Role

    call_command("migrate", interactive=False, verbosity=0)
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        call_command(
            "generate_units", tenant_slug=SLUG, units=2000, districts=2, communes=20, verbosity=0
        )
        tenant = Tenant.objects.get(slug=SLUG)
    root = AdministrativeUnit.objects.get(tenant=tenant, parent=None)
    user, _created = User.objects.get_or_create(
        username="bench.import", defaults={"tenant": tenant}
    )
    RoleAssignment.objects.get_or_create(
        tenant=tenant, user=user, unit=root, role=Role.TENANT_ADMIN
    )
    codes = list(
        AdministrativeUnit.objects.filter(tenant=tenant, level="neighbourhood")
        .order_by("path")
        .values_list("code", flat=True)
    )
    WORK.mkdir(exist_ok=True)
    _write_files(codes, rows, stream_rows)


def _household_rows(codes: list[str], count: int) -> Any:
    for i in range(count):
        yield [
            f"HB-{i:07d}",
            f"Nguyễn Thị Bích Hạnh {i % 997}",
            f"{i % 300 + 1} đường Lê Hồng Phong",
            i % 7 + 1,
            codes[i % len(codes)],
        ]


HEADERS = ["Mã hộ", "Chủ hộ", "Địa chỉ", "Số nhân khẩu", "Mã khu phố/ấp"]


def _write_files(codes: list[str], rows: int, stream_rows: int) -> None:
    from openpyxl import Workbook

    xlsx = WORK / f"households-{rows}.xlsx"
    if not xlsx.exists():
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Dữ liệu")
        sheet.append(HEADERS)
        for row in _household_rows(codes, rows):
            sheet.append(row)
        book.save(xlsx)
    for count in {rows, stream_rows}:
        path = WORK / f"households-{count}.csv"
        if path.exists():
            continue
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(HEADERS)
            writer.writerows(_household_rows(codes, count))


def _empty_households(tenant: Any) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM recognition_household WHERE tenant_id = %s", [tenant.pk])


def _peak() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(mode: str, path: str, rows: int) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    _setup()
    from django.db import transaction

    from accounts.models import User
    from recognition.models import Household
    from spreadsheets.engine import run_import
    from spreadsheets.kinds.base import ImportContext
    from spreadsheets.kinds.subjects import HouseholdKind
    from units.models import AdministrativeUnit, Tenant

    tenant = Tenant.objects.get(slug=SLUG)
    root = AdministrativeUnit.objects.get(tenant=tenant, parent=None)
    user = User.objects.get(username="bench.import")
    if mode in ("default", "check", "apply"):
        _empty_households(tenant)
    if mode == "default":
        return _library_default(tenant, path, rows)
    ctx = ImportContext(tenant=tenant, unit=root, actor=user, dry_run=mode == "check")
    kind = HouseholdKind(ctx=ctx)
    started = time.perf_counter()
    with open(path, "rb") as source:
        if mode == "check":
            outcome = run_import(kind=kind, file=source, filename=path, ctx=ctx, apply=False)
        else:
            with transaction.atomic():
                outcome = run_import(kind=kind, file=source, filename=path, ctx=ctx, apply=True)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": outcome.total,
        "rows_per_s": outcome.total / seconds,
        "peak_rss_bytes": _peak(),
        "counts": outcome.counts,
        "errors": outcome.error_count,
        "stored": Household.objects.filter(tenant=tenant).count(),
    }


def _library_default(tenant: Any, path: str, rows: int) -> dict[str, Any]:
    """django-import-export as its documentation shows it, default settings."""
    import tablib
    from import_export import fields, resources, widgets

    from recognition.models import Household
    from units.models import AdministrativeUnit

    class DefaultHouseholdResource(resources.ModelResource):
        unit = fields.Field(
            attribute="unit",
            column_name="Mã khu phố/ấp",
            widget=widgets.ForeignKeyWidget(AdministrativeUnit, field="code"),
        )
        code = fields.Field(attribute="code", column_name="Mã hộ")
        head_name = fields.Field(attribute="head_name", column_name="Chủ hộ")
        address = fields.Field(attribute="address", column_name="Địa chỉ")
        member_count = fields.Field(attribute="member_count", column_name="Số nhân khẩu")

        class Meta:
            model = Household
            fields = ("code", "head_name", "address", "member_count", "unit")
            import_id_fields = ("code",)

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            instance.tenant_id = tenant.pk

    with open(path, encoding="utf-8-sig") as source:
        reader = csv.reader(source)
        headers = next(reader)
        data = tablib.Dataset(headers=headers)
        for index, row in enumerate(reader):
            if index >= rows:
                break
            data.append(row)
    started = time.perf_counter()
    result = DefaultHouseholdResource().import_data(data, dry_run=False)
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit(f"library default import failed: {result.totals}")
    return {
        "seconds": seconds,
        "rows": len(data),
        "rows_per_s": len(data) / seconds,
        "peak_rss_bytes": _peak(),
        "stored": Household.objects.filter(tenant=tenant).count(),
    }


def in_child(mode: str, path: Path, rows: int) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - this script, no shell
        [sys.executable, __file__, "--child", mode, "--path", str(path), "--rows", str(rows)],
        check=True,
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _line(label: str, figures: dict[str, Any]) -> str:
    return (
        f"  {label:<44} {figures['rows']:>9,} rows {figures['seconds']:>8.2f} s "
        f"{figures['rows_per_s']:>9,.0f} rows/s  peak {figures['peak_rss_bytes'] / MIB:>6,.0f} MiB"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--stream-rows", type=int, default=1_000_000)
    parser.add_argument("--default-rows", type=int, default=20_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.path, args.rows)))
        return 0
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("bench/imports.py needs DATABASE_URL pointing at PostgreSQL", file=sys.stderr)
        return 2

    started = time.perf_counter()
    prepare(args.rows, args.stream_rows)
    print(f"prepared tenant and files in {time.perf_counter() - started:.1f} s ({WORK})")
    xlsx = WORK / f"households-{args.rows}.xlsx"
    csv_path = WORK / f"households-{args.rows}.csv"
    stream = WORK / f"households-{args.stream_rows}.csv"

    results: dict[str, Any] = {}
    results["library_default"] = in_child("default", csv_path, args.default_rows)
    results["check_xlsx"] = in_child("check", xlsx, args.rows)
    results["apply_xlsx"] = in_child("apply", xlsx, args.rows)
    results["reimport_xlsx"] = in_child("reimport", xlsx, args.rows)
    results["check_csv"] = in_child("check", csv_path, args.rows)
    results["apply_csv"] = in_child("apply", csv_path, args.rows)
    results["stream_check_csv"] = in_child("check", stream, args.stream_rows)

    print("\nHouseholds (PostgreSQL):")
    print(_line("django-import-export defaults (CSV)", results["library_default"]))
    print(_line("ours: check (preview), XLSX", results["check_xlsx"]))
    print(_line("ours: check + write (apply), XLSX", results["apply_xlsx"]))
    print(_line("ours: re-import, all unchanged, XLSX", results["reimport_xlsx"]))
    print(_line("ours: check (preview), CSV", results["check_csv"]))
    print(_line("ours: check + write (apply), CSV", results["apply_csv"]))
    print(
        _line(
            f"ours: streaming check of {args.stream_rows:,} rows, CSV", results["stream_check_csv"]
        )
    )
    default_rate = results["library_default"]["rows_per_s"]
    apply_rate = results["apply_xlsx"]["rows_per_s"]
    print(
        f"\n  speed-up of check + write (XLSX) over the library default: {apply_rate / default_rate:.1f}×"
    )

    failed = []
    for name in ("apply_xlsx", "apply_csv"):
        figures = results[name]
        if (
            figures["rows"] >= 100_000
            and figures["seconds"] > TARGET_SECONDS * figures["rows"] / 100_000
        ):
            failed.append(f"{name}: {figures['seconds']:.1f} s for {figures['rows']:,} rows")
        if figures["peak_rss_bytes"] > TARGET_PEAK:
            failed.append(f"{name}: peak {figures['peak_rss_bytes'] / GIB:.2f} GiB")
        if figures["stored"] != figures["rows"]:
            failed.append(
                f"{name}: {figures['stored']:,} households stored for {figures['rows']:,} rows"
            )
    if results["reimport_xlsx"]["counts"]["unchanged"] != results["reimport_xlsx"]["rows"]:
        failed.append("re-import was not all unchanged")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))
    for line in failed:
        print(f"OVER TARGET: {line}")
    print("all targets met" if not failed else "")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

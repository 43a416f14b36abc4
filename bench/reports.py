"""The yearly report of a 168-ward city, built end to end (PDF + XLSX) in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench .venv/bin/python bench/reports.py
    ... bench/reports.py --tenant bench-city      # the city bench/dashboard.py generated

Uses an existing tenant given by ``--tenant`` (its rollups are rebuilt if it has
none), or generates ``bench-reports`` (``manage.py generate_synthetic``: 168
communes × 29 neighbourhoods, ``--households-per-neighbourhood`` households,
2023–2025). Then, for the city (the tenant's root unit) and ``--year``:

1. beside each other, the figures of the report (every title, the city and each
   of its 168 communes against their targets) read from the rollups
   (``report_figures``) and the same counters from a naive live GROUP BY over
   the assessments and registrations;
2. the whole build as a user starts it: ``report_create`` (sections prefilled
   from the rollups) then the ``report.build`` job run in-process (figures, the
   state-format PDF, the XLSX, both attached in one transaction);
3. the PDF and the XLSX rendered again on their own, timed separately.

Prints seconds, pages and bytes; exits 1 when the end-to-end build takes more
than 60 s (the issue's target). The report rows are deleted afterwards.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from subtree import ensure_database  # noqa: E402 - after the path is set

TARGET_SECONDS = 60.0
SLUG = "bench-reports"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", default="", help="an existing tenant's slug")
    parser.add_argument("--households-per-neighbourhood", type=int, default=50)
    parser.add_argument("--year", type=int, default=2025)
    args, _unknown = parser.parse_known_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("bench/reports.py needs DATABASE_URL pointing at PostgreSQL", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from core.jobs import job_run
    from core.models import Job
    from recognition.models import Assessment
    from reports import report_documents
    from reports.models import Rollup
    from reports.report_models import Report, ReportKind
    from reports.report_services import report_build_start, report_create, report_figures
    from reports.services import rollups_rebuild
    from units.models import PATH_SEGMENT_WIDTH, AdministrativeUnit, Tenant

    call_command("migrate", interactive=False, verbosity=0)
    slug = args.tenant or SLUG
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        if args.tenant:
            print(f"no tenant {slug!r}", file=sys.stderr)
            return 2
        call_command(
            "generate_synthetic",
            tenant=slug,
            communes=168,
            neighbourhoods_per_commune=29,
            households_per_neighbourhood=args.households_per_neighbourhood,
            years="2023,2024,2025",
        )
        tenant = Tenant.objects.get(slug=slug)
    if not Rollup.objects.filter(tenant=tenant).exists():
        rollups_rebuild(tenant=tenant)
    city = AdministrativeUnit.objects.get(tenant=tenant, depth=0)
    assessments = Assessment.objects.filter(tenant=tenant).count()
    year = args.year

    # 1. The figures: rollups against the naive live GROUP BY.
    started = time.perf_counter()
    probe = Report(tenant=tenant, unit=city, kind=ReportKind.YEARLY, year=year)
    figures = report_figures(probe)
    figures_s = time.perf_counter() - started
    quote = connection.ops.quote_name
    naive_sql = (
        f"SELECT substr(u.path, 1, %s), r.title, count(*) FILTER (WHERE a.status <> 'draft'), "  # noqa: S608 - quoted names only
        "count(*) FILTER (WHERE a.status = 'recognised') "
        f"FROM {quote(Assessment._meta.db_table)} a "
        f"JOIN {quote(Assessment._meta.get_field('registration').related_model._meta.db_table)} r "
        "ON r.id = a.registration_id "
        f"JOIN {quote(AdministrativeUnit._meta.db_table)} u ON u.id = a.unit_id "
        "WHERE a.tenant_id = %s AND r.year = %s AND u.path LIKE %s GROUP BY 1, 2"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            naive_sql, [(city.depth + 2) * PATH_SEGMENT_WIDTH, tenant.pk, year, city.path + "%"]
        )
        live = cursor.fetchall()
    naive_s = time.perf_counter() - started
    family = next(t for t in figures["titles"] if t["title"] == "gia_dinh")
    live_recognised = sum(row[3] for row in live if row[1] == "gia_dinh")
    if family["total"].get("recognised", 0) != live_recognised:
        print(
            f"MISMATCH: rollups say {family['total'].get('recognised')} recognised, "
            f"the live GROUP BY {live_recognised}",
            file=sys.stderr,
        )
        return 1

    # 2. End to end: create the draft, run the build job in-process.
    started = time.perf_counter()
    report = report_create(actor=None, unit=city, kind=ReportKind.YEARLY, year=year)
    job = report_build_start(actor=None, report=report)
    job_run(job.pk)  # already run on commit when Celery is eager: then this one is skipped
    total_s = time.perf_counter() - started
    job = Job.objects.get(pk=job.pk)
    status = job.status
    report.refresh_from_db()
    if not report.pdf or not report.xlsx:
        print(f"the build failed: {status} {job.message}", file=sys.stderr)
        return 1
    pdf_bytes = report.pdf.read()
    xlsx_bytes = report.xlsx.read()
    pages = len(PdfReader(io.BytesIO(pdf_bytes)).pages)
    sheets = load_workbook(io.BytesIO(xlsx_bytes), read_only=True)
    xlsx_rows = sum(ws.max_row or 0 for ws in sheets.worksheets)

    # 3. Each document on its own.
    started = time.perf_counter()
    report_documents.render_report_pdf(report, report.figures)
    pdf_s = time.perf_counter() - started
    started = time.perf_counter()
    report_documents.render_report_xlsx(report, report.figures)
    xlsx_s = time.perf_counter() - started
    for f in (report.pdf, report.xlsx):
        f.delete(save=False)
    Job.objects.filter(pk=job.pk).delete()
    report.delete()

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    print()
    print(f"XHHT yearly report bench — PostgreSQL {pg}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print(
        f"tenant {slug!r}: {assessments:,} assessment rows; {city.name!r} with "
        f"{figures['child_count']} communes, year {year}"
    )
    print(f"figures from the rollups (report_figures): {figures_s:8.2f} s")
    print(f"naive live GROUP BY of the same counters:  {naive_s:8.2f} s")
    print(f"PDF alone:                                 {pdf_s:8.2f} s  ({pages} pages, "
          f"{len(pdf_bytes):,} bytes)")  # fmt: skip
    print(f"XLSX alone:                                {xlsx_s:8.2f} s  ({xlsx_rows:,} rows, "
          f"{len(xlsx_bytes):,} bytes)")  # fmt: skip
    print(f"end to end (report_create + build job):    {total_s:8.2f} s  (job {status})")
    ok = total_s <= TARGET_SECONDS
    print(f"\ntarget ≤ {TARGET_SECONDS:.0f} s: {'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

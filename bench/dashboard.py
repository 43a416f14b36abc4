"""The city steering dashboard on a large synthetic city: rollups against the live GROUP BY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench .venv/bin/python bench/dashboard.py
    ... bench/dashboard.py --reuse                   # keep the tenant generated last time
    ... bench/dashboard.py --households 6500000      # ~17 M assessment rows: the issue's anchor

Generates (``manage.py generate_synthetic``; ``--reuse`` keeps an existing one)
a city of 168 communes × ~29 neighbourhoods with ``--households`` households
(default 2,000,000) and a family registration + assessment per household and
year for 2023–2025 (about 2.6 assessment rows per household), then prints:

1. the full rollup rebuild (``reports.services.rollups_rebuild``);
2. in-process, median/p95 of ``--runs`` (after one warm-up): (a) the naive live
   GROUP BY over the assessments for the city's child units (recognised per
   child for one title and year), beside (b) the same figures read from the
   rollup rows, and (c) the whole dashboard selector
   (``reports.dashboard.dashboard_for_unit``);
3. a concurrent HTTP load on the real dashboard page (``reports:dashboard``)
   served by gunicorn (``config.settings.production``, DEBUG off) and logged
   in as a steering viewer of the city: ``--requests`` requests from
   ``--concurrency`` threads, server time (gunicorn's ``%(D)s``) and client
   time p50/p95/max.

Exits 1 when the dashboard's server p95 exceeds 150 ms (the issue's target).
Results also go to ``bench/out/dashboard.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from servers import free_port, wait_for  # noqa: E402
from subtree import ensure_database  # noqa: E402 - after the path is set

OUT = BASE_DIR / "bench" / "out" / "dashboard.json"
COMMUNES = 168
NEIGHBOURHOODS_PER_COMMUNE = 29
YEARS = (2023, 2024, 2025)
TARGET_P95_MS = 150.0


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
    }


def timed(fn: Callable[[], Any], runs: int) -> tuple[dict[str, float], Any]:
    result = fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return summary(samples), result


def http_load(
    *, port: int, path: str, cookie: str, requests: int, concurrency: int
) -> tuple[list[float], list[int]]:
    """GET ``path`` ``requests`` times from ``concurrency`` threads; client ms and statuses."""

    def one(_: int) -> tuple[float, int]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        conn.close()
        return elapsed, response.status

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(requests)))
    return [ms for ms, _s in results], [s for _ms, s in results]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=2_000_000)
    parser.add_argument("--tenant-slug", default="bench-city")
    parser.add_argument("--reuse", action="store_true", help="keep an existing tenant")
    parser.add_argument("--runs", type=int, default=50, help="in-process runs per query")
    parser.add_argument("--requests", type=int, default=200, help="HTTP requests")
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP client threads")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (2 × CPUs)")
    parser.add_argument("--year", type=int, default=YEARS[-1])
    parser.add_argument("--out", type=Path, default=OUT)
    args, _unknown = parser.parse_known_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print(
            "DATABASE_URL must point at PostgreSQL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench "
            ".venv/bin/python bench/dashboard.py",
            file=sys.stderr,
        )
        return 2
    # The bench and gunicorn share the settings, so the session made here is
    # valid there (same SECRET_KEY); production settings with DEBUG off.
    server_env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "CONN_MAX_AGE": "60",
        "DEBUG": "false",
        # Production refuses to start without personal-data keys (Luật 91/2025/QH15);
        # fixed bench-only keys so that runs share the generated database.
        "PERSONAL_DATA_KEYS": "YmVuY2gtZGFzaGJvYXJkLXRlc3Qtb25seS1rZXktMzI=",
        "PERSONAL_DATA_INDEX_KEY": "bench-dashboard-blind-index-key-not-a-secret",
    }
    os.environ.update(server_env)
    ensure_database(url)

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.services import user_ensure
    from recognition.models import Assessment
    from recognition.titles import Title
    from reports.dashboard import dashboard_for_unit
    from reports.models import Rollup
    from reports.services import rollups_rebuild
    from units import services as unit_services
    from units.models import PATH_SEGMENT_WIDTH, AdministrativeUnit, RoleAssignment, Tenant
    from units.roles import Role

    call_command("migrate", interactive=False, verbosity=0)
    slug = args.tenant_slug
    per_neighbourhood = max(1, round(args.households / (COMMUNES * NEIGHBOURHOODS_PER_COMMUNE)))
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None or not args.reuse:
        call_command(
            "generate_synthetic",
            tenant=slug,
            communes=COMMUNES,
            neighbourhoods_per_commune=NEIGHBOURHOODS_PER_COMMUNE,
            households_per_neighbourhood=per_neighbourhood,
            years=",".join(str(y) for y in YEARS),
            replace=True,
            no_rebuild=True,
        )
        tenant = Tenant.objects.get(slug=slug)
    else:
        print(f"reusing tenant {slug!r} (drop --reuse to generate it again)")
    assessments = Assessment.objects.filter(tenant=tenant).count()
    all_assessments = Assessment.objects.count()

    print("\nfull rollup rebuild …", flush=True)
    rebuild = rollups_rebuild(tenant=tenant)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Rollup._meta.db_table)}")

    city = AdministrativeUnit.objects.get(tenant=tenant, depth=0)
    year, title = args.year, Title.FAMILY
    child_len = (city.depth + 2) * PATH_SEGMENT_WIDTH
    quote = connection.ops.quote_name
    naive_sql = (
        f"SELECT substr(u.path, 1, %s) AS child, count(*) "  # noqa: S608 - quoted names only
        f"FROM {quote(Assessment._meta.db_table)} a "
        f"JOIN {quote(Assessment._meta.get_field('registration').related_model._meta.db_table)} r "
        "ON r.id = a.registration_id "
        f"JOIN {quote(AdministrativeUnit._meta.db_table)} u ON u.id = a.unit_id "
        "WHERE a.tenant_id = %s AND r.year = %s AND r.title = %s AND a.status = 'recognised' "
        "AND u.path LIKE %s GROUP BY 1"
    )

    def naive() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(naive_sql, [child_len, tenant.pk, year, title, city.path + "%"])
            return {row[0]: int(row[1]) for row in cursor.fetchall()}

    def from_rollups() -> dict[str, int]:
        rows = Rollup.objects.filter(
            unit__parent=city, year=year, title=title, scope_level=""
        ).values_list("unit__path", "recognised")
        return dict(rows)

    def selector() -> Any:
        return dashboard_for_unit(unit=city, year=year, title=title, today=timezone.localdate())

    naive_stats, naive_result = timed(naive, max(5, args.runs // 5))
    rollup_stats, rollup_result = timed(from_rollups, args.runs)
    if naive_result != rollup_result:
        print("MISMATCH: the rollup rows differ from the live GROUP BY", file=sys.stderr)
        return 1
    selector_stats, _board = timed(selector, args.runs)

    # --- HTTP load against the real page --------------------------------------------
    viewer = user_ensure(
        tenant=tenant,
        username=f"{slug}.viewer",
        email=f"{slug}.viewer@bench.invalid",
        full_name="Bench steering viewer",
        password=secrets.token_urlsafe(16),
    )
    if not RoleAssignment.objects.filter(user=viewer, unit=city).exists():
        unit_services.role_assign(actor=None, user=viewer, unit=city, role=Role.STEERING_VIEWER)
    client = Client()
    client.force_login(viewer)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
    path = f"{reverse('reports:dashboard')}?unit={city.public_id}&year={year}&title={title}"
    port = free_port()
    workers = args.workers or 2 * (os.cpu_count() or 1)
    env = {**os.environ, **server_env}
    log = Path(tempfile.mkstemp(prefix="xhht-dash-", suffix=".log")[1])
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, no shell
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            str(log),
            "--access-logformat",
            "%(s)s %(D)s %(U)s",
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        wait_for(port)
        # Warm every worker (imports, connections, template cache) before timing.
        http_load(port=port, path=path, cookie=cookie, requests=4 * workers, concurrency=workers)
        log.write_text("")
        started = time.perf_counter()
        client_ms, statuses = http_load(
            port=port,
            path=path,
            cookie=cookie,
            requests=args.requests,
            concurrency=args.concurrency,
        )
        wall = time.perf_counter() - started
        time.sleep(0.5)  # let gunicorn flush its access log
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    server_ms = [
        int(line.split()[1]) / 1000
        for line in log.read_text().splitlines()
        if line.strip() and line.split()[2].startswith("/reports/")
    ]
    log.unlink(missing_ok=True)
    bad = [s for s in statuses if s != 200]
    http_server = summary(server_ms) if server_ms else {}
    http_client = summary(client_ms)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    print()
    print(f"XHHT dashboard bench — PostgreSQL {pg}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print(
        f"tenant {slug!r}: {AdministrativeUnit.objects.filter(tenant=tenant).count():,} units, "
        f"{assessments:,} assessment rows ({all_assessments:,} in the database); city "
        f"{city.name!r} with {len(rollup_result)} communes, year {year}, title {title}"
    )
    print(
        f"full rollup rebuild: {rebuild.rows:,} rows from {rebuild.assessments:,} assessments "
        f"and {rebuild.registrations:,} registrations in {rebuild.seconds:.2f} s (target ≤ 60 s)"
    )
    print()
    header = f"{'in-process (ms)':<52} {'median':>8} {'p95':>8} {'max':>8}"
    print(header)
    print("-" * len(header))
    for label, stats in (
        ("(a) naive live GROUP BY over assessments", naive_stats),
        ("(b) rollup rows of the city's children", rollup_stats),
        ("(c) dashboard_for_unit (whole page's figures)", selector_stats),
    ):
        print(
            f"{label:<52} {stats['median_ms']:>8.2f} {stats['p95_ms']:>8.2f} {stats['max_ms']:>8.2f}"
        )
    print()
    print(
        f"HTTP GET {path}\n  {args.requests} requests, {args.concurrency} concurrent, "
        f"gunicorn {workers} workers: {args.requests / wall:.1f} req/s; "
        f"{len(bad)} non-200 {sorted(set(bad)) if bad else ''}"
    )
    for label, stats in (("server time (gunicorn)", http_server), ("client time", http_client)):
        if stats:
            print(
                f"  {label:<24} p50 {stats['median_ms']:>8.2f}  p95 {stats['p95_ms']:>8.2f}  "
                f"max {stats['max_ms']:>8.2f} ms"
            )
    ok = not bad and bool(http_server) and http_server["p95_ms"] <= TARGET_P95_MS
    print(f"\ntarget server p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if ok else 'NOT MET'}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "postgresql": pg,
                "cpus": os.cpu_count(),
                "households_requested": args.households,
                "assessments": assessments,
                "communes": len(rollup_result),
                "rebuild": {
                    "rows": rebuild.rows,
                    "assessments": rebuild.assessments,
                    "seconds": round(rebuild.seconds, 2),
                },
                "naive_group_by": naive_stats,
                "rollup_read": rollup_stats,
                "dashboard_selector": selector_stats,
                "http": {
                    "requests": args.requests,
                    "concurrency": args.concurrency,
                    "workers": workers,
                    "req_per_s": round(args.requests / wall, 1),
                    "non_200": len(bad),
                    "server": http_server,
                    "client": http_client,
                },
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results: {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

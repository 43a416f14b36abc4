"""Page load times for a ward with 20,000 households (issue 4's closing figure).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench .venv/bin/python bench/recognition_pages.py

Builds (once; reused on later runs) the tenant ``bench-ward``: one ward with
100 khu phố × 200 households, all registered for "Gia đình học tập" 2025 and
self-assessed under a published points set, and the ward's dossier of every
ready assessment submitted to the district. Then it times, through Django's
test client signed in as the ward official and as the district reviewer, the
pages a ward and a reviewer open: the assessment list, one assessment form,
the dossier builder, the reviewer queue and the dossier review page (median of
N runs, with the number of SQL queries). Results also go to
``bench/out/recognition_pages.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from subtree import ensure_database, timed  # noqa: E402

OUT = BASE_DIR / "bench" / "out" / "recognition_pages.json"
SLUG = "bench-ward"
PASSWORD = "bench-password-2025"  # noqa: S105 — a throwaway bench database


def build(households: int) -> None:
    from accounts.services import user_ensure
    from recognition.demo.cycle import YEAR, family_assessments
    from recognition.demo.sets import ensure_demo_sets
    from recognition.models import Household
    from recognition.selectors.subjects import search_text_for
    from recognition.services.chain import ensure_default_chains
    from recognition.services.dossier import dossier_add_ready, dossier_for, dossier_submit
    from recognition.services.registration import registration_bulk_create
    from recognition.titles import Title
    from units import services as units
    from units.models import AdministrativeUnit

    tenant = units.tenant_create(name="Tỉnh Đo Hiệu Năng", slug=SLUG, code="98")
    # The bench reviewer signs in with a password only (no authenticator app).
    from accounts.security import tenant_set_mfa_roles

    tenant_set_mfa_roles(actor=None, tenant=tenant, roles=[])
    province = units.unit_create(
        actor=None, tenant=tenant, parent=None, kind="tinh", name="Tỉnh Đo Hiệu Năng", code="98"
    )
    district = units.unit_create(
        actor=None, tenant=tenant, parent=province, kind="huyen", name="Huyện Đo", code="980"
    )
    ward = units.unit_create(
        actor=None, tenant=tenant, parent=district, kind="xa", name="Xã Hai Vạn Hộ", code="98001"
    )
    per_kp = 200
    rng = random.Random(7)
    rows = []
    for k in range(1, households // per_kp + 1):
        kp = units.unit_create(
            actor=None,
            tenant=tenant,
            parent=ward,
            kind="ap",
            name=f"Ấp {k}",
            code=f"98001-A{k:03d}",
        )
        for n in range(1, per_kp + 1):
            h = Household(
                tenant=tenant,
                unit=kp,
                code=f"{kp.code}-H{n:03d}",
                head_name=f"Hộ {k}-{n}",
                member_count=rng.randint(2, 6),
            )
            h.search_text = search_text_for("household", h)
            rows.append(h)
    Household.objects.bulk_create(rows, batch_size=2000)
    for username, unit, role in (
        ("bench.ward", ward, "ward_official"),
        ("bench.reviewer", district, "reviewer"),
    ):
        user = user_ensure(
            tenant=tenant,
            username=username,
            email=f"{username}@bench.vn",
            full_name=username,
            password=PASSWORD,
        )
        units.role_assign(actor=None, user=user, unit=unit, role=role)
    sets = ensure_demo_sets(tenant)
    ensure_default_chains(tenant)
    registration_bulk_create(
        actor=None, title=Title.FAMILY, year=YEAR, subjects=Household.objects.filter(tenant=tenant)
    )
    family_assessments(tenant, ward, sets["family"], rng)
    dossier = dossier_for(actor=None, proposing_unit=ward, title=Title.FAMILY, year=YEAR)
    dossier_add_ready(actor=None, dossier=dossier)
    started = time.perf_counter()
    dossier_submit(actor=None, dossier=dossier)
    print(
        f"submitted a dossier of {dossier.items.count():,} items: {time.perf_counter() - started:.1f} s"
    )
    AdministrativeUnit.objects.filter(tenant=tenant).count()


class QueryCounter:
    """Counts the SQL statements of one request (DEBUG is off in the bench)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("set DATABASE_URL to a PostgreSQL database", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from recognition.models import Assessment, Dossier, Household
    from units.models import Tenant

    if not Tenant.objects.filter(slug=SLUG).exists():
        started = time.perf_counter()
        build(args.households)
        print(f"built tenant {SLUG} in {time.perf_counter() - started:.1f} s")
    tenant = Tenant.objects.get(slug=SLUG)
    dossier = Dossier.objects.get(tenant=tenant)
    assessment = Assessment.objects.filter(tenant=tenant).order_by("pk").first()
    counts = {
        "households": Household.objects.filter(tenant=tenant).count(),
        "assessments": Assessment.objects.filter(tenant=tenant).count(),
        "dossier_items": dossier.items.count(),
    }
    ward, reviewer = Client(), Client()
    if not (
        ward.login(username="bench.ward", password=PASSWORD)
        and reviewer.login(username="bench.reviewer", password=PASSWORD)
    ):
        print("cannot sign in the bench users", file=sys.stderr)
        return 1
    pages = [
        (
            "ward: assessment list, page 1",
            ward,
            reverse("recognition:assessment-list") + "?title=gia_dinh&year=2025",
        ),
        (
            "ward: assessment form",
            ward,
            reverse("recognition:assessment-detail", args=[assessment.public_id]),
        ),
        (
            "ward: dossier builder",
            ward,
            reverse("recognition:dossier-detail", args=[dossier.public_id]),
        ),
        ("reviewer: review queue", reviewer, reverse("recognition:review-queue")),
        (
            "reviewer: dossier review page",
            reviewer,
            reverse("recognition:review-detail", args=[dossier.public_id]),
        ),
    ]
    print(f"XHHT recognition pages — {connection.vendor}, {counts}")
    print(f"{'page':42} {'status':>6} {'queries':>8} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    results = []
    for label, client, path in pages:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            status = client.get(path).status_code
        stats, _ = timed(lambda c=client, p=path: c.get(p), args.runs)
        results.append(
            {"page": label, "path": path, "status": status, "queries": counter.count, **stats}
        )
        print(
            f"{label:42} {status:>6} {counter.count:>8} {stats['median_ms']:>10} {stats['min_ms']:>8} {stats['max_ms']:>8}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {"counts": counts, "runs": args.runs, "results": results}, indent=2, ensure_ascii=False
        )
    )
    return 0 if all(r["status"] == 200 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""A synthetic tenant generated inside PostgreSQL: the 27 M-household country in ~34 minutes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench_reorg \\
        .venv/bin/python bench/national_tenant.py --slug bench-reorg-27000k \\
        --provinces 63 --communes 10035 --neighbourhoods-per-commune 9 \\
        --households-per-neighbourhood 299 --years 2025 [--verify]

``manage.py generate_synthetic`` (``reports/synthetic.py``) builds every row in
Python and streams it with ``COPY``: about 24,000 rows/s here, so ~2 h for the
~27 M households of the country and their ~46 M registrations and assessments.
This generator writes the same tables and columns (72.8 M rows at 27 M households
in 2,000 s on 2 cores shared with other work, of which 898 s rebuilding the
indexes; ``bench/README.md``) with one
``INSERT … SELECT … FROM generate_series`` per table and year, so the rows never
leave the server:

* The unit tree (~100,000 rows) and the criteria set are written exactly as
  ``generate_synthetic`` writes them (its ``_write_tree`` and ``_criteria_set``):
  province(s) → communes (codes ``00001`` …, two wards in three) → neighbourhoods
  (±20 % around the mean per commune), valid since 01/01/1900.
* Python draws, from ``--seed``, each neighbourhood's household count (±25 %) and
  its recognition rate per year (62–72 %, +1.5 points a year), and hands the
  ~90,000 rows to the server in a temporary table.
* Households, registrations and assessments are then generated per
  neighbourhood; every per-household choice (name, address, member count,
  registers or not, withdrawn, outcome, score) is a deterministic hash
  (``hashint8extended``) of the household's ordinal in the tenant and the seed,
  so the same seed gives the same figures in any database. Public ids are
  ``gen_random_uuid()`` (random per run, as in ``generate_synthetic``, so two
  tenants never collide).
* The rules of ``generate_synthetic``: a household registers with probability
  ``min(0.98, rate + 0.18)``, 1 point of those registrations are withdrawn
  (no assessment), the others get an assessment: recognised (score 80–100) with
  probability ``rate``, otherwise rejected / returned / submitted / ready / draft
  / approved in the proportions 70 / 8 / 8 / 6 / 5 / 3 (score 50–79; drafts
  have no self score; only decided ones have a final score). Primary keys are
  reserved from the sequences first (``household ordinal × years + year``), so a
  household's registration and assessment ids are arithmetic, not joins.

Load handling, all inside one transaction (a failure leaves nothing behind):
foreign-key triggers are skipped (``session_replication_role = replica``, the
rows are consistent by construction; ``--verify`` proves it with anti-joins
afterwards), every index but the primary keys of the three tables is dropped and
built again after the load (unique constraints included, so uniqueness is still
checked, by the index build), and the session uses ``synchronous_commit = off``
and a large ``maintenance_work_mem``. Nothing is changed server-wide.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

#: Salts of the per-household draws (``hashint8extended(ordinal, seed * 1000 + salt)``).
SALT_FAMILY, SALT_MIDDLE, SALT_GIVEN, SALT_ADDRESS, SALT_MEMBERS = 1, 2, 3, 4, 5
SALT_REGISTER, SALT_OUTCOME, SALT_SCORE = 100, 200, 300  # + the year's index


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


def _uniform(key: str, seed: int, salt: str) -> str:
    """SQL for a deterministic draw in [0, 1) from ``key`` (53 bits of its hash)."""
    return f"((hashint8extended({key}, {seed} * 1000 + {salt}) & 9007199254740991)::float8 / 9007199254740992.0)"


def _pick(key: str, seed: int, salt: int, count: int) -> str:
    """SQL for a deterministic 1-based index in 1..count."""
    return (
        f"(1 + mod(hashint8extended({key}, {seed} * 1000 + {salt}) & 9223372036854775807, {count}))"
    )


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """Every index of ``table`` but the primary key, as (drop, create) statements.

    Unique constraints are dropped and added back as constraints (same name), so the
    schema after the load is the one the migrations built.
    """
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), con.conname, "
        "pg_get_constraintdef(con.oid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('u', 'x') "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary ORDER BY c.relname",
        [table],
    )
    statements = []
    for index, definition, constraint, constraint_def in cursor.fetchall():
        if constraint:
            statements.append((
                f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"',
                f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {constraint_def}',
            ))  # fmt: skip
        else:
            statements.append((f'DROP INDEX "{index}"', definition))
    return statements


def generate(
    *,
    slug: str,
    provinces: int,
    communes: int,
    neighbourhoods_per_commune: int,
    households_per_neighbourhood: int,
    years: tuple[int, ...],
    seed: int = 2025,
    verify: bool = False,
) -> dict[str, Any]:
    """Generate tenant ``slug`` (refused if it exists); returns counts and seconds."""
    from django.db import connection, transaction
    from django.utils import timezone

    from core.audit import audit_record
    from core.text import fold
    from recognition.models import (
        Assessment,
        AssessmentStatus,
        Household,
        Registration,
        RegistrationStatus,
    )
    from recognition.titles import SubjectKind, Title
    from reports import synthetic
    from units import services as unit_services
    from units.levels import Level
    from units.models import AdministrativeUnit, Tenant

    if connection.vendor != "postgresql":
        raise SystemExit("bench/national_tenant.py needs PostgreSQL (DATABASE_URL)")
    plan = synthetic.SyntheticPlan(
        provinces=provinces,
        communes=communes,
        neighbourhoods_per_commune=neighbourhoods_per_commune,
        households_per_neighbourhood=households_per_neighbourhood,
        years=tuple(sorted(years)),
        seed=seed,
    )
    plan.validate()
    if Tenant.objects.filter(slug=slug).exists():
        raise SystemExit(f"tenant {slug!r} exists")
    rng = random.Random(seed)
    now = timezone.now()
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        timings[name] = round(time.perf_counter() - since, 1)
        _say(f"{name}: {timings[name]:.1f} s")
        return time.perf_counter()

    household_t = Household._meta.db_table
    registration_t = Registration._meta.db_table
    assessment_t = Assessment._meta.db_table
    unit_t = AdministrativeUnit._meta.db_table
    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for setting, value in (
            ("synchronous_commit", "off"),
            ("maintenance_work_mem", "1GB"),
            ("work_mem", "256MB"),
            ("max_parallel_maintenance_workers", "2"),
        ):
            cursor.execute(f"SET LOCAL {setting} = '{value}'")
        step = time.perf_counter()
        tenant = unit_services.tenant_create(
            name=f"Tổng hợp {slug}",
            slug=slug,
            code="99",
            levels=[(lvl, synthetic.FAR_PAST, None) for lvl in (Level.PROVINCE, Level.COMMUNE, Level.NEIGHBOURHOOD)],
        )  # fmt: skip
        if not synthetic._skip_fk_triggers():
            raise SystemExit("the fast path needs a superuser role (session_replication_role)")
        sink = synthetic._Sink(200_000, None)
        sink.register(AdministrativeUnit, synthetic.UNIT_COLUMNS)
        neighbourhoods = synthetic._write_tree(
            tenant=tenant, plan=plan, rng=rng, sink=sink, now=now
        )
        counts["units"] = sink.written[AdministrativeUnit]
        criteria_set = synthetic._criteria_set(tenant, min(plan.years), now)
        step = lap("units", step)

        # The neighbourhoods' sizes and yearly rates, drawn as generate_synthetic draws them.
        rows = []
        offset = 0
        for unit in neighbourhoods:
            size = synthetic._around(rng, households_per_neighbourhood, 0.25, True)
            base = rng.uniform(0.62, 0.72)
            rates = [
                min(0.9, max(0.5, base + 0.015 * i + rng.uniform(-0.02, 0.02)))
                for i in range(len(plan.years))
            ]
            rows.append(
                (
                    unit.pk,
                    unit.commune_pk,
                    unit.code,
                    unit.name,
                    fold(unit.code),
                    offset,
                    size,
                    rates,
                )
            )
            offset += size
        households = offset
        cursor.execute(
            "CREATE TEMP TABLE bench_nb (unit_id bigint, commune_id bigint, code text, name text, "
            "code_fold text, first bigint, size int, rates float8[]) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY bench_nb FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("ANALYZE bench_nb")
        ny = len(plan.years)
        household_base = synthetic._reserve_ids(Household, households)
        registration_base = synthetic._reserve_ids(Registration, households * ny)
        assessment_base = synthetic._reserve_ids(Assessment, households * ny)

        dropped: list[tuple[str, str]] = []
        for table in (household_t, registration_t, assessment_t):
            dropped.extend(_secondary_indexes(cursor, table))
        for drop, _create in dropped:
            cursor.execute(drop)
        step = lap(f"neighbourhood draws, {len(dropped)} indexes dropped", step)

        names = {
            "fam": list(synthetic.FAMILY_NAMES),
            "mid": list(synthetic.MIDDLE_NAMES),
            "giv": list(synthetic.GIVEN_NAMES),
        }
        folded = {key: [fold(v) for v in values] for key, values in names.items()}
        o = "(n.first + g)"  # the household's 1-based ordinal in the tenant
        fam = _pick(o, seed, SALT_FAMILY, len(names["fam"]))
        mid = _pick(o, seed, SALT_MIDDLE, len(names["mid"]))
        giv = _pick(o, seed, SALT_GIVEN, len(names["giv"]))
        number = "CASE WHEN g < 10000 THEN lpad(g::text, 4, '0') ELSE g::text END"
        cursor.execute(
            f"INSERT INTO {household_t} (id, public_id, tenant_id, unit_id, is_active, "  # noqa: S608
            "search_text, version, created_at, updated_at, code, head_name, address, member_count) "
            f"SELECT %(base)s + {o} - 1, gen_random_uuid(), %(tenant)s, n.unit_id, true, "
            f"n.code_fold || '-' || {number} || ' ' || (%(fam_f)s::text[])[{fam}] || ' ' "
            f"|| (%(mid_f)s::text[])[{mid}] || ' ' || (%(giv_f)s::text[])[{giv}], "
            f"1, %(now)s, %(now)s, n.code || '-' || {number}, "
            f"(%(fam)s::text[])[{fam}] || ' ' || (%(mid)s::text[])[{mid}] || ' ' "
            f"|| (%(giv)s::text[])[{giv}], "
            f"'Số ' || {_pick(o, seed, SALT_ADDRESS, 400)} || ', ' || n.name, "
            f"{_pick(o, seed, SALT_MEMBERS, 7)} "
            "FROM bench_nb n CROSS JOIN LATERAL generate_series(1, n.size) g",
            {
                "base": household_base, "tenant": tenant.pk, "now": now,
                **names, **{f"{k}_f": v for k, v in folded.items()},
            },
        )  # fmt: skip
        counts["households"] = cursor.rowcount
        step = lap(f"{cursor.rowcount:,} households", step)

        others = list(synthetic.NOT_RECOGNISED)  # (status, weight), as generate_synthetic
        counts["registrations"] = counts["assessments"] = 0
        for yi, year in enumerate(plan.years):
            created = dt.datetime(year, 3, 1, 9, tzinfo=dt.UTC)
            draw = _uniform(o, seed, str(SALT_REGISTER + yi))
            # One row per household: its draw, the neighbourhood's rate and the threshold.
            source = (
                f"SELECT n.unit_id, n.commune_id, {o} AS o, {draw} AS draw, "  # noqa: S608
                f"n.rates[{yi + 1}] AS rate, least(0.98, n.rates[{yi + 1}] + 0.18) AS register "
                "FROM bench_nb n CROSS JOIN LATERAL generate_series(1, n.size) g"
            )
            slot = f"(s.o - 1) * {ny} + {yi}"
            cursor.execute(
                f"INSERT INTO {registration_t} (id, public_id, tenant_id, unit_id, "  # noqa: S608
                "proposing_unit_id, title, year, subject_kind, household_id, clan_id, "
                "organisation_id, citizen_id, subject_unit_id, status, registered_by_id, created_at) "
                f"SELECT %(rb)s + {slot}, gen_random_uuid(), %(tenant)s, s.unit_id, s.commune_id, "
                "%(title)s, %(year)s, %(kind)s, %(hb)s + s.o - 1, NULL, NULL, NULL, NULL, "
                "CASE WHEN s.draw >= s.register - %(withdrawn)s THEN %(w)s ELSE %(r)s END, "
                f"NULL, %(created)s FROM ({source}) s WHERE s.draw < s.register",
                {
                    "rb": registration_base, "tenant": tenant.pk, "title": str(Title.FAMILY),
                    "year": year, "kind": SubjectKind.HOUSEHOLD.value, "hb": household_base,
                    "withdrawn": synthetic.WITHDRAWN_SHARE,
                    "w": RegistrationStatus.WITHDRAWN.value, "r": RegistrationStatus.REGISTERED.value,
                    "created": created,
                },
            )  # fmt: skip
            counts["registrations"] += cursor.rowcount
            step = lap(f"{cursor.rowcount:,} registrations of {year}", step)
            pick = _uniform("s.o", seed, str(SALT_OUTCOME + yi)) + " * 100"
            cumulative, branches = 0, []
            for status, weight in others:
                cumulative += weight
                branches.append(f"WHEN {pick} < {cumulative} THEN '{status.value}'")
            score = _uniform("s.o", seed, str(SALT_SCORE + yi))
            tslot = f"(t.o - 1) * {ny} + {yi}"
            cursor.execute(
                f"INSERT INTO {assessment_t} (id, public_id, tenant_id, unit_id, "  # noqa: S608
                "registration_id, criteria_set_id, area_class, status, dossier_id, self_total, "
                "self_level, self_grade, self_passed, final_total, final_level, final_grade, "
                "final_passed, return_reason, version, assessed_by_id, reviewed_by_id, "
                "created_at, updated_at) "
                f"SELECT %(ab)s + {tslot}, gen_random_uuid(), %(tenant)s, "
                f"t.unit_id, %(rb)s + {tslot}, %(cs)s, 'normal', t.status, "
                "NULL, CASE WHEN t.status = %(draft)s THEN NULL ELSE t.total END, NULL, '', "
                "CASE WHEN t.status = %(draft)s THEN NULL ELSE t.total >= 80 END, "
                "CASE WHEN t.status = ANY(%(decided)s) THEN t.total END, NULL, '', "
                "CASE WHEN t.status = ANY(%(decided)s) THEN t.total >= 80 END, '', 1, NULL, NULL, "
                "%(created)s, %(now)s FROM ("
                "SELECT s.unit_id, s.o, "
                f"CASE WHEN s.draw < s.rate THEN %(recognised)s ELSE CASE {' '.join(branches)} "
                f"ELSE '{others[-1][0].value}' END END AS status, "
                f"CASE WHEN s.draw < s.rate THEN 80 + floor({score} * 21)::int "
                f"ELSE 50 + floor({score} * 30)::int END AS total "
                f"FROM ({source}) s WHERE s.draw < s.register - %(withdrawn)s) t",
                {
                    "ab": assessment_base, "rb": registration_base, "tenant": tenant.pk,
                    "cs": criteria_set.pk, "draft": AssessmentStatus.DRAFT.value,
                    "decided": [
                        AssessmentStatus.RECOGNISED.value, AssessmentStatus.APPROVED.value,
                        AssessmentStatus.REJECTED.value,
                    ],
                    "recognised": AssessmentStatus.RECOGNISED.value,
                    "withdrawn": synthetic.WITHDRAWN_SHARE, "created": created, "now": now,
                },
            )  # fmt: skip
            counts["assessments"] += cursor.rowcount
            step = lap(f"{cursor.rowcount:,} assessments of {year}", step)

        for _drop, create in dropped:
            cursor.execute(create)
        step = lap(f"{len(dropped)} indexes and unique constraints built", step)
        if verify:
            orphans = _orphans(cursor, tenant.pk, household_t, registration_t, assessment_t, unit_t)
            step = lap(f"foreign keys verified: {orphans}", step)
            if any(orphans.values()):
                raise SystemExit(f"orphan rows: {orphans}")
        audit_record(
            actor=None,
            action="synthetic.generate",
            obj=tenant,
            tenant=tenant,
            after={**counts, "years": list(plan.years), "seed": seed, "generator": "sql"},
        )
    with connection.cursor() as cursor:
        for table in (unit_t, household_t, registration_t, assessment_t):
            cursor.execute(f"ANALYZE {table}")
    lap("analyze", step)
    total = time.perf_counter() - started
    rows_total = sum(counts.values())
    _say(f"{rows_total:,} rows in {total:.1f} s ({rows_total / total:,.0f} rows/s)")
    return {"slug": slug, "counts": counts, "rows": rows_total, "seconds": round(total, 1),
            "timings": timings}  # fmt: skip


def _orphans(cursor: Any, tenant_id: int, household_t: str, registration_t: str,
             assessment_t: str, unit_t: str) -> dict[str, int]:  # fmt: skip
    """Rows of the tenant whose foreign keys point nowhere (the skipped triggers' check)."""
    checks = {
        "household.unit": (
            f"SELECT count(*) FROM {household_t} h WHERE h.tenant_id = %s "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {unit_t} u WHERE u.id = h.unit_id "
            "AND u.tenant_id = h.tenant_id)"
        ),
        "registration.household": (
            f"SELECT count(*) FROM {registration_t} r WHERE r.tenant_id = %s "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {household_t} h WHERE h.id = r.household_id "
            "AND h.unit_id = r.unit_id)"
        ),
        "registration.proposing_unit": (
            f"SELECT count(*) FROM {registration_t} r WHERE r.tenant_id = %s "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {unit_t} u WHERE u.id = r.proposing_unit_id "
            "AND u.level = 'commune')"
        ),
        "assessment.registration": (
            f"SELECT count(*) FROM {assessment_t} a WHERE a.tenant_id = %s "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {registration_t} r WHERE r.id = a.registration_id "
            "AND r.unit_id = a.unit_id AND r.status = 'registered')"
        ),
    }  # fmt: skip
    out = {}
    for name, sql in checks.items():
        cursor.execute(sql, [tenant_id])
        out[name] = int(cursor.fetchone()[0])
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", required=True)
    parser.add_argument("--provinces", type=int, default=63)
    parser.add_argument("--communes", type=int, default=10_035)
    parser.add_argument("--neighbourhoods-per-commune", type=int, default=9)
    parser.add_argument("--households-per-neighbourhood", type=int, default=299)
    parser.add_argument("--years", default="2025", help="comma-separated, e.g. 2024,2025")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--verify", action="store_true", help="count orphan rows after the load")
    args = parser.parse_args(argv)
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    result = generate(
        slug=args.slug,
        provinces=args.provinces,
        communes=args.communes,
        neighbourhoods_per_commune=args.neighbourhoods_per_commune,
        households_per_neighbourhood=args.households_per_neighbourhood,
        years=tuple(int(y) for y in args.years.split(",")),
        seed=args.seed,
        verify=args.verify,
    )
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Synthetic data at scale (issue 7, item 4): a realistic tenant or a whole country.

``synthetic_generate`` builds, for one new tenant, the unit tree (province(s) →
communes → neighbourhoods, the two-tier shape in force since 01/07/2025), the
households of every neighbourhood, and for every year a "Gia đình học tập"
registration and assessment for most households, with recognition rates of
about 65–75 % that vary by neighbourhood and rise a little each year
(``shared/research/scale.md`` §0, §2). Then the rollups are rebuilt.

Speed over ceremony, and only for synthetic tenants: rows skip the
one-at-a-time services (their checks, locks and audit rows); primary keys are
reserved from the tables' sequences first so every ``path`` and foreign key is
known before anything is written; PostgreSQL receives the rows with ``COPY``
(psycopg 3), other databases with batched ``bulk_create``. Everything is one
transaction: a failure leaves nothing behind. One audit event records the run.

Sizes (``scale.md``): HCMC after 2025 has 168 communes and ~4,861 neighbourhoods
(~29 per commune); the country has 34 provinces, 3,321 communes, ~90,000
neighbourhoods and ~27 M households.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from core.audit import audit_record
from core.bulk import copy_rows
from core.exceptions import ApplicationError
from core.text import fold, natural_key
from recognition.models import (
    Assessment,
    AssessmentStatus,
    CriteriaSet,
    Household,
    Registration,
    RegistrationStatus,
    ScoringMethod,
    SetStatus,
)
from recognition.titles import SubjectKind, Title
from reports.models import Rollup
from reports.services import RebuildResult, rollups_rebuild
from units import services as unit_services
from units.levels import Kind, Level
from units.models import AdministrativeUnit, RoleAssignment, Tenant, TenantLevel, path_segment

FAR_PAST = dt.date(1900, 1, 1)
Progress = Callable[[str], None]

FAMILY_NAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý",
)  # fmt: skip
MIDDLE_NAMES = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Thu", "Xuân")
GIVEN_NAMES = (
    "An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng",
    "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn",
    "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến",
)  # fmt: skip
#: Assessments of registered households that were not recognised, by weight.
NOT_RECOGNISED = (
    (AssessmentStatus.REJECTED, 70),
    (AssessmentStatus.RETURNED, 8),
    (AssessmentStatus.SUBMITTED, 8),
    (AssessmentStatus.READY, 6),
    (AssessmentStatus.DRAFT, 5),
    (AssessmentStatus.APPROVED, 3),
)
WITHDRAWN_SHARE = 0.01


class SyntheticError(ApplicationError):
    code = "synthetic_error"
    default_message = "The synthetic tenant cannot be generated."


@dataclass(frozen=True)
class SyntheticPlan:
    """What to generate. ``vary`` spreads neighbourhood and household counts
    ±20 % / ±25 % around the given means (off: exact counts, for tests)."""

    provinces: int = 1
    communes: int = 168
    neighbourhoods_per_commune: int = 29
    households_per_neighbourhood: int = 400
    years: tuple[int, ...] = (2023, 2024, 2025)
    seed: int = 2025
    vary: bool = True

    def validate(self) -> None:
        if self.provinces < 1 or self.communes < self.provinces:
            raise SyntheticError("Need at least one province and one commune per province.")
        if self.neighbourhoods_per_commune < 1 or self.households_per_neighbourhood < 1:
            raise SyntheticError("Need at least one neighbourhood and one household per unit.")
        if not self.years or len(set(self.years)) != len(self.years):
            raise SyntheticError("Give at least one year, each once.")


@dataclass
class SyntheticResult:
    tenant: Tenant
    units: int = 0
    households: int = 0
    registrations: int = 0
    assessments: int = 0
    recognised: int = 0
    seconds: float = 0.0
    rebuild: RebuildResult | None = None
    counts_by_level: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.units + self.households + self.registrations + self.assessments


def _spread(total: int, over: int) -> Iterator[int]:
    base, extra = divmod(total, over)
    for index in range(over):
        yield base + (1 if index < extra else 0)


def _around(rng: random.Random, mean: int, spread: float, vary: bool) -> int:
    if not vary:
        return mean
    low, high = max(1, round(mean * (1 - spread))), max(1, round(mean * (1 + spread)))
    return rng.randint(low, high)


# --- Primary keys and writing --------------------------------------------------------


def _reserve_ids(model: type[models.Model], count: int) -> int:
    """Reserve ``count`` consecutive primary keys; returns the first.

    PostgreSQL: the table is locked against other writers for the transaction,
    then the sequence is moved past the block. SQLite: the write transaction
    holds the database lock and AUTOINCREMENT continues after the largest id.
    """
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN EXCLUSIVE MODE")
            quoted = connection.ops.quote_name(table)
            sql = (
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 - quoted name
                "GREATEST(nextval(pg_get_serial_sequence(%s, 'id')), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {quoted})) + %s - 1)"
            )
            cursor.execute(
                sql,
                [table, table, count],
            )
            last = int(cursor.fetchone()[0])
        return last - count + 1
    top = model._default_manager.aggregate(top=Max("id"))["top"] or 0
    return int(top) + 1


class _Sink:
    """Buffers rows per model and writes them with COPY (PostgreSQL) or bulk_create."""

    def __init__(self, batch_size: int, progress: Progress | None) -> None:
        self.batch_size = batch_size
        self.progress = progress
        self.buffers: dict[type[models.Model], list[tuple[Any, ...]]] = {}
        self.columns: dict[type[models.Model], list[str]] = {}
        self.written: dict[type[models.Model], int] = {}
        self.started = time.perf_counter()
        self.copy = connection.vendor == "postgresql"

    def register(self, model: type[models.Model], columns: Sequence[str]) -> None:
        self.columns[model] = list(columns)
        self.buffers[model] = []
        self.written[model] = 0

    def add(self, model: type[models.Model], row: tuple[Any, ...]) -> None:
        buffer = self.buffers[model]
        buffer.append(row)
        if len(buffer) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write every buffer, in registration order (parents before children)."""
        wrote = False
        for model, rows in self.buffers.items():
            if not rows:
                continue
            self._write(model, rows)
            self.written[model] += len(rows)
            self.buffers[model] = []
            wrote = True
        if wrote and self.progress is not None:
            total = sum(self.written.values())
            elapsed = time.perf_counter() - self.started
            detail = ", ".join(f"{m.__name__.lower()}s {n:,}" for m, n in self.written.items())
            self.progress(
                f"  {total:,} rows ({detail}) in {elapsed:.1f} s, "
                f"{total / max(elapsed, 1e-9):,.0f} rows/s"
            )

    def _write(self, model: type[models.Model], rows: list[tuple[Any, ...]]) -> None:
        columns = self.columns[model]
        if self.copy:
            copy_rows(model, columns, rows, threaded=True)
            return
        model._default_manager.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=min(self.batch_size, 2000),
        )


# --- The tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    pk: int
    path: str
    level: str
    code: str
    name: str
    commune_pk: int


UNIT_COLUMNS = (
    "id", "tenant_id", "public_id", "parent_id", "path", "depth", "level", "kind", "name",
    "search_name", "sort_name", "code", "valid_from", "valid_to", "is_disadvantaged",
    "version", "created_at", "updated_at",
)  # fmt: skip


#: Public ids are random per run (the seed fixes the figures, not the ids), so
#: two tenants generated with the same seed never collide.
_ID_RNG = random.Random(int.from_bytes(os.urandom(16)))  # noqa: S311 - not for secrets


def _uuid() -> uuid.UUID:
    return uuid.UUID(int=_ID_RNG.getrandbits(128), version=4)


def _write_tree(
    *, tenant: Tenant, plan: SyntheticPlan, rng: random.Random, sink: _Sink, now: dt.datetime
) -> list[_Unit]:
    """Write the units; returns the neighbourhoods (the households' units)."""
    neighbourhood_counts = [
        _around(rng, plan.neighbourhoods_per_commune, 0.2, plan.vary) for _ in range(plan.communes)
    ]
    total = plan.provinces + plan.communes + sum(neighbourhood_counts)
    next_pk = _reserve_ids(AdministrativeUnit, total)
    neighbourhoods: list[_Unit] = []

    def add(parent: _Unit | None, level: str, kind: str, name: str, code: str) -> _Unit:
        nonlocal next_pk
        pk, next_pk = next_pk, next_pk + 1
        path = (parent.path if parent else "") + path_segment(pk)
        sink.add(
            AdministrativeUnit,
            (
                pk, tenant.pk, _uuid(), parent.pk if parent else None, path,
                len(path) // len(path_segment(pk)) - 1, level, kind, name, fold(name),
                natural_key(name), code, FAR_PAST, None, False, 1, now, now,
            ),
        )  # fmt: skip
        commune_pk = pk if level == Level.COMMUNE else (parent.commune_pk if parent else 0)
        return _Unit(pk, path, level, code, name, commune_pk)

    counts = iter(neighbourhood_counts)
    commune_no = 0
    for province_no, communes in enumerate(_spread(plan.communes, plan.provinces), start=1):
        if plan.provinces == 1:
            name, kind, code = f"Thành phố {tenant.name}", Kind.CENTRAL_CITY, tenant.code or "99"
        else:
            name, kind, code = f"Tỉnh Tổng hợp {province_no}", Kind.PROVINCE, f"{province_no:02d}"
        province = add(None, Level.PROVINCE, kind, name, code)
        for _ in range(communes):
            commune_no += 1
            is_ward = commune_no % 3 != 0  # two in three are wards (phường)
            commune = add(
                province,
                Level.COMMUNE,
                Kind.WARD if is_ward else Kind.COMMUNE,
                f"{'Phường' if is_ward else 'Xã'} Tổng hợp {commune_no}",
                f"{commune_no:05d}",
            )
            for n in range(1, next(counts) + 1):
                kind, prefix = (Kind.QUARTER, "Khu phố") if is_ward else (Kind.HAMLET, "Ấp")
                neighbourhoods.append(
                    add(commune, Level.NEIGHBOURHOOD, kind, f"{prefix} {n}", f"{commune.code}-{n:03d}")
                )  # fmt: skip
    sink.flush()
    return neighbourhoods


# --- Households, registrations, assessments -------------------------------------------

HOUSEHOLD_COLUMNS = (
    "id", "public_id", "tenant_id", "unit_id", "is_active", "search_text", "version",
    "created_at", "updated_at", "code", "head_name", "address", "member_count",
)  # fmt: skip
REGISTRATION_COLUMNS = (
    "id", "public_id", "tenant_id", "unit_id", "proposing_unit_id", "title", "year",
    "subject_kind", "household_id", "clan_id", "organisation_id", "citizen_id",
    "subject_unit_id", "status", "registered_by_id", "created_at",
)  # fmt: skip
ASSESSMENT_COLUMNS = (
    "id", "public_id", "tenant_id", "unit_id", "registration_id", "criteria_set_id",
    "area_class", "status", "dossier_id", "self_total", "self_level", "self_grade",
    "self_passed", "final_total", "final_level", "final_grade", "final_passed",
    "return_reason", "version", "assessed_by_id", "reviewed_by_id", "created_at", "updated_at",
)  # fmt: skip


def _criteria_set(tenant: Tenant, first_year: int, now: dt.datetime) -> CriteriaSet:
    """The tenant's published family set the synthetic assessments are scored under."""
    return CriteriaSet.objects.create(
        tenant=tenant,
        title=Title.FAMILY,
        scope_level="",
        code="SYN-GDHT",
        name="Tiêu chí “Gia đình học tập” (dữ liệu tổng hợp)",
        legal_basis="Dữ liệu tổng hợp để thử tải (không phải văn bản pháp lý)",
        year_from=first_year,
        method=ScoringMethod.POINTS,
        status=SetStatus.PUBLISHED,
        max_total=100,
        pass_thresholds={"normal": 80},
        published_at=now,
    )


def _write_families(
    *,
    tenant: Tenant,
    plan: SyntheticPlan,
    rng: random.Random,
    sink: _Sink,
    now: dt.datetime,
    neighbourhoods: list[_Unit],
    criteria_set: CriteriaSet,
    result: SyntheticResult,
) -> None:
    sizes = [
        _around(rng, plan.households_per_neighbourhood, 0.25, plan.vary) for _ in neighbourhoods
    ]
    households = sum(sizes)
    years = sorted(plan.years)
    # Upper bounds: every household registers every year.
    next_household = _reserve_ids(Household, households)
    next_registration = _reserve_ids(Registration, households * len(years))
    next_assessment = _reserve_ids(Assessment, households * len(years))
    others = [s for s, _w in NOT_RECOGNISED]
    weights = [w for _s, w in NOT_RECOGNISED]
    tenant_id, cs_id, family = tenant.pk, criteria_set.pk, str(Title.FAMILY)
    for unit, size in zip(neighbourhoods, sizes, strict=True):
        # The neighbourhood's own level, drifting up a point or two a year.
        base = rng.uniform(0.62, 0.72) if plan.vary else 0.7
        rates = {
            year: min(0.9, max(0.5, base + 0.015 * i + (rng.uniform(-0.02, 0.02) if plan.vary else 0)))
            for i, year in enumerate(years)
        }  # fmt: skip
        first_household = next_household
        for i in range(size):
            head = (
                f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"
            )
            code = f"{unit.code}-{i + 1:04d}"
            address = f"Số {rng.randint(1, 400)}, {unit.name}"
            sink.add(
                Household,
                (
                    next_household, _uuid(), tenant_id, unit.pk, True, fold(f"{code} {head}"),
                    1, now, now, code, head, address, rng.randint(1, 7),
                ),
            )  # fmt: skip
            next_household += 1
        for year in years:
            rate = rates[year]
            register = min(0.98, rate + 0.18)
            created = dt.datetime(year, 3, 1, 9, tzinfo=dt.UTC)
            for household_id in range(first_household, next_household):
                draw = rng.random()
                if draw >= register:
                    continue
                withdrawn = draw >= register - WITHDRAWN_SHARE
                status = (
                    RegistrationStatus.WITHDRAWN if withdrawn else RegistrationStatus.REGISTERED
                )
                sink.add(
                    Registration,
                    (
                        next_registration, _uuid(), tenant_id, unit.pk, unit.commune_pk, family,
                        year, SubjectKind.HOUSEHOLD.value, household_id, None, None, None, None,
                        status.value, None, created,
                    ),
                )  # fmt: skip
                result.registrations += 1
                if not withdrawn:
                    if draw < rate:
                        outcome = AssessmentStatus.RECOGNISED
                        result.recognised += 1
                    else:
                        outcome = rng.choices(others, weights)[0]
                    total = rng.randint(80, 100) if draw < rate else rng.randint(50, 79)
                    decided = outcome in (
                        AssessmentStatus.RECOGNISED, AssessmentStatus.APPROVED,
                        AssessmentStatus.REJECTED,
                    )  # fmt: skip
                    passed = total >= 80
                    sink.add(
                        Assessment,
                        (
                            next_assessment, _uuid(), tenant_id, unit.pk, next_registration,
                            cs_id, "normal", outcome.value, None,
                            None if outcome == AssessmentStatus.DRAFT else total, None, "",
                            None if outcome == AssessmentStatus.DRAFT else passed,
                            total if decided else None, None, "", passed if decided else None,
                            "", 1, None, None, created, now,
                        ),
                    )  # fmt: skip
                    next_assessment += 1
                    result.assessments += 1
                next_registration += 1
    sink.flush()
    result.households = households


# --- Entry point -----------------------------------------------------------------------


def _delete_tenant(tenant: Tenant) -> None:
    """Remove a synthetic tenant and everything generated for it."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in (Rollup, Assessment, Registration, Household, RoleAssignment):
            table = quote(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        CriteriaSet.objects.filter(tenant=tenant).delete()
        table = quote(AdministrativeUnit._meta.db_table)
        cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
    TenantLevel.objects.filter(tenant=tenant).delete()
    from core.audit import purge_tenant_events

    purge_tenant_events(tenant)  # the audit log is append-only; maintenance path
    tenant.delete()


def _skip_fk_triggers() -> bool:
    """Bulk-load mode for this transaction on PostgreSQL (when the role may): the
    generated rows are consistent by construction, so the per-row foreign-key
    triggers are skipped, as ``pg_restore --disable-triggers`` does. Constraints
    and indexes (unique, check, not null) still apply."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if not row or not row[0]:
            return False
        cursor.execute("SET LOCAL session_replication_role = replica")
    return True


#: Planned rows from which the plain indexes are dropped during the load and
#: built again after it (one sort per index instead of millions of inserts).
BULK_INDEX_ROWS = 1_000_000


def _drop_plain_indexes(models_: Sequence[type[models.Model]]) -> list[str]:
    """PostgreSQL: drop the non-unique indexes of the tables (not those behind a
    constraint) inside the load's transaction; returns their definitions.

    The tables are locked for the transaction (synthetic loads only); unique and
    primary-key indexes stay, so every constraint is still checked row by row.
    """
    definitions: list[str] = []
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass "
                "AND NOT i.indisunique AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [model._meta.db_table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {name}")
                definitions.append(definition)
    return definitions


def _create_indexes(definitions: list[str], say: Progress) -> None:
    if not definitions:
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for definition in definitions:
            cursor.execute(definition)
    say(f"Rebuilt {len(definitions)} indexes in {time.perf_counter() - started:.1f} s.")


def _analyze() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (AdministrativeUnit, Household, Registration, Assessment):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def synthetic_generate(
    *,
    slug: str,
    plan: SyntheticPlan,
    name: str = "",
    replace: bool = False,
    rebuild: bool = True,
    batch_size: int = 100_000,
    progress: Progress | None = None,
) -> SyntheticResult:
    """Generate tenant ``slug`` per ``plan`` (refused if it exists, unless ``replace``)."""
    plan.validate()
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    rng = random.Random(plan.seed)  # noqa: S311 - synthetic data, not security
    now = timezone.now()
    with transaction.atomic():
        existing = Tenant.objects.filter(slug=slug).first()
        if existing is not None:
            if not replace:
                raise SyntheticError(
                    f"Tenant {slug!r} exists; pass --replace to generate it again."
                )
            say(f"Deleting the existing tenant {slug!r} …")
            _delete_tenant(existing)
        tenant = unit_services.tenant_create(
            name=name or f"Tổng hợp {slug}",
            slug=slug,
            code="99",
            levels=[(lvl, FAR_PAST, None) for lvl in (Level.PROVINCE, Level.COMMUNE, Level.NEIGHBOURHOOD)],
        )  # fmt: skip
        result = SyntheticResult(tenant=tenant)
        if _skip_fk_triggers():
            say("Bulk-load mode: foreign-key triggers skipped for this transaction.")
        sink = _Sink(batch_size, progress)
        sink.register(AdministrativeUnit, UNIT_COLUMNS)
        say("Units …")
        neighbourhoods = _write_tree(tenant=tenant, plan=plan, rng=rng, sink=sink, now=now)
        result.units = sink.written[AdministrativeUnit]
        result.counts_by_level = {
            Level.PROVINCE: plan.provinces,
            Level.COMMUNE: plan.communes,
            Level.NEIGHBOURHOOD: len(neighbourhoods),
        }
        criteria_set = _criteria_set(tenant, min(plan.years), now)
        sink.register(Household, HOUSEHOLD_COLUMNS)
        sink.register(Registration, REGISTRATION_COLUMNS)
        sink.register(Assessment, ASSESSMENT_COLUMNS)
        planned = plan.communes * plan.neighbourhoods_per_commune
        planned *= plan.households_per_neighbourhood * (1 + 2 * len(plan.years))
        dropped: list[str] = []
        if connection.vendor == "postgresql" and planned >= BULK_INDEX_ROWS:
            dropped = _drop_plain_indexes((Household, Registration, Assessment))
            say(f"Large load: {len(dropped)} plain indexes dropped, rebuilt after it.")
        say("Households, registrations and assessments …")
        _write_families(
            tenant=tenant,
            plan=plan,
            rng=rng,
            sink=sink,
            now=now,
            neighbourhoods=neighbourhoods,
            criteria_set=criteria_set,
            result=result,
        )
        _create_indexes(dropped, say)
        audit_record(
            actor=None,
            action="synthetic.generate",
            obj=tenant,
            tenant=tenant,
            after={
                "units": result.units,
                "households": result.households,
                "registrations": result.registrations,
                "assessments": result.assessments,
                "years": list(plan.years),
                "seed": plan.seed,
            },
        )
    result.seconds = time.perf_counter() - started
    say(
        f"Wrote {result.rows:,} rows in {result.seconds:.1f} s "
        f"({result.rows / max(result.seconds, 1e-9):,.0f} rows/s)."
    )
    _analyze()
    if rebuild:
        say("Rebuilding the rollups …")
        result.rebuild = rollups_rebuild(tenant=tenant)
        _analyze_rollups()
        say(f"Rollups: {result.rebuild.rows:,} rows in {result.rebuild.seconds:.2f} s.")
    return result


def _analyze_rollups() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Rollup._meta.db_table)}")

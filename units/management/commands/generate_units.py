"""Generate a synthetic tenant with a large unit tree, for benchmarks and load tests.

    manage.py generate_units --tenant-slug bench --units 200000

builds 1 province -> 30 districts -> 1,000 communes -> the rest as
neighbourhoods (about 199 per commune). Unlike the demo data, which goes
through ``units.services.unit_create`` one unit at a time (a lock, checks and
an audit row each), this writes with bulk inserts: ids are taken from the
table's sequence first, so every ``path`` (parent path + ``path_segment(id)``)
is known before the rows are inserted, and no second pass is needed. One audit
event records the generation. Only for synthetic tenants: the rows skip the
per-unit checks of the service.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Max

from core.audit import audit_record
from core.text import fold, natural_key
from units import services
from units.levels import Kind, Level
from units.models import AdministrativeUnit, Tenant, path_segment


@dataclass(frozen=True)
class TreePlan:
    """How many units of each level to create, and how they spread."""

    units: int
    districts: int
    communes: int

    @property
    def neighbourhoods(self) -> int:
        return self.units - 1 - self.districts - self.communes

    def validate(self) -> None:
        if self.districts < 1 or self.communes < self.districts:
            raise CommandError("Need at least one district and one commune per district.")
        if self.neighbourhoods < 0:
            raise CommandError(
                f"--units {self.units} is too small for 1 province, {self.districts} districts "
                f"and {self.communes} communes (at least {1 + self.districts + self.communes})."
            )


def _spread(total: int, over: int) -> Iterator[int]:
    """``total`` items over ``over`` buckets, as evenly as possible (larger first)."""
    base, extra = divmod(total, over)
    for index in range(over):
        yield base + (1 if index < extra else 0)


def _allocate_ids(count: int) -> Iterator[int]:
    """Reserve ``count`` primary keys for :class:`AdministrativeUnit` rows."""
    table = AdministrativeUnit._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            ids = [row[0] for row in cursor.fetchall()]
        yield from ids
        return
    if connection.vendor == "sqlite":
        # The write transaction (BEGIN IMMEDIATE) holds the database lock, and
        # AUTOINCREMENT continues after the largest id inserted.
        start = (AdministrativeUnit.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        yield from range(start, start + count)
        return
    raise CommandError(f"generate_units supports PostgreSQL and SQLite, not {connection.vendor}.")


class _Writer:
    """Builds unit rows with pre-allocated ids and inserts them in batches."""

    def __init__(self, tenant: Tenant, ids: Iterator[int], batch_size: int) -> None:
        self.tenant = tenant
        self.ids = ids
        self.batch_size = batch_size
        self.pending: list[AdministrativeUnit] = []
        self.written = 0

    def add(
        self, parent: AdministrativeUnit | None, level: str, kind: str, name: str, code: str
    ) -> AdministrativeUnit:
        pk = next(self.ids)
        unit = AdministrativeUnit(
            id=pk,
            tenant=self.tenant,
            parent=parent,
            path=(parent.path if parent else "") + path_segment(pk),
            depth=parent.depth + 1 if parent else 0,
            level=level,
            kind=kind,
            name=name,
            search_name=fold(name),
            sort_name=natural_key(name),
            code=code,
        )
        self.pending.append(unit)
        if len(self.pending) >= self.batch_size:
            self.flush()
        return unit

    def flush(self) -> None:
        if self.pending:
            AdministrativeUnit.objects.bulk_create(self.pending, batch_size=self.batch_size)
            self.written += len(self.pending)
            self.pending = []


def generate_tree(tenant: Tenant, plan: TreePlan, *, batch_size: int = 5000) -> int:
    """Insert the planned tree under a new province root; returns the rows written."""
    writer = _Writer(tenant, _allocate_ids(plan.units), batch_size)
    province = writer.add(None, Level.PROVINCE, Kind.PROVINCE, f"Tỉnh {tenant.name}", tenant.code)
    communes_per_district = list(_spread(plan.communes, plan.districts))
    neighbourhoods_per_commune = _spread(plan.neighbourhoods, plan.communes)
    commune_no = 0
    for district_no, commune_count in enumerate(communes_per_district, start=1):
        district = writer.add(
            province,
            Level.DISTRICT,
            Kind.RURAL_DISTRICT,
            f"Huyện Số {district_no}",
            f"H{district_no:03d}",
        )
        for _ in range(commune_count):
            commune_no += 1
            commune_code = f"X{commune_no:05d}"
            commune = writer.add(
                district, Level.COMMUNE, Kind.COMMUNE, f"Xã Số {commune_no}", commune_code
            )
            for n in range(1, next(neighbourhoods_per_commune) + 1):
                writer.add(
                    commune,
                    Level.NEIGHBOURHOOD,
                    Kind.VILLAGE,
                    f"Thôn {n}",
                    f"{commune_code}-T{n:03d}",
                )
    writer.flush()
    return writer.written


def _delete_units(tenant: Tenant) -> int:
    """Remove a synthetic tenant's units in one statement (the tree's own
    foreign keys are deferred; rows elsewhere that point at them still block)."""
    table = connection.ops.quote_name(AdministrativeUnit._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        return int(cursor.rowcount)


class Command(BaseCommand):
    help = "Generate a synthetic tenant with a large administrative-unit tree (bulk inserts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant-slug", required=True)
        parser.add_argument("--tenant-name", default="", help="default: Thử tải <slug>")
        parser.add_argument("--code", default="99", help="the province's code")
        parser.add_argument("--units", type=int, default=200_000, help="total units")
        parser.add_argument("--districts", type=int, default=30)
        parser.add_argument("--communes", type=int, default=1000)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--replace", action="store_true", help="delete the tenant's existing units first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        plan = TreePlan(
            units=options["units"], districts=options["districts"], communes=options["communes"]
        )
        plan.validate()
        slug = options["tenant_slug"]
        started = time.perf_counter()
        with transaction.atomic():
            tenant = Tenant.objects.filter(slug=slug).first() or services.tenant_create(
                name=options["tenant_name"] or f"Thử tải {slug}", slug=slug, code=options["code"]
            )
            existing = AdministrativeUnit.objects.filter(tenant=tenant).count()
            if existing and not options["replace"]:
                raise CommandError(
                    f"Tenant {slug!r} already has {existing} units; pass --replace to rebuild."
                )
            deleted = _delete_units(tenant) if existing else 0
            written = generate_tree(tenant, plan, batch_size=options["batch_size"])
            audit_record(
                actor=None,
                action="unit.generate",
                obj=tenant,
                tenant=tenant,
                after={
                    "units": written,
                    "districts": plan.districts,
                    "communes": plan.communes,
                    "replaced": deleted,
                },
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ANALYZE {connection.ops.quote_name(AdministrativeUnit._meta.db_table)}"
                )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Tenant {slug!r}: {written:,} units (1 province, {plan.districts} districts, "
                f"{plan.communes:,} communes, {plan.neighbourhoods:,} neighbourhoods) "
                f"in {elapsed:.1f} s" + (f"; replaced {deleted:,}" if deleted else "")
            )
        )

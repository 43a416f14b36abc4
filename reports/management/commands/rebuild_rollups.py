"""``manage.py rebuild_rollups [--tenant slug]``: recompute the rollup table."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.services import rollups_rebuild
from units.models import Tenant


class Command(BaseCommand):
    help = "Recompute the rollup counters from scratch (one tenant, or every tenant)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="slug of the tenant (default: every tenant)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = None
        if options["tenant"]:
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        result = rollups_rebuild(tenant=tenant)
        self.stdout.write(
            f"{result.rows} rollup rows from {result.registrations} registrations and "
            f"{result.assessments} assessments in {result.seconds:.2f} s"
        )

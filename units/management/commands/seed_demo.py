from typing import Any

from django.core.management.base import BaseCommand

from units.demo.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = "Load the demo tenants, units and users (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-cycle",
            action="store_true",
            help="Units, users and criteria sets only, without the 2025 Quận 10 cycle.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = seed_demo(with_cycle=not options["no_cycle"])
        from spreadsheets.demo import seed_import_demo

        seed_import_demo()  # Phường 1 Quận 10: one household import applied, one with errors
        if not options["no_cycle"]:
            from units.demo.reform import seed_reform_demo
            from units.models import Tenant

            # Quận Phú Nhuận's wards merged from 01/07/2025, history 2023–2026.
            seed_reform_demo(Tenant.objects.get(slug="hcm"))
        from units.models import AdministrativeUnit

        units = AdministrativeUnit.objects.count()  # after the reform's new wards
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {counts['tenants']} tenants, {units} units. "
                f"Users ({DEMO_PASSWORD}): " + ", ".join(u["username"] for u in DEMO_USERS)
            )
        )

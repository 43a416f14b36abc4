from typing import Any

from django.core.management.base import BaseCommand

from units.demo.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = "Load the demo tenants, units and users (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-cycle",
            action="store_true",
            help=(
                "Units, users, criteria sets and the 2025 reform plan only, without the "
                "2023–2025 history, the 2026 cycle, decisions and campaigns."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = seed_demo(with_cycle=not options["no_cycle"])
        from spreadsheets.demo import seed_import_demo

        seed_import_demo()  # Phường Vườn Lài: one household import applied, one with errors
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {counts['tenants']} tenants, {counts['units']} units. "
                f"Users ({DEMO_PASSWORD}): " + ", ".join(u["username"] for u in DEMO_USERS)
            )
        )

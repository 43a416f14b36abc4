from typing import Any

from django.core.management.base import BaseCommand

from units.demo.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = "Load the demo tenants, units and users (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = seed_demo()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {counts['tenants']} tenants, {counts['units']} units. "
                f"Users ({DEMO_PASSWORD}): " + ", ".join(u["username"] for u in DEMO_USERS)
            )
        )

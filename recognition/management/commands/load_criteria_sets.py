from typing import Any

from django.core.management.base import BaseCommand

from recognition.shipped import load_shipped_criteria


class Command(BaseCommand):
    help = (
        "Load the official criteria sets shipped with XHHT (recognition/shipped/). "
        "Idempotent: sets already loaded (same code and version) are left as they are."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = load_shipped_criteria()
        self.stdout.write(
            self.style.SUCCESS(
                f"Criteria sets: {counts['created']} loaded, {counts['existing']} already there."
            )
        )

from typing import Any

from django.core.management.base import BaseCommand

from recognition.personal_data.rotation import rotate_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every citizen ID number with the first key of PERSONAL_DATA_KEYS and "
        "recompute its blind index with PERSONAL_DATA_INDEX_KEY (Luật 91/2025/QH15). "
        "Run it after adding a new key in first position, before removing the old one. "
        "Safe to run twice."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        result = rotate_keys(batch_size=options["batch_size"])
        self.stdout.write(
            self.style.SUCCESS(
                f"ID numbers checked: {result.checked}; re-encrypted: {result.reencrypted}."
            )
        )

from typing import Any

from django.core.management.base import BaseCommand

from recognition.personal_data.retention import retention_apply


class Command(BaseCommand):
    help = (
        "Apply the personal-data retention settings (Luật 91/2025/QH15): delete evidence "
        "files older than PERSONAL_DATA_EVIDENCE_YEARS and anonymise households and citizens "
        "inactive for PERSONAL_DATA_INACTIVE_YEARS. With --dry-run, only count."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = retention_apply(dry_run=options["dry_run"])
        verb = "Would delete" if result.dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {result.evidence_files} evidence files of {result.assessments} "
            f"assessments from before {result.evidence_before_year}."
        )
        verb = "Would anonymise" if result.dry_run else "Anonymised"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {result.subjects['household']} households and "
                f"{result.subjects['citizen']} citizens inactive since before "
                f"{result.inactive_since:%d/%m/%Y}."
            )
        )

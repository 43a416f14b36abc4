"""Import the official old → new commune mapping as a reorganisation plan.

    manage.py reorganisation_import --tenant hcm --file sap-xep-2025.xlsx \\
        --name "Sắp xếp ĐVHC 2025" --abolish-level district [--apply] [--actor admin.hcm]

Prints the preview's counts, warnings and conflicts; with ``--apply`` and no
conflict, applies the plan (see :mod:`units.reorganisation.mapping`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import ApplicationError
from units.levels import Level
from units.models import Tenant
from units.reorganisation.mapping import MappingFileError, mapping_import
from units.reorganisation.services import reorganisation_apply


class Command(BaseCommand):
    help = "Create a reorganisation plan from the official code mapping (XLSX/CSV)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--file", required=True, help="the mapping file (.xlsx or .csv)")
        parser.add_argument("--name", required=True, help="the plan's name")
        parser.add_argument("--legal-basis", default="")
        parser.add_argument("--abolish-level", default="", choices=["", *Level.values])
        parser.add_argument("--apply", action="store_true", help="apply when it has no conflict")
        parser.add_argument(
            "--actor", default="", help="username of a tenant admin (default: system)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from accounts.models import User

        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}.")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"], tenant=tenant).first()
            if actor is None:
                raise CommandError(f"No user {options['actor']!r} in tenant {tenant.slug!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        try:
            with path.open("rb") as file:
                result = mapping_import(
                    actor=actor,
                    file=file,
                    filename=path.name,
                    name=options["name"],
                    legal_basis=options["legal_basis"],
                    abolish_level=options["abolish_level"],
                    tenant=tenant if actor is None else None,
                )
        except MappingFileError as exc:
            lines = [str(exc), *(str(error) for error in exc.errors)]
            raise CommandError("\n".join(lines)) from exc
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        plan, preview = result.plan, result.preview
        self.stdout.write(
            f"Plan {plan.public_id} “{plan.name}”, effective "
            f"{plan.effective_on.strftime('%d/%m/%Y')}: {len(preview.steps)} steps."
        )
        for key in sorted(preview.counts):
            self.stdout.write(f"  {key}: {preview.counts[key]:,}".replace(",", "."))
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
        for conflict in preview.conflicts:
            step = f"step {conflict.step}" if conflict.step else "plan"
            self.stdout.write(
                self.style.ERROR(f"conflict ({step}, {conflict.unit_code}): {conflict.message}")
            )
        if preview.conflicts:
            self.stdout.write(f"{len(preview.conflicts)} conflicts: the plan cannot be applied.")
            if options["apply"]:
                raise CommandError("Not applied: the plan has conflicts.")
            return
        if not options["apply"]:
            self.stdout.write("No conflict. Pass --apply to apply it.")
            return
        try:
            applied = reorganisation_apply(actor=actor, plan=plan, expected_version=plan.version)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Applied: {applied.result}"))

"""Generate a synthetic tenant at scale: units, households, registrations,
assessments of the family title over several years, then the rollups.

    manage.py generate_synthetic --tenant hcm-synth                  # HCMC-sized city
    manage.py generate_synthetic --tenant vn-synth --provinces 34 \\
        --neighbourhoods-per-commune 27 --households-per-neighbourhood 300   # the country

See :mod:`reports.synthetic` (PostgreSQL COPY, batched inserts elsewhere).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.synthetic import SyntheticError, SyntheticPlan, synthetic_generate

#: Communes when --communes is not given: HCMC after 01/07/2025, or the country.
DEFAULT_COMMUNES = {1: 168, 34: 3321}


def _years(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise CommandError(f"--years: {value!r} is not a comma-separated list of years.") from exc


class Command(BaseCommand):
    help = "Generate a synthetic tenant (a city or the whole country) with COPY / bulk inserts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the new tenant's slug")
        parser.add_argument("--name", default="", help="default: Tổng hợp <slug>")
        parser.add_argument("--provinces", type=int, default=1, help="1 (a city) or 34")
        parser.add_argument(
            "--communes", type=int, default=None, help="total (default 168, or 3,321 for 34)"
        )
        parser.add_argument("--neighbourhoods-per-commune", type=int, default=29)
        parser.add_argument("--households-per-neighbourhood", type=int, default=400)
        parser.add_argument("--years", default="2023,2024,2025")
        parser.add_argument("--seed", type=int, default=2025)
        parser.add_argument("--batch-size", type=int, default=100_000)
        parser.add_argument("--no-rebuild", action="store_true", help="skip the rollup rebuild")
        parser.add_argument(
            "--replace", action="store_true", help="delete the tenant first if it exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        provinces = options["provinces"]
        communes = options["communes"] or DEFAULT_COMMUNES.get(provinces, 98 * provinces)
        plan = SyntheticPlan(
            provinces=provinces,
            communes=communes,
            neighbourhoods_per_commune=options["neighbourhoods_per_commune"],
            households_per_neighbourhood=options["households_per_neighbourhood"],
            years=_years(options["years"]),
            seed=options["seed"],
        )
        try:
            result = synthetic_generate(
                slug=options["tenant"],
                name=options["name"],
                plan=plan,
                replace=options["replace"],
                rebuild=not options["no_rebuild"],
                batch_size=options["batch_size"],
                progress=lambda msg: self.stdout.write(msg),
            )
        except SyntheticError as exc:
            raise CommandError(str(exc)) from exc
        rate = 100 * result.recognised / result.households / len(plan.years)
        self.stdout.write(
            self.style.SUCCESS(
                f"Tenant {options['tenant']!r}: {result.units:,} units, "
                f"{result.households:,} households, {result.registrations:,} registrations, "
                f"{result.assessments:,} assessments ({rate:.1f} % recognised per year) "
                f"in {result.seconds:.1f} s"
                + (f"; rollups rebuilt in {result.rebuild.seconds:.2f} s" if result.rebuild else "")
            )
        )

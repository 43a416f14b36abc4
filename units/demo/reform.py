"""Demo of the 2025 administrative reorganisation (issue 9 §6) in the HCMC tenant.

Quận Phú Nhuận carries its families' history under the three-tier tree (2023,
2024 and 2025 registrations and recognitions in its thirteen old wards), then a
reorganisation plan built and applied through the engine's services
(``reorganisation_create``, ``steps_add``, ``reorganisation_apply``) merges the
thirteen wards into three successor wards from 01/07/2025 ("Nghị quyết
1685/NQ-UBTVQH15 ngày 16/6/2025"), and 2026 continues in the new wards. The
dashboard in "mapped onto today's units" mode shows each new ward's trend
continuous from 2023 to 2026; "as the units were then" shows the old wards.

Choices, and why:

- **The ward mapping is illustrative, not the official list** of Nghị quyết
  1685/NQ-UBTVQH15 (the names Đức Nhuận, Cầu Kiệu and Phú Nhuận are the new
  wards' names; which old wards went where, and the codes, are simplified: each
  new ward reuses the code of one of the wards it merges, as RULES §7.2 allows).
- **Phú Nhuận, not Quận 10**: the demo's 2025 cycle (Phường 5's decision
  01/QĐ-UBND, Phường 8 awaiting a decision, Phường 1's imports) and the browser
  journeys of ``ward.q10.p1``/``reviewer.q10`` run in Quận 10's wards; closing
  them on 30/06/2025 would move their users and open registrations. Quận 11's
  wards are used by the reorganisation screens' own journey.
- **The district level stays**: ``abolish_level="district"`` needs every
  district of the tenant closed by the plan (the engine lists
  ``abolished_level_not_closed`` otherwise), and Quận 10 and Quận 11 must stay,
  so the new wards are placed under Quận Phú Nhuận (a commune directly under
  the city is refused while the district level is in use).
- The history of 2023–2025 is generated in bulk (registrations and their
  recognised or approved assessments, like the cycle demo's bulk writes): a few
  hundred rows, enough for the trend. Everything of 2025 is decided before the
  plan, so it stays with the old wards (paths are history).

Idempotent: a tenant that already has the plan is left as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from recognition.models import Assessment, AssessmentStatus, Household, Registration
from recognition.titles import SubjectKind, Title
from units.models import AdministrativeUnit, Tenant
from units.reorganisation import services as reorg
from units.reorganisation.models import Reorganisation, ReorganisationStatus
from units.reorganisation.services import StepInput, TargetInput

PLAN_NAME = "Sắp xếp đơn vị hành chính cấp xã Quận Phú Nhuận năm 2025"
LEGAL_BASIS = "Nghị quyết 1685/NQ-UBTVQH15 ngày 16/6/2025"
EFFECTIVE_ON = dt.date(2025, 7, 1)
DISTRICT_CODE = "768"  # Quận Phú Nhuận
#: New ward (code reused from one of its sources, name) -> the old wards' codes.
#: Illustrative, not the official list (see the module docstring).
MERGES: list[tuple[str, str, list[str]]] = [
    ("27043", "Phường Đức Nhuận", ["27043", "27046", "27049"]),  # P.4, P.5, P.9
    ("27058", "Phường Cầu Kiệu", ["27058", "27061", "27052", "27067"]),  # P.1, P.2, P.7, P.15
    ("27064", "Phường Phú Nhuận", ["27055", "27064", "27070", "27073", "27085", "27076"]),
]
HOUSEHOLDS_PER_WARD = 12
#: Share of the households recognised each year ("Gia đình học tập").
RECOGNISED_SHARE = {2023: 0.40, 2024: 0.55, 2025: 0.65, 2026: 0.70}
PAST_YEARS = (2023, 2024, 2025)
NEW_YEAR = 2026


def _households(tenant: Tenant, wards: list[AdministrativeUnit]) -> None:
    rows = [
        Household(
            tenant=tenant,
            unit=ward,
            code=f"{ward.code}-H{n:03d}",
            head_name=f"Hộ gia đình {ward.name} số {n}",
            address=f"{n} Phan Đăng Lưu, {ward.name}, Quận Phú Nhuận",
            member_count=3 + n % 4,
        )
        for ward in wards
        for n in range(1, HOUSEHOLDS_PER_WARD + 1)
    ]
    Household.objects.bulk_create(rows, batch_size=1000)


def _year_of_history(
    *, tenant: Tenant, year: int, criteria_set: Any, units_by_ward: dict[int, AdministrativeUnit]
) -> None:
    """Register every household of the wards for ``year``; a share recognised,
    the rest approved (decided: they stay with their ward)."""
    households = list(
        Household.objects.filter(tenant=tenant, unit_id__in=list(units_by_ward)).order_by("pk")
    )
    registrations = Registration.objects.bulk_create(
        [
            Registration(
                tenant=tenant,
                unit_id=h.unit_id,
                proposing_unit=units_by_ward[h.unit_id],
                title=Title.FAMILY,
                year=year,
                subject_kind=SubjectKind.HOUSEHOLD,
                household=h,
            )
            for h in households
        ],
        batch_size=1000,
    )
    share = RECOGNISED_SHARE[year]
    # Evenly spread: the i-th registration is recognised when the running share
    # crosses a whole number (exactly ``share`` of each ward, rounded down).
    Assessment.objects.bulk_create(
        [
            Assessment(
                tenant=tenant,
                unit_id=r.unit_id,
                registration=r,
                criteria_set=criteria_set,
                status=AssessmentStatus.RECOGNISED
                if int((i + 1) * share) > int(i * share)
                else AssessmentStatus.APPROVED,
                self_passed=True,
            )
            for i, r in enumerate(registrations)
        ],
        batch_size=1000,
    )


def _plan(tenant: Tenant, district: AdministrativeUnit) -> Reorganisation:
    wards = {u.code: u for u in AdministrativeUnit.objects.filter(parent=district, valid_to=None)}
    plan = reorg.reorganisation_create(
        actor=None,
        tenant=tenant,
        name=PLAN_NAME,
        effective_on=EFFECTIVE_ON,
        legal_basis=LEGAL_BASIS,
    )
    reorg.steps_add(
        actor=None,
        plan=plan,
        steps=[
            StepInput(
                kind="merge",
                sources=[wards[code] for code in sources],
                targets=[TargetInput(code=code, name=name, kind="phuong", parent=district)],
            )
            for code, name, sources in MERGES
        ],
    )
    plan.refresh_from_db()
    preview = reorg.reorganisation_preview(plan=plan)
    if preview.conflicts:  # the demo's own data: a conflict is a bug in MERGES
        raise RuntimeError("; ".join(f"{c.unit_code}: {c.message}" for c in preview.conflicts))
    return reorg.reorganisation_apply(actor=None, plan=plan, expected_version=plan.version)


@transaction.atomic
def seed_reform_demo(tenant: Tenant) -> dict[str, Any]:
    """History under the old wards, the applied plan, 2026 in the new wards,
    rollups rebuilt. Returns the plan's result counts."""
    from recognition.demo.sets import ensure_demo_sets
    from reports.services import rollups_rebuild

    done = Reorganisation.objects.filter(
        tenant=tenant, name=PLAN_NAME, status=ReorganisationStatus.APPLIED
    ).first()
    if done is not None:
        return dict(done.result)
    district = AdministrativeUnit.objects.get(tenant=tenant, code=DISTRICT_CODE, valid_to=None)
    old_wards = list(AdministrativeUnit.objects.filter(parent=district, valid_to=None))
    family_set = ensure_demo_sets(tenant)["family"]
    _households(tenant, old_wards)
    by_ward = {w.pk: w for w in old_wards}
    for year in PAST_YEARS:
        _year_of_history(tenant=tenant, year=year, criteria_set=family_set, units_by_ward=by_ward)
    plan = _plan(tenant, district)
    new_wards = {
        w.pk: w
        for w in AdministrativeUnit.objects.filter(
            tenant=tenant, succession_in__predecessor__in=old_wards
        ).distinct()
    }
    _year_of_history(tenant=tenant, year=NEW_YEAR, criteria_set=family_set, units_by_ward=new_wards)
    rollups_rebuild(tenant=tenant)
    return dict(plan.result)

"""Demo: the HCMC families and their 2023–2025 history under the three-tier tree (DỮ LIỆU MẪU).

Loaded before the reform plan (``units/demo/reform.py``), in the old wards:

- the households: 24 per khu phố of Quận 10 (1,896 over its 79 khu phố) and 12
  per ward of Quận 11 and Phú Nhuận (their khu phố are not in the demo);
- every household registered for "Gia đình học tập" in 2023, 2024 and 2025, a
  growing share recognised (:data:`RECOGNISED_SHARE`), the rest approved: all
  decided under the district chain before 01/07/2025, so they stay with the old
  wards (paths are history). Phường 5 of Quận 10's 2025 year is not here: it goes
  through the services (``recognition/demo/decisions.py``, decision 01/QĐ-UBND).

Written in bulk (a few thousand rows, like the cycle's bulk writes), with one
audit event per district; the rollups are rebuilt by the reform's apply.
Idempotent: a tenant that already has households in these districts is left alone.
"""

from __future__ import annotations

import random
from typing import Any

from core.audit import audit_record
from recognition.models import Assessment, AssessmentStatus, Household, Registration
from recognition.selectors.subjects import search_text_for
from recognition.titles import SubjectKind, Title
from units.levels import Level
from units.models import AdministrativeUnit, Tenant

SEED = 2023
HOUSEHOLDS_PER_NEIGHBOURHOOD = 24
HOUSEHOLDS_PER_WARD = 12
#: Districts whose wards hold their households directly (no khu phố in the demo).
WARD_HOUSEHOLD_DISTRICTS = ("772", "768")
DISTRICTS = ("771", "772", "768")
YEARS = (2023, 2024, 2025)
#: Share of the registered households recognised each year (the rest approved).
RECOGNISED_SHARE = {2023: 0.40, 2024: 0.55, 2025: 0.65}
#: Phường 5, Quận 10: its 2025 dossier and decision go through the services.
DECISION_WARD = "27199"

SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Quốc", "Thu", "Hoàng", "Kim", "Gia"]
GIVEN = [
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hòa",
    "Hùng",
    "Khoa",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
]
STREETS = {
    "771": [
        "Ba Tháng Hai",
        "Sư Vạn Hạnh",
        "Thành Thái",
        "Lý Thường Kiệt",
        "Nguyễn Tri Phương",
        "Tô Hiến Thành",
        "Hòa Hảo",
        "Ngô Gia Tự",
        "Lê Hồng Phong",
        "Nguyễn Chí Thanh",
        "Cao Thắng",
        "Hồ Thị Kỷ",
        "Vĩnh Viễn",
        "Bà Hạt",
    ],
    "772": ["Lạc Long Quân", "Minh Phụng", "Lãnh Binh Thăng", "Bình Thới", "Hàn Hải Nguyên"],
    "768": ["Phan Đăng Lưu", "Phan Xích Long", "Huỳnh Văn Bánh", "Nguyễn Kiệm", "Hoàng Văn Thụ"],
}


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _household(
    tenant: Tenant, unit: AdministrativeUnit, n: int, street: str, rng: random.Random
) -> Household:
    household = Household(
        tenant=tenant,
        unit=unit,
        code=f"{unit.code}-H{n:03d}",
        head_name=person_name(rng),
        address=f"{rng.randint(1, 450)} {street}, {unit.name}",
        member_count=rng.randint(2, 7),
    )
    household.search_text = search_text_for("household", household)
    return household


def _homes(district: AdministrativeUnit) -> tuple[list[AdministrativeUnit], int]:
    """Where ``district``'s households live (its khu phố, or its wards) and how many each."""
    if district.code in WARD_HOUSEHOLD_DISTRICTS:
        return (
            list(district.children.filter(level=Level.COMMUNE).order_by("code")),
            HOUSEHOLDS_PER_WARD,
        )
    return (
        list(
            AdministrativeUnit.objects.filter(
                parent__parent=district, level=Level.NEIGHBOURHOOD
            ).order_by("code")
        ),
        HOUSEHOLDS_PER_NEIGHBOURHOOD,
    )


def _households(
    tenant: Tenant, homes: list[AdministrativeUnit], per_home: int, streets: list[str], rng: Any
) -> None:
    rows = [
        _household(tenant, home, n, rng.choice(streets), rng)
        for home in homes
        for n in range(1, per_home + 1)
    ]
    Household.objects.bulk_create(rows, batch_size=1000)


def seed_households_after_reform(tenant: Tenant) -> int:
    """The same families when the demo starts after the reform (``seed_demo
    --no-cycle`` then the cycle, the browser tests): 24 per khu phố of Quận 10's
    successors, and 12 per predecessor ward directly in the other new wards."""
    from units.demo.reform import MERGES, in_force

    if Household.objects.filter(tenant=tenant).exists():
        return 0
    rng = random.Random(SEED)  # noqa: S311 — reproducible demo data, not security
    for code, _name, sources in MERGES:
        ward = in_force(tenant, code)
        old_ward = AdministrativeUnit.objects.get(
            tenant=tenant, code=sources[0], valid_to__isnull=False
        )
        district = old_ward.parent
        assert district is not None  # noqa: S101 - the old wards sit in their districts
        if district.code in WARD_HOUSEHOLD_DISTRICTS:
            homes, per_home = [ward], HOUSEHOLDS_PER_WARD * len(sources)
        else:
            homes = list(ward.children.filter(valid_to__isnull=True).order_by("code"))
            per_home = HOUSEHOLDS_PER_NEIGHBOURHOOD
        _households(tenant, homes, per_home, STREETS[district.code], rng)
    return Household.objects.filter(tenant=tenant).count()


def _ward_of(district: AdministrativeUnit) -> dict[int, AdministrativeUnit]:
    """Each ward and khu phố of ``district`` -> its ward (the proposing unit)."""
    wards = {w.pk: w for w in district.children.filter(level=Level.COMMUNE)}
    of = dict(wards)
    for pk, parent in AdministrativeUnit.objects.filter(parent__in=list(wards)).values_list(
        "pk", "parent_id"
    ):
        of[pk] = wards[parent]
    return of


def _year(
    *, tenant: Tenant, year: int, criteria_set: Any, ward_of: dict[int, AdministrativeUnit]
) -> int:
    """Register the households for ``year``; a share recognised, the rest approved."""
    households = Household.objects.filter(tenant=tenant, unit_id__in=list(ward_of)).order_by("pk")
    if year == 2025:
        households = households.exclude(unit__parent__code=DECISION_WARD)
    registrations = Registration.objects.bulk_create(
        [
            Registration(
                tenant=tenant,
                unit_id=h.unit_id,
                proposing_unit=ward_of[h.unit_id],
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
    # crosses a whole number.
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
    return len(registrations)


def seed_history_demo(tenant: Tenant) -> dict[str, int]:
    """The households and 2023–2025 of the three districts (see the module docstring)."""
    from recognition.demo.sets import ensure_demo_sets

    if Household.objects.filter(tenant=tenant).exists():
        return {"households": Household.objects.filter(tenant=tenant).count()}
    family_set = ensure_demo_sets(tenant)["family"]
    rng = random.Random(SEED)  # noqa: S311 — reproducible demo data, not security
    registered = 0
    for code in DISTRICTS:
        district = AdministrativeUnit.objects.get(tenant=tenant, code=code, level=Level.DISTRICT)
        homes, per_home = _homes(district)
        _households(tenant, homes, per_home, STREETS[district.code], rng)
        ward_of = _ward_of(district)
        counts = {
            year: _year(tenant=tenant, year=year, criteria_set=family_set, ward_of=ward_of)
            for year in YEARS
        }
        registered += sum(counts.values())
        audit_record(
            actor=None,
            action="assessment.demo_generate",
            obj=district,
            tenant=tenant,
            unit=district,
            after={"title": Title.FAMILY, "years": {str(y): n for y, n in counts.items()}},
        )
    return {
        "households": Household.objects.filter(tenant=tenant).count(),
        "registrations": registered,
    }

"""Shared fixtures of the recognition cycle: small published criteria sets and
registered subjects in the fixed cast's wards."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from recognition.models import (
    CriteriaSet,
    Criterion,
    Household,
    Indicator,
    Registration,
    SetStatus,
)
from recognition.titles import SubjectKind, Title
from tests.conftest import Cast

YEAR = 2025


def make_points_set(
    *, tenant=None, code: str = "TEST-GDHT", title: str = Title.FAMILY
) -> CriteriaSet:
    """A published 3-indicator points set: 40 + 30 + 30, pass ≥ 80 (≥ 70 in
    disadvantaged areas), no indicator below 5; the middle one needs evidence."""
    cs = CriteriaSet.objects.create(
        tenant=tenant,
        title=title,
        code=code,
        name="Bộ tiêu chí thử nghiệm (điểm)",
        legal_basis="Bộ tiêu chí dùng cho kiểm thử",
        year_from=2020,
        method="points",
        status=SetStatus.PUBLISHED,
        max_total=Decimal(100),
        pass_thresholds={"normal": 80, "disadvantaged": 70},
        min_indicator_points=Decimal(5),
        grade_bands=[],
        published_at=timezone.now(),
    )
    c1 = Criterion.objects.create(criteria_set=cs, order=1, code="TC1", name="Học tập của trẻ em")
    c2 = Criterion.objects.create(
        criteria_set=cs, order=2, code="TC2", name="Học tập của người lớn"
    )
    Indicator.objects.create(
        criterion=c1, order=1, code="1.1", text="Trẻ em đến trường", max_points=40
    )
    Indicator.objects.create(
        criterion=c2,
        order=1,
        code="2.1",
        text="Người lớn biết chữ",
        max_points=30,
        evidence_required=True,
    )
    Indicator.objects.create(
        criterion=c2, order=2, code="2.2", text="Người lớn học thêm", max_points=30
    )
    return cs


def make_levels_set(*, tenant=None, code: str = "TEST-CDHT-XA") -> CriteriaSet:
    """A published levels set for commune communities: two indicators, the
    second with a stricter level-2 requirement."""
    cs = CriteriaSet.objects.create(
        tenant=tenant,
        title=Title.COMMUNITY,
        scope_level="commune",
        code=code,
        name="Bộ tiêu chí thử nghiệm (mức độ)",
        legal_basis="Bộ tiêu chí dùng cho kiểm thử",
        year_from=2024,
        method="levels",
        status=SetStatus.PUBLISHED,
        levels=[{"number": 1, "label": "Mức độ 1"}, {"number": 2, "label": "Mức độ 2"}],
        validity_years=3,
        upgrade_after_months=12,
        published_at=timezone.now(),
    )
    c1 = Criterion.objects.create(criteria_set=cs, order=1, code="TC1", name="Lãnh đạo, chỉ đạo")
    Indicator.objects.create(
        criterion=c1, order=1, code="1.1", text="Tuyên truyền", requirements={"1": "Có kế hoạch"}
    )
    Indicator.objects.create(
        criterion=c1,
        order=2,
        code="1.2",
        text="Phổ cập giáo dục",
        requirements={"1": "Đạt chuẩn mức 1", "2": "Đạt chuẩn mức 2"},
    )
    return cs


def make_household(cast: Cast, unit=None, code: str | None = None) -> Household:
    unit = unit or cast.neighbourhood
    n = Household.objects.count() + 1
    return Household.objects.create(
        tenant=unit.tenant,
        unit=unit,
        code=code or f"HH-{unit.code}-{n:04d}",
        head_name=f"Nguyễn Văn Chủ Hộ {n}",
        address=f"{n} Đường Thử",
        member_count=4,
    )


def register_household(cast: Cast, household: Household, year: int = YEAR) -> Registration:
    """A registration row for a household (the proposing unit is its ward)."""
    ward = household.unit.parent
    return Registration.objects.create(
        tenant=household.tenant,
        unit=household.unit,
        proposing_unit=ward,
        title=Title.FAMILY,
        year=year,
        subject_kind=SubjectKind.HOUSEHOLD,
        household=household,
        registered_by=cast.ward_official,
    )


@dataclass
class Cycle:
    cast: Cast
    points_set: CriteriaSet
    levels_set: CriteriaSet
    household: Household
    registration: Registration
    other_household: Household
    other_registration: Registration
    other_tenant_household: Household
    other_tenant_registration: Registration


@pytest.fixture
def cycle(cast: Cast) -> Cycle:
    from tests.factories import make_unit

    points_set = make_points_set()
    levels_set = make_levels_set()
    household = make_household(cast)
    other_household = make_household(cast, unit=cast.other_neighbourhood)
    other_kp = make_unit(
        cast.other_tenant, cast.other_tenant_ward, "to_dan_pho", "Tổ dân phố 1", "11308-TDP01"
    )
    other_tenant_household = Household.objects.create(
        tenant=cast.other_tenant,
        unit=other_kp,
        code="HP-0001",
        head_name="Trần Văn Hải",
        member_count=3,
    )
    return Cycle(
        cast=cast,
        points_set=points_set,
        levels_set=levels_set,
        household=household,
        registration=register_household(cast, household),
        other_household=other_household,
        other_registration=register_household(cast, other_household),
        other_tenant_household=other_tenant_household,
        other_tenant_registration=Registration.objects.create(
            tenant=cast.other_tenant,
            unit=other_kp,
            proposing_unit=cast.other_tenant_ward,
            title=Title.FAMILY,
            year=YEAR,
            subject_kind=SubjectKind.HOUSEHOLD,
            household=other_tenant_household,
        ),
    )

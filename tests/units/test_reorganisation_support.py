"""Builders shared by the reorganisation tests (no tests here).

The fixed cast's tree: city 79 → Quận Một 771 → Phường Bến Nghé 27184 → Khu phố 1;
Quận Hai 772 → Phường Tân Định 27247 → Khu phố 1. ``world`` adds a second ward
under Quận Một (Đa Kao 27190) with a neighbourhood, households, a clan, an open
2025 registration with a draft self-assessment, a submitted 2025 dossier and a
2024 assessment that was approved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from recognition.models import (
    Assessment,
    AssessmentStatus,
    Clan,
    CriteriaSet,
    Dossier,
    Household,
    Registration,
)
from reports.models import Rollup
from tests.conftest import Cast
from tests.factories import make_unit
from tests.recognition.conftest import make_household, make_points_set, register_household
from tests.recognition.dossier_factories import make_assessment, submitted_dossier
from units.models import AdministrativeUnit

EFFECTIVE = dt.date(2025, 7, 1)
DAY_BEFORE = dt.date(2025, 6, 30)


@dataclass
class World:
    cast: Cast
    ward_b: AdministrativeUnit
    kp_b: AdministrativeUnit
    points_set: CriteriaSet
    households_a: list[Household]
    households_b: list[Household]
    direct_household: Household
    clan: Clan
    open_registration: Registration
    open_assessment: Assessment
    dossier: Dossier
    dossier_items: list[Assessment]
    old_assessment: Assessment


def build_world(cast: Cast) -> World:
    points_set = make_points_set()
    ward_b = make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27190")
    kp_b = make_unit(cast.tenant, ward_b, "khu_pho", "Khu phố 1", "27190-KP01")
    households_a = [make_household(cast) for _ in range(3)]
    households_b = [make_household(cast, unit=kp_b) for _ in range(2)]
    direct = make_household(cast, unit=cast.ward)
    clan = Clan.objects.create(
        tenant=cast.tenant, unit=cast.ward, name="Họ Nguyễn", representative="Nguyễn Văn Tộc"
    )
    clan.home_units.add(cast.neighbourhood)
    open_registration = register_household(cast, households_b[0])
    open_assessment = make_assessment(open_registration, points_set, status=AssessmentStatus.DRAFT)
    dossier, items = submitted_dossier(cast, points_set, 2)
    old_household = households_a[0]
    old_registration = register_household(cast, old_household, year=2024)
    old_assessment = make_assessment(old_registration, points_set, status=AssessmentStatus.APPROVED)
    return World(
        cast=cast,
        ward_b=ward_b,
        kp_b=kp_b,
        points_set=points_set,
        households_a=households_a,
        households_b=households_b,
        direct_household=direct,
        clan=clan,
        open_registration=open_registration,
        open_assessment=open_assessment,
        dossier=dossier,
        dossier_items=items,
        old_assessment=old_assessment,
    )


def in_force_children(unit: AdministrativeUnit) -> list[AdministrativeUnit]:
    return list(
        AdministrativeUnit.objects.filter(parent=unit, valid_to__isnull=True).order_by("code")
    )


def rollup_counts(unit: AdministrativeUnit, year: int) -> dict[tuple[str, str], tuple[int, ...]]:
    return {
        (r.title, r.scope_level): (r.registered, r.assessed, r.approved, r.recognised)
        for r in Rollup.objects.filter(unit=unit, year=year)
    }


def fresh(obj: Any) -> Any:
    return type(obj).objects.get(pk=obj.pk)

"""Apply writes with bulk statements: its number of queries does not grow with the
number of households (one UPDATE per table, never one per row)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recognition.models import Household, Registration
from recognition.titles import SubjectKind, Title
from tests.factories import grant, make_tenant, make_unit, make_user
from tests.units.test_reorganisation_support import EFFECTIVE
from units.reorganisation import services as reorg
from units.roles import Role

pytestmark = pytest.mark.django_db


def _merge_plan(households: int):
    tenant = make_tenant(f"Tỉnh {households}")
    city = make_unit(tenant, None, "tinh", f"Tỉnh {households}")
    district = make_unit(tenant, city, "huyen", "Huyện Một")
    wards = [make_unit(tenant, district, "xa", f"Xã {i}") for i in (1, 2)]
    hamlets = [make_unit(tenant, w, "ap", f"Ấp {i}") for i, w in enumerate(wards, start=1)]
    admin = grant(make_user(tenant), city, Role.TENANT_ADMIN)
    grant(make_user(tenant), wards[0], Role.WARD_OFFICIAL)
    Household.objects.bulk_create(
        Household(
            tenant=tenant,
            unit=hamlets[i % 2],
            code=f"{tenant.slug}-{i:05d}",
            head_name=f"Chủ hộ {i}",
        )
        for i in range(households)
    )
    Registration.objects.bulk_create(
        Registration(
            tenant=tenant,
            unit=h.unit,
            proposing_unit=h.unit.parent,
            title=Title.FAMILY,
            year=EFFECTIVE.year,
            subject_kind=SubjectKind.HOUSEHOLD,
            household=h,
        )
        for h in Household.objects.filter(tenant=tenant).select_related("unit")[:5]
    )
    plan = reorg.reorganisation_create(actor=admin, name="Sáp nhập", effective_on=EFFECTIVE)
    reorg.step_add(
        actor=admin,
        plan=plan,
        kind="merge",
        sources=wards,
        targets=[{"code": f"M{households}", "name": "Xã Mới", "kind": "xa"}],
    )
    plan.refresh_from_db()
    return admin, plan


def _apply_queries(households: int) -> int:
    admin, plan = _merge_plan(households)
    with CaptureQueriesContext(connection) as queries:
        applied = reorg.reorganisation_apply(actor=admin, plan=plan, expected_version=plan.version)
    assert applied.result["households"] == households
    assert applied.result["registrations"] == 5
    assert applied.result["roles_moved"] == 1
    return len(queries)


def test_apply_runs_the_same_number_of_queries_for_50_and_500_households(
    django_assert_max_num_queries,
) -> None:
    small = _apply_queries(50)
    large = _apply_queries(500)
    assert small == large
    admin, plan = _merge_plan(500 + 1)
    with django_assert_max_num_queries(small):
        reorg.reorganisation_apply(actor=admin, plan=plan, expected_version=plan.version)
    assert small <= 60, small

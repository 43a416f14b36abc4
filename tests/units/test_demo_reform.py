"""The demo's 2025 reform (issue 9 §6): one plan makes the HCMC tenant two-tier.

``seed_demo(with_cycle=False)`` applies it to the bare units: the three districts
close on 30/06/2025 with their 43 wards and Quận 10's 79 khu phố, ten new wards
sit under the city, the users' roles move (the ward officials' with their wards,
the district reviewer's flagged and resolved to the city) and the review chains
get both periods. A second run changes nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest

from recognition.services.chain import reviewing_unit_for
from recognition.titles import Title
from units.demo.reform import EFFECTIVE_ON, MERGES, PLAN_NAME
from units.demo.seed import seed_demo
from units.levels import Level
from units.models import AdministrativeUnit, RoleAssignment, UnitSuccession
from units.reorganisation.models import Reorganisation, ReorganisationStatus, RoleReassignment

pytestmark = pytest.mark.django_db

CLOSED_ON = dt.date(2025, 6, 30)


def _roles() -> set[tuple[str, str, str, bool]]:
    return {
        (a.user.username, a.role, a.unit.code, a.unit.valid_to is None)
        for a in RoleAssignment.objects.filter(tenant__slug="hcm").select_related("user", "unit")
    }


def test_demo_plan_abolishes_the_districts_and_moves_the_roles() -> None:
    seed_demo(with_cycle=False)
    plan = Reorganisation.objects.get(tenant__slug="hcm", name=PLAN_NAME)
    assert plan.status == ReorganisationStatus.APPLIED
    assert plan.effective_on == EFFECTIVE_ON and plan.abolish_level == Level.DISTRICT
    assert plan.legal_basis.startswith("Nghị quyết 1685/NQ-UBTVQH15")
    assert plan.result["units_abolished"] == 3
    assert plan.result["units_closed"] == 3 + 43 + 79
    assert plan.result["units_created"] == 10 + 79

    city = AdministrativeUnit.objects.get(tenant__slug="hcm", code="79")
    for code in ("771", "772", "768"):
        district = AdministrativeUnit.objects.get(tenant__slug="hcm", code=code)
        assert district.valid_to == CLOSED_ON
        assert not UnitSuccession.objects.filter(predecessor=district).exists()
    in_force = AdministrativeUnit.objects.filter(
        tenant__slug="hcm", level=Level.COMMUNE, valid_to__isnull=True
    )
    assert sorted(in_force.values_list("code", flat=True)) == sorted(c for c, _n, _s in MERGES)
    assert set(in_force.values_list("parent_id", flat=True)) == {city.pk}
    # New codes reuse an old one (RULES §7.2): the old ward and the new coexist by date.
    vuon_lai = in_force.get(code="27190")
    assert vuon_lai.name == "Phường Vườn Lài" and vuon_lai.valid_from == EFFECTIVE_ON
    old_2 = AdministrativeUnit.objects.get(tenant__slug="hcm", code="27190", valid_to=CLOSED_ON)
    assert old_2.name == "Phường 2" and old_2.parent is not None and old_2.parent.code == "771"
    assert set(
        UnitSuccession.objects.filter(successor=vuon_lai).values_list(
            "predecessor__code", flat=True
        )
    ) == {"27184", "27190", "27193", "27181", "27178", "27199", "27175"}
    # Quận 10's khu phố continue under the new wards, with their codes, numbered 1…n.
    kp = AdministrativeUnit.objects.get(tenant__slug="hcm", code="27184-KP01", valid_to=None)
    assert kp.parent_id == vuon_lai.pk
    names = list(
        vuon_lai.children.filter(valid_to=None).order_by("code").values_list("name", flat=True)
    )
    assert names == [f"Khu phố {n}" for n in range(1, len(names) + 1)] and len(names) > 30
    old_kp = AdministrativeUnit.objects.get(
        tenant__slug="hcm", code="27184-KP01", valid_to=CLOSED_ON
    )
    assert old_kp.name == "Khu phố 1"  # the old one keeps its name (paths are history)

    assert _roles() == {
        ("admin.hcm", "tenant_admin", "79", True),
        ("viewer.hcm", "steering_viewer", "79", True),
        ("ward.q10.p1", "ward_official", "27190", True),  # Phường 1 → Vườn Lài
        ("ward.q11.p1", "ward_official", "27238", True),  # Phường 1 (Q.11) → Minh Phụng
        ("reviewer.q10", "reviewer", "79", True),  # flagged, resolved to the city
    }
    flag = RoleReassignment.objects.get(plan=plan)
    assert flag.user.username == "reviewer.q10" and flag.reason == "abolished"
    assert flag.resolved_at is not None

    # Who reviews a ward's family dossier: the district until 30/06/2025, then the city.
    old_1 = AdministrativeUnit.objects.get(tenant__slug="hcm", code="27184")
    before = reviewing_unit_for(
        proposing_unit=old_1, title=Title.FAMILY, scope_level="", on=CLOSED_ON
    )
    after = reviewing_unit_for(
        proposing_unit=vuon_lai, title=Title.FAMILY, scope_level="", on=dt.date(2026, 11, 24)
    )
    assert before is not None and before.code == "771"
    assert after == city


def test_demo_reform_is_idempotent() -> None:
    seed_demo(with_cycle=False)
    units, roles = AdministrativeUnit.objects.count(), _roles()
    seed_demo(with_cycle=False)
    assert AdministrativeUnit.objects.count() == units
    assert _roles() == roles
    assert Reorganisation.objects.filter(tenant__slug="hcm").count() == 1

"""Synthetic data at scale (issue 7, item 4), at a tiny scale: a valid tree,
the counts it promised, and rollups that equal the raw rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recognition.models import Assessment, AssessmentStatus, Household, Registration
from recognition.titles import Title
from reports.models import Rollup
from reports.synthetic import SyntheticError, SyntheticPlan, synthetic_generate
from units.levels import Level
from units.models import PATH_SEGMENT_WIDTH, AdministrativeUnit, Tenant, path_segment

pytestmark = pytest.mark.django_db

PLAN = SyntheticPlan(
    communes=2,
    neighbourhoods_per_commune=3,
    households_per_neighbourhood=5,
    years=(2024, 2025),
    seed=7,
    vary=False,
)


def test_tree_is_valid_and_counts_match() -> None:
    result = synthetic_generate(slug="synth", plan=PLAN)
    tenant = result.tenant
    units = {u.pk: u for u in AdministrativeUnit.objects.filter(tenant=tenant)}
    assert result.units == len(units) == 1 + 2 + 6
    assert Counter(u.level for u in units.values()) == {
        Level.PROVINCE: 1,
        Level.COMMUNE: 2,
        Level.NEIGHBOURHOOD: 6,
    }
    for unit in units.values():
        assert unit.path.endswith(path_segment(unit.pk))
        assert unit.depth == len(unit.path) // PATH_SEGMENT_WIDTH - 1
        assert unit.sort_name and unit.search_name == unit.search_name.lower()
        if unit.parent_id is None:
            assert unit.depth == 0
        else:
            parent = units[unit.parent_id]
            assert unit.path.startswith(parent.path)
            assert unit.depth == parent.depth + 1
    households = Household.objects.filter(tenant=tenant)
    assert result.households == households.count() == 6 * 5
    assert {h.unit.level for h in households.select_related("unit")} == {Level.NEIGHBOURHOOD}
    registrations = Registration.objects.filter(tenant=tenant)
    assert result.registrations == registrations.count()
    assert result.assessments == Assessment.objects.filter(tenant=tenant).count()
    assert set(registrations.values_list("year", flat=True)) == {2024, 2025}
    # Proposed by the commune above the household's neighbourhood.
    for reg in registrations.select_related("unit", "proposing_unit"):
        assert reg.proposing_unit.level == Level.COMMUNE
        assert reg.unit.parent_id == reg.proposing_unit_id
    recognised = Assessment.objects.filter(tenant=tenant, status=AssessmentStatus.RECOGNISED)
    assert result.recognised == recognised.count() > 0


def test_rollups_rebuilt_equal_the_raw_counts() -> None:
    result = synthetic_generate(slug="synth", plan=PLAN)
    assert result.rebuild is not None
    tenant = result.tenant
    units = {u.pk: u for u in AdministrativeUnit.objects.filter(tenant=tenant)}
    expected: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for unit_id, year, status in Assessment.objects.filter(tenant=tenant).values_list(
        "unit_id", "registration__year", "status"
    ):
        for ancestor in units.values():
            if units[unit_id].path.startswith(ancestor.path):
                key = (ancestor.pk, year)
                expected[key]["assessed"] += status != AssessmentStatus.DRAFT
                expected[key]["recognised"] += status == AssessmentStatus.RECOGNISED
    rows = Rollup.objects.filter(tenant=tenant, title=Title.FAMILY)
    assert rows.count() == len(units) * 2
    for row in rows:
        assert row.assessed == expected[(row.unit_id, row.year)]["assessed"]
        assert row.recognised == expected[(row.unit_id, row.year)]["recognised"]
        households = Household.objects.filter(unit__path__startswith=units[row.unit_id].path)
        assert row.eligible_base == households.count()
    city = rows.get(unit__level=Level.PROVINCE, year=2025)
    assert (
        city.recognised
        == Assessment.objects.filter(
            tenant=tenant, registration__year=2025, status=AssessmentStatus.RECOGNISED
        ).count()
    )


def test_refuses_an_existing_tenant_unless_replaced() -> None:
    synthetic_generate(slug="synth", plan=PLAN, rebuild=False)
    with pytest.raises(SyntheticError):
        synthetic_generate(slug="synth", plan=PLAN, rebuild=False)
    again = synthetic_generate(slug="synth", plan=PLAN, replace=True)
    assert Tenant.objects.filter(slug="synth").count() == 1
    assert Household.objects.filter(tenant=again.tenant).count() == 30


def test_command_prints_progress_and_refuses_a_second_run() -> None:
    out = StringIO()
    args = ["--tenant", "cmd", "--communes", "2", "--neighbourhoods-per-commune", "2"]
    args += ["--households-per-neighbourhood", "3", "--years", "2025", "--seed", "1"]
    call_command("generate_synthetic", *args, stdout=out)
    text = out.getvalue()
    assert "rows/s" in text and "Rollups:" in text and "'cmd'" in text
    with pytest.raises(CommandError):
        call_command("generate_synthetic", *args, stdout=StringIO())

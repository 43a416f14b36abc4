"""manage.py generate_units: the bulk tree the benchmarks run on."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from tests.factories import grant, make_unit, make_user
from units.models import AdministrativeUnit, Tenant, path_segment
from units.roles import Role
from units.selectors import units_for_user


@pytest.mark.django_db
def test_generates_a_consistent_tree() -> None:
    call_command(
        "generate_units", tenant_slug="bench", units=60, districts=3, communes=7, batch_size=8
    )
    tenant = Tenant.objects.get(slug="bench")
    units = list(AdministrativeUnit.objects.filter(tenant=tenant).select_related("parent"))
    assert len(units) == 60
    assert Counter(u.level for u in units) == {
        "province": 1,
        "district": 3,
        "commune": 7,
        "neighbourhood": 49,
    }
    for unit in units:
        expected = (unit.parent.path if unit.parent else "") + path_segment(unit.pk)
        assert unit.path == expected
        assert unit.depth == (unit.parent.depth + 1 if unit.parent else 0)
    assert len({u.code for u in units}) == 60
    assert AuditEvent.objects.filter(action="unit.generate", tenant=tenant).count() == 1

    # The scoping selectors see exactly a district's subtree.
    district = next(u for u in units if u.level == "district")
    official = grant(make_user(tenant, "bench.district"), district, Role.REVIEWER)
    in_scope = set(units_for_user(official).values_list("pk", flat=True))
    assert in_scope == {u.pk for u in units if u.path.startswith(district.path)}
    assert 1 < len(in_scope) < len(units)

    # The id sequence moved past the generated rows: the service still creates units.
    commune = next(u for u in units if u.level == "commune")
    added = make_unit(tenant, commune, "thon", "Thôn Mới", "NEW-1")
    assert added.pk > max(u.pk for u in units)
    assert added.path == commune.path + path_segment(added.pk)


@pytest.mark.django_db
def test_refuses_to_add_to_an_existing_tree_unless_replacing() -> None:
    call_command("generate_units", tenant_slug="bench", units=10, districts=1, communes=2)
    with pytest.raises(CommandError, match="--replace"):
        call_command("generate_units", tenant_slug="bench", units=10, districts=1, communes=2)
    call_command(
        "generate_units", tenant_slug="bench", units=12, districts=1, communes=2, replace=True
    )
    assert AdministrativeUnit.objects.filter(tenant__slug="bench").count() == 12


def test_rejects_a_plan_too_small_for_its_levels() -> None:
    with pytest.raises(CommandError, match="too small"):
        call_command("generate_units", tenant_slug="bench", units=10, districts=3, communes=7)

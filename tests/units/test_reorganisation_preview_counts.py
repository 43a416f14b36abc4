"""The preview counts the same whether it counts a batch of units at a time or,
for a plan closing more units than a batch, the whole tenant in one GROUP BY."""

from __future__ import annotations

import pytest

from recognition.models import Household
from tests.conftest import Cast
from tests.units.test_reorganisation_support import EFFECTIVE, build_world
from units.reorganisation import preview as preview_module
from units.reorganisation import services as reorg


def _merge_plan(cast: Cast, ward_b):
    plan = reorg.reorganisation_create(
        actor=cast.admin, name="Sắp xếp 2025", effective_on=EFFECTIVE, legal_basis="NQ"
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, ward_b],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    return plan


def test_whole_tenant_counts_equal_batched_counts(cast: Cast, monkeypatch: pytest.MonkeyPatch):
    world = build_world(cast)
    plan = _merge_plan(cast, world.ward_b)
    batched = reorg.reorganisation_preview(plan=plan)
    monkeypatch.setattr(preview_module, "CHUNK", 1)  # every plan is now "large"
    whole = reorg.reorganisation_preview(plan=plan)
    assert batched.counts == whole.counts
    in_wards = Household.objects.filter(
        unit__path__regex=rf"^({cast.ward.path}|{world.ward_b.path})"
    ).count()
    assert in_wards >= len(world.households_a) + len(world.households_b) + 1
    assert batched.counts["households"] == in_wards
    assert batched.counts["registrations"] >= 1
    assert [s.counts for s in batched.steps] == [s.counts for s in whole.steps]

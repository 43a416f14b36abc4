"""The preview of a plan: what it would do, every conflict, and a plan with a
conflict refused whole with nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest

from core.models import AuditEvent
from recognition.models import Household, Registration
from tests.conftest import Cast
from tests.factories import make_unit
from tests.recognition.conftest import make_household
from tests.units.test_reorganisation_support import EFFECTIVE, build_world
from units.models import AdministrativeUnit, RoleAssignment, UnitSuccession
from units.reorganisation import services as reorg
from units.reorganisation.exceptions import ReorganisationConflictError
from units.reorganisation.models import ReorganisationStatus


def _plan(cast: Cast, **kwargs):
    return reorg.reorganisation_create(
        actor=cast.admin, name="Kế hoạch thử", effective_on=kwargs.pop("on", EFFECTIVE), **kwargs
    )


def _codes(preview) -> set[str]:
    return {c.code for c in preview.conflicts}


def _snapshot() -> tuple:
    return (
        list(AdministrativeUnit.objects.order_by("pk").values_list("pk", "valid_to", "path")),
        list(Household.objects.order_by("pk").values_list("pk", "unit_id")),
        list(Registration.objects.order_by("pk").values_list("pk", "unit_id", "proposing_unit_id")),
        list(RoleAssignment.objects.order_by("pk").values_list("pk", "unit_id")),
        UnitSuccession.objects.count(),
        AuditEvent.objects.filter(action__startswith="reorganisation.apply").count(),
    )


def test_preview_lists_what_a_merge_does(cast: Cast) -> None:
    w = build_world(cast)
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, w.ward_b],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    before = _snapshot()
    preview = reorg.reorganisation_preview(plan=plan)
    assert preview.can_apply, preview.conflicts
    (step,) = preview.steps
    assert [u.code for u in step.closes] == ["27184", "27190"]
    assert [(n.code, n.name, n.parent_label) for n in step.creates] == [
        ("27184", "Phường Sài Gòn", "Quận Một")
    ]
    assert step.copies == 2
    households = Household.objects.filter(tenant=cast.tenant).count()
    assert preview.counts["households"] == households
    assert preview.counts["clans"] == 1
    # Open: the 2025 draft. Kept: the two submitted items and the 2024 assessment.
    assert preview.counts["registrations"] == 1
    assert preview.counts["registrations_kept"] == 3
    assert preview.counts["roles_moved"] == 1 and preview.counts["roles_flagged"] == 0
    assert preview.counts["units_closed"] == 4 and preview.counts["units_created"] == 3
    assert step.counts["households"] == households
    assert _snapshot() == before  # a pure read


def test_unit_in_two_steps_and_code_clash(cast: Cast) -> None:
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[cast.ward],
        targets=[{"name": "Phường Một"}],
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="recode",
        sources=[cast.ward],
        targets=[{"code": "27300"}],
    )
    # Code of Phường Tân Định, which stays in force.
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="recode",
        sources=[cast.district],
        targets=[{"code": "772"}],
    )
    preview = reorg.reorganisation_preview(plan=plan)
    assert {"unit_in_two_steps", "code_in_use"} <= _codes(preview)
    clash = next(c for c in preview.conflicts if c.code == "code_in_use")
    assert (clash.step, clash.unit_code) == (3, "772")
    assert "Quận Hai" in clash.message


def test_code_clash_with_a_unit_starting_later(cast: Cast) -> None:
    make_unit(
        cast.tenant,
        cast.district,
        "phuong",
        "Phường Tương Lai",
        "27400",
        valid_from=dt.date(2026, 1, 1),
    )
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="recode",
        sources=[cast.ward],
        targets=[{"code": "27400"}],
    )
    assert "code_in_use" in _codes(reorg.reorganisation_preview(plan=plan))


def test_split_children_must_be_covered_exactly_once(cast: Cast) -> None:
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="split",
        sources=[cast.ward],
        targets=[
            reorg.TargetInput(code="27184", name="A", kind="phuong", neighbourhoods=[kp2]),
            reorg.TargetInput(
                code="27185",
                name="B",
                kind="phuong",
                neighbourhoods=[kp2, cast.other_neighbourhood],
            ),
        ],
    )
    codes = _codes(reorg.reorganisation_preview(plan=plan))
    assert {"split_child_twice", "split_child_unknown", "split_default"} <= codes


def test_abolished_level_must_be_fully_closed(cast: Cast) -> None:
    plan = _plan(cast, abolish_level="district")
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[cast.ward],
        targets=[{"name": "Phường Sài Gòn"}],
    )
    preview = reorg.reorganisation_preview(plan=plan)
    conflict = next(c for c in preview.conflicts if c.code == "abolished_level_not_closed")
    assert conflict.unit_code == "27247"
    assert "Quận Hai" in conflict.message


def test_source_not_in_force_and_placement(cast: Cast) -> None:
    closed = make_unit(
        cast.tenant,
        cast.district,
        "phuong",
        "Phường Đã Giải Thể",
        "27500",
        valid_to=dt.date(2024, 12, 31),
    )
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin, plan=plan, kind="rename", sources=[closed], targets=[{"name": "X"}]
    )
    # A ward placed directly under the city while districts are in use.
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="move",
        sources=[cast.ward],
        targets=[reorg.TargetInput(parent=cast.city)],
    )
    # A neighbourhood placed under a district.
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="move",
        sources=[cast.other_neighbourhood],
        targets=[reorg.TargetInput(parent=cast.district)],
    )
    preview = reorg.reorganisation_preview(plan=plan)
    by_step = {(c.step, c.code) for c in preview.conflicts}
    assert (1, "source_not_in_force") in by_step
    assert (2, "placement") in by_step
    assert (3, "placement") in by_step


def test_plan_date_before_an_earlier_succession(cast: Cast) -> None:
    first = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=first,
        kind="rename",
        sources=[cast.ward],
        targets=[{"name": "Phường Sài Gòn"}],
    )
    first.refresh_from_db()
    reorg.reorganisation_apply(actor=cast.admin, plan=first, expected_version=first.version)
    successor = AdministrativeUnit.objects.get(succession_in__predecessor=cast.ward)
    earlier = _plan(cast, on=dt.date(2025, 1, 1))
    reorg.step_add(
        actor=cast.admin,
        plan=earlier,
        kind="rename",
        sources=[successor],
        targets=[{"name": "Phường Khác"}],
    )
    reorg.step_add(
        actor=cast.admin,
        plan=earlier,
        kind="rename",
        sources=[cast.ward],
        targets=[{"name": "Phường Khác 2"}],
    )
    conflicts = reorg.reorganisation_preview(plan=earlier).conflicts
    assert [(c.step, c.code) for c in conflicts] == [
        (1, "source_not_in_force"),
        (2, "source_not_in_force"),
    ]
    assert "01/07/2025" in conflicts[0].message and "30/06/2025" in conflicts[1].message


def test_a_plan_with_any_conflict_is_refused_whole(cast: Cast) -> None:
    w = build_world(cast)
    make_household(cast, unit=cast.other_neighbourhood)
    plan = _plan(cast)
    # A valid merge …
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, w.ward_b],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    # … and a rename whose new code clashes with Quận Một's (which stays in force).
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="recode",
        sources=[cast.other_ward],
        targets=[{"code": "771"}],
    )
    plan.refresh_from_db()
    before = _snapshot()
    with pytest.raises(ReorganisationConflictError) as error:
        reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)
    assert error.value.http_status == 409
    assert [c["code"] for c in error.value.params["conflicts"]] == ["code_in_use"]
    assert _snapshot() == before
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.DRAFT and plan.result == {}

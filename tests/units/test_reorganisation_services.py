"""Applying reorganisation plans: merge, split, rename, re-code, move, the two-tier
change, history kept under the old units, refusals (state, version, roles, tenant)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Clan,
    Dossier,
    DossierStatus,
    Household,
    Registration,
)
from reports.services import rollups_rebuild
from tests.conftest import Cast
from tests.factories import make_unit
from tests.recognition.conftest import make_household
from tests.units.test_reorganisation_support import (
    DAY_BEFORE,
    EFFECTIVE,
    build_world,
    fresh,
    in_force_children,
    rollup_counts,
)
from units.models import AdministrativeUnit, RoleAssignment, TenantLevel, UnitSuccession
from units.reorganisation import selectors
from units.reorganisation import services as reorg
from units.reorganisation.exceptions import ReorganisationStateError, StepError
from units.reorganisation.models import (
    ReorganisationMapping,
    ReorganisationStatus,
    RoleReassignment,
)
from units.roles import Role


def _plan(cast: Cast, **kwargs):
    kwargs.setdefault("name", "Sắp xếp đơn vị hành chính 2025")
    kwargs.setdefault("legal_basis", "Nghị quyết 1685/NQ-UBTVQH15")
    kwargs.setdefault("effective_on", EFFECTIVE)
    return reorg.reorganisation_create(actor=cast.admin, **kwargs)


def _apply(cast: Cast, plan):
    return reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)


def _successor(unit: AdministrativeUnit) -> AdministrativeUnit:
    return AdministrativeUnit.objects.get(succession_in__predecessor=unit)


# --- Merge -------------------------------------------------------------------------------


def test_merge_of_two_wards_moves_subjects_open_work_and_roles(cast: Cast) -> None:
    w = build_world(cast)
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, w.ward_b],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    applied = _apply(cast, plan)

    assert applied.status == ReorganisationStatus.APPLIED
    new_ward = AdministrativeUnit.objects.get(code="27184", valid_to__isnull=True)
    assert new_ward.name == "Phường Sài Gòn"
    assert new_ward.parent_id == cast.district.pk
    assert new_ward.valid_from == EFFECTIVE
    assert new_ward.path == cast.district.path + new_ward.path[-8:]
    # The old rows are closed, never deleted or re-parented.
    for old in (cast.ward, w.ward_b, cast.neighbourhood, w.kp_b):
        row = fresh(old)
        assert row.valid_to == DAY_BEFORE
        assert row.path == old.path
    assert set(
        UnitSuccession.objects.filter(successor=new_ward).values_list("predecessor_id", "kind")
    ) == {(cast.ward.pk, "merge"), (w.ward_b.pk, "merge")}
    # Each neighbourhood continues as a copy under the new ward.
    kps = in_force_children(new_ward)
    assert [k.code for k in kps] == ["27184-KP01", "27190-KP01"]
    kp_a, kp_b = kps
    assert _successor(cast.neighbourhood) == kp_a
    assert UnitSuccession.objects.get(successor=kp_a).kind == "move"

    # Subjects live in the new tree.
    assert set(Household.objects.filter(unit=kp_a).values_list("pk", flat=True)) >= {
        h.pk for h in w.households_a
    }
    assert set(Household.objects.filter(unit=kp_b).values_list("pk", flat=True)) == {
        h.pk for h in w.households_b
    }
    assert fresh(w.direct_household).unit_id == new_ward.pk
    clan = fresh(w.clan)
    assert clan.unit_id == new_ward.pk
    assert list(clan.home_units.values_list("pk", flat=True)) == [kp_a.pk]

    # The open 2025 registration and its draft self-assessment moved.
    registration = fresh(w.open_registration)
    assert (registration.unit_id, registration.proposing_unit_id) == (kp_b.pk, new_ward.pk)
    assert fresh(w.open_assessment).unit_id == kp_b.pk
    # The submitted dossier and its items stay with the old ward.
    dossier = fresh(w.dossier)
    assert dossier.proposing_unit_id == cast.ward.pk
    assert dossier.status == DossierStatus.SUBMITTED
    for item in w.dossier_items:
        item = fresh(item)
        assert item.unit_id == cast.neighbourhood.pk
        assert item.status == AssessmentStatus.SUBMITTED
        assert item.registration.proposing_unit_id == cast.ward.pk

    # The ward official's role moved to the new ward, with an audit of before/after.
    assert list(
        RoleAssignment.objects.filter(user=cast.ward_official).values_list("unit_id", "role")
    ) == [(new_ward.pk, Role.WARD_OFFICIAL)]
    moved = AuditEvent.objects.get(action="role.move")
    assert moved.before["unit"] == "27184" and moved.after["unit_id"] == new_ward.pk
    assert not RoleReassignment.objects.exists()

    # One audit event per step and one for the plan; the result counts what moved.
    assert AuditEvent.objects.filter(action="reorganisation.step").count() == 1
    assert AuditEvent.objects.filter(action="reorganisation.apply").count() == 1
    result = applied.result
    assert result["units_closed"] == 4 and result["units_created"] == 3
    assert result["households"] == Household.objects.filter(tenant=cast.tenant).count()
    assert result["registrations"] == 1 and result["roles_moved"] == 1
    assert ReorganisationMapping.objects.filter(plan=plan).count() == 4


def test_open_items_of_a_draft_dossier_leave_it_for_the_successor(cast: Cast) -> None:
    from tests.recognition.conftest import make_points_set
    from tests.recognition.dossier_factories import ready_households, ward_dossier

    points_set = make_points_set()
    items = ready_households(cast, points_set, 2)
    dossier = ward_dossier(cast)
    from recognition.services import dossier as dossier_services

    dossier_services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[cast.ward],
        targets=[{"name": "Phường Bến Nghé Mới"}],
    )
    _apply(cast, plan)
    new_kp = _successor(cast.neighbourhood)
    for item in items:
        item = fresh(item)
        assert item.dossier_id is None
        assert item.status == AssessmentStatus.READY
        assert item.unit_id == new_kp.pk
        assert item.registration.proposing_unit_id == _successor(cast.ward).pk
    assert Dossier.objects.get(pk=dossier.pk).status == DossierStatus.DRAFT


# --- Split -------------------------------------------------------------------------------


def test_split_distributes_neighbourhoods_and_flags_roles(cast: Cast) -> None:
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    kp3 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 3", "27184-KP03")
    in_kp1 = make_household(cast)
    in_kp3 = make_household(cast, unit=kp3)
    direct = make_household(cast, unit=cast.ward)
    lead = RoleAssignment.objects.create(
        tenant=cast.tenant, user=cast.viewer, unit=kp3, role=Role.NEIGHBOURHOOD_LEAD
    )
    plan = _plan(cast, name="Chia tách phường Bến Nghé")
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="split",
        sources=[cast.ward],
        targets=[
            reorg.TargetInput(code="27184", name="Phường Bến Nghé", kind="phuong", default=True),
            reorg.TargetInput(
                code="27185", name="Phường Bến Thành", kind="phuong", neighbourhoods=[kp2, kp3]
            ),
        ],
    )
    preview = reorg.reorganisation_preview(plan=plan)
    assert preview.can_apply, preview.conflicts
    assert preview.counts["roles_flagged"] == 1 and preview.counts["roles_moved"] == 1
    _apply(cast, plan)

    a = AdministrativeUnit.objects.get(code="27184", valid_to__isnull=True)
    b = AdministrativeUnit.objects.get(code="27185", valid_to__isnull=True)
    assert [k.code for k in in_force_children(a)] == ["27184-KP01"]
    assert [k.code for k in in_force_children(b)] == ["27184-KP02", "27184-KP03"]
    assert fresh(in_kp1).unit.parent_id == a.pk
    assert fresh(in_kp3).unit.parent_id == b.pk
    assert fresh(direct).unit_id == a.pk  # the default target takes the ward's own subjects
    assert set(
        UnitSuccession.objects.filter(predecessor=cast.ward).values_list("successor_id", "kind")
    ) == {(a.pk, "split"), (b.pk, "split")}

    # The ward official's role is not lost: kept on the old ward and flagged.
    kept = RoleAssignment.objects.get(user=cast.ward_official)
    assert kept.unit_id == cast.ward.pk
    flagged = list(selectors.reassignments_for_user(cast.admin))
    assert [(f.user_id, f.role, f.unit_id, f.reason) for f in flagged] == [
        (cast.ward_official.pk, Role.WARD_OFFICIAL, cast.ward.pk, "split")
    ]
    assert not selectors.reassignments_for_user(cast.ward_official).exists()
    assert set(selectors.successor_choices(flagged[0])) == {a, b}
    # The neighbourhood lead followed the copy of Khu phố 3.
    assert not RoleAssignment.objects.filter(pk=lead.pk).exists()
    assert (
        RoleAssignment.objects.get(user=cast.viewer, role=Role.NEIGHBOURHOOD_LEAD).unit.parent_id
        == b.pk
    )

    # The admin resolves the flag: the role goes to the chosen successor.
    admin = fresh(cast.admin)
    reorg.role_reassignment_resolve(actor=admin, reassignment=flagged[0], units=[b])
    assert list(
        RoleAssignment.objects.filter(user=cast.ward_official).values_list("unit_id", flat=True)
    ) == [b.pk]
    assert not selectors.reassignments_for_user(admin).exists()
    with pytest.raises(ReorganisationStateError):
        reorg.role_reassignment_resolve(actor=admin, reassignment=flagged[0], units=[a])


# --- Rename, re-code, move -------------------------------------------------------------


def test_rename_keeps_the_code_and_links_the_old_row(cast: Cast) -> None:
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[cast.ward],
        targets=[{"name": "Phường Sài Gòn"}],
    )
    _apply(cast, plan)
    new = _successor(cast.ward)
    assert (new.code, new.name, new.kind, new.parent_id) == (
        "27184",
        "Phường Sài Gòn",
        "phuong",
        cast.district.pk,
    )
    assert UnitSuccession.objects.get(successor=new).kind == "rename"
    assert fresh(cast.ward).name == "Phường Bến Nghé"
    assert [k.code for k in in_force_children(new)] == ["27184-KP01"]


def test_recode_may_reuse_the_code_of_a_unit_closed_earlier(cast: Cast) -> None:
    make_unit(
        cast.tenant,
        cast.district,
        "phuong",
        "Phường Cũ",
        "27199",
        valid_to=dt.date(2020, 12, 31),
    )
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="recode",
        sources=[cast.ward],
        targets=[{"code": "27199"}],
    )
    assert reorg.reorganisation_preview(plan=plan).can_apply
    _apply(cast, plan)
    new = _successor(cast.ward)
    assert (new.code, new.name) == ("27199", "Phường Bến Nghé")
    assert UnitSuccession.objects.get(successor=new).kind == "recode"


def test_move_places_the_successor_under_the_new_parent(cast: Cast) -> None:
    household = make_household(cast)
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="move",
        sources=[cast.ward],
        targets=[reorg.TargetInput(parent=cast.other_district)],
    )
    _apply(cast, plan)
    new = _successor(cast.ward)
    assert new.parent_id == cast.other_district.pk
    assert new.path.startswith(cast.other_district.path)
    assert fresh(cast.ward).parent_id == cast.district.pk
    assert fresh(household).unit.parent_id == new.pk


def test_move_needs_a_parent(cast: Cast) -> None:
    plan = _plan(cast)
    with pytest.raises(StepError):
        reorg.step_add(actor=cast.admin, plan=plan, kind="move", sources=[cast.ward])


# --- The two-tier change -----------------------------------------------------------------


def test_abolishing_the_district_level_puts_communes_under_the_province(cast: Cast) -> None:
    household = make_household(cast)
    plan = _plan(cast, abolish_level="district")
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, cast.other_ward],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    preview = reorg.reorganisation_preview(plan=plan)
    assert preview.can_apply, preview.conflicts
    assert {u.code for u in preview.abolished} == {"771", "772"}
    _apply(cast, plan)

    new = AdministrativeUnit.objects.get(code="27184", valid_to__isnull=True)
    assert new.parent_id == cast.city.pk and new.depth == 1
    assert fresh(cast.district).valid_to == DAY_BEFORE
    assert fresh(cast.other_district).valid_to == DAY_BEFORE
    assert fresh(household).unit.parent_id == new.pk
    district_level = TenantLevel.objects.get(tenant=cast.tenant, level="district")
    assert district_level.valid_to == DAY_BEFORE
    # The district reviewer's role is flagged, not lost.
    assert RoleAssignment.objects.get(user=cast.reviewer).unit_id == cast.district.pk
    assert RoleReassignment.objects.get(user=cast.reviewer).reason == "abolished"
    # The other tenant is untouched.
    assert TenantLevel.objects.get(tenant=cast.other_tenant, level="district").valid_to is None


# --- History -------------------------------------------------------------------------------


def test_2024_figures_stay_under_the_old_ward_after_apply_and_rebuild(cast: Cast) -> None:
    w = build_world(cast)
    rollups_rebuild(tenant=cast.tenant)
    before_ward = rollup_counts(cast.ward, 2024)
    before_kp = rollup_counts(cast.neighbourhood, 2024)
    assert before_ward[("gia_dinh", "")] == (1, 1, 1, 0)

    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, w.ward_b],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    _apply(cast, plan)
    assessment = fresh(w.old_assessment)
    assert assessment.unit_id == cast.neighbourhood.pk
    assert assessment.registration.proposing_unit_id == cast.ward.pk
    assert rollup_counts(cast.ward, 2024) == before_ward
    rollups_rebuild(tenant=cast.tenant)
    assert rollup_counts(cast.ward, 2024) == before_ward
    assert rollup_counts(cast.neighbourhood, 2024) == before_kp
    new_ward = _successor(cast.ward)
    assert rollup_counts(new_ward, 2024) == {}
    # 2025: the submitted dossier's items stay, the open registration moved.
    assert rollup_counts(new_ward, 2025)[("gia_dinh", "")][0] == 1
    # Mapped onto today's units: the old ward and neighbourhood lead to their successors.
    mapping = selectors.today_map(tenant=cast.tenant)
    assert mapping[cast.ward.pk] == new_ward.pk
    assert mapping[cast.neighbourhood.pk] == _successor(cast.neighbourhood).pk
    assert selectors.successors_in_force(fresh(cast.ward)) == [new_ward]


# --- Refusals -------------------------------------------------------------------------------


def _rename_plan(cast: Cast):
    plan = _plan(cast)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[cast.ward],
        targets=[{"name": "Phường Sài Gòn"}],
    )
    plan.refresh_from_db()
    return plan


def test_apply_twice_is_refused(cast: Cast) -> None:
    plan = _rename_plan(cast)
    applied = _apply(cast, plan)
    units = AdministrativeUnit.objects.count()
    with pytest.raises(ReorganisationStateError) as error:
        reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=applied.version)
    assert error.value.http_status == 409
    assert AdministrativeUnit.objects.count() == units
    with pytest.raises(ReorganisationStateError):
        reorg.step_add(actor=cast.admin, plan=plan, kind="rename", sources=[cast.other_ward])


def test_stale_version_is_refused(cast: Cast) -> None:
    plan = _rename_plan(cast)
    stale = plan.version
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[cast.other_ward],
        targets=[{"name": "Phường Tân Định Mới"}],
    )
    with pytest.raises(ConcurrentEditError):
        reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=stale)
    assert fresh(plan).status == ReorganisationStatus.DRAFT
    assert fresh(cast.ward).valid_to is None


def test_cancel_then_apply_is_refused(cast: Cast) -> None:
    plan = _rename_plan(cast)
    cancelled = reorg.reorganisation_cancel(
        actor=cast.admin, plan=plan, expected_version=plan.version
    )
    assert cancelled.status == ReorganisationStatus.CANCELLED
    with pytest.raises(ReorganisationStateError):
        reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=cancelled.version)


@pytest.mark.parametrize("who", ["reviewer", "ward_official", "viewer"])
def test_only_tenant_admins_plan_and_apply(cast: Cast, who: str) -> None:
    user = cast.users[who]
    with pytest.raises(PermissionDenied):
        reorg.reorganisation_create(actor=user, name="X", effective_on=EFFECTIVE)
    plan = _rename_plan(cast)
    with pytest.raises(PermissionDenied):
        reorg.reorganisation_apply(actor=user, plan=plan, expected_version=plan.version)
    with pytest.raises(Http404):
        selectors.get_reorganisation_for_user(user, plan.public_id)
    assert fresh(plan).status == ReorganisationStatus.DRAFT


def test_a_ward_level_admin_cannot_close_units_outside_their_subtree(cast: Cast) -> None:
    from tests.factories import grant, make_user

    ward_admin = grant(make_user(cast.tenant, "ward.admin"), cast.ward, Role.TENANT_ADMIN)
    plan = reorg.reorganisation_create(actor=ward_admin, name="X", effective_on=EFFECTIVE)
    with pytest.raises(PermissionDenied):
        reorg.step_add(
            actor=ward_admin,
            plan=plan,
            kind="rename",
            sources=[cast.other_ward],
            targets=[{"name": "Y"}],
        )


def test_other_tenant_is_refused(cast: Cast) -> None:
    plan = _rename_plan(cast)
    other = cast.other_tenant_official
    with pytest.raises(Http404):
        selectors.get_reorganisation_for_user(other, plan.public_id)
    with pytest.raises(Http404):
        reorg.reorganisation_apply(actor=other, plan=plan, expected_version=plan.version)
    with pytest.raises(Http404):
        reorg.step_add(
            actor=cast.admin,
            plan=plan,
            kind="rename",
            sources=[cast.other_tenant_ward],
            targets=[{"name": "Y"}],
        )
    assert fresh(plan).status == ReorganisationStatus.DRAFT
    assert selectors.reorganisations_for_user(cast.admin).get() == plan
    assert not selectors.reorganisations_for_user(other).exists()


def test_registrations_and_clans_of_other_units_are_untouched(cast: Cast) -> None:
    other = make_household(cast, unit=cast.other_neighbourhood)
    clan = Clan.objects.create(
        tenant=cast.tenant, unit=cast.other_ward, name="Họ Trần", representative="Trần Văn A"
    )
    plan = _rename_plan(cast)
    _apply(cast, plan)
    assert fresh(other).unit_id == cast.other_neighbourhood.pk
    assert fresh(clan).unit_id == cast.other_ward.pk
    assert not Registration.objects.exists()
    assert not Assessment.objects.exists()

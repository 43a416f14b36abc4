"""Rules of the unit tree and of role assignments (units/services.py)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import pytest

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from tests.conftest import Cast
from tests.factories import grant, make_tenant, make_unit, make_user
from units import services
from units.exceptions import (
    CodeClashError,
    LevelError,
    PeriodError,
    RoleGrantError,
    TreeCycleError,
    ValidityError,
)
from units.models import AdministrativeUnit, RoleAssignment, path_segment
from units.roles import ROLE_RANK, Role
from units.selectors import units_for_user

D = dt.date


def db_state() -> tuple[Any, ...]:
    return (
        list(
            AdministrativeUnit.objects.order_by("pk").values_list(
                "pk",
                "tenant_id",
                "parent_id",
                "path",
                "depth",
                "level",
                "kind",
                "name",
                "search_name",
                "code",
                "valid_from",
                "valid_to",
                "version",
            )
        ),
        list(RoleAssignment.objects.order_by("pk").values_list("pk", "user_id", "unit_id", "role")),
        AuditEvent.objects.count(),
    )


def refused(exc: type[Exception], call: Any, **kwargs: Any) -> None:
    """``call(**kwargs)`` raises ``exc`` and leaves the database as it was."""
    before = db_state()
    with pytest.raises(exc):
        call(**kwargs)
    assert db_state() == before


def create(cast: Cast, parent: AdministrativeUnit | None, kind: str, code: str, **kw: Any) -> Any:
    kw.setdefault("name", f"Đơn vị {code}")
    kw.setdefault("actor", cast.admin)
    kw.setdefault("tenant", cast.tenant)
    return services.unit_create(parent=parent, kind=kind, code=code, **kw)


def last_audit(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("id")


# --- unit_create -------------------------------------------------------------------


def test_create_places_the_unit_and_audits(cast: Cast) -> None:
    unit = create(cast, cast.ward, "khu_pho", "27184-KP02", name="Khu phố 2")
    assert unit.level == "neighbourhood"
    assert unit.depth == cast.ward.depth + 1 == 3
    assert unit.path == cast.ward.path + path_segment(unit.pk)
    event = last_audit("unit.create")
    assert event.actor == cast.admin
    assert event.object_id == str(unit.public_id)
    assert event.tenant == cast.tenant
    assert event.after["code"] == "27184-KP02"
    assert event.after["parent"] == str(cast.ward.public_id)


def test_create_stores_nfc_names(cast: Cast) -> None:
    decomposed = unicodedata.normalize("NFD", "Phường Bến Nghé")
    assert decomposed != "Phường Bến Nghé"
    unit = create(cast, cast.district, "phuong", "27185", name=f"  {decomposed} ")
    unit.refresh_from_db()
    assert unit.name == "Phường Bến Nghé"
    assert unicodedata.is_normalized("NFC", unit.name)
    assert unit.search_name == "phuong ben nghe"


def test_create_needs_an_admin_at_the_parent(cast: Cast) -> None:
    for actor in (cast.ward_official, cast.viewer, cast.reviewer, cast.other_tenant_official):
        refused(
            RoleGrantError,
            services.unit_create,
            actor=actor,
            tenant=cast.tenant,
            parent=cast.ward,
            kind="khu_pho",
            name="Khu phố 5",
            code="27184-KP05",
        )


def test_code_clash_among_units_valid_at_the_same_date_is_refused(cast: Cast) -> None:
    refused(
        CodeClashError,
        create,
        cast=cast,
        parent=cast.other_ward,
        kind="khu_pho",
        code="27184-KP01",
    )


def test_same_code_in_a_disjoint_period_is_accepted(cast: Cast) -> None:
    old = create(
        cast, cast.ward, "khu_pho", "KP-X", valid_from=D(2020, 1, 1), valid_to=D(2025, 6, 30)
    )
    # Touching the old period on its last day still clashes...
    refused(
        CodeClashError,
        create,
        cast=cast,
        parent=cast.ward,
        kind="khu_pho",
        code="KP-X",
        valid_from=D(2025, 6, 30),
    )
    refused(
        CodeClashError,
        create,
        cast=cast,
        parent=cast.ward,
        kind="khu_pho",
        code="KP-X",
        valid_from=D(2019, 1, 1),
        valid_to=D(2020, 1, 1),
    )
    # ...the next day does not, nor a period wholly before it.
    new = create(cast, cast.ward, "khu_pho", "KP-X", valid_from=D(2025, 7, 1))
    older = create(
        cast, cast.ward, "khu_pho", "KP-X", valid_from=D(2010, 1, 1), valid_to=D(2019, 12, 31)
    )
    assert {old.pk, new.pk, older.pk} == set(
        AdministrativeUnit.objects.filter(code="KP-X").values_list("pk", flat=True)
    )


def test_codes_are_unique_per_tenant_only(cast: Cast) -> None:
    unit = services.unit_create(
        actor=None,
        tenant=cast.other_tenant,
        parent=cast.other_tenant_ward,
        kind="khu_pho",
        name="Khu phố 1",
        code="27184-KP01",
    )
    assert unit.tenant == cast.other_tenant


def test_child_validity_must_lie_within_the_parent(cast: Cast) -> None:
    ward = create(
        cast, cast.district, "phuong", "27999", valid_from=D(2020, 1, 1), valid_to=D(2025, 6, 30)
    )
    for period in [
        (D(2019, 12, 31), D(2021, 1, 1)),  # starts before the parent
        (D(2021, 1, 1), None),  # open-ended under a closed parent
        (D(2021, 1, 1), D(2025, 7, 1)),  # ends after the parent
    ]:
        refused(
            ValidityError,
            create,
            cast=cast,
            parent=ward,
            kind="khu_pho",
            code="27999-KP01",
            valid_from=period[0],
            valid_to=period[1],
        )
    inside = create(
        cast, ward, "khu_pho", "27999-KP01", valid_from=D(2020, 1, 1), valid_to=D(2025, 6, 30)
    )
    assert inside.parent == ward


def test_period_must_not_end_before_it_starts(cast: Cast) -> None:
    refused(
        PeriodError,
        create,
        cast=cast,
        parent=cast.ward,
        kind="khu_pho",
        code="KP-P",
        valid_from=D(2025, 1, 2),
        valid_to=D(2025, 1, 1),
    )


@pytest.mark.parametrize(
    ("parent", "kind"),
    [
        ("district", "khu_pho"),  # khu phố directly under a quận: the commune level is in use
        ("ward", "phuong"),  # a ward under a ward
        ("ward", "quan"),  # a district under a ward
        ("city", "phuong"),  # a ward directly under the city while districts exist
        ("city", "tinh"),  # a province under a province
        (None, "quan"),  # a root that is not a province
        ("ward", "no_such_kind"),
    ],
)
def test_level_mismatch_is_refused(cast: Cast, parent: str | None, kind: str) -> None:
    refused(
        LevelError,
        create,
        cast=cast,
        parent=getattr(cast, parent) if parent else None,
        kind=kind,
        code="LVL-1",
        actor=None,
    )


# --- Levels over time (the 2025 reform) -----------------------------------------------


@pytest.fixture
def reform(db: None) -> dict[str, Any]:
    """A province that dropped its district level on 1 July 2025."""
    tenant = make_tenant("Tỉnh Cải Cách", slug="cai-cach")
    province = make_unit(tenant, None, "tinh", "Tỉnh Cải Cách", "90")
    district = make_unit(tenant, province, "huyen", "Huyện Cũ", "900")
    old_commune = make_unit(tenant, district, "xa", "Xã Cũ", "90001")
    hamlet = make_unit(tenant, old_commune, "ap", "Ấp 1", "90001-A1")
    services.tenant_set_level_period(
        tenant=tenant, level="district", valid_from=D(1900, 1, 1), valid_to=D(2025, 6, 30)
    )
    return {
        "tenant": tenant,
        "province": province,
        "district": district,
        "old_commune": old_commune,
        "hamlet": hamlet,
    }


def test_levels_in_use_follow_the_tenant_periods(reform: dict[str, Any]) -> None:
    tenant = reform["tenant"]
    assert services.levels_in_use(tenant, D(2025, 6, 30)) == [
        "province",
        "district",
        "commune",
        "neighbourhood",
    ]
    assert services.levels_in_use(tenant, D(2025, 7, 1)) == ["province", "commune", "neighbourhood"]
    assert last_audit("tenant.level_period").after["valid_to"] == "2025-06-30"


def test_commune_directly_under_the_province_from_july_2025(reform: dict[str, Any]) -> None:
    commune = services.unit_create(
        actor=None,
        tenant=reform["tenant"],
        parent=reform["province"],
        kind="xa",
        name="Xã Mới",
        code="90100",
        valid_from=D(2025, 7, 1),
    )
    assert commune.level == "commune"
    assert commune.depth == 1
    hamlet = services.unit_create(
        actor=None,
        tenant=reform["tenant"],
        parent=commune,
        kind="thon",
        name="Thôn 1",
        code="90100-T1",
        valid_from=D(2025, 7, 1),
    )
    assert hamlet.depth == 2


@pytest.mark.parametrize(
    ("parent", "kind", "valid_from"),
    [
        ("province", "xa", D(2025, 6, 30)),  # the district level is still in use that day
        ("province", "huyen", D(2025, 7, 1)),  # no district level any more
        ("district", "xa", D(2025, 7, 1)),  # nor under a district after the reform
    ],
)
def test_reform_refuses_units_that_do_not_fit_the_levels_of_their_date(
    reform: dict[str, Any], parent: str, kind: str, valid_from: dt.date
) -> None:
    refused(
        LevelError,
        services.unit_create,
        actor=None,
        tenant=reform["tenant"],
        parent=reform[parent],
        kind=kind,
        name="Thử",
        code="90999",
        valid_from=valid_from,
    )


# --- unit_update ---------------------------------------------------------------------


def update(cast: Cast, unit: AdministrativeUnit, **changes: Any) -> AdministrativeUnit:
    unit.refresh_from_db()
    fields = {
        "name": unit.name,
        "code": unit.code,
        "kind": unit.kind,
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
        "expected_version": unit.version,
        "actor": cast.admin,
    }
    fields.update(changes)
    return services.unit_update(unit=unit, **fields)


def test_update_bumps_the_version_normalises_and_audits(cast: Cast) -> None:
    name = unicodedata.normalize("NFD", "Phường Bến Thành")
    unit = update(cast, cast.ward, name=name, code="27184 ")
    assert unit.name == "Phường Bến Thành" and unit.search_name == "phuong ben thanh"
    assert unit.code == "27184"
    assert unit.version == 2
    event = last_audit("unit.update")
    assert event.actor == cast.admin
    assert event.before["name"] == "Phường Bến Nghé"
    assert event.after["name"] == "Phường Bến Thành"


def test_stale_version_is_refused(cast: Cast) -> None:
    first = AdministrativeUnit.objects.get(pk=cast.ward.pk)
    second = AdministrativeUnit.objects.get(pk=cast.ward.pk)
    update(cast, first, name="Phường A", expected_version=first.version)
    refused(
        ConcurrentEditError,
        services.unit_update,
        actor=cast.admin,
        unit=second,
        expected_version=second.version,
        name="Phường B",
        code=second.code,
        kind=second.kind,
        valid_from=second.valid_from,
        valid_to=None,
    )
    assert AdministrativeUnit.objects.get(pk=cast.ward.pk).name == "Phường A"


def test_update_keeps_its_own_code_but_refuses_a_clash(cast: Cast) -> None:
    update(cast, cast.ward, name="Phường Bến Nghé (mới)")
    refused(
        CodeClashError,
        update,
        cast=cast,
        unit=cast.ward,
        code=cast.other_ward.code,
    )


def test_update_refuses_a_period_that_leaves_a_child_outside(cast: Cast) -> None:
    refused(ValidityError, update, cast=cast, unit=cast.ward, valid_to=D(2025, 6, 30))
    refused(ValidityError, update, cast=cast, unit=cast.ward, valid_from=D(2000, 1, 1))
    refused(ValidityError, update, cast=cast, unit=cast.ward, valid_from=D(1899, 1, 1))


def test_update_refuses_a_level_change_under_the_same_parent(cast: Cast) -> None:
    refused(LevelError, update, cast=cast, unit=cast.ward, kind="khu_pho")
    assert update(cast, cast.ward, kind="xa").kind == "xa"


def test_update_needs_an_admin(cast: Cast) -> None:
    for actor in (cast.ward_official, cast.viewer, cast.other_tenant_official):
        refused(RoleGrantError, update, cast=cast, unit=cast.ward, name="X", actor=actor)


# --- unit_move -------------------------------------------------------------------------


def test_move_rewrites_the_whole_subtree(cast: Cast) -> None:
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    untouched = list(
        AdministrativeUnit.objects.exclude(pk__in=[cast.ward.pk, cast.neighbourhood.pk, kp2.pk])
        .order_by("pk")
        .values_list("pk", "path", "depth")
    )
    moved = services.unit_move(
        actor=cast.admin,
        unit=cast.ward,
        new_parent=cast.other_district,
        expected_version=cast.ward.version,
    )
    assert moved.parent == cast.other_district
    assert moved.path == cast.other_district.path + path_segment(moved.pk)
    assert moved.version == 2
    for child in (cast.neighbourhood, kp2):
        child.refresh_from_db()
        assert child.path == moved.path + path_segment(child.pk)
        assert child.depth == moved.depth + 1
    assert (
        list(
            AdministrativeUnit.objects.exclude(pk__in=[cast.ward.pk, cast.neighbourhood.pk, kp2.pk])
            .order_by("pk")
            .values_list("pk", "path", "depth")
        )
        == untouched
    )
    # Scoping follows the new paths at once: the ward is now under Quận Hai.
    reviewer_codes = set(units_for_user(cast.reviewer).values_list("code", flat=True))
    assert reviewer_codes == {"771"}
    event = last_audit("unit.move")
    assert event.before["parent"] == str(cast.district.public_id)
    assert event.after["parent"] == str(cast.other_district.public_id)


def test_move_rewrites_depths_when_the_level_above_is_dropped(reform: dict[str, Any]) -> None:
    """After the 2025 reform a commune valid from 1 July moves up under the province."""
    tenant, province, district = reform["tenant"], reform["province"], reform["district"]
    services.tenant_set_level_period(
        tenant=tenant, level="district", valid_from=D(1900, 1, 1), valid_to=None
    )
    commune = make_unit(tenant, district, "xa", "Xã Sáp Nhập", "90200", valid_from=D(2025, 7, 1))
    village = make_unit(tenant, commune, "thon", "Thôn 1", "90200-T1", valid_from=D(2025, 7, 1))
    services.tenant_set_level_period(
        tenant=tenant, level="district", valid_from=D(1900, 1, 1), valid_to=D(2025, 6, 30)
    )
    assert (commune.depth, village.depth) == (2, 3)
    moved = services.unit_move(
        actor=None, unit=commune, new_parent=province, expected_version=commune.version
    )
    village.refresh_from_db()
    assert (moved.depth, village.depth) == (1, 2)
    assert moved.path == province.path + path_segment(moved.pk)
    assert village.path == moved.path + path_segment(village.pk)


@pytest.mark.parametrize("target", ["ward", "neighbourhood", "district"])
def test_move_under_itself_or_a_descendant_is_a_cycle(cast: Cast, target: str) -> None:
    refused(
        TreeCycleError,
        services.unit_move,
        actor=cast.admin,
        unit=cast.district,
        new_parent=getattr(cast, target),
        expected_version=cast.district.version,
    )


def test_move_refuses_level_mismatch_other_tenant_and_stale_versions(cast: Cast) -> None:
    def move(unit: AdministrativeUnit, new_parent: AdministrativeUnit, **kw: Any) -> Any:
        kw.setdefault("expected_version", unit.version)
        return services.unit_move(actor=None, unit=unit, new_parent=new_parent, **kw)

    refused(LevelError, move, unit=cast.neighbourhood, new_parent=cast.other_district)
    refused(LevelError, move, unit=cast.ward, new_parent=cast.other_ward)
    refused(LevelError, move, unit=cast.neighbourhood, new_parent=cast.other_tenant_ward)
    refused(
        ConcurrentEditError,
        move,
        unit=cast.neighbourhood,
        new_parent=cast.other_ward,
        expected_version=cast.neighbourhood.version + 1,
    )
    late = make_unit(cast.tenant, cast.city, "quan", "Quận Mới", "779", valid_from=D(2020, 1, 1))
    refused(ValidityError, move, unit=cast.ward, new_parent=late)


def test_move_needs_an_admin_at_both_ends(cast: Cast) -> None:
    district_admin = grant(make_user(cast.tenant), cast.district, Role.TENANT_ADMIN)
    for actor in (cast.viewer, cast.ward_official, district_admin, cast.other_tenant_official):
        refused(
            RoleGrantError,
            services.unit_move,
            actor=actor,
            unit=cast.neighbourhood,
            new_parent=cast.other_ward,
            expected_version=cast.neighbourhood.version,
        )
    moved = services.unit_move(
        actor=district_admin,
        unit=cast.neighbourhood,
        new_parent=make_unit(cast.tenant, cast.district, "phuong", "Phường Mới", "27186"),
        expected_version=cast.neighbourhood.version,
    )
    assert moved.parent.code == "27186"


# --- Roles --------------------------------------------------------------------------------


@pytest.fixture
def district_admin(cast: Cast) -> Any:
    return grant(make_user(cast.tenant, "district.admin"), cast.district, Role.TENANT_ADMIN)


def test_admin_grants_inside_their_subtree_and_it_is_audited(
    cast: Cast, district_admin: Any
) -> None:
    newcomer = make_user(cast.tenant)
    assignment = services.role_assign(
        actor=district_admin, user=newcomer, unit=cast.ward, role=Role.WARD_OFFICIAL
    )
    assert assignment.granted_by == district_admin
    assert assignment.tenant == cast.tenant
    event = last_audit("role.assign")
    assert event.actor == district_admin
    assert event.after == {"user": newcomer.username, "role": "ward_official", "unit": "27184"}
    assert set(units_for_user(newcomer).values_list("code", flat=True)) == {"27184", "27184-KP01"}
    # Granting it again changes nothing and writes nothing.
    before = db_state()
    again = services.role_assign(
        actor=district_admin, user=newcomer, unit=cast.ward, role=Role.WARD_OFFICIAL
    )
    assert again.pk == assignment.pk and db_state() == before


def test_admin_cannot_grant_outside_their_subtree(cast: Cast, district_admin: Any) -> None:
    for unit in (cast.other_ward, cast.other_district, cast.city):
        refused(
            RoleGrantError,
            services.role_assign,
            actor=district_admin,
            user=make_user(cast.tenant),
            unit=unit,
            role=Role.WARD_OFFICIAL,
        )


def test_nobody_grants_across_tenants(cast: Cast) -> None:
    outsider = make_user(cast.other_tenant)
    # The city admin cannot grant at the other tenant's unit...
    refused(
        RoleGrantError,
        services.role_assign,
        actor=cast.admin,
        user=outsider,
        unit=cast.other_tenant_ward,
        role=Role.WARD_OFFICIAL,
    )
    # ...nor give a user of the other tenant a role in their own tree...
    refused(
        RoleGrantError,
        services.role_assign,
        actor=cast.admin,
        user=outsider,
        unit=cast.ward,
        role=Role.WARD_OFFICIAL,
    )
    # ...and even the system refuses to mix tenants.
    refused(
        RoleGrantError,
        services.role_assign,
        actor=None,
        user=outsider,
        unit=cast.ward,
        role=Role.WARD_OFFICIAL,
    )


def test_non_admins_cannot_grant(cast: Cast) -> None:
    for actor in (cast.reviewer, cast.viewer, cast.ward_official):
        refused(
            RoleGrantError,
            services.role_assign,
            actor=actor,
            user=make_user(cast.tenant),
            unit=cast.neighbourhood,
            role=Role.NEIGHBOURHOOD_LEAD,
        )


def test_nobody_grants_above_their_own_rank(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    """tenant_admin is the top role today, so the rule is exercised with a role
    ranked above it (as a national administrator would be)."""
    monkeypatch.setitem(ROLE_RANK, "national_admin", ROLE_RANK[Role.TENANT_ADMIN] + 10)
    refused(
        RoleGrantError,
        services.role_assign,
        actor=cast.admin,
        user=make_user(cast.tenant),
        unit=cast.ward,
        role="national_admin",
    )
    refused(
        RoleGrantError,
        services.role_assign,
        actor=cast.admin,
        user=make_user(cast.tenant),
        unit=cast.ward,
        role="no_such_role",
    )
    equal = services.role_assign(
        actor=cast.admin, user=make_user(cast.tenant), unit=cast.ward, role=Role.TENANT_ADMIN
    )
    assert equal.role == Role.TENANT_ADMIN


def test_role_revoke_is_audited_and_scoped(cast: Cast, district_admin: Any) -> None:
    assignment = RoleAssignment.objects.get(user=cast.ward_official)
    other = grant(make_user(cast.tenant), cast.other_ward, Role.WARD_OFFICIAL)
    refused(
        RoleGrantError,
        services.role_revoke,
        actor=district_admin,
        assignment=RoleAssignment.objects.get(user=other),
    )
    refused(
        RoleGrantError,
        services.role_revoke,
        actor=cast.other_tenant_official,
        assignment=assignment,
    )
    refused(RoleGrantError, services.role_revoke, actor=cast.viewer, assignment=assignment)
    services.role_revoke(actor=district_admin, assignment=assignment)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert not units_for_user(cast.ward_official).exists()
    event = last_audit("role.revoke")
    assert event.actor == district_admin
    assert event.object_id == str(assignment.public_id)
    assert event.before == {"user": "ward", "role": "ward_official", "unit": "27184"}


def test_an_admin_cannot_revoke_their_own_admin_role(cast: Cast) -> None:
    own = RoleAssignment.objects.get(user=cast.admin)
    before = db_state()
    with pytest.raises(RoleGrantError) as caught:
        services.role_revoke(actor=cast.admin, assignment=own)
    assert caught.value.code == "cannot_revoke_own_admin"
    assert db_state() == before


def test_unit_cannot_outlive_its_level(db):
    """After the 2025 reform a district must end by 30/06/2025, like its level."""
    from units.exceptions import LevelPeriodError
    from units.models import AdministrativeUnit
    from units.services import tenant_set_level_period

    tenant = make_tenant("Tỉnh Cải Cách", slug="cai-cach-2")
    tenant_set_level_period(
        tenant=tenant,
        level="district",
        valid_from=dt.date(1900, 1, 1),
        valid_to=dt.date(2025, 6, 30),
    )
    province = make_unit(tenant, None, "tinh", "Tỉnh Cải Cách", "90")
    before = AdministrativeUnit.objects.count()
    with pytest.raises(LevelPeriodError) as refused:
        make_unit(tenant, province, "huyen", "Huyện Mở", "901")
    assert "30/06/2025" in str(refused.value)
    assert AdministrativeUnit.objects.count() == before
    closed = make_unit(
        tenant, province, "huyen", "Huyện Đóng", "902", valid_to=dt.date(2025, 6, 30)
    )
    assert closed.valid_to == dt.date(2025, 6, 30)

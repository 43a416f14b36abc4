"""Subject services and selectors: households, clans, organisations, citizens."""

from __future__ import annotations

import unicodedata

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.exceptions import (
    DuplicateSubjectError,
    RoleNotAllowedError,
    SubjectError,
    SubjectUnitError,
)
from recognition.models import Household, LabourGroup, Organisation
from recognition.selectors import subjects as sel
from recognition.services import subjects as services
from recognition.titles import SubjectKind
from tests.conftest import Cast
from tests.factories import make_unit
from tests.recognition.test_subjects_helpers import (
    citizen,
    clan,
    household,
    lead,
    organisation,
    other_official,
    state,
    vi,
)

# --- Households ---------------------------------------------------------------------


def test_household_create_normalises_text_and_audits(cast: Cast) -> None:
    decomposed = unicodedata.normalize("NFD", "  Nguyễn   Văn Ánh ")
    h = services.household_create(
        actor=cast.ward_official,
        unit=cast.neighbourhood,
        code=" KP01-001 ",
        head_name=decomposed,
        address=unicodedata.normalize("NFD", "5 Đường Số 3"),
        member_count=5,
    )
    assert h.code == "KP01-001"
    assert h.head_name == "Nguyễn Văn Ánh"
    assert unicodedata.is_normalized("NFC", h.head_name)
    assert h.tenant == cast.tenant and h.version == 1
    assert "nguyen van anh" in h.search_text and "kp01-001" in h.search_text
    event = AuditEvent.objects.get(action="household.create")
    assert event.actor == cast.ward_official and event.unit == cast.neighbourhood
    assert event.after["head_name"] == "Nguyễn Văn Ánh"
    assert event.object_id == str(h.public_id)


def test_household_must_sit_in_a_neighbourhood(cast: Cast) -> None:
    before = state()
    with pytest.raises(SubjectUnitError) as exc:
        services.household_create(actor=cast.admin, unit=cast.ward, code="X", head_name="A")
    assert "khu phố" in vi(exc.value.message)
    assert state() == before


@pytest.mark.parametrize("count", [0, -1, 40000])
def test_household_member_count_is_checked(cast: Cast, count: int) -> None:
    before = state()
    with pytest.raises(SubjectError) as exc:
        services.household_create(
            actor=cast.admin, unit=cast.neighbourhood, code="X", head_name="A", member_count=count
        )
    assert exc.value.code == "invalid_member_count"
    vi(exc.value.message)
    assert state() == before


def test_household_needs_a_code_and_a_head(cast: Cast) -> None:
    before = state()
    for code, head in (("  ", "A"), ("X", "  ")):
        with pytest.raises(SubjectError):
            services.household_create(
                actor=cast.admin, unit=cast.neighbourhood, code=code, head_name=head.strip()
            )
    assert state() == before


def test_household_code_is_unique_per_tenant(cast: Cast) -> None:
    household(cast, code="HH-1")
    before = state()
    with pytest.raises(DuplicateSubjectError) as exc:
        services.household_create(
            actor=cast.admin, unit=cast.other_neighbourhood, code="hh-1", head_name="B"
        )
    assert "HH-1" not in vi(exc.value.message) or "hh-1" in vi(exc.value.message)
    assert state() == before
    other_kp = make_unit(cast.other_tenant, cast.other_tenant_ward, "to_dan_pho", "TDP 1", "OT1")
    same_code = services.household_create(actor=None, unit=other_kp, code="HH-1", head_name="C")
    assert same_code.tenant == cast.other_tenant


def test_household_in_a_unit_no_longer_in_force_is_refused(cast: Cast) -> None:
    import datetime as dt

    old = make_unit(
        cast.tenant,
        cast.ward,
        "khu_pho",
        "Khu phố cũ",
        "27184-KP99",
        valid_from=dt.date(2000, 1, 1),
        valid_to=dt.date(2010, 1, 1),
    )
    with pytest.raises(SubjectUnitError):
        services.household_create(actor=cast.admin, unit=old, code="X", head_name="A")


def test_who_may_write_households(cast: Cast) -> None:
    # A neighbourhood lead writes in their neighbourhood only.
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    the_lead = lead(cast)
    services.household_create(actor=the_lead, unit=cast.neighbourhood, code="L1", head_name="A")
    services.household_create(actor=cast.ward_official, unit=kp2, code="W1", head_name="A")
    services.household_create(
        actor=cast.admin, unit=cast.other_neighbourhood, code="A1", head_name="A"
    )
    before = state()
    refused = [
        (the_lead, kp2),
        (cast.ward_official, cast.other_neighbourhood),
        (cast.reviewer, cast.neighbourhood),
        (cast.viewer, cast.neighbourhood),
        (cast.other_tenant_official, cast.neighbourhood),
    ]
    for actor, unit in refused:
        with pytest.raises(RoleNotAllowedError):
            services.household_create(actor=actor, unit=unit, code="R1", head_name="A")
    assert state() == before
    assert vi(RoleNotAllowedError.default_message)


def test_household_update_bumps_version_and_audits(cast: Cast) -> None:
    h = household(cast)
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    updated = services.household_update(
        actor=cast.ward_official,
        household=h,
        expected_version=1,
        unit=kp2,
        code="HH-0001",
        head_name="Lê Thị Hoa",
        address="",
        member_count=2,
    )
    assert updated.version == 2 and updated.unit == kp2 and updated.head_name == "Lê Thị Hoa"
    assert "le thi hoa" in updated.search_text
    event = AuditEvent.objects.get(action="household.update")
    assert event.before["head_name"] == "Nguyễn Văn An"
    assert event.after["unit"] == "27184-KP02"


def test_household_stale_edit_is_refused(cast: Cast) -> None:
    h = household(cast)
    kwargs = {
        "unit": cast.neighbourhood,
        "code": "HH-0001",
        "address": "",
        "member_count": 3,
    }
    services.household_update(
        actor=cast.admin, household=h, expected_version=1, head_name="Người thứ nhất", **kwargs
    )
    before = state()
    with pytest.raises(ConcurrentEditError) as exc:
        services.household_update(
            actor=cast.admin, household=h, expected_version=1, head_name="Người thứ hai", **kwargs
        )
    vi(exc.value.message)
    assert state() == before
    assert Household.objects.get(pk=h.pk).head_name == "Người thứ nhất"


def test_household_cannot_move_out_of_the_officials_area(cast: Cast) -> None:
    h = household(cast)
    before = state()
    with pytest.raises(RoleNotAllowedError):
        services.household_update(
            actor=cast.ward_official,
            household=h,
            expected_version=1,
            unit=cast.other_neighbourhood,
            code=h.code,
            head_name=h.head_name,
            address="",
            member_count=1,
        )
    assert state() == before


def test_household_code_clash_on_edit(cast: Cast) -> None:
    household(cast, code="A-1")
    h2 = household(cast, code="A-2")
    with pytest.raises(DuplicateSubjectError):
        services.household_update(
            actor=cast.admin,
            household=h2,
            expected_version=1,
            unit=cast.neighbourhood,
            code="a-1",
            head_name="X",
            address="",
            member_count=1,
        )


def test_deactivate_and_reactivate(cast: Cast) -> None:
    h = household(cast)
    h = services.subject_set_active(
        actor=cast.ward_official, subject=h, active=False, expected_version=1
    )
    assert not h.is_active and h.version == 2
    assert AuditEvent.objects.filter(action="household.deactivate").count() == 1
    with pytest.raises(ConcurrentEditError):
        services.subject_set_active(
            actor=cast.ward_official, subject=h, active=True, expected_version=1
        )
    with pytest.raises(RoleNotAllowedError):
        services.subject_set_active(actor=cast.reviewer, subject=h, active=True, expected_version=2)
    h = services.subject_set_active(
        actor=cast.ward_official, subject=h, active=True, expected_version=2
    )
    assert h.is_active and h.version == 3


# --- Clans ---------------------------------------------------------------------------


def test_clan_is_managed_by_a_commune_and_lives_inside_it(cast: Cast) -> None:
    c = services.clan_create(
        actor=cast.ward_official,
        unit=cast.ward,
        name="Họ Trần",
        representative="Trần Văn Tộc",
        member_count=120,
        home_units=[cast.neighbourhood, cast.ward],
    )
    assert set(c.home_units.all()) == {cast.neighbourhood, cast.ward}
    assert AuditEvent.objects.get(action="clan.create").after["home_units"] == sorted(
        [cast.neighbourhood.code, cast.ward.code]
    )
    the_lead = lead(cast)
    before = state()
    with pytest.raises(SubjectUnitError):
        services.clan_create(
            actor=cast.admin, unit=cast.neighbourhood, name="Họ Lê", representative="X"
        )
    with pytest.raises(SubjectUnitError) as exc:
        services.clan_create(
            actor=cast.admin,
            unit=cast.ward,
            name="Họ Lê",
            representative="X",
            home_units=[cast.other_neighbourhood],
        )
    assert cast.other_neighbourhood.name in vi(exc.value.message)
    with pytest.raises(DuplicateSubjectError):
        services.clan_create(actor=cast.admin, unit=cast.ward, name="họ trần", representative="X")
    with pytest.raises(SubjectError):
        services.clan_create(
            actor=cast.admin, unit=cast.ward, name="Họ Phạm", representative="X", member_count=0
        )
    with pytest.raises(RoleNotAllowedError):
        services.clan_create(actor=the_lead, unit=cast.ward, name="Họ Phạm", representative="X")
    assert state() == before


def test_clan_update(cast: Cast) -> None:
    c = clan(cast)
    updated = services.clan_update(
        actor=cast.ward_official,
        clan=c,
        expected_version=1,
        unit=cast.ward,
        name="Họ Nguyễn Đình",
        representative="Nguyễn Đình Chiểu",
        member_count=None,
        home_units=[cast.neighbourhood],
    )
    assert updated.version == 2 and list(updated.home_units.all()) == [cast.neighbourhood]
    assert "nguyen dinh" in updated.search_text
    with pytest.raises(ConcurrentEditError):
        services.clan_update(
            actor=cast.ward_official,
            clan=c,
            expected_version=1,
            unit=cast.ward,
            name="X",
            representative="Y",
            member_count=None,
            home_units=[],
        )


# --- Organisations --------------------------------------------------------------------


def test_organisation_rules(cast: Cast) -> None:
    o = services.organisation_create(
        actor=cast.admin, unit=cast.district, name="Phòng Giáo dục", kind=Organisation.Kind.AGENCY
    )
    assert o.unit == cast.district
    before = state()
    with pytest.raises(SubjectUnitError):
        services.organisation_create(
            actor=cast.admin,
            unit=cast.neighbourhood,
            name="Cửa hàng",
            kind=Organisation.Kind.ENTERPRISE,
        )
    with pytest.raises(SubjectError):
        services.organisation_create(actor=cast.admin, unit=cast.ward, name="X", kind="bakery")
    with pytest.raises(DuplicateSubjectError):
        services.organisation_create(
            actor=cast.admin,
            unit=cast.district,
            name="phòng giáo dục",
            kind=Organisation.Kind.AGENCY,
        )
    # A ward official does not manage the district's organisations.
    with pytest.raises(RoleNotAllowedError):
        services.organisation_create(
            actor=cast.ward_official, unit=cast.district, name="Y", kind=Organisation.Kind.AGENCY
        )
    assert state() == before
    school = organisation(cast)
    updated = services.organisation_update(
        actor=cast.ward_official,
        organisation=school,
        expected_version=1,
        unit=cast.ward,
        name="Trường Tiểu học Lê Lợi",
        kind=Organisation.Kind.SCHOOL,
        address="1 Lê Lợi",
        member_count=40,
    )
    assert updated.version == 2 and updated.member_count == 40


# --- Citizens ----------------------------------------------------------------------------


def test_citizen_birth_year_must_be_plausible(cast: Cast) -> None:
    this_year = timezone.localdate().year
    before = state()
    for year in (1899, this_year + 1, 0):
        with pytest.raises(SubjectError) as exc:
            services.citizen_create(
                actor=cast.admin,
                unit=cast.neighbourhood,
                full_name="A",
                birth_year=year,
                labour_group=LabourGroup.FARMERS,
            )
        assert exc.value.code == "invalid_birth_year"
        assert str(this_year) in vi(exc.value.message)
    assert state() == before
    ok = services.citizen_create(
        actor=cast.admin,
        unit=cast.ward,
        full_name="Bé Mới Sinh",
        birth_year=this_year,
        labour_group=LabourGroup.OTHER,
    )
    assert ok.national_id == "" and ok.national_id_masked == ""


@pytest.mark.parametrize("value", ["07912345678", "0791234567890", "07912345678a", "٠٧٩١٢٣٤٥٦٧٨٩"])
def test_citizen_id_must_be_twelve_digits(cast: Cast, value: str) -> None:
    before = state()
    with pytest.raises(SubjectError) as exc:
        services.citizen_create(
            actor=cast.admin,
            unit=cast.neighbourhood,
            full_name="A",
            birth_year=1990,
            labour_group=LabourGroup.FARMERS,
            national_id=value,
        )
    assert exc.value.code == "invalid_national_id"
    assert "12" in vi(exc.value.message)
    assert state() == before


def test_citizen_id_is_stored_as_digits_and_audited_masked(cast: Cast) -> None:
    c = services.citizen_create(
        actor=cast.ward_official,
        unit=cast.neighbourhood,
        full_name="Phạm Văn Đồng",
        birth_year=1975,
        labour_group=LabourGroup.OFFICIALS,
        national_id="079 123.456 789",
    )
    assert c.national_id == "079123456789"
    wide = services.citizen_create(
        actor=cast.ward_official,
        unit=cast.neighbourhood,
        full_name="Người gõ số toàn khổ",
        birth_year=1975,
        labour_group=LabourGroup.OFFICIALS,
        national_id="０７９１２３４５６７００",
    )
    assert wide.national_id == "079123456700"
    assert c.national_id_masked == "*********789"
    event = AuditEvent.objects.get(action="citizen.create", object_id=str(c.public_id))
    assert event.after["national_id"] == "*********789"
    assert "079123456789" not in str(event.after)
    with pytest.raises(DuplicateSubjectError):
        services.citizen_create(
            actor=cast.ward_official,
            unit=cast.neighbourhood,
            full_name="Người khác",
            birth_year=1975,
            labour_group=LabourGroup.OFFICIALS,
            national_id="079123456789",
        )


def test_citizen_unit_level_and_labour_group(cast: Cast) -> None:
    with pytest.raises(SubjectUnitError):
        services.citizen_create(
            actor=cast.admin,
            unit=cast.district,
            full_name="A",
            birth_year=1990,
            labour_group=LabourGroup.FARMERS,
        )
    with pytest.raises(SubjectError):
        services.citizen_create(
            actor=cast.admin, unit=cast.ward, full_name="A", birth_year=1990, labour_group="pirates"
        )


def test_citizen_update(cast: Cast) -> None:
    c = citizen(cast)
    updated = services.citizen_update(
        actor=cast.ward_official,
        citizen=c,
        expected_version=1,
        unit=cast.neighbourhood,
        full_name="Trần Thị Bình An",
        birth_year=1981,
        labour_group=LabourGroup.FARMERS,
        national_id="",
    )
    assert updated.version == 2 and updated.national_id == ""
    event = AuditEvent.objects.get(action="citizen.update")
    assert event.before["national_id"] == "*********789" and event.after["national_id"] == ""


# --- Selectors -----------------------------------------------------------------------------


def test_scoping_of_subjects(cast: Cast) -> None:
    mine = household(cast, code="M-1")
    theirs = household(cast, cast.other_neighbourhood, code="T-1")
    assert list(sel.households_for_user(cast.ward_official)) == [mine]
    assert set(sel.households_for_user(cast.admin)) == {mine, theirs}
    assert list(sel.households_for_user(cast.reviewer)) == [mine]  # district of the ward
    assert set(sel.households_for_user(cast.viewer)) == {mine, theirs}
    assert list(sel.households_for_user(cast.other_tenant_official)) == []
    assert sel.get_household_for_user(cast.ward_official, mine.public_id) == mine
    for bad in (theirs.public_id, "not-a-uuid", mine.pk):
        with pytest.raises(Http404):
            sel.get_household_for_user(cast.ward_official, bad)
    with pytest.raises(Http404):
        sel.get_subject_for_user(cast.ward_official, "spaceship", mine.public_id)


def test_search_is_accent_and_case_insensitive(cast: Cast) -> None:
    h = household(cast, code="KP1-77", head_name="Đặng Thị Ngọc Ánh")
    household(cast, code="KP1-78", head_name="Lý Văn Tư")
    qs = sel.households_for_user(cast.admin)
    for q in ("dang thi ngoc", "ĐẶNG THỊ", "ngoc anh", "kp1-77", "Ngọc"):
        found = list(sel.search_subjects(qs, kind=SubjectKind.HOUSEHOLD, q=q))
        assert found == [h], q
    assert sel.search_subjects(qs, kind=SubjectKind.HOUSEHOLD, q="kp1").count() == 2
    assert sel.search_subjects(qs, kind=SubjectKind.HOUSEHOLD, unit=cast.other_ward).count() == 0
    services.subject_set_active(actor=None, subject=h, active=False, expected_version=1)
    assert sel.search_subjects(qs, kind=SubjectKind.HOUSEHOLD).count() == 1
    assert sel.search_subjects(qs, kind=SubjectKind.HOUSEHOLD, active=None).count() == 2
    assert sel.search_subjects(qs, kind=SubjectKind.HOUSEHOLD, active=False).count() == 1


def test_who_sees_the_full_citizen_id(cast: Cast) -> None:
    c = citizen(cast)
    assert sel.can_see_national_id(cast.ward_official, c)
    assert sel.can_see_national_id(lead(cast), c)
    assert sel.can_see_national_id(cast.admin, c)
    assert not sel.can_see_national_id(cast.reviewer, c)
    assert not sel.can_see_national_id(cast.viewer, c)
    assert not sel.can_see_national_id(other_official(cast), c)


def test_require_subject_write(cast: Cast) -> None:
    sel.require_subject_write(cast.ward_official, cast.neighbourhood)
    with pytest.raises(PermissionDenied):
        sel.require_subject_write(cast.reviewer, cast.neighbourhood)
    with pytest.raises(PermissionDenied):
        sel.require_subject_write(cast.viewer, cast.neighbourhood)
    with pytest.raises(Http404):
        sel.require_subject_write(cast.ward_official, cast.other_neighbourhood)
    with pytest.raises(Http404):
        sel.require_subject_write(cast.other_tenant_official, cast.neighbourhood)

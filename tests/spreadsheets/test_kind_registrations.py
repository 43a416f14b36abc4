"""Registrations through the import engine: subjects found by their keys, the
registration rules of the services, scope, rollups, all or nothing, round trip."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from recognition.models import (
    Assessment,
    AssessmentStatus,
    Citizen,
    Clan,
    FormLock,
    Household,
    Organisation,
    Registration,
    RegistrationStatus,
)
from recognition.models.config import Stage
from recognition.titles import SubjectKind, Title
from reports.models import Rollup
from reports.services import rollups_rebuild
from spreadsheets.engine import run_import
from spreadsheets.kinds.base import ImportContext
from spreadsheets.kinds.registrations import STATUS_CHOICES, RegistrationKind
from tests.recognition.conftest import make_household, make_points_set
from tests.spreadsheets.support import import_file, kind_headers, xlsx_bytes

pytestmark = pytest.mark.django_db

YEAR = 2025
CODE = "Mã hộ / Mã đơn vị / Số CCCD (B)"


def household_row(household, *, title="Gia đình học tập", year=YEAR, status="Đăng ký"):
    return ["Hộ gia đình", household.code, "", None, "", title, year, status]


@pytest.fixture
def world(cast):
    households = [make_household(cast) for _ in range(3)]
    clan = Clan.objects.create(
        tenant=cast.tenant, unit=cast.ward, name="Họ Nguyễn Đình", representative="Nguyễn Đình An"
    )
    organisation = Organisation.objects.create(
        tenant=cast.tenant, unit=cast.ward, name="Trường Tiểu học Bến Nghé", kind="school"
    )
    citizen = Citizen.objects.create(
        tenant=cast.tenant,
        unit=cast.neighbourhood,
        full_name="Lê Thị Hoa",
        birth_year=1990,
        labour_group="workers",
        national_id="079190000123",
    )
    nameless = Citizen.objects.create(
        tenant=cast.tenant,
        unit=cast.neighbourhood,
        full_name="Phạm Văn Bình",
        birth_year=1985,
        labour_group="farmers",
    )
    return {
        "households": households,
        "clan": clan,
        "organisation": organisation,
        "citizen": citizen,
        "nameless": nameless,
        "other": make_household(cast, unit=cast.other_neighbourhood),
    }


def every_kind_rows(cast, world):
    return [
        *(household_row(h) for h in world["households"]),
        ["Dòng họ", "", "Họ Nguyễn Đình", None, cast.ward.code, "Dòng họ học tập", YEAR, ""],
        [
            "Cơ quan, đơn vị",
            "",
            "Trường Tiểu học Bến Nghé",
            None,
            cast.ward.code,
            "Đơn vị học tập",
            YEAR,
            "Đăng ký",
        ],
        ["Công dân", "079 190 000 123", "", None, "", "Công dân học tập", YEAR, "Đăng ký"],
        [
            "Công dân",
            "",
            "Phạm Văn Bình",
            1985,
            cast.neighbourhood.code,
            "Công dân học tập",
            YEAR,
            "Đăng ký",
        ],
        [
            "Đơn vị hành chính",
            cast.neighbourhood.code,
            "",
            None,
            "",
            "Cộng đồng học tập",
            YEAR,
            "Đăng ký",
        ],
    ]


def rollups():
    return sorted(
        Rollup.objects.values_list(
            "unit_id", "year", "title", "scope_level", "registered", "eligible_base"
        )
    )


def assert_rollups_rebuild_equal():
    live = rollups()
    rollups_rebuild()
    assert rollups() == live


def test_every_kind_of_subject_is_previewed_then_registered(cast, world):
    data = every_kind_rows(cast, world)
    preview = import_file("registrations", cast.ward_official, cast.ward, data)
    assert preview.errors == []
    assert preview.counts == {"total": 8, "new": 8, "changed": 0, "unchanged": 0, "error": 0}
    assert Registration.objects.count() == 0

    applied = import_file("registrations", cast.ward_official, cast.ward, data, apply=True)
    assert applied.new == 8 and not applied.error_count
    regs = Registration.objects.all()
    assert {r.subject_kind for r in regs} == set(SubjectKind.values)
    assert all(r.year == YEAR and r.status == RegistrationStatus.REGISTERED for r in regs)
    assert all(r.registered_by == cast.ward_official for r in regs)
    clan_reg = regs.get(clan=world["clan"])
    assert clan_reg.title == Title.CLAN and clan_reg.proposing_unit == cast.ward
    assert regs.get(citizen=world["citizen"]).unit == cast.neighbourhood
    assert regs.get(citizen=world["nameless"]).title == Title.CITIZEN
    community = regs.get(subject_unit=cast.neighbourhood)
    assert community.title == Title.COMMUNITY and community.proposing_unit == cast.ward
    family = Rollup.objects.get(unit=cast.city, year=YEAR, title=Title.FAMILY)
    assert family.registered == 3
    assert_rollups_rebuild_equal()


def test_reimporting_the_same_file_changes_nothing(cast, world):
    data = every_kind_rows(cast, world)
    import_file("registrations", cast.ward_official, cast.ward, data, apply=True)
    before = rollups()
    again = import_file("registrations", cast.ward_official, cast.ward, data, apply=True)
    assert again.counts == {"total": 8, "new": 0, "changed": 0, "unchanged": 8, "error": 0}
    assert Registration.objects.count() == 8
    assert rollups() == before


def test_withdrawing_and_registering_again_move_the_status_and_the_rollups(cast, world):
    first, second, third = world["households"]
    rows = [household_row(h) for h in (first, second, third)]
    import_file("registrations", cast.ward_official, cast.ward, rows, apply=True)
    rows[1][7] = "Rút đăng ký"
    outcome = import_file("registrations", cast.ward_official, cast.ward, rows, apply=True)
    assert (outcome.new, outcome.changed, outcome.unchanged) == (0, 1, 2)
    assert outcome.samples[0]["changes"] == {"status": ["registered", "withdrawn"]}
    assert Registration.objects.get(household=second).status == RegistrationStatus.WITHDRAWN
    assert Rollup.objects.get(unit=cast.ward, year=YEAR, title=Title.FAMILY).registered == 2
    assert_rollups_rebuild_equal()

    rows[1][7] = "Đăng ký"
    outcome = import_file("registrations", cast.ward_official, cast.ward, rows, apply=True)
    assert outcome.changed == 1
    assert Registration.objects.get(household=second).status == RegistrationStatus.REGISTERED
    assert Rollup.objects.get(unit=cast.ward, year=YEAR, title=Title.FAMILY).registered == 3
    assert_rollups_rebuild_equal()


def test_export_imports_back_unchanged(cast, world):
    data = every_kind_rows(cast, world)
    import_file("registrations", cast.ward_official, cast.ward, data[1:], apply=True)
    Registration.objects.filter(household=world["households"][1]).update(
        status=RegistrationStatus.WITHDRAWN
    )
    ctx = ImportContext(tenant=cast.tenant, unit=cast.ward, actor=cast.ward_official)
    kind = RegistrationKind(ctx=ctx)
    exported = list(kind.export_rows(kind.export_queryset(cast.ward_official, cast.ward)))
    assert len(exported) == 7
    citizen_row = next(r for r in exported if r[1] == "079190000123")
    assert citizen_row[2] == "Lê Thị Hoa" and citizen_row[4] == cast.neighbourhood.code
    withdrawn = str(STATUS_CHOICES[1][1])  # "Rút đăng ký" once the translations are merged
    assert [r[1] for r in exported if r[7] == withdrawn] == [world["households"][1].code]
    content = xlsx_bytes(kind_headers("registrations"), exported)
    outcome = run_import(
        kind=RegistrationKind(ctx=ctx),
        file=io.BytesIO(content),
        filename="x.xlsx",
        ctx=ctx,
        apply=False,
    )
    assert outcome.errors == []
    assert outcome.counts == {"total": 7, "new": 0, "changed": 0, "unchanged": 7, "error": 0}


def test_the_export_masks_citizen_ids_for_readers_without_the_right(cast, world):
    import_file("registrations", cast.admin, cast.city, every_kind_rows(cast, world), apply=True)
    ctx = ImportContext(tenant=cast.tenant, unit=cast.city, actor=cast.reviewer)
    kind = RegistrationKind(ctx=ctx)
    exported = list(kind.export_rows(kind.export_queryset(cast.reviewer, cast.district)))
    assert len(exported) == 8
    assert "079190000123" not in {r[1] for r in exported}
    assert "*********123" in {r[1] for r in exported}


def test_a_row_for_another_ward_is_an_error_and_nothing_is_written(cast, world):
    data = [household_row(h) for h in world["households"]]
    data.append(household_row(world["other"]))
    data.append(["Dòng họ", "", "Họ Lê", None, cast.other_ward.code, "Dòng họ học tập", YEAR, ""])
    outcome = import_file("registrations", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 2
    by_row = {e.row: e for e in outcome.errors}
    assert by_row[5].column == "Mã hộ / Mã đơn vị / Số CCCD"
    assert cast.other_neighbourhood.name not in by_row[5].message
    assert cast.ward.name in by_row[5].message
    assert by_row[6].column == "Mã đơn vị quản lý (E)"
    assert cast.other_ward.code in by_row[6].message
    assert Registration.objects.count() == 0
    assert Rollup.objects.count() == 0


def test_unknown_subjects_are_errors_naming_the_key_column(cast, world):
    data = [
        ["Hộ gia đình", "KHONG-CO", "", None, "", "Gia đình học tập", YEAR, ""],
        ["Dòng họ", "", "Họ Không Có", None, cast.ward.code, "Dòng họ học tập", YEAR, ""],
        ["Công dân", "079190000999", "", None, "", "Công dân học tập", YEAR, ""],
        ["Công dân", "", "Lê Thị Hoa", None, "", "Công dân học tập", YEAR, ""],
    ]
    outcome = import_file("registrations", cast.ward_official, cast.ward, data)
    columns = {(e.row, e.column) for e in outcome.errors}
    assert (2, "Mã hộ / Mã đơn vị / Số CCCD") in columns
    assert (3, "Tên (dòng họ, cơ quan, công dân)") in columns
    assert (4, "Mã hộ / Mã đơn vị / Số CCCD") in columns
    assert {(5, "Năm sinh"), (5, "Mã đơn vị quản lý")} <= columns
    assert "KHONG-CO" in next(e.message for e in outcome.errors if e.row == 2)
    assert outcome.error_rows == 4


def test_a_title_not_awarded_to_the_subject_kind_is_an_error(cast, world):
    data = [household_row(world["households"][0], title="Dòng họ học tập")]
    outcome = import_file("registrations", cast.ward_official, cast.ward, data)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert error.row == 2 and error.column == "Danh hiệu"
    assert "Dòng họ học tập" in error.message or "Learning clan" in error.message


def test_the_registration_rules_of_the_services_hold(cast, world):
    first, second, third = world["households"]
    Household.objects.filter(pk=second.pk).update(is_active=False)
    FormLock.objects.create(
        tenant=cast.tenant,
        unit=cast.district,
        title=Title.CLAN,
        year=YEAR,
        stage=Stage.REGISTRATION,
        locks_at=timezone.now() - dt.timedelta(days=1),
    )
    data = [
        household_row(first, status="Rút đăng ký"),
        household_row(second),
        household_row(third, year=timezone.localdate().year + 5),
        ["Dòng họ", "", "Họ Nguyễn Đình", None, cast.ward.code, "Dòng họ học tập", YEAR, ""],
    ]
    outcome = import_file("registrations", cast.ward_official, cast.ward, data)
    by_row = {e.row: e for e in outcome.errors}
    assert set(by_row) == {2, 3, 4, 5}
    assert by_row[2].column == "Trạng thái"
    assert by_row[3].column == "Mã hộ / Mã đơn vị / Số CCCD"
    assert by_row[4].column == "Năm" and "2016" in by_row[4].message
    assert by_row[5].column == "Năm" and cast.ward.name in by_row[5].message


def test_a_submitted_assessment_keeps_its_registration(cast, world):
    household = world["households"][0]
    import_file(
        "registrations", cast.ward_official, cast.ward, [household_row(household)], apply=True
    )
    registration = Registration.objects.get(household=household)
    Assessment.objects.create(
        tenant=cast.tenant,
        unit=registration.unit,
        registration=registration,
        criteria_set=make_points_set(),
        status=AssessmentStatus.SUBMITTED,
    )
    outcome = import_file(
        "registrations",
        cast.ward_official,
        cast.ward,
        [household_row(household, status="Rút đăng ký")],
        apply=True,
    )
    assert outcome.error_count == 1 and outcome.errors[0].column == "Trạng thái"
    assert Registration.objects.get(pk=registration.pk).status == RegistrationStatus.REGISTERED


def test_two_rows_naming_one_subject_differently_are_refused(cast, world):
    data = [
        ["Công dân", "079190000123", "", None, "", "Công dân học tập", YEAR, ""],
        ["Công dân", "", "Lê Thị Hoa", 1990, cast.neighbourhood.code, "Công dân học tập", YEAR, ""],
    ]
    outcome = import_file("registrations", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 1 and outcome.errors[0].row == 3
    assert Registration.objects.count() == 0


def test_one_bad_row_at_the_end_writes_nothing(cast, world):
    Household.objects.bulk_create(
        Household(tenant=cast.tenant, unit=cast.neighbourhood, code=f"BULK-{i:05d}", head_name="A")
        for i in range(2100)
    )
    data = [
        ["Hộ gia đình", f"BULK-{i:05d}", "", None, "", "Gia đình học tập", YEAR, ""]
        for i in range(2100)
    ]
    data.append(["Hộ gia đình", "BULK-99999", "", None, "", "Gia đình học tập", YEAR, ""])
    outcome = import_file("registrations", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 1 and outcome.errors[0].row == 2102
    assert outcome.new == 2100  # classified, then rolled back
    assert Registration.objects.count() == 0
    assert Rollup.objects.count() == 0

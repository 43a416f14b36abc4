"""Organisations through the import engine: managing unit + name, kinds by label, round trip."""

from __future__ import annotations

import pytest

from recognition.models import Organisation
from spreadsheets.kinds.base import ImportContext
from spreadsheets.registry import kind_class
from tests.spreadsheets.support import import_file, xlsx_bytes

pytestmark = pytest.mark.django_db


def rows(cast, n=3):
    kinds = ["Trường học", "Doanh nghiệp", "Cơ quan nhà nước"]
    return [
        [f"Đơn vị {i}", kinds[(i - 1) % 3], f"{i} Lê Lợi", 10 * i, cast.ward.code]
        for i in range(1, n + 1)
    ]


def exported(cast, user, unit):
    ctx = ImportContext(tenant=cast.tenant, unit=unit, actor=user)
    kind = kind_class("organisations")(ctx=ctx)
    return list(kind.export_rows(kind.export_queryset(user, unit)))


def test_template_columns(cast):
    columns = kind_class("organisations").columns()
    assert [c.header for c in columns] == [
        "Tên cơ quan, đơn vị",
        "Loại hình",
        "Địa chỉ",
        "Số thành viên",
        "Mã đơn vị quản lý",
    ]
    kind_column = columns[1]
    assert [str(c) for c in kind_column.choices] == [
        "Cơ quan nhà nước",
        "Trường học",
        "Doanh nghiệp",
        "Tổ chức chính trị - xã hội",
        "Khác",
    ]
    assert all(str(c.help) for c in columns)
    assert kind_class("organisations").instructions


def test_new_organisations_are_previewed_then_written(cast):
    preview = import_file("organisations", cast.ward_official, cast.ward, rows(cast))
    assert preview.counts == {"total": 3, "new": 3, "changed": 0, "unchanged": 0, "error": 0}
    assert not Organisation.objects.exists()
    applied = import_file("organisations", cast.ward_official, cast.ward, rows(cast), apply=True)
    assert applied.new == 3
    school = Organisation.objects.get(name="Đơn vị 1")
    assert (school.kind, school.unit, school.member_count) == ("school", cast.ward, 10)
    assert school.address == "1 Lê Lợi" and "don vi 1" in school.search_text
    assert Organisation.objects.get(name="Đơn vị 3").kind == "agency"


def test_kind_codes_and_english_headers_are_accepted(cast):
    content = xlsx_bytes(
        ["Organisation name", "Kind", "Address", "Members", "Managing unit code"],
        [["Trường THCS A", "school", "", None, cast.ward.code]],
    )
    outcome = import_file("organisations", cast.ward_official, cast.ward, content)
    assert outcome.new == 1 and not outcome.error_count


def test_reimporting_the_same_file_changes_nothing(cast):
    import_file("organisations", cast.ward_official, cast.ward, rows(cast), apply=True)
    again = import_file("organisations", cast.ward_official, cast.ward, rows(cast), apply=True)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
    assert Organisation.objects.count() == 3


def test_changes_are_reported_and_written(cast):
    import_file("organisations", cast.ward_official, cast.ward, rows(cast), apply=True)
    edited = rows(cast)
    edited[0][1] = "Doanh nghiệp"
    edited[1][2] = ""
    outcome = import_file("organisations", cast.ward_official, cast.ward, edited, apply=True)
    assert (outcome.new, outcome.changed, outcome.unchanged) == (0, 2, 1)
    by_row = {s["row"]: s["changes"] for s in outcome.samples}
    assert by_row[2] == {"kind": ["school", "enterprise"]}
    assert by_row[3] == {"address": ["2 Lê Lợi", ""]}
    first = Organisation.objects.get(name="Đơn vị 1")
    assert first.kind == "enterprise" and first.version == 2
    assert Organisation.objects.get(name="Đơn vị 2").address == ""


def test_an_unknown_kind_names_the_allowed_ones(cast):
    data = rows(cast, n=1)
    data[0][1] = "Bệnh viện"
    outcome = import_file("organisations", cast.ward_official, cast.ward, data)
    error = outcome.errors[0]
    assert (error.row, error.column) == (2, "Loại hình (B)")
    assert "Bệnh viện" in error.message and "Trường học" in error.message


def test_a_neighbourhood_cannot_manage_an_organisation(cast):
    data = rows(cast, n=1)
    data[0][4] = cast.neighbourhood.code
    outcome = import_file("organisations", cast.ward_official, cast.ward, data)
    assert outcome.error_count == 1
    assert outcome.errors[0].column == "Mã đơn vị quản lý"
    assert "khu phố" in outcome.errors[0].message


def test_a_district_or_the_city_may_manage_one(cast):
    data = [
        ["Phòng Giáo dục", "Cơ quan nhà nước", "", 30, cast.district.code],
        ["Sở Giáo dục", "Cơ quan nhà nước", "", 300, cast.city.code],
    ]
    outcome = import_file("organisations", cast.admin, cast.city, data, apply=True)
    assert outcome.new == 2 and not outcome.error_count
    assert Organisation.objects.get(name="Sở Giáo dục").unit == cast.city


def test_an_organisation_of_another_ward_is_an_error_and_nothing_is_written(cast):
    data = [*rows(cast, n=2), ["Chợ Tân Định", "Doanh nghiệp", "", 5, cast.other_ward.code]]
    outcome = import_file("organisations", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert (error.row, error.column) == (4, "Mã đơn vị quản lý (E)")
    assert cast.other_ward.code in error.message
    assert not Organisation.objects.exists()


def test_the_same_name_twice_in_one_unit_is_a_duplicate(cast):
    data = [*rows(cast, n=1), ["ĐƠN VỊ 1", "Khác", "", None, cast.ward.code]]
    outcome = import_file("organisations", cast.ward_official, cast.ward, data)
    assert outcome.error_count == 1 and outcome.errors[0].row == 3


def test_one_bad_row_at_the_end_writes_nothing(cast):
    data = [[f"Đơn vị {i}", "Khác", "", 1, cast.ward.code] for i in range(2100)]
    data.append(["Đơn vị cuối", "Khác", "", "1.234,5", cast.ward.code])
    outcome = import_file("organisations", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 1
    assert (outcome.errors[0].row, outcome.errors[0].column) == (2102, "Số thành viên (D)")
    assert not Organisation.objects.exists()


def test_export_imports_back_unchanged(cast):
    data = rows(cast)
    data[2][3] = None
    data[1][2] = ""
    import_file("organisations", cast.ward_official, cast.ward, data, apply=True)
    import_file(
        "organisations",
        cast.admin,
        cast.city,
        [["Chợ Tân Định", "Doanh nghiệp", "", 5, cast.other_ward.code]],
        apply=True,
    )
    lines = exported(cast, cast.ward_official, cast.ward)
    assert len(lines) == 3
    assert lines[0][1] == "Trường học"
    outcome = import_file("organisations", cast.ward_official, cast.ward, lines)
    assert outcome.counts == {"total": 3, "new": 0, "changed": 0, "unchanged": 3, "error": 0}
    city_lines = exported(cast, cast.admin, cast.city)
    assert len(city_lines) == 4
    outcome = import_file("organisations", cast.admin, cast.city, city_lines)
    assert outcome.unchanged == 4 and not outcome.error_count

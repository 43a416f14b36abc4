"""Citizens through the import engine: the ID number (or name + year) as the key, the
masked ID of exports meaning "keep the stored number", scope, all or nothing."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from recognition.models import Citizen
from recognition.services.subjects import citizen_create
from spreadsheets.kinds.base import ImportContext
from spreadsheets.registry import kind_class
from tests.spreadsheets.support import import_file, kind_headers, xlsx_bytes

pytestmark = pytest.mark.django_db

FARMERS = "Nông dân, lao động nông thôn"
WORKERS = "Công nhân, thợ thủ công, lao động tự do"


def rows(cast, n=3):
    return [
        [f"Nguyễn Thị {i}", 1980 + i, FARMERS, f"0791234567{i:02d}", cast.neighbourhood.code]
        for i in range(1, n + 1)
    ]


def exported(cast, user, unit):
    ctx = ImportContext(tenant=cast.tenant, unit=unit, actor=user)
    kind = kind_class("citizens")(ctx=ctx)
    return list(kind.export_rows(kind.export_queryset(user, unit)))


def test_headers_and_instructions_explain_the_masked_id(cast):
    assert kind_headers("citizens") == [
        "Họ và tên",
        "Năm sinh",
        "Nhóm đối tượng",
        "Số CCCD",
        "Mã khu phố/ấp hoặc xã/phường",
    ]
    text = " ".join(str(line) for line in kind_class("citizens").instructions)
    assert "*********123" in text


def test_new_citizens_are_previewed_then_written(cast):
    data = rows(cast)
    data[1][3] = "079 123 456 702"  # spaces between the groups are ignored
    data[2][3] = ""
    data[2][4] = cast.ward.code  # a citizen may belong to the commune itself
    preview = import_file("citizens", cast.ward_official, cast.ward, data)
    assert preview.counts == {"total": 3, "new": 3, "changed": 0, "unchanged": 0, "error": 0}
    assert not Citizen.objects.exists()
    import_file("citizens", cast.ward_official, cast.ward, data, apply=True)
    second = Citizen.objects.get(full_name="Nguyễn Thị 2")
    assert (second.national_id, second.birth_year, second.labour_group) == (
        "079123456702",
        1982,
        "farmers",
    )
    third = Citizen.objects.get(full_name="Nguyễn Thị 3")
    assert third.national_id == "" and third.unit == cast.ward
    assert third.search_text == "nguyen thi 3"


def test_an_id_typed_as_a_number_gets_its_leading_zero_back(cast):
    data = rows(cast, n=1)
    data[0][3] = 79123456701  # Excel dropped the leading 0
    import_file("citizens", cast.ward_official, cast.ward, data, apply=True)
    assert Citizen.objects.get().national_id == "079123456701"


def test_reimporting_the_same_file_changes_nothing(cast):
    data = rows(cast)
    data[2][3] = ""
    import_file("citizens", cast.ward_official, cast.ward, data, apply=True)
    again = import_file("citizens", cast.ward_official, cast.ward, data, apply=True)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
    assert Citizen.objects.count() == 3


def test_the_export_shows_the_id_masked_and_imports_back_unchanged(cast):
    data = rows(cast)
    data[2][3] = ""
    import_file("citizens", cast.ward_official, cast.ward, data, apply=True)
    lines = exported(cast, cast.ward_official, cast.ward)
    assert [line[3] for line in lines] == ["*********701", "*********702", ""]
    assert "079123456701" not in json.dumps(lines, default=str)
    outcome = import_file("citizens", cast.ward_official, cast.ward, lines, apply=True)
    assert outcome.counts == {"total": 3, "new": 0, "changed": 0, "unchanged": 3, "error": 0}
    assert Citizen.objects.get(full_name="Nguyễn Thị 1").national_id == "079123456701"


def test_a_masked_id_keeps_the_stored_number_while_other_columns_change(cast):
    import_file("citizens", cast.ward_official, cast.ward, rows(cast, n=1), apply=True)
    line = ["Nguyễn Thị 1", 1981, WORKERS, "*********701", cast.neighbourhood.code]
    outcome = import_file("citizens", cast.ward_official, cast.ward, [line], apply=True)
    assert outcome.changed == 1
    assert outcome.samples[0]["changes"] == {"labour_group": ["farmers", "workers"]}
    citizen = Citizen.objects.get()
    assert (citizen.labour_group, citizen.national_id) == ("workers", "079123456701")


def test_a_masked_id_that_does_not_match_the_stored_one_is_an_error(cast):
    import_file("citizens", cast.ward_official, cast.ward, rows(cast, n=1), apply=True)
    citizen_create(
        actor=None,
        unit=cast.neighbourhood,
        full_name="Trần Văn Không Số",
        birth_year=1970,
        labour_group="other",
    )
    data = [
        ["Nguyễn Thị 1", 1981, FARMERS, "*********999", cast.neighbourhood.code],
        ["Trần Văn Không Số", 1970, "Khác", "*********123", cast.neighbourhood.code],
        ["Người Mới", 1990, "Khác", "*********123", cast.neighbourhood.code],
    ]
    outcome = import_file("citizens", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 3
    assert [(e.row, e.column) for e in outcome.errors] == [
        (2, "Số CCCD"),
        (3, "Số CCCD"),
        (4, "Số CCCD"),
    ]
    assert "999" in outcome.errors[0].message
    assert Citizen.objects.get(full_name="Nguyễn Thị 1").national_id == "079123456701"


def test_a_full_id_is_added_to_the_citizen_recorded_without_one(cast):
    citizen_create(
        actor=None,
        unit=cast.neighbourhood,
        full_name="Lê Thị Hoa",
        birth_year=1975,
        labour_group="farmers",
    )
    line = ["Lê Thị Hoa", 1975, FARMERS, "079175000123", cast.neighbourhood.code]
    outcome = import_file("citizens", cast.ward_official, cast.ward, [line], apply=True)
    assert (outcome.new, outcome.changed) == (0, 1)
    # The preview never shows a full ID number.
    assert outcome.samples[0]["changes"] == {"national_id": ["", "*********123"]}
    assert "079175000123" not in json.dumps(outcome.samples)
    assert Citizen.objects.get().national_id == "079175000123"


def test_an_empty_id_cell_removes_the_stored_number(cast):
    import_file("citizens", cast.ward_official, cast.ward, rows(cast, n=1), apply=True)
    line = ["Nguyễn Thị 1", 1981, FARMERS, "", cast.neighbourhood.code]
    outcome = import_file("citizens", cast.ward_official, cast.ward, [line], apply=True)
    assert outcome.changed == 1
    assert outcome.samples[0]["changes"] == {"national_id": ["*********701", ""]}
    assert Citizen.objects.get().national_id == ""


def test_the_same_id_twice_in_the_file_is_a_duplicate(cast):
    data = rows(cast, n=2)
    data[1][3] = data[0][3]
    outcome = import_file("citizens", cast.ward_official, cast.ward, data)
    assert outcome.error_count == 1 and outcome.errors[0].row == 3
    assert "079123456701" not in outcome.errors[0].message


def test_an_id_of_a_citizen_of_another_ward_is_an_error(cast):
    citizen_create(
        actor=None,
        unit=cast.other_neighbourhood,
        full_name="Phạm Văn Xa",
        birth_year=1960,
        labour_group="other",
        national_id="079123456701",
    )
    outcome = import_file("citizens", cast.ward_official, cast.ward, rows(cast), apply=True)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert (error.row, error.column) == (2, "Số CCCD")
    assert cast.other_neighbourhood.name not in error.message  # personal data stays put
    assert Citizen.objects.count() == 1


def test_several_citizens_with_the_same_name_and_year_need_the_id(cast):
    for _ in range(2):
        citizen_create(
            actor=None,
            unit=cast.neighbourhood,
            full_name="Võ Văn Trùng",
            birth_year=1988,
            labour_group="other",
        )
    line = ["Võ Văn Trùng", 1988, WORKERS, "", cast.neighbourhood.code]
    outcome = import_file("citizens", cast.ward_official, cast.ward, [line])
    assert outcome.error_count == 1 and outcome.errors[0].column == "Họ và tên"


def test_a_row_for_another_ward_is_an_error_and_nothing_is_written(cast):
    data = [*rows(cast, n=2), ["Trần Văn Ngoài", 1990, FARMERS, "", cast.other_neighbourhood.code]]
    outcome = import_file("citizens", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert (error.row, error.column) == (4, "Mã khu phố/ấp hoặc xã/phường (E)")
    assert cast.other_neighbourhood.code in error.message
    assert not Citizen.objects.exists()


def test_bad_ids_years_and_groups_are_errors_naming_the_column(cast):
    next_year = timezone.localdate().year + 1
    data = [
        ["A", 1980, FARMERS, "12345", cast.neighbourhood.code],
        ["B", next_year, FARMERS, "", cast.neighbourhood.code],
        ["C", "80", FARMERS, "", cast.neighbourhood.code],
        ["D", 1980, "Sinh viên", "", cast.neighbourhood.code],
        ["E", 1980, FARMERS, "", cast.district.code],
    ]
    outcome = import_file("citizens", cast.ward_official, cast.ward, data)
    assert outcome.error_rows == 5
    columns = [(e.row, e.column) for e in outcome.errors]
    assert columns == [
        (2, "Số CCCD (D)"),
        (3, "Năm sinh"),
        (4, "Năm sinh (B)"),
        (5, "Nhóm đối tượng (C)"),
        (6, "Mã khu phố/ấp hoặc xã/phường (E)"),
    ]
    assert "12" in outcome.errors[0].message
    assert str(next_year - 1) in outcome.errors[1].message


def test_a_citizen_belongs_to_a_neighbourhood_or_a_commune(cast):
    line = ["Đỗ Văn Quận", 1980, FARMERS, "", cast.district.code]
    outcome = import_file("citizens", cast.admin, cast.city, [line])
    assert [(e.row, e.column) for e in outcome.errors] == [(2, "Mã khu phố/ấp hoặc xã/phường")]
    assert outcome.errors[0].message == "Công dân phải thuộc một khu phố, thôn hoặc một xã, phường."


def test_one_bad_row_at_the_end_writes_nothing(cast):
    data = [
        [f"Người {i}", 1980, FARMERS, f"079{i:09d}", cast.neighbourhood.code] for i in range(2100)
    ]
    data.append(["Người cuối", 1980, FARMERS, "079 12", cast.neighbourhood.code])
    outcome = import_file("citizens", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 1
    assert (outcome.errors[0].row, outcome.errors[0].column) == (2102, "Số CCCD (D)")
    assert not Citizen.objects.exists()


def test_english_headers_are_accepted(cast):
    content = xlsx_bytes(
        ["Full name", "Year of birth", "Labour group", "Citizen ID number", "Unit code"],
        rows(cast, n=1),
    )
    outcome = import_file("citizens", cast.ward_official, cast.ward, content)
    assert outcome.new == 1 and not outcome.error_count

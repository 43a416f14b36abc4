"""Households through the import engine: classification, scope, all or nothing, round trip."""

from __future__ import annotations

import io

import pytest

from recognition.models import Household
from spreadsheets.engine import run_import
from spreadsheets.kinds.base import ImportContext
from spreadsheets.kinds.subjects import HouseholdKind
from tests.spreadsheets.support import import_file, kind_headers, xlsx_bytes

pytestmark = pytest.mark.django_db


def rows(cast, n=3, start=1):
    code = cast.neighbourhood.code
    return [
        [f"HG-{i:04d}", f"Nguyễn Văn {i}", f"{i} Lê Lợi", 4, code] for i in range(start, start + n)
    ]


def test_new_rows_are_previewed_then_written(cast):
    preview = import_file("households", cast.ward_official, cast.ward, rows(cast))
    assert preview.counts == {"total": 3, "new": 3, "changed": 0, "unchanged": 0, "error": 0}
    assert Household.objects.count() == 0  # the preview writes nothing
    applied = import_file("households", cast.ward_official, cast.ward, rows(cast), apply=True)
    assert applied.new == 3
    household = Household.objects.get(code="HG-0002")
    assert household.head_name == "Nguyễn Văn 2"
    assert household.unit == cast.neighbourhood
    assert "nguyen van 2" in household.search_text


def test_reimporting_the_same_file_changes_nothing(cast):
    import_file("households", cast.ward_official, cast.ward, rows(cast), apply=True)
    again = import_file("households", cast.ward_official, cast.ward, rows(cast), apply=True)
    assert again.counts["unchanged"] == 3 and again.new == again.changed == 0
    assert Household.objects.count() == 3


def test_a_changed_row_is_reported_with_its_changes(cast):
    import_file("households", cast.ward_official, cast.ward, rows(cast), apply=True)
    edited = rows(cast)
    edited[1][3] = 6
    outcome = import_file("households", cast.ward_official, cast.ward, edited, apply=True)
    assert (outcome.new, outcome.changed, outcome.unchanged) == (0, 1, 2)
    assert outcome.samples[0]["changes"] == {"member_count": [4, 6]}
    household = Household.objects.get(code="HG-0002")
    assert household.member_count == 6 and household.version == 2


def test_one_bad_row_at_the_end_writes_nothing(cast):
    data = rows(cast, n=4500)  # three batches: the first two would be written already
    data.append(["HG-9999", "", "", 2, cast.neighbourhood.code])
    outcome = import_file("households", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert (error.row, error.column) == (4502, "Chủ hộ (B)")
    assert Household.objects.count() == 0


def test_a_row_for_another_ward_is_an_error_not_a_skip(cast):
    data = rows(cast, n=2)
    data.append(["HG-0100", "Trần Thị Hoa", "", 3, cast.other_neighbourhood.code])
    outcome = import_file("households", cast.ward_official, cast.ward, data)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert error.row == 4 and error.column == "Mã khu phố/ấp (E)"
    assert cast.other_neighbourhood.code in error.message and cast.ward.name in error.message


def test_a_code_used_in_another_ward_is_an_error(cast):
    import_file(
        "households",
        cast.admin,
        cast.city,
        [["HG-7", "Lê Văn Tám", "", 2, cast.other_neighbourhood.code]],
        apply=True,
    )
    outcome = import_file(
        "households",
        cast.ward_official,
        cast.ward,
        [["HG-7", "Lê Văn Tám", "", 2, cast.neighbourhood.code]],
        apply=True,
    )
    assert outcome.error_count == 1 and outcome.errors[0].column == "Mã hộ"
    assert Household.objects.get(code="HG-7").unit == cast.other_neighbourhood


def test_duplicate_codes_inside_the_file_name_the_first_row(cast):
    data = [*rows(cast, n=2), ["HG-0001", "Người Khác", "", 1, cast.neighbourhood.code]]
    outcome = import_file("households", cast.ward_official, cast.ward, data)
    assert outcome.error_count == 1
    assert outcome.errors[0].row == 4 and "2" in outcome.errors[0].message


def test_wrong_headers_refuse_the_file(cast):
    from spreadsheets.exceptions import FileRejected

    content = xlsx_bytes(
        ["Mã hộ", "Tên chủ hộ", "Số nhân khẩu", "Mã khu phố/ấp"], [["HG-1", "A", 1, "x"]]
    )
    with pytest.raises(FileRejected) as excinfo:
        import_file("households", cast.ward_official, cast.ward, content)
    assert "Chủ hộ" in str(excinfo.value) and "Tên chủ hộ" in str(excinfo.value)


def test_english_headers_are_accepted(cast):
    content = xlsx_bytes(
        ["Household code", "Head of household", "Address", "Members", "Neighbourhood code"],
        rows(cast, n=1),
    )
    outcome = import_file("households", cast.ward_official, cast.ward, content)
    assert outcome.new == 1 and not outcome.error_count


def test_export_imports_back_unchanged(cast):
    import_file("households", cast.ward_official, cast.ward, rows(cast, n=5), apply=True)
    ctx = ImportContext(tenant=cast.tenant, unit=cast.ward, actor=cast.ward_official)
    kind = HouseholdKind(ctx=ctx)
    exported = list(kind.export_rows(kind.export_queryset(cast.ward_official, cast.ward)))
    assert len(exported) == 5
    content = xlsx_bytes(kind_headers("households"), exported)
    outcome = run_import(
        kind=kind, file=io.BytesIO(content), filename="x.xlsx", ctx=ctx, apply=False
    )
    assert outcome.counts == {"total": 5, "new": 0, "changed": 0, "unchanged": 5, "error": 0}

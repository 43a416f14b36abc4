"""Reorganisation plans from the official old → new code mapping (issue 9 §5):
merge, split, rename and re-code groups, every bad file refused whole with its
row and column, conflicting mappings refused at apply, the management command."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook

from tests.conftest import Cast
from tests.factories import make_unit, make_user
from tests.units.test_reorganisation_support import EFFECTIVE
from units.models import AdministrativeUnit, UnitSuccession
from units.reorganisation import services as reorg
from units.reorganisation.exceptions import ReorganisationConflictError
from units.reorganisation.mapping import (
    COLUMNS,
    MappingFileError,
    mapping_import,
    mapping_template,
    plan_from_mapping,
    plan_warnings,
)
from units.reorganisation.models import (
    Reorganisation,
    ReorganisationSource,
    ReorganisationStatus,
    ReorganisationStep,
)
from units.roles import Role


@pytest.fixture(autouse=True)
def _messages_in_english() -> Iterator[None]:
    """Messages are asserted in English (the msgids); the Vietnamese catalogue translates them."""
    with translation.override("en"):
        yield


HEADER = ["Mã xã cũ", "Mã xã mới", "Tên xã mới", "Loại", "Ngày hiệu lực"]
DAY = "01/07/2025"


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> io.BytesIO:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))


def _import(cast: Cast, rows: list[list[str]], header: list[str] = HEADER, actor=None, **kw):
    return plan_from_mapping(
        actor=actor or cast.admin,
        file=_csv(rows, header),
        filename="sap-xep.csv",
        name="Sắp xếp 2025",
        legal_basis="Nghị quyết 1685/NQ-UBTVQH15",
        **kw,
    )


def _steps(plan: Reorganisation) -> list[ReorganisationStep]:
    return list(ReorganisationStep.objects.filter(plan=plan).order_by("position"))


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the msgids); one test checks the Vietnamese."""
    with translation.override("en"):
        yield


@pytest.fixture
def da_kao(cast: Cast) -> AdministrativeUnit:
    return make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27190")


# --- Groups ----------------------------------------------------------------------------


def test_rows_with_one_new_code_merge_their_old_communes(cast: Cast, da_kao) -> None:
    plan = _import(
        cast,
        [
            ["27184", "27184", "Phường Sài Gòn", "phường", DAY],
            ["27190", "27184", "Phường Sài Gòn", "", DAY],
        ],
    )
    assert plan.source == ReorganisationSource.IMPORT
    assert plan.effective_on == EFFECTIVE
    assert plan.legal_basis == "Nghị quyết 1685/NQ-UBTVQH15"
    (step,) = _steps(plan)
    assert step.kind == "merge"
    assert step.sources == [cast.ward.pk, da_kao.pk]
    assert step.targets == [
        {"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong", "parent": None,
         "neighbourhoods": [], "default": False}
    ]  # fmt: skip
    assert plan_warnings(plan) == []

    applied = reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)
    assert applied.status == ReorganisationStatus.APPLIED
    new = AdministrativeUnit.objects.get(code="27184", valid_to__isnull=True)
    assert new.name == "Phường Sài Gòn" and new.parent_id == cast.district.pk
    assert set(new.succession_in.values_list("predecessor_id", flat=True)) == {
        cast.ward.pk,
        da_kao.pk,
    }


def test_one_old_code_on_several_rows_is_a_split_to_the_first_listed(cast: Cast) -> None:
    result = mapping_import(
        actor=cast.admin,
        file=_csv(
            [
                ["27247", "27260", "Phường Tân Định Mới", "phường", DAY],
                ["27247", "27261", "Phường Xuân Hòa", "phường", DAY],
            ]
        ),
        filename="tach.csv",
        name="Tách phường",
    )
    (step,) = _steps(result.plan)
    assert step.kind == "split"
    assert step.sources == [cast.other_ward.pk]
    assert [(t["code"], t["default"]) for t in step.targets] == [("27260", True), ("27261", False)]
    assert len(result.warnings) == 1
    assert "27260" in result.warnings[0] and "Phường Tân Định Mới" in result.warnings[0]
    assert result.preview.can_apply, result.preview.conflicts


def test_one_to_one_rows_rename_recode_or_are_skipped_when_unchanged(cast: Cast, da_kao) -> None:
    plan = _import(
        cast,
        [
            ["27184", "27184", "Phường Bến Thành", "", DAY],
            ["27190", "27999", "Phường Đa Kao", "", DAY],
            ["27247", "27247", "Phường Tân Định", "phường", DAY],
        ],
    )
    steps = _steps(plan)
    assert [(s.kind, s.sources, s.targets[0]["code"], s.targets[0]["name"]) for s in steps] == [
        ("rename", [cast.ward.pk], "27184", "Phường Bến Thành"),
        ("recode", [da_kao.pk], "27999", "Phường Đa Kao"),
    ]


def test_abolishing_districts_moves_unchanged_communes_under_the_city(cast: Cast) -> None:
    plan = _import(
        cast,
        [
            ["27184", "27184", "Phường Bến Nghé", "", DAY],
            ["27247", "27247", "Phường Tân Định", "", DAY],
        ],
        abolish_level="district",
    )
    assert plan.abolish_level == "district"
    steps = _steps(plan)
    assert [(s.kind, s.targets[0]["parent"]) for s in steps] == [
        ("move", cast.city.pk),
        ("move", cast.city.pk),
    ]


def test_new_parent_column_names_a_unit_in_force(cast: Cast, da_kao) -> None:
    plan = _import(
        cast,
        [["27190", "27190", "Phường Đa Kao", "", DAY, "772"]],
        header=[*HEADER, "Mã cấp trên mới"],
    )
    (step,) = _steps(plan)
    assert step.kind == "move"
    assert step.targets[0]["parent"] == cast.other_district.pk


# --- Bad files: every error names its row and column, nothing is created ----------------


BAD = [
    ("unknown_old", [["99999", "27184", "Phường A", "", DAY]], HEADER, (2, "Mã xã cũ")),
    (
        "dates_differ",
        [["27184", "27184", "Phường A", "", DAY], ["27190", "27184", "Phường A", "", "02/07/2025"]],
        HEADER,
        (3, "Ngày hiệu lực"),
    ),
    ("bad_date", [["27184", "27184", "Phường A", "", "31/02/2025"]], HEADER, (2, "Ngày hiệu lực")),
    ("bad_kind", [["27184", "27184", "Phường A", "quận", DAY]], HEADER, (2, "Loại")),
    ("missing_header", [["27184", "27184", DAY]], ["Mã xã cũ", "Mã xã mới", "Ngày hiệu lực"],
     (1, "Tên xã mới")),
    ("unknown_header", [["27184", "27184", "Phường A", "", DAY, "x"]], [*HEADER, "Ghi chú"],
     (1, "Ghi chú")),
    ("empty_name", [["27184", "27184", "", "", DAY]], HEADER, (2, "Tên xã mới")),
    (
        "mapped_twice_inconsistently",
        [
            ["27184", "27184", "Phường A", "", DAY],
            ["27190", "27184", "Phường A", "", DAY],
            ["27184", "27300", "Phường B", "", DAY],
        ],
        HEADER,
        (2, "Mã xã cũ"),
    ),
    (
        "same_pair_twice",
        [["27184", "27184", "Phường A", "", DAY], ["27184", "27184", "Phường A", "", DAY]],
        HEADER,
        (3, "Mã xã mới"),
    ),
    (
        "names_differ_in_group",
        [["27184", "27184", "Phường A", "", DAY], ["27190", "27184", "Phường B", "", DAY]],
        HEADER,
        (3, "Tên xã mới"),
    ),
    (
        "mixed_kinds_without_kind",
        [["27184", "27184", "Phường A", "", DAY], ["27191", "27184", "Phường A", "", DAY]],
        HEADER,
        (2, "Loại"),
    ),
    (
        "unknown_parent",
        [["27184", "27184", "Phường A", "", DAY, "000"]],
        [*HEADER, "Mã cấp trên mới"],
        (2, "Mã cấp trên mới"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("rows", "header", "where"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_file_names_row_and_column_and_creates_nothing(
    cast: Cast, da_kao, rows, header, where
) -> None:
    make_unit(cast.tenant, cast.district, "xa", "Xã Bình Mỹ", "27191")
    with pytest.raises(MappingFileError) as caught:
        _import(cast, rows, header)
    assert (caught.value.errors[0].row, caught.value.errors[0].column) == where
    assert caught.value.params["errors"][0]["row"] == where[0]
    assert f"Row {where[0]}, column “{where[1]}”" in str(caught.value.errors[0])
    assert not Reorganisation.objects.exists()
    assert not ReorganisationStep.objects.exists()


def test_an_old_code_outside_the_admins_units_is_refused(cast: Cast) -> None:
    district_admin = make_user(cast.tenant, "admin.q1")
    district_admin.role_assignments.create(
        tenant=cast.tenant, unit=cast.district, role=Role.TENANT_ADMIN
    )
    with pytest.raises(MappingFileError) as caught:
        _import(
            cast,
            [["27184", "27184", "Phường A", "", DAY], ["27247", "27184", "Phường A", "", DAY]],
            actor=district_admin,
        )
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "Mã xã cũ")]
    assert "27247" in caught.value.errors[0].message
    assert not Reorganisation.objects.exists()


def test_errors_read_in_vietnamese(cast: Cast) -> None:
    with translation.override("vi"):
        with pytest.raises(MappingFileError) as caught:
            _import(cast, [["99999", "1", "Phường A", "", DAY]])
        assert str(caught.value.errors[0]) == (
            "Dòng 2, cột “Mã xã cũ”: Không có xã/phường mã 99999 còn hiệu lực vào ngày 01/07/2025."
        )
        assert str(caught.value) == "Tệp chuyển đổi có 1 lỗi: chưa tạo phương án nào."


def test_only_tenant_admins_import_a_mapping(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        _import(cast, [["27184", "27184", "Phường A", "", DAY]], actor=cast.reviewer)
    assert not Reorganisation.objects.exists()


def test_another_tenants_codes_are_unknown(cast: Cast) -> None:
    with pytest.raises(MappingFileError) as caught:
        _import(cast, [["11308", "11308", "Phường Hạ Lý Mới", "", DAY]])
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "Mã xã cũ")]


def test_every_error_of_the_file_is_listed(cast: Cast) -> None:
    with pytest.raises(MappingFileError) as caught:
        _import(
            cast,
            [["99999", "1", "Phường A", "", DAY], ["27184", "2", "", "", "x"]],
        )
    assert [(e.row, e.column) for e in caught.value.errors] == [
        (2, "Mã xã cũ"),
        (3, "Tên xã mới"),
        (3, "Ngày hiệu lực"),
    ]


# --- Conflicts: the plan is created, previewed with its conflicts, refused whole ----------


def test_a_conflicting_mapping_is_refused_whole_at_apply(cast: Cast, da_kao) -> None:
    # The merged ward takes the code of Tân Định, which stays in force: a conflict.
    plan = _import(
        cast,
        [
            ["27184", "27247", "Phường Sài Gòn", "", DAY],
            ["27190", "27247", "Phường Sài Gòn", "", DAY],
            ["27999", "27998", "Phường X", "", DAY],
        ][:2],
    )
    preview = reorg.reorganisation_preview(plan=plan)
    assert [c.code for c in preview.conflicts] == ["code_in_use"]
    assert preview.conflicts[0].unit_code == "27247"
    with pytest.raises(ReorganisationConflictError):
        reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.DRAFT
    assert AdministrativeUnit.objects.get(pk=cast.ward.pk).valid_to is None
    assert AdministrativeUnit.objects.get(pk=da_kao.pk).valid_to is None
    assert not UnitSuccession.objects.exists()
    assert AdministrativeUnit.objects.filter(code="27247").count() == 1


def test_abolishing_a_level_without_closing_all_its_communes_is_a_conflict(
    cast: Cast, da_kao
) -> None:
    plan = _import(
        cast,
        [
            ["27184", "27184", "Phường Sài Gòn", "", DAY],
            ["27190", "27184", "Phường Sài Gòn", "", DAY],
        ],
        abolish_level="district",
    )
    preview = reorg.reorganisation_preview(plan=plan)
    assert not preview.can_apply
    with pytest.raises(ReorganisationConflictError):
        reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)
    assert AdministrativeUnit.objects.get(pk=cast.other_ward.pk).valid_to is None


# --- Template and command ---------------------------------------------------------------


def test_template_has_the_columns_and_instructions() -> None:
    out = io.BytesIO()
    mapping_template(out)
    out.seek(0)
    book = load_workbook(out)
    data, instructions = book.worksheets[0], book.worksheets[1]
    assert [c.value for c in next(data.iter_rows(max_row=1))] == COLUMNS
    assert instructions.max_row > len(COLUMNS)


def _write(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "sap-xep.csv"
    path.write_bytes(_csv(rows).getvalue())
    return path


def test_command_prints_the_preview_and_applies(cast: Cast, da_kao, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            ["27184", "27184", "Phường Sài Gòn", "", DAY],
            ["27190", "27184", "Phường Sài Gòn", "", DAY],
        ],
    )
    out = io.StringIO()
    call_command(
        "reorganisation_import", tenant="thu-nghiem", file=str(path), name="Sáp nhập",
        apply=True, actor="admin", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "1 steps" in text
    assert "units_closed: 3" in text  # two wards and the neighbourhood copied
    assert "units_created: 2" in text
    assert "Applied" in text
    assert AdministrativeUnit.objects.get(pk=cast.ward.pk).valid_to is not None
    plan = Reorganisation.objects.get()
    assert plan.status == ReorganisationStatus.APPLIED


def test_command_lists_conflicts_and_does_not_apply(cast: Cast, da_kao, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            ["27184", "27247", "Phường Sài Gòn", "", DAY],
            ["27190", "27247", "Phường Sài Gòn", "", DAY],
        ],
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="conflicts"):
        call_command(
            "reorganisation_import", tenant="thu-nghiem", file=str(path), name="Sáp nhập",
            apply=True, stdout=out,
        )  # fmt: skip
    assert "conflict (step 1, 27247)" in out.getvalue()
    assert Reorganisation.objects.get().status == ReorganisationStatus.DRAFT
    assert AdministrativeUnit.objects.get(pk=cast.ward.pk).valid_to is None


def test_command_reports_file_errors_by_row(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, [["99999", "1", "Phường A", "", DAY]])
    with pytest.raises(CommandError, match="Row 2, column “Mã xã cũ”"):
        call_command(
            "reorganisation_import", tenant="thu-nghiem", file=str(path), name="X",
            stdout=io.StringIO(),
        )  # fmt: skip
    assert not Reorganisation.objects.exists()

"""Administrative units through the import engine: codes as keys, parents earlier in the
file, the tree rules of units.services, no moves, administrators only, round trip."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from spreadsheets.kinds.base import ImportContext
from spreadsheets.kinds.units import UnitKind
from spreadsheets.registry import kind_class
from spreadsheets.services import require_importer
from tests.factories import grant, make_unit, make_user
from tests.spreadsheets.support import import_file, kind_headers, xlsx_bytes
from units.models import AdministrativeUnit, path_segment
from units.roles import Role
from units.selectors import subtree

pytestmark = pytest.mark.django_db


def exported(cast, user, unit):
    ctx = ImportContext(tenant=cast.tenant, unit=unit, actor=user)
    kind = kind_class("units")(ctx=ctx)
    return list(kind.export_rows(kind.export_queryset(user, unit)))


def district_admin(cast):
    return grant(make_user(cast.tenant, "admin.q1"), cast.district, Role.TENANT_ADMIN)


NEW = [
    ["27185", "Phường Đa Kao", "Phường", "771", dt.date(2020, 1, 1), "không"],
    ["27185-KP01", "Khu phố 1", "Khu phố", "27185", dt.date(2021, 3, 1), "có"],
    ["27184-KP02", "Khu phố 2", "Khu phố", "27184", None, ""],
]


def test_headers_are_vietnamese_with_english_aliases(cast):
    assert kind_headers("units") == [
        "Mã đơn vị",
        "Tên đơn vị",
        "Loại đơn vị",
        "Mã đơn vị cấp trên",
        "Hiệu lực từ ngày",
        "Vùng khó khăn",
    ]
    content = xlsx_bytes(
        ["Unit code", "Name", "Kind", "Parent unit code", "Valid from", "Disadvantaged area"],
        NEW[:1],
    )
    outcome = import_file("units", cast.admin, cast.city, content)
    assert outcome.new == 1 and not outcome.error_count


def test_new_units_and_their_new_parents_are_written_with_their_paths(cast):
    preview = import_file("units", cast.admin, cast.city, NEW)
    assert preview.counts == {"total": 3, "new": 3, "changed": 0, "unchanged": 0, "error": 0}
    assert not AdministrativeUnit.objects.filter(code="27185").exists()
    applied = import_file("units", cast.admin, cast.city, NEW, apply=True)
    assert applied.new == 3 and not applied.error_count
    ward = AdministrativeUnit.objects.get(code="27185")
    assert (ward.level, ward.kind, ward.parent, ward.depth) == (
        "commune",
        "phuong",
        cast.district,
        2,
    )
    assert ward.path == cast.district.path + path_segment(ward.pk)
    assert ward.valid_from == dt.date(2020, 1, 1) and ward.search_name == "phuong da kao"
    quarter = AdministrativeUnit.objects.get(code="27185-KP01")
    assert quarter.parent == ward and quarter.path == ward.path + path_segment(quarter.pk)
    assert quarter.is_disadvantaged and quarter.valid_from == dt.date(2021, 3, 1)
    assert quarter.depth == 3 and quarter.level == "neighbourhood"
    assert set(subtree(cast.ward).values_list("code", flat=True)) == {
        "27184",
        "27184-KP01",
        "27184-KP02",
    }


def test_parents_written_in_an_earlier_batch_are_found(cast, monkeypatch):
    monkeypatch.setattr(UnitKind, "batch_size", 2)
    rows = [
        ["27190", "Phường Một", "Phường", "771", None, ""],
        ["27190-KP01", "Khu phố 1", "Khu phố", "27190", None, ""],
        ["27191", "Phường Hai", "Phường", "771", None, ""],
        ["27191-KP01", "Khu phố 1", "Khu phố", "27191", None, ""],
        ["27190-KP02", "Khu phố 2", "Khu phố", "27190", None, ""],
    ]
    assert import_file("units", cast.admin, cast.city, rows).new == 5
    applied = import_file("units", cast.admin, cast.city, rows, apply=True)
    assert applied.new == 5 and not applied.error_count
    ward = AdministrativeUnit.objects.get(code="27190")
    assert sorted(ward.children.values_list("code", flat=True)) == ["27190-KP01", "27190-KP02"]
    for unit in AdministrativeUnit.objects.filter(code__startswith="2719"):
        assert unit.path == unit.parent.path + path_segment(unit.pk)


def test_reimporting_the_same_file_changes_nothing(cast):
    import_file("units", cast.admin, cast.city, NEW, apply=True)
    before = AdministrativeUnit.objects.count()
    again = import_file("units", cast.admin, cast.city, NEW, apply=True)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
    assert AdministrativeUnit.objects.count() == before


def test_changes_are_reported_and_written(cast):
    rows = [
        ["27184", "Phường Bến Nghé Mới", "Phường", "771", None, "có"],
        ["27184-KP01", "Khu phố 1", "Khu phố", "27184", None, "không"],
        ["27247-KP01", "Khu phố 1", "Khu phố", "27247", dt.date(1950, 1, 1), ""],
        ["772", "Quận Hai", "Huyện", "79", None, ""],
    ]
    outcome = import_file("units", cast.admin, cast.city, rows, apply=True)
    assert (outcome.new, outcome.changed, outcome.unchanged) == (0, 3, 1)
    by_row = {s["row"]: s["changes"] for s in outcome.samples}
    assert by_row[2] == {
        "name": ["Phường Bến Nghé", "Phường Bến Nghé Mới"],
        "is_disadvantaged": [False, True],
    }
    assert by_row[4] == {"valid_from": ["01/01/1900", "01/01/1950"]}
    assert by_row[5] == {"kind": ["quan", "huyen"]}
    ward = AdministrativeUnit.objects.get(pk=cast.ward.pk)
    assert ward.name == "Phường Bến Nghé Mới" and ward.search_name == "phuong ben nghe moi"
    assert ward.is_disadvantaged and ward.version == 2
    other = AdministrativeUnit.objects.get(pk=cast.other_district.pk)
    assert (other.kind, other.level) == ("huyen", "district")
    quarter = AdministrativeUnit.objects.get(pk=cast.other_neighbourhood.pk)
    assert quarter.valid_from == dt.date(1950, 1, 1) and quarter.version == 2


def test_export_imports_back_unchanged_for_the_city_and_for_a_district(cast):
    import_file("units", cast.admin, cast.city, NEW, apply=True)
    lines = exported(cast, cast.admin, cast.city)
    assert [line[0] for line in lines][:3] == ["79", "771", "27184"]  # parents first
    assert lines[0][3] == ""  # the city has no parent
    assert len(lines) == 10
    outcome = import_file("units", cast.admin, cast.city, lines)
    assert outcome.counts == {"total": 10, "new": 0, "changed": 0, "unchanged": 10, "error": 0}
    # A district's administrator exports their district; its parent lies outside their
    # subtree but stays as it is, so the file imports back unchanged.
    admin_q1 = district_admin(cast)
    lines = exported(cast, admin_q1, cast.district)
    assert lines[0][:4] == ["771", "Quận Một", "Quận", "79"]
    assert "27247" not in [line[0] for line in lines]
    outcome = import_file("units", admin_q1, cast.district, lines)
    assert outcome.counts["unchanged"] == len(lines) == 6 and not outcome.error_count


def test_a_unit_under_another_district_is_an_error_and_nothing_is_written(cast):
    admin_q1 = district_admin(cast)
    rows = [
        NEW[0],
        ["27250", "Phường Mới", "Phường", "772", None, ""],
        ["27247", "Phường Tân Định", "Phường", "772", None, "có"],
    ]
    outcome = import_file("units", admin_q1, cast.district, rows, apply=True)
    assert outcome.error_count == 2
    first, second = outcome.errors
    assert (first.row, first.column) == (3, "Mã đơn vị cấp trên")
    assert "772" in first.message and cast.district.name in first.message
    assert (second.row, second.column) == (4, "Mã đơn vị")
    assert "27247" in second.message and "Phường Tân Định" not in second.message
    assert not AdministrativeUnit.objects.filter(code__in=["27185", "27250"]).exists()
    assert not AdministrativeUnit.objects.get(pk=cast.other_ward.pk).is_disadvantaged


def test_an_import_does_not_move_units(cast):
    rows = [["27184", "Phường Bến Nghé", "Phường", "772", None, ""]]
    outcome = import_file("units", cast.admin, cast.city, rows, apply=True)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert (error.row, error.column) == (2, "Mã đơn vị cấp trên")
    assert "771" in error.message
    assert AdministrativeUnit.objects.get(pk=cast.ward.pk).parent == cast.district


def test_the_levels_follow_the_services_rules(cast):
    rows = [
        ["771-KP9", "Khu phố 9", "Khu phố", "771", None, ""],  # skips the commune level
        ["27184", "Phường Bến Nghé", "Khu phố", "771", None, ""],  # a ward cannot become one
        ["27247", "Xã Tân Định", "Xã", "772", None, ""],  # same level: allowed
        ["27184-KP05", "Khu phố 5", "Khu phố", "27184", dt.date(1800, 1, 1), ""],
    ]
    outcome = import_file("units", cast.admin, cast.city, rows)
    assert outcome.changed == 1
    assert sorted((e.row, e.column) for e in outcome.errors) == [
        (2, "Loại đơn vị"),
        (3, "Loại đơn vị"),
        (5, "Hiệu lực từ ngày"),  # before its parent's start
    ]
    assert outcome.samples[0]["changes"]["kind"] == ["phuong", "xa"]


def test_validity_must_lie_within_the_parents_and_cover_the_childrens(cast):
    rows = [
        ["27184", "Phường Bến Nghé", "Phường", "771", dt.date(2020, 1, 1), ""],
        ["27185", "Phường Mới", "Phường", "771", dt.date(2020, 1, 1), ""],
        ["27185-KP01", "Khu phố 1", "Khu phố", "27185", dt.date(2019, 1, 1), ""],
    ]
    outcome = import_file("units", cast.admin, cast.city, rows)
    assert sorted((e.row, e.column) for e in outcome.errors) == [
        (2, "Hiệu lực từ ngày"),
        (4, "Hiệu lực từ ngày"),
    ]
    assert outcome.new == 1


def test_codes_of_ended_units_are_free_only_after_their_end(cast):
    make_unit(
        cast.tenant,
        cast.district,
        "phuong",
        "Phường Cũ",
        "27999",
        valid_to=dt.date(2020, 12, 31),
    )
    clash = import_file(
        "units", cast.admin, cast.city, [["27999", "Phường Mới", "Phường", "771", None, ""]]
    )
    assert clash.errors[0].column == "Mã đơn vị" and "Phường Cũ" in clash.errors[0].message
    later = import_file(
        "units",
        cast.admin,
        cast.city,
        [["27999", "Phường Mới", "Phường", "771", dt.date(2021, 1, 1), ""]],
        apply=True,
    )
    assert later.new == 1 and not later.error_count
    assert AdministrativeUnit.objects.filter(code="27999").count() == 2


def test_bad_parents_and_dates_name_the_row_and_column(cast):
    rows = [
        ["27300", "Phường A", "Phường", "", None, ""],
        ["27301", "Phường B", "Phường", "999", None, ""],
        ["27302", "Phường C", "Phường", "771", "12/25/2024", ""],
        ["27303", "Phường D", "Phường", "771", "31/02/2024", ""],
        ["27304", "Phường E", "Phường lớn", "771", None, "có lẽ"],
    ]
    outcome = import_file("units", cast.admin, cast.city, rows)
    assert [(e.row, e.column) for e in outcome.errors] == [
        (2, "Mã đơn vị cấp trên"),
        (3, "Mã đơn vị cấp trên"),
        (4, "Hiệu lực từ ngày (E)"),
        (5, "Hiệu lực từ ngày (E)"),
        (6, "Loại đơn vị (C)"),
        (6, "Vùng khó khăn (F)"),
    ]
    assert "999" in outcome.errors[1].message
    assert "25/12/2024" in outcome.errors[2].message


def test_only_administrators_import_units(cast):
    with pytest.raises(PermissionDenied):
        require_importer(cast.ward_official, cast.ward, UnitKind)
    with pytest.raises(PermissionDenied):
        require_importer(cast.reviewer, cast.district, UnitKind)
    require_importer(cast.admin, cast.city, UnitKind)


def test_one_bad_row_at_the_end_writes_nothing(cast):
    rows = [
        [f"27184-T{i:04d}", f"Tổ dân phố {i}", "Tổ dân phố", "27184", None, ""] for i in range(2100)
    ]
    rows.append(["27184-T9999", "Tổ dân phố cuối", "Tổ dân phố", "27184", "30/02/2025", ""])
    outcome = import_file("units", cast.admin, cast.city, rows, apply=True)
    assert outcome.error_count == 1
    assert (outcome.errors[0].row, outcome.errors[0].column) == (2102, "Hiệu lực từ ngày (E)")
    assert not AdministrativeUnit.objects.filter(code__startswith="27184-T").exists()

"""Clans through the import engine: commune + name as the key, home units, scope, round trip."""

from __future__ import annotations

import pytest

from recognition.models import Clan
from recognition.services.subjects import clan_create
from spreadsheets.kinds.base import ImportContext
from spreadsheets.registry import kind_class
from tests.factories import make_unit
from tests.spreadsheets.support import import_file, kind_headers, xlsx_bytes

pytestmark = pytest.mark.django_db


def rows(cast, n=3):
    return [
        [f"Họ Nguyễn {i}", f"Nguyễn Văn {i}", 20 + i, cast.ward.code, cast.neighbourhood.code]
        for i in range(1, n + 1)
    ]


def exported(cast, user, unit):
    ctx = ImportContext(tenant=cast.tenant, unit=unit, actor=user)
    kind = kind_class("clans")(ctx=ctx)
    return list(kind.export_rows(kind.export_queryset(user, unit)))


def test_headers_are_vietnamese_with_english_aliases(cast):
    assert kind_headers("clans") == [
        "Tên dòng họ",
        "Người đại diện",
        "Số thành viên",
        "Mã xã/phường",
        "Mã khu phố/ấp nơi sinh sống",
    ]
    content = xlsx_bytes(
        ["Clan name", "Representative", "Members", "Commune code", "Home unit codes"],
        rows(cast, n=1),
    )
    outcome = import_file("clans", cast.ward_official, cast.ward, content)
    assert outcome.new == 1 and not outcome.error_count


def test_new_clans_are_previewed_then_written_with_their_home_units(cast):
    preview = import_file("clans", cast.ward_official, cast.ward, rows(cast))
    assert preview.counts == {"total": 3, "new": 3, "changed": 0, "unchanged": 0, "error": 0}
    assert not Clan.objects.exists()
    applied = import_file("clans", cast.ward_official, cast.ward, rows(cast), apply=True)
    assert applied.new == 3
    clan = Clan.objects.get(name="Họ Nguyễn 2")
    assert clan.unit == cast.ward and clan.tenant == cast.tenant
    assert clan.representative == "Nguyễn Văn 2" and clan.member_count == 22
    assert list(clan.home_units.all()) == [cast.neighbourhood]
    assert "ho nguyen 2" in clan.search_text


def test_reimporting_the_same_file_changes_nothing(cast):
    import_file("clans", cast.ward_official, cast.ward, rows(cast), apply=True)
    again = import_file("clans", cast.ward_official, cast.ward, rows(cast), apply=True)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
    assert Clan.objects.count() == 3
    assert Clan.objects.get(name="Họ Nguyễn 1").version == 1


def test_changes_are_reported_and_written(cast):
    second = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    import_file("clans", cast.ward_official, cast.ward, rows(cast), apply=True)
    edited = rows(cast)
    edited[0][1] = "Nguyễn Văn Một"
    edited[1][4] = f"{second.code}, {cast.neighbourhood.code}"
    edited[2][4] = ""
    edited[2][2] = None
    outcome = import_file("clans", cast.ward_official, cast.ward, edited, apply=True)
    assert (outcome.new, outcome.changed, outcome.unchanged) == (0, 3, 0)
    by_row = {s["row"]: s["changes"] for s in outcome.samples}
    assert by_row[2] == {"representative": ["Nguyễn Văn 1", "Nguyễn Văn Một"]}
    assert by_row[3] == {
        "home_units": [cast.neighbourhood.code, f"{cast.neighbourhood.code}; {second.code}"]
    }
    assert set(by_row[4]) == {"member_count", "home_units"}
    clan2 = Clan.objects.get(name="Họ Nguyễn 2")
    assert set(clan2.home_units.all()) == {cast.neighbourhood, second}
    assert clan2.version == 2
    clan3 = Clan.objects.get(name="Họ Nguyễn 3")
    assert clan3.member_count is None and not clan3.home_units.exists()
    assert Clan.objects.get(name="Họ Nguyễn 1").home_units.count() == 1


def test_names_match_without_regard_to_capitals_as_in_the_services(cast):
    clan_create(actor=None, unit=cast.ward, name="Họ Lê", representative="Lê Văn A")
    outcome = import_file(
        "clans",
        cast.ward_official,
        cast.ward,
        [["HỌ LÊ", "Lê Văn A", None, cast.ward.code, ""]],
        apply=True,
    )
    assert (outcome.new, outcome.changed) == (0, 1)
    assert outcome.samples[0]["changes"] == {"name": ["Họ Lê", "HỌ LÊ"]}
    assert list(Clan.objects.values_list("name", flat=True)) == ["HỌ LÊ"]


def test_duplicate_clans_inside_the_file_are_refused(cast):
    data = [*rows(cast, n=2), ["họ nguyễn 1", "Người Khác", None, cast.ward.code, ""]]
    outcome = import_file("clans", cast.ward_official, cast.ward, data)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert error.row == 4 and "Mã xã/phường" in error.column and "2" in error.message


def test_a_clan_of_another_ward_is_an_error_and_nothing_is_written(cast):
    data = [*rows(cast, n=2), ["Họ Trần", "Trần Văn B", 5, cast.other_ward.code, ""]]
    outcome = import_file("clans", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert (error.row, error.column) == (4, "Mã xã/phường (D)")
    assert cast.other_ward.code in error.message and cast.ward.name in error.message
    assert not Clan.objects.exists()


def test_home_units_outside_the_importers_unit_or_the_commune_are_errors(cast):
    outside = import_file(
        "clans",
        cast.ward_official,
        cast.ward,
        [["Họ Phạm", "Phạm Văn C", 4, cast.ward.code, cast.other_neighbourhood.code]],
    )
    assert outside.errors[0].column == "Mã khu phố/ấp nơi sinh sống (E)"
    assert cast.other_neighbourhood.code in outside.errors[0].message
    # The city admin sees both wards, but a clan lives in the commune that manages it.
    other_commune = import_file(
        "clans",
        cast.admin,
        cast.city,
        [["Họ Phạm", "Phạm Văn C", 4, cast.ward.code, cast.other_neighbourhood.code]],
    )
    assert other_commune.error_count == 1
    error = other_commune.errors[0]
    assert error.column == "Mã khu phố/ấp nơi sinh sống"
    assert error.message == (
        "Nơi cư trú của dòng họ phải thuộc xã, phường quản lý dòng họ: "
        "Khu phố 1 không thuộc xã, phường đó."
    )


def test_a_clan_must_be_managed_by_a_commune(cast):
    outcome = import_file(
        "clans",
        cast.ward_official,
        cast.ward,
        [["Họ Võ", "Võ Văn D", 4, cast.neighbourhood.code, ""]],
    )
    assert outcome.error_count == 1
    assert outcome.errors[0].column == "Mã xã/phường"
    assert outcome.errors[0].row == 2


def test_one_bad_row_at_the_end_writes_nothing(cast):
    data = [
        [f"Họ {i}", f"Người {i}", None, cast.ward.code, cast.neighbourhood.code]
        for i in range(2100)
    ]
    data.append(["Họ Cuối", "Người Cuối", 0, cast.ward.code, ""])  # 0 members
    outcome = import_file("clans", cast.ward_official, cast.ward, data, apply=True)
    assert outcome.error_count == 1
    assert (outcome.errors[0].row, outcome.errors[0].column) == (2102, "Số thành viên (C)")
    assert not Clan.objects.exists()
    assert not Clan.home_units.through.objects.exists()


def test_export_imports_back_unchanged(cast):
    second = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    data = rows(cast)
    data[0][4] = f"{second.code};{cast.neighbourhood.code}"
    data[1][2] = None
    import_file("clans", cast.ward_official, cast.ward, data, apply=True)
    import_file(
        "clans", cast.admin, cast.city, [["Họ Khác", "X", 1, cast.other_ward.code, ""]], apply=True
    )
    lines = exported(cast, cast.ward_official, cast.ward)
    assert len(lines) == 3  # the other ward's clan is not exported
    assert lines[0][4] == f"{cast.neighbourhood.code}; {second.code}"
    outcome = import_file("clans", cast.ward_official, cast.ward, lines)
    assert outcome.counts == {"total": 3, "new": 0, "changed": 0, "unchanged": 3, "error": 0}

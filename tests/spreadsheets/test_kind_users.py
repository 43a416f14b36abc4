"""User accounts with role assignments through the import engine: invitations after the
commit, the granting rules of units.services, scope, all or nothing, round trip."""

from __future__ import annotations

import pytest
from allauth.account.forms import default_token_generator
from django.core import mail
from django.core.exceptions import PermissionDenied

from accounts.models import User
from spreadsheets.kinds.base import ImportContext
from spreadsheets.kinds.users import UserKind
from spreadsheets.registry import kind_class
from spreadsheets.services import require_importer
from tests.factories import grant, make_user
from tests.spreadsheets.support import import_file, kind_headers, xlsx_bytes
from units.models import RoleAssignment
from units.roles import ROLE_RANK, Role

pytestmark = pytest.mark.django_db

WARD_OFFICIAL = "Cán bộ phường"
LEAD = "Trưởng khu phố"
REVIEWER = "Cán bộ thẩm định"


def new_rows(cast):
    mai = ["can.bo.p1", "Lê Thị Mai", "mai.le@example.vn", "Công chức", "0912345678"]
    return [
        ["can.bo.p1", "Lê Thị Mai", "Mai.Le@Example.vn", *mai[3:], cast.ward.code, WARD_OFFICIAL],
        [*mai, cast.neighbourhood.code, LEAD],
        ["tham.dinh", "Trần Văn Bình", "binh@example.vn", "", "", cast.district.code, REVIEWER],
    ]


def exported(cast, user, unit):
    ctx = ImportContext(tenant=cast.tenant, unit=unit, actor=user)
    kind = kind_class("users")(ctx=ctx)
    return list(kind.export_rows(kind.export_queryset(user, unit)))


def apply(cast, user, unit, rows, capture):
    with capture(execute=True):
        return import_file("users", user, unit, rows, apply=True)


def test_headers_are_vietnamese_with_english_aliases(cast):
    assert kind_headers("users") == [
        "Tên đăng nhập",
        "Họ và tên",
        "Email",
        "Chức vụ",
        "Số điện thoại",
        "Mã đơn vị",
        "Vai trò",
    ]
    content = xlsx_bytes(
        ["Username", "Full name", "E-mail", "Position", "Phone", "Unit code", "Role"],
        new_rows(cast)[2:],
    )
    outcome = import_file("users", cast.admin, cast.city, content)
    assert outcome.new == 1 and not outcome.error_count


def test_new_accounts_have_no_password_and_are_invited_after_the_commit(
    cast, django_capture_on_commit_callbacks
):
    preview = import_file("users", cast.admin, cast.city, new_rows(cast))
    assert preview.counts == {"total": 3, "new": 3, "changed": 0, "unchanged": 0, "error": 0}
    assert not User.objects.filter(username="can.bo.p1").exists()
    outcome = apply(cast, cast.admin, cast.city, new_rows(cast), django_capture_on_commit_callbacks)
    assert outcome.new == 3 and not outcome.error_count
    mai = User.objects.get(username="can.bo.p1")
    assert (mai.email, mai.full_name, mai.position, mai.phone) == (
        "mai.le@example.vn",
        "Lê Thị Mai",
        "Công chức",
        "0912345678",
    )
    assert mai.tenant == cast.tenant and not mai.has_usable_password()
    assert set(mai.role_assignments.values_list("unit__code", "role")) == {
        (cast.ward.code, Role.WARD_OFFICIAL),
        (cast.neighbourhood.code, Role.NEIGHBOURHOOD_LEAD),
    }
    assert mai.role_assignments.first().granted_by == cast.admin
    assert sorted(m.to[0] for m in mail.outbox) == ["binh@example.vn", "mai.le@example.vn"]
    message = next(m for m in mail.outbox if m.to == ["mai.le@example.vn"])
    assert "can.bo.p1" in message.body and "/password/reset/key/" in message.body
    key = message.body.split("/password/reset/key/")[1].split()[0].rstrip("/")
    token = key.split("-", 1)[1]
    assert default_token_generator.check_token(mai, token)


def test_reimporting_the_same_file_changes_nothing_and_sends_nothing(
    cast, django_capture_on_commit_callbacks
):
    apply(cast, cast.admin, cast.city, new_rows(cast), django_capture_on_commit_callbacks)
    mail.outbox.clear()
    again = apply(cast, cast.admin, cast.city, new_rows(cast), django_capture_on_commit_callbacks)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
    assert User.objects.filter(username__in=["can.bo.p1", "tham.dinh"]).count() == 2
    assert RoleAssignment.objects.filter(user__username="can.bo.p1").count() == 2
    assert mail.outbox == []


def test_existing_accounts_get_new_roles_and_changed_details_without_invitation(
    cast, django_capture_on_commit_callbacks
):
    ward = cast.ward_official
    account = [ward.username, "Phạm Thị Phường", ward.email, "Phó Chủ tịch", ""]
    rows = [[*account, cast.ward.code, WARD_OFFICIAL], [*account, cast.neighbourhood.code, LEAD]]
    outcome = apply(cast, cast.admin, cast.city, rows, django_capture_on_commit_callbacks)
    assert (outcome.new, outcome.changed) == (1, 1)
    changed = next(s for s in outcome.samples if s["status"] == "changed")
    assert changed["changes"]["full_name"][1] == "Phạm Thị Phường"
    assert changed["changes"]["position"] == ["", "Phó Chủ tịch"]
    ward.refresh_from_db()
    assert (ward.full_name, ward.position) == ("Phạm Thị Phường", "Phó Chủ tịch")
    assert ward.has_usable_password()
    assert ward.role_assignments.count() == 2
    assert mail.outbox == []


def test_export_imports_back_unchanged(cast, django_capture_on_commit_callbacks):
    apply(cast, cast.admin, cast.city, new_rows(cast), django_capture_on_commit_callbacks)
    lines = exported(cast, cast.admin, cast.city)
    assert len(lines) == 7  # the cast's four roles and the three new ones
    mai = [line for line in lines if line[0] == "can.bo.p1"][1]
    assert mai == [
        "can.bo.p1",
        "Lê Thị Mai",
        "mai.le@example.vn",
        "Công chức",
        "0912345678",
        cast.neighbourhood.code,
        LEAD,
    ]
    assert {line[6] for line in lines} >= {WARD_OFFICIAL, LEAD, REVIEWER, "Quản trị"}
    assert all(line[0] != cast.other_tenant_official.username for line in lines)
    outcome = import_file("users", cast.admin, cast.city, lines)
    assert outcome.counts == {"total": 7, "new": 0, "changed": 0, "unchanged": 7, "error": 0}
    admin_q1 = grant(make_user(cast.tenant, "admin.q1"), cast.district, Role.TENANT_ADMIN)
    district_lines = exported(cast, admin_q1, cast.district)
    assert {line[5] for line in district_lines} == {
        cast.district.code,
        cast.ward.code,
        cast.neighbourhood.code,
    }
    outcome = import_file("users", admin_q1, cast.district, district_lines)
    assert outcome.unchanged == len(district_lines) and not outcome.error_count


def test_a_role_in_another_district_is_an_error_and_nothing_is_written(
    cast, django_capture_on_commit_callbacks
):
    admin_q1 = grant(make_user(cast.tenant, "admin.q1"), cast.district, Role.TENANT_ADMIN)
    rows = [
        *new_rows(cast),
        ["can.bo.q2", "Võ Văn Hai", "hai@example.vn", "", "", cast.other_ward.code, WARD_OFFICIAL],
    ]
    outcome = apply(cast, admin_q1, cast.district, rows, django_capture_on_commit_callbacks)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert (error.row, error.column) == (5, "Mã đơn vị (F)")
    assert cast.other_ward.code in error.message
    assert not User.objects.filter(username__in=["can.bo.p1", "can.bo.q2"]).exists()
    assert mail.outbox == []


def test_nobody_grants_a_role_ranked_above_their_own(cast, monkeypatch):
    monkeypatch.setitem(ROLE_RANK, Role.REVIEWER, 50)  # a role above the administrator's
    outcome = import_file("users", cast.admin, cast.city, new_rows(cast))
    assert [(e.row, e.column) for e in outcome.errors] == [(4, "Vai trò")]
    assert outcome.errors[0].message == "Bạn không thể giao vai trò này tại đơn vị này."


def test_only_administrators_grant_roles(cast):
    with pytest.raises(PermissionDenied):
        require_importer(cast.ward_official, cast.ward, UserKind)
    outcome = import_file("users", cast.ward_official, cast.ward, new_rows(cast)[:1])
    assert [(e.row, e.column) for e in outcome.errors] == [(2, "Vai trò")]


def test_logins_and_addresses_of_other_accounts_are_refused(cast):
    other = cast.other_tenant_official
    rows = [
        [other.username, "Ai Đó", "ai.do@example.vn", "", "", cast.ward.code, WARD_OFFICIAL],
        ["moi.p1", "Người Mới", cast.reviewer.email.upper(), "", "", cast.ward.code, LEAD],
    ]
    outcome = import_file("users", cast.admin, cast.city, rows)
    assert [(e.row, e.column) for e in outcome.errors] == [
        (2, "Tên đăng nhập"),
        (3, "Email"),
    ]
    assert cast.tenant.name in outcome.errors[0].message
    assert "Hạ Lý" not in outcome.errors[0].message


def test_details_of_an_account_with_roles_outside_the_importers_area_stay(cast):
    admin_q1 = grant(make_user(cast.tenant, "admin.q1"), cast.district, Role.TENANT_ADMIN)
    admin = cast.admin
    reviewer = cast.reviewer
    rows = [
        [admin.username, "Tên Khác", admin.email, "", "", cast.ward.code, LEAD],
        [reviewer.username, "Tên Mới", reviewer.email, "", "", cast.district.code, REVIEWER],
    ]
    outcome = import_file("users", admin_q1, cast.district, rows)
    assert [(e.row, e.column) for e in outcome.errors] == [(2, "Tên đăng nhập")]
    assert outcome.changed == 1  # the reviewer's roles all lie in the district
    # Adding a role without touching the account is what role_assign allows.
    same = [[admin.username, admin.full_name, admin.email, "", "", cast.ward.code, LEAD]]
    outcome = import_file("users", admin_q1, cast.district, same)
    assert outcome.new == 1 and not outcome.error_count


def test_the_rows_of_one_user_must_agree(cast):
    rows = new_rows(cast)
    rows[1][1] = "Lê Thị Mây"
    rows.append(["khac", "Người Khác", "binh@example.vn", "", "", cast.ward.code, LEAD])
    outcome = import_file("users", cast.admin, cast.city, rows)
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "Họ và tên"), (5, "Email")]
    assert "Lê Thị Mai" in outcome.errors[0].message
    assert "tham.dinh" in outcome.errors[1].message


def test_bad_cells_name_the_row_and_column(cast):
    rows = [
        ["lê thị", "A", "a@example.vn", "", "", cast.ward.code, LEAD],
        ["b.user", "B", "không-phải-email", "", "", cast.ward.code, LEAD],
        ["c.user", "C", "c@example.vn", "", "", cast.ward.code, "Chủ tịch"],
        ["d.user", "D", "d@example.vn", "", 912345678, cast.ward.code, LEAD],
    ]
    outcome = import_file("users", cast.admin, cast.city, rows)
    assert [(e.row, e.column) for e in outcome.errors] == [
        (2, "Tên đăng nhập (A)"),
        (3, "Email (C)"),
        (4, "Vai trò (G)"),
    ]
    assert "Trưởng khu phố" in outcome.errors[2].message
    assert outcome.new == 1  # the phone number got its leading 0 back


def test_one_bad_row_at_the_end_writes_nothing(cast, django_capture_on_commit_callbacks):
    rows = [
        [f"user.{i}", f"Người {i}", f"user.{i}@example.vn", "", "", cast.ward.code, LEAD]
        for i in range(2100)
    ]
    rows.append(["user.cuoi", "Người cuối", "user.0@example.vn", "", "", cast.ward.code, LEAD])
    outcome = apply(cast, cast.admin, cast.city, rows, django_capture_on_commit_callbacks)
    assert outcome.error_count == 1
    assert (outcome.errors[0].row, outcome.errors[0].column) == (2102, "Email")
    assert not User.objects.filter(username__startswith="user.").exists()
    assert mail.outbox == []

"""Subject screens: lists (filters, pagination, no N+1), detail, create, edit, deactivate."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.models import Citizen, Clan, Household, LabourGroup, Organisation
from recognition.services import subjects as services
from tests.conftest import Cast, client_for
from tests.factories import make_unit
from tests.recognition.test_subjects_helpers import (
    citizen,
    clan,
    household,
    lead,
    organisation,
    state,
    vi_html,
)


def _list(user: Any, kind: str = "household", **params: Any) -> Any:
    return client_for(user).get(reverse(f"recognition:{kind}-list"), params)


def _rows(response: Any) -> list[Any]:
    return [row.record for row in response.context["table"].paginated_rows]


def _bulk_households(cast: Cast, unit: Any, n: int, prefix: str) -> None:
    Household.objects.bulk_create(
        Household(
            tenant=cast.tenant,
            unit=unit,
            code=f"{prefix}-{i:05d}",
            head_name=f"Nguyễn Văn {i}",
            member_count=2,
            search_text=f"{prefix.lower()}-{i:05d} nguyen van {i}",
        )
        for i in range(n)
    )


# --- Lists -------------------------------------------------------------------------------


def test_household_list_shows_only_the_users_area(cast: Cast) -> None:
    mine = household(cast, code="M-1")
    household(cast, cast.other_neighbourhood, code="T-1")
    response = _list(cast.ward_official)
    assert response.status_code == 200
    assert _rows(response) == [mine]
    content = response.content.decode()
    assert "M-1" in content and "T-1" not in content
    assert reverse("recognition:household-detail", args=[mine.public_id]) in content
    assert len(_rows(_list(cast.admin))) == 2
    assert _rows(_list(cast.other_tenant_official)) == []


def test_household_list_filters(cast: Cast) -> None:
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    a = household(cast, code="KP1-1", head_name="Đặng Thị Ánh")
    b = household(cast, kp2, code="KP2-1", head_name="Lý Văn Tư")
    services.subject_set_active(actor=None, subject=b, active=False, expected_version=1)
    assert _rows(_list(cast.admin, q="dang thi anh")) == [a]
    assert _rows(_list(cast.admin, q="ĐẶNG")) == [a]
    assert _rows(_list(cast.admin, status="inactive")) == [Household.objects.get(pk=b.pk)]
    assert len(_rows(_list(cast.admin, status="all"))) == 2
    assert _rows(_list(cast.admin, status="all", unit="27184-kp02")) == [
        Household.objects.get(pk=b.pk)
    ]
    assert len(_rows(_list(cast.admin, unit=cast.ward.code, status="all"))) == 2
    # A unit outside the user's area (or unknown) is an error, not everything.
    response = _list(cast.ward_official, unit=cast.other_ward.code)
    assert _rows(response) == []
    assert vi_html(_("No unit in force with code %(code)s in your area."), code="27247") in (
        response.content.decode()
    )


def test_household_list_paginates_by_fifty_without_n_plus_one(cast: Cast) -> None:
    _bulk_households(cast, cast.neighbourhood, 120, "A")
    client = client_for(cast.ward_official)
    url = reverse("recognition:household-list")
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as small:
        response = client.get(url)
    assert len(response.context["table"].paginated_rows) == 50
    assert response.context["table"].paginator.count == 120
    _bulk_households(cast, cast.neighbourhood, 600, "B")
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, {"page": 3})
    assert response.status_code == 200 and len(response.context["table"].paginated_rows) == 50
    assert len(large) == len(small)
    assert len(large) <= 12
    assert "120" in _list(cast.ward_official, q="a-").content.decode()


@pytest.mark.parametrize("kind", ["clan", "organisation", "citizen"])
def test_other_lists_render(cast: Cast, kind: str) -> None:
    clan(cast)
    organisation(cast)
    citizen(cast)
    response = _list(cast.reviewer, kind)
    assert response.status_code == 200
    assert len(_rows(response)) == 1
    create = reverse(f"recognition:{kind}-create")
    assert create not in response.content.decode()  # the reviewer only reads
    assert create in _list(cast.ward_official, kind).content.decode()


def test_citizen_id_is_masked_in_lists_for_everyone(cast: Cast) -> None:
    citizen(cast, national_id="079123456789")
    for user in (cast.ward_official, cast.reviewer, cast.viewer, cast.admin):
        content = _list(user, "citizen").content.decode()
        assert "*********789" in content
        assert "079123456789" not in content


# --- Detail ----------------------------------------------------------------------------------


def test_citizen_detail_shows_the_full_id_only_to_record_keepers(cast: Cast) -> None:
    c = citizen(cast, national_id="079123456789")
    url = reverse("recognition:citizen-detail", args=[c.public_id])
    for user in (cast.ward_official, lead(cast), cast.admin):
        content = client_for(user).get(url).content.decode()
        assert "079123456789" in content, user
    for user in (cast.reviewer, cast.viewer):
        content = client_for(user).get(url).content.decode()
        assert "079123456789" not in content and "*********789" in content, user


def test_detail_shows_registrations_and_history(cast: Cast) -> None:
    from recognition.services.registration import registration_create

    h = household(cast)
    registration_create(actor=cast.ward_official, title="gia_dinh", year=2025, subject=h)
    response = client_for(cast.reviewer).get(
        reverse("recognition:household-detail", args=[h.public_id])
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Gia đình học tập" in content and "2025" in content and "2.025" not in content
    assert [e.action for e in response.context["timeline"]] == ["household.create"]
    assert "Thêm mới" in content
    assert reverse("recognition:household-edit", args=[h.public_id]) not in content
    ward = client_for(cast.ward_official).get(
        reverse("recognition:household-detail", args=[h.public_id])
    )
    assert reverse("recognition:household-edit", args=[h.public_id]) in ward.content.decode()


def test_detail_out_of_scope_is_404(cast: Cast) -> None:
    theirs = household(cast, cast.other_neighbourhood, code="T-1")
    client = client_for(cast.ward_official)
    for name in ("detail", "edit"):
        assert (
            client.get(
                reverse(f"recognition:household-{name}", args=[theirs.public_id])
            ).status_code
            == 404
        )
    assert client.get("/recognition/subjects/households/12/").status_code == 404


# --- Create / edit / deactivate ------------------------------------------------------------------


def test_create_household(cast: Cast) -> None:
    response = client_for(cast.ward_official).post(
        reverse("recognition:household-create"),
        {
            "unit_code": "27184-kp01",
            "code": "KP01-100",
            "head_name": "Võ Thị Sáu",
            "address": "",
            "member_count": 5,
        },
    )
    h = Household.objects.get(code="KP01-100")
    assert response.status_code == 302
    assert response["Location"] == reverse("recognition:household-detail", args=[h.public_id])
    assert h.unit == cast.neighbourhood and h.member_count == 5


def test_create_refusals_are_shown_in_vietnamese_and_change_nothing(cast: Cast) -> None:
    household(cast, code="DUP-1")
    client = client_for(cast.ward_official)
    url = reverse("recognition:household-create")
    before = state()
    cases = [
        ({"unit_code": cast.ward.code}, "Hộ gia đình phải thuộc một khu phố"),
        ({"member_count": 0}, "Số thành viên phải từ 1 trở lên."),
        ({"code": "dup-1"}, "Mã hộ dup-1 đã được dùng cho một hộ khác."),
        ({"unit_code": cast.other_neighbourhood.code}, "27247-KP01"),
    ]
    for override, message in cases:
        body = {
            "unit_code": cast.neighbourhood.code,
            "code": "NEW-1",
            "head_name": "Người Mới",
            "member_count": 2,
            **override,
        }
        response = client.post(url, body)
        assert response.status_code == 200, override
        assert message in response.content.decode(), override
    assert state() == before


def test_read_only_roles_cannot_create_or_edit(cast: Cast) -> None:
    h = household(cast)
    for user in (cast.reviewer, cast.viewer):
        client = client_for(user)
        assert client.get(reverse("recognition:household-create")).status_code == 403
        assert (
            client.get(reverse("recognition:household-edit", args=[h.public_id])).status_code == 403
        )
        before = state()
        response = client.post(
            reverse("recognition:household-edit", args=[h.public_id]),
            {
                "unit_code": cast.neighbourhood.code,
                "code": "X",
                "head_name": "Y",
                "member_count": 1,
                "version": 1,
            },
        )
        assert response.status_code == 403
        assert state() == before


def test_edit_household_and_stale_edit(cast: Cast) -> None:
    h = household(cast)
    url = reverse("recognition:household-edit", args=[h.public_id])
    client = client_for(cast.ward_official)
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"].initial["version"] == 1
    body = {
        "unit_code": cast.neighbourhood.code,
        "code": h.code,
        "head_name": "Tên Mới",
        "address": "",
        "member_count": 6,
        "version": 1,
    }
    assert client.post(url, body).status_code == 302
    assert Household.objects.get(pk=h.pk).head_name == "Tên Mới"
    before = state()
    stale = client.post(url, {**body, "head_name": "Tên Khác"})
    assert stale.status_code == 200
    assert vi_html(ConcurrentEditError.default_message) in stale.content.decode()
    assert state() == before


def test_deactivate_from_the_detail_page(cast: Cast) -> None:
    h = household(cast)
    client = client_for(cast.ward_official)
    url = reverse("recognition:household-set-active", args=[h.public_id])
    response = client.post(url, {"version": 1})
    assert response.status_code == 302
    assert not Household.objects.get(pk=h.pk).is_active
    client.post(url, {"version": 2, "active": "on"})
    assert Household.objects.get(pk=h.pk).is_active
    before = state()
    client.post(url, {"version": 1})  # stale: refused
    assert state() == before
    assert client_for(cast.reviewer).post(url, {"version": 3}).status_code == 403


def test_create_and_edit_clan_organisation_citizen(cast: Cast) -> None:
    client = client_for(cast.ward_official)
    r = client.post(
        reverse("recognition:clan-create"),
        {
            "unit_code": cast.ward.code,
            "name": "Họ Lê",
            "representative": "Lê Văn Tám",
            "home_unit_codes": f"{cast.neighbourhood.code}, {cast.ward.code}",
        },
    )
    assert r.status_code == 302
    c = Clan.objects.get(name="Họ Lê")
    assert set(c.home_units.all()) == {cast.neighbourhood, cast.ward}
    r = client.post(
        reverse("recognition:clan-edit", args=[c.public_id]),
        {
            "unit_code": cast.ward.code,
            "name": "Họ Lê Văn",
            "representative": "Lê Văn Tám",
            "home_unit_codes": "27247-KP01",
            "version": 1,
        },
    )
    assert r.status_code == 200  # a home unit outside the area is not found
    assert "27247-KP01" in r.content.decode()
    r = client.post(
        reverse("recognition:organisation-create"),
        {"unit_code": cast.ward.code, "name": "UBND phường", "kind": "agency"},
    )
    assert r.status_code == 302 and Organisation.objects.filter(name="UBND phường").exists()
    r = client.post(
        reverse("recognition:citizen-create"),
        {
            "unit_code": cast.neighbourhood.code,
            "full_name": "Lý Thường Kiệt",
            "birth_year": 1985,
            "labour_group": LabourGroup.OFFICIALS,
            "national_id": "1234",
        },
    )
    assert r.status_code == 200
    assert "Số căn cước công dân (CCCD) phải gồm đúng 12 chữ số." in r.content.decode()
    assert not Citizen.objects.exists()
    assert AuditEvent.objects.filter(action="citizen.create").count() == 0

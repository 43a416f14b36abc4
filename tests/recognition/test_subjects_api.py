"""Subjects API: scoped lists and details, create, partial edit with versions,
read-only roles refused, errors as JSON with a code, ID numbers masked in lists."""

from __future__ import annotations

import json
from typing import Any

from recognition.models import Clan, Household
from recognition.services import subjects as services
from tests.conftest import Cast, client_for
from tests.recognition.test_subjects_helpers import (
    citizen,
    clan,
    household,
    lead,
    organisation,
    state,
)

BASE = "/api/v1/subjects"


def _get(user: Any, path: str, **params: Any) -> Any:
    return client_for(user).get(f"{BASE}{path}", params)


def _send(user: Any, method: str, path: str, body: dict[str, Any]) -> Any:
    return client_for(user).generic(
        method, f"{BASE}{path}", json.dumps(body), content_type="application/json"
    )


def test_list_households_is_scoped_and_filtered(cast: Cast) -> None:
    mine = household(cast, code="M-1", head_name="Đỗ Văn Mười")
    household(cast, cast.other_neighbourhood, code="T-1")
    response = _get(cast.ward_official, "/households")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["public_id"] == str(mine.public_id) and item["code"] == "M-1"
    assert item["unit"]["code"] == cast.neighbourhood.code and item["version"] == 1
    assert _get(cast.admin, "/households").json()["count"] == 2
    assert _get(cast.admin, "/households", q="do van muoi").json()["count"] == 1
    assert _get(cast.admin, "/households", unit=str(cast.other_ward.public_id)).json()["count"] == 1
    assert (
        _get(cast.ward_official, "/households", unit=str(cast.other_ward.public_id)).status_code
        == 404
    )
    assert _get(cast.other_tenant_official, "/households").json()["count"] == 0


def test_create_household_and_refusals(cast: Cast) -> None:
    body = {"unit": str(cast.neighbourhood.public_id), "code": "API-1", "head_name": "Hà Văn Bắc"}
    response = _send(cast.ward_official, "POST", "/households", body)
    assert response.status_code == 201, response.content
    assert Household.objects.get(code="API-1").head_name == "Hà Văn Bắc"
    before = state()
    dup = _send(cast.ward_official, "POST", "/households", body)
    assert dup.status_code == 409
    assert dup.json()["code"] == "duplicate_subject"
    assert "đã được dùng" in dup.json()["detail"]
    wrong_level = _send(
        cast.ward_official,
        "POST",
        "/households",
        {**body, "code": "X", "unit": str(cast.ward.public_id)},
    )
    assert wrong_level.status_code == 400 and wrong_level.json()["code"] == "subject_unit"
    zero = _send(
        cast.ward_official, "POST", "/households", {**body, "code": "Y", "member_count": 0}
    )
    assert zero.status_code == 400 and zero.json()["code"] == "invalid_member_count"
    outside = _send(
        cast.ward_official,
        "POST",
        "/households",
        {**body, "code": "Z", "unit": str(cast.other_neighbourhood.public_id)},
    )
    assert outside.status_code == 404
    for user in (cast.reviewer, cast.viewer):
        refused = _send(user, "POST", "/households", {**body, "code": "R"})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert state() == before


def test_patch_household_with_version(cast: Cast) -> None:
    h = household(cast)
    path = f"/households/{h.public_id}"
    ok = _send(cast.ward_official, "PATCH", path, {"version": 1, "member_count": 9})
    assert ok.status_code == 200, ok.content
    assert ok.json()["member_count"] == 9 and ok.json()["version"] == 2
    assert ok.json()["head_name"] == h.head_name  # untouched fields kept
    before = state()
    stale = _send(cast.ward_official, "PATCH", path, {"version": 1, "member_count": 2})
    assert stale.status_code == 409 and stale.json()["code"] == "concurrent_edit"
    assert "Người khác đã sửa" in stale.json()["detail"]
    assert state() == before
    off = _send(cast.ward_official, "PATCH", path, {"version": 2, "is_active": False})
    assert (
        off.status_code == 200 and off.json()["is_active"] is False and off.json()["version"] == 3
    )
    for user in (cast.reviewer, cast.viewer):
        assert _send(user, "PATCH", path, {"version": 3, "is_active": True}).status_code == 403
    theirs = household(cast, cast.other_neighbourhood, code="T-1")
    assert (
        _send(cast.ward_official, "PATCH", f"/households/{theirs.public_id}", {"version": 1})
    ).status_code == 404
    moved_out = _send(
        cast.ward_official,
        "PATCH",
        path,
        {"version": 3, "unit": str(cast.other_neighbourhood.public_id)},
    )
    assert moved_out.status_code == 404


def test_clans_and_organisations(cast: Cast) -> None:
    created = _send(
        cast.ward_official,
        "POST",
        "/clans",
        {
            "unit": str(cast.ward.public_id),
            "name": "Họ Đinh",
            "representative": "Đinh Bộ Lĩnh",
            "home_units": [str(cast.neighbourhood.public_id)],
        },
    )
    assert created.status_code == 201, created.content
    assert [u["code"] for u in created.json()["home_units"]] == [cast.neighbourhood.code]
    c = Clan.objects.get(name="Họ Đinh")
    patched = _send(
        cast.ward_official, "PATCH", f"/clans/{c.public_id}", {"version": 1, "home_units": []}
    )
    assert patched.status_code == 200 and patched.json()["home_units"] == []
    clan(cast, cast.other_ward, name="Họ Khác")
    assert _get(cast.ward_official, "/clans").json()["count"] == 1
    school = organisation(cast)
    detail = _get(cast.reviewer, f"/organisations/{school.public_id}")
    assert detail.status_code == 200 and detail.json()["kind"] == "school"
    bad_kind = _send(
        cast.admin,
        "POST",
        "/organisations",
        {"unit": str(cast.ward.public_id), "name": "X", "kind": "bakery"},
    )
    assert bad_kind.status_code == 422


def test_citizen_id_is_masked_in_lists_and_shown_only_to_record_keepers(cast: Cast) -> None:
    c = citizen(cast, national_id="079123456789")
    for user in (cast.ward_official, cast.reviewer, cast.viewer, cast.admin):
        listed = _get(user, "/citizens")
        assert listed.status_code == 200
        assert "079123456789" not in listed.content.decode()
        assert listed.json()["items"][0]["national_id_masked"] == "*********789"
    for user in (cast.ward_official, lead(cast), cast.admin):
        assert _get(user, f"/citizens/{c.public_id}").json()["national_id"] == "079123456789"
    for user in (cast.reviewer, cast.viewer):
        detail = _get(user, f"/citizens/{c.public_id}")
        assert detail.json()["national_id"] is None
        assert "079123456789" not in detail.content.decode()


def test_citizen_create_validates_the_id_and_birth_year(cast: Cast) -> None:
    body = {
        "unit": str(cast.neighbourhood.public_id),
        "full_name": "Bùi Thị Xuân",
        "birth_year": 1985,
        "labour_group": "farmers",
    }
    before = state()
    bad_id = _send(cast.ward_official, "POST", "/citizens", {**body, "national_id": "12345"})
    assert bad_id.status_code == 400 and bad_id.json()["code"] == "invalid_national_id"
    assert "12 chữ số" in bad_id.json()["detail"]
    old = _send(cast.ward_official, "POST", "/citizens", {**body, "birth_year": 1850})
    assert old.status_code == 400 and old.json()["code"] == "invalid_birth_year"
    assert state() == before
    ok = _send(cast.ward_official, "POST", "/citizens", {**body, "national_id": "079 1234 56789"})
    assert ok.status_code == 201
    assert ok.json()["national_id"] == "079123456789"
    assert ok.json()["national_id_masked"] == "*********789"
    patched = _send(
        cast.ward_official,
        "PATCH",
        f"/citizens/{ok.json()['public_id']}",
        {"version": 1, "national_id": ""},
    )
    assert patched.status_code == 200 and patched.json()["national_id"] == ""


def test_inactive_filter(cast: Cast) -> None:
    h = household(cast, code="A-1")
    household(cast, code="A-2")
    services.subject_set_active(actor=None, subject=h, active=False, expected_version=1)
    assert _get(cast.admin, "/households").json()["count"] == 1
    assert _get(cast.admin, "/households", status="inactive").json()["count"] == 1
    assert _get(cast.admin, "/households", status="all").json()["count"] == 2

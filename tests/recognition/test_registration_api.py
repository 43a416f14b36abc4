"""Registrations API: list with filters, register one, bulk, withdraw, lock, roles."""

from __future__ import annotations

import json
from typing import Any

from recognition.models import Household, Registration, RegistrationStatus
from recognition.services import registration as services
from recognition.titles import Title
from tests.conftest import Cast, client_for
from tests.recognition.test_subjects_helpers import (
    YEAR,
    citizen,
    household,
    lock_registration,
    state,
)

BASE = "/api/v1/registrations"


def _get(user: Any, path: str = "", **params: Any) -> Any:
    return client_for(user).get(f"{BASE}{path}", params)


def _post(user: Any, path: str, body: dict[str, Any]) -> Any:
    return client_for(user).post(f"{BASE}{path}", json.dumps(body), content_type="application/json")


def test_register_one_and_read_it_back(cast: Cast) -> None:
    h = household(cast)
    response = _post(
        cast.ward_official, "", {"title": "gia_dinh", "year": YEAR, "subject": str(h.public_id)}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["subject_id"] == str(h.public_id) and body["subject_kind"] == "household"
    assert body["proposing_unit"]["code"] == cast.ward.code
    assert body["status"] == "registered" and body["assessment_status"] is None
    assert body["scope_level"] == ""
    detail = _get(cast.reviewer, f"/{body['public_id']}")
    assert detail.status_code == 200 and detail.json()["subject_name"].startswith(h.code)
    again = _post(
        cast.ward_official, "", {"title": "gia_dinh", "year": YEAR, "subject": str(h.public_id)}
    )
    assert again.status_code == 409 and again.json()["code"] == "duplicate_registration"


def test_community_registration_by_api(cast: Cast) -> None:
    response = _post(
        cast.ward_official,
        "",
        {"title": "cong_dong", "year": YEAR, "subject": str(cast.neighbourhood.public_id)},
    )
    assert response.status_code == 201
    assert response.json()["scope_level"] == "neighbourhood"
    assert response.json()["subject_kind"] == "unit"


def test_list_filters_and_scope(cast: Cast) -> None:
    mine = household(cast, code="M-1")
    theirs = household(cast, cast.other_neighbourhood, code="T-1")
    services.registration_create(actor=None, title=Title.FAMILY, year=YEAR, subject=mine)
    services.registration_create(actor=None, title=Title.FAMILY, year=YEAR - 1, subject=mine)
    r = services.registration_create(actor=None, title=Title.FAMILY, year=YEAR, subject=theirs)
    services.registration_withdraw(actor=None, registration=r)
    assert _get(cast.ward_official).json()["count"] == 2
    assert _get(cast.admin).json()["count"] == 3
    assert _get(cast.admin, year=YEAR).json()["count"] == 2
    assert _get(cast.admin, status="withdrawn").json()["count"] == 1
    assert _get(cast.admin, title="cong_dan").json()["count"] == 0
    assert _get(cast.admin, unit=str(cast.other_ward.public_id)).json()["count"] == 1
    assert _get(cast.ward_official, unit=str(cast.other_ward.public_id)).status_code == 404
    assert _get(cast.ward_official, f"/{r.public_id}").status_code == 404
    assert _get(cast.other_tenant_official).json()["count"] == 0


def test_write_refusals(cast: Cast) -> None:
    h = household(cast)
    c = citizen(cast)
    theirs = household(cast, cast.other_neighbourhood, code="T-1")
    before = state()
    body = {"title": "gia_dinh", "year": YEAR, "subject": str(h.public_id)}
    for user in (cast.reviewer, cast.viewer):
        refused = _post(user, "", body)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert (
        _post(cast.ward_official, "", {**body, "subject": str(theirs.public_id)}).status_code == 404
    )
    # A citizen under the family title is not found among households.
    assert _post(cast.ward_official, "", {**body, "subject": str(c.public_id)}).status_code == 404
    old = _post(cast.ward_official, "", {**body, "year": 2001})
    assert old.status_code == 400 and old.json()["code"] == "invalid_year"
    assert state() == before


def test_deadline_lock_answers_409_in_vietnamese(cast: Cast) -> None:
    h = household(cast)
    lock_registration(cast.ward, Title.FAMILY)
    before = state()
    response = _post(
        cast.ward_official, "", {"title": "gia_dinh", "year": YEAR, "subject": str(h.public_id)}
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "deadline_locked",
        "detail": "Đã quá hạn: biểu mẫu này đã bị khóa.",
    }
    bulk = _post(
        cast.ward_official,
        "/bulk",
        {"title": "gia_dinh", "year": YEAR, "unit": str(cast.ward.public_id)},
    )
    assert bulk.status_code == 409 and bulk.json()["code"] == "deadline_locked"
    assert state() == before


def test_bulk_all_matching_reports_duplicates(cast: Cast) -> None:
    rows = Household.objects.bulk_create(
        Household(tenant=cast.tenant, unit=cast.neighbourhood, code=f"B-{i}", head_name=f"H {i}")
        for i in range(12)
    )
    services.registration_create(actor=None, title=Title.FAMILY, year=YEAR, subject=rows[0])
    response = _post(
        cast.ward_official,
        "/bulk",
        {"title": "gia_dinh", "year": YEAR, "unit": str(cast.neighbourhood.public_id)},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "created": 11,
        "reinstated": 0,
        "already_registered": 1,
        "not_eligible": 0,
        "registered": 11,
    }
    assert Registration.objects.filter(status=RegistrationStatus.REGISTERED).count() == 12


def test_bulk_listed_subjects(cast: Cast) -> None:
    a = household(cast, code="A-1")
    b = household(cast, code="A-2")
    theirs = household(cast, cast.other_neighbourhood, code="T-1")
    listed = _post(
        cast.ward_official,
        "/bulk",
        {"title": "gia_dinh", "year": YEAR, "subjects": [str(a.public_id), str(b.public_id)]},
    )
    assert listed.status_code == 200 and listed.json()["created"] == 2
    again = _post(
        cast.ward_official,
        "/bulk",
        {"title": "gia_dinh", "year": YEAR, "subjects": [str(a.public_id)]},
    )
    assert again.json()["already_registered"] == 1 and again.json()["created"] == 0
    before = state()
    foreign = _post(
        cast.ward_official,
        "/bulk",
        {"title": "gia_dinh", "year": YEAR, "subjects": [str(a.public_id), str(theirs.public_id)]},
    )
    assert foreign.status_code == 404
    for user in (cast.reviewer, cast.viewer):
        assert (
            _post(
                user, "/bulk", {"title": "gia_dinh", "year": YEAR, "subjects": [str(a.public_id)]}
            )
        ).status_code == 403
        assert (
            _post(
                user,
                "/bulk",
                {"title": "gia_dinh", "year": YEAR, "unit": str(cast.ward.public_id)},
            )
        ).status_code == 403
    assert state() == before


def test_withdraw(cast: Cast) -> None:
    h = household(cast)
    r = services.registration_create(actor=None, title=Title.FAMILY, year=YEAR, subject=h)
    for user in (cast.reviewer, cast.viewer):
        assert _post(user, f"/{r.public_id}/withdraw", {}).status_code == 403
    ok = _post(cast.ward_official, f"/{r.public_id}/withdraw", {})
    assert ok.status_code == 200 and ok.json()["status"] == "withdrawn"
    twice = _post(cast.ward_official, f"/{r.public_id}/withdraw", {})
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_transition"
    assert _post(cast.ward_official, "/not-a-uuid/withdraw", {}).status_code == 404

"""Nomination API: propose (out-of-scope nominee → 400, nothing saved), review,
approve (a ward cannot: 403), reject needs a note, approve many, and the award
decision; another tenant → 404, the viewer → 403."""

from __future__ import annotations

import json

from campaigns.models import Nomination
from recognition.models import Decision


def _post(client, path: str, body: dict) -> object:
    return client.post(path, json.dumps(body), content_type="application/json")


def _body(cast, **changes) -> dict:
    body = {
        "nominating_unit": str(cast.ward.public_id),
        "year": 2025,
        "nominee_kind": "person",
        "award_form": "gk_huyen",
        "person_name": "Trần Thị Bích",
        "achievements": "Tổ chức 12 buổi đọc sách",
    }
    body.update(changes)
    return body


def test_nomination_workflow_through_the_api(cast, login) -> None:
    ward = login(cast.ward_official)
    created = _post(ward, "/api/v1/nominations", _body(cast))
    assert created.status_code == 201, created.content
    nomination = created.json()
    assert nomination["reviewing_unit"]["public_id"] == str(cast.district.public_id)
    assert [e["action"] for e in nomination["timeline"]] == ["create"]
    base = f"/api/v1/nominations/{nomination['public_id']}"
    assert _post(ward, f"{base}/review", {}).status_code == 403
    reviewer = login(cast.reviewer)
    assert _post(reviewer, f"{base}/review", {"version": 1}).json()["status"] == "reviewed"
    assert _post(ward, f"{base}/approve", {}).status_code == 403
    no_note = _post(reviewer, f"{base}/reject", {"note": ""})
    assert no_note.status_code == 400
    approved = _post(reviewer, f"{base}/approve", {})
    assert approved.json()["status"] == "approved"
    again = _post(reviewer, f"{base}/approve", {})
    assert again.status_code == 409
    decision = _post(
        reviewer,
        "/api/v1/nominations/award-decision",
        {"reviewing_unit": str(cast.district.public_id), "year": 2025},
    )
    assert decision.status_code == 201 and decision.json()["item_count"] == 1
    assert Decision.objects.get().kind == "award"
    assert login(cast.other_tenant_official).get(base).status_code == 404
    assert _post(login(cast.viewer), f"{base}/reject", {"note": "x"}).status_code == 403


def test_out_of_scope_nominee_is_400_and_nothing_saved(cast, login) -> None:
    reviewer = login(cast.reviewer)
    refused = _post(
        reviewer,
        "/api/v1/nominations",
        _body(cast, nominee_kind="unit", nominee_unit=str(cast.district.public_id)),
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "nominee_out_of_scope"
    unseen = _post(
        reviewer,
        "/api/v1/nominations",
        _body(cast, nominee_kind="unit", nominee_unit=str(cast.other_ward.public_id)),
    )
    assert unseen.status_code == 404
    assert not Nomination.objects.exists()


def test_approve_many(cast, login) -> None:
    reviewer = login(cast.reviewer)
    ids = []
    for name in ("Trần Thị Bích", "Lê Văn Cường"):
        created = _post(reviewer, "/api/v1/nominations", _body(cast, person_name=name)).json()
        _post(reviewer, f"/api/v1/nominations/{created['public_id']}/review", {})
        ids.append(created["public_id"])
    done = _post(
        reviewer,
        "/api/v1/nominations/approve-many",
        {"reviewing_unit": str(cast.district.public_id), "nominations": ids},
    )
    assert done.status_code == 200 and done.json() == {"count": 2}
    assert set(Nomination.objects.values_list("status", flat=True)) == {"approved"}

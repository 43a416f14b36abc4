"""Dossier API: scoped list and detail, open, add and remove items, submit,
per-item decisions, return, finish, reviewer's scores; refusals as 4xx with a
code and a Vietnamese message."""

from __future__ import annotations

import json
from typing import Any

from django.core import mail

from recognition.models import Assessment, AssessmentStatus, Dossier, DossierStatus
from recognition.services import review as review_services
from recognition.titles import Title
from tests.recognition.conftest import YEAR
from tests.recognition.dossier_factories import (
    indicators_of,
    ready_households,
    submitted_dossier,
    ward_dossier,
)

A = AssessmentStatus
BASE = "/api/v1/dossiers"


def _post(client, path: str, body: dict[str, Any] | None = None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def test_list_is_scoped_and_filtered(cycle, login) -> None:
    cast = cycle.cast
    mine = ward_dossier(cast)
    other = ward_dossier(cast, ward=cast.other_ward, actor=cast.admin)
    ward = login(cast.ward_official).get(BASE).json()
    assert [d["public_id"] for d in ward["items"]] == [str(mine.public_id)]
    reviewer = login(cast.reviewer).get(BASE).json()
    assert [d["public_id"] for d in reviewer["items"]] == [str(mine.public_id)]
    admin = login(cast.admin)
    assert admin.get(BASE).json()["count"] == 2
    assert admin.get(BASE, {"unit": str(cast.other_ward.public_id)}).json()["items"][0][
        "public_id"
    ] == str(other.public_id)
    assert admin.get(BASE, {"status": "submitted"}).json()["count"] == 0
    assert admin.get(BASE, {"title": Title.CLAN}).json()["count"] == 0
    assert admin.get(BASE, {"year": YEAR}).json()["count"] == 2
    assert (
        login(cast.ward_official).get(BASE, {"unit": str(cast.other_ward.public_id)}).status_code
        == 404
    )
    assert login(cast.other_tenant_official).get(BASE).json()["count"] == 0


def test_open_add_submit_detail(cycle, login) -> None:
    cast = cycle.cast
    items = ready_households(cast, cycle.points_set, 2)
    client = login(cast.ward_official)
    opened = _post(
        client,
        BASE,
        {"proposing_unit": str(cast.ward.public_id), "title": "gia_dinh", "year": YEAR},
    )
    assert opened.status_code == 200, opened.content
    data = opened.json()
    assert data["reviewing_unit"]["code"] == cast.district.code
    path = f"{BASE}/{data['public_id']}"
    added = _post(client, f"{path}/items", {"assessment_ids": [str(a.public_id) for a in items]})
    assert added.json() == {"count": 2}
    refused = _post(client, f"{path}/items", {"assessment_ids": ["nope"]})
    assert refused.status_code == 400 and refused.json()["code"] == "dossier_items_refused"
    removed = client.delete(f"{path}/items/{items[1].public_id}")
    assert removed.json() == {"count": 1}
    submitted = _post(client, f"{path}/submit", {"version": data["version"] + 1})
    assert submitted.status_code == 409 and submitted.json()["code"] == "concurrent_edit"
    submitted = _post(client, f"{path}/submit", {})
    assert submitted.status_code == 200
    assert submitted.json()["status"] == DossierStatus.SUBMITTED
    detail = client.get(path).json()
    assert detail["progress"]["in_dossier"] == 1
    assert detail["changes"] is None
    assert [i["public_id"] for i in detail["items"]] == [str(items[0].public_id)]
    assert detail["items"][0]["status"] == A.SUBMITTED
    assert detail["items"][0]["evidence_count"] == 1
    again = _post(client, f"{path}/submit", {})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_submit_refusal_lists_the_problems(cycle, login) -> None:
    cast = cycle.cast
    dossier = ward_dossier(cast)
    response = _post(login(cast.ward_official), f"{BASE}/{dossier.public_id}/submit")
    assert response.status_code == 409
    assert response.json()["code"] == "dossier_incomplete"


def test_review_through_the_api(cycle, login, django_capture_on_commit_callbacks) -> None:
    cast = cycle.cast
    dossier, (a, b, c) = submitted_dossier(cast, cycle.points_set, 3)
    client = login(cast.reviewer)
    path = f"{BASE}/{dossier.public_id}"
    i1 = indicators_of(cycle.points_set)[0]
    scored = _post(client, f"{path}/items/{a.public_id}/score", {"scores": {str(i1.public_id): 20}})
    assert scored.status_code == 200 and scored.json()["final_total"] == "70.00"
    bad = _post(client, f"{path}/items/{a.public_id}/score", {"scores": {"x": 1}})
    assert bad.status_code == 400
    approved = _post(client, f"{path}/items/{a.public_id}/approve")
    assert approved.json()["status"] == A.APPROVED
    no_reason = _post(client, f"{path}/items/{b.public_id}/return", {"reason": " "})
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"
    returned = _post(client, f"{path}/items/{b.public_id}/return", {"reason": "Thiếu ảnh"})
    assert returned.json()["return_reason"] == "Thiếu ảnh"
    rejected = _post(client, f"{path}/items/{c.public_id}/reject", {"reason": "Chuyển đi"})
    assert rejected.json()["status"] == A.REJECTED
    assert _post(client, f"{path}/items/{c.public_id}/approve").status_code == 409
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        finished = _post(client, f"{path}/finish", {})
    assert finished.json()["status"] == DossierStatus.RETURNED
    assert [m.to for m in mail.outbox] == [[cast.ward_official.email]]


def test_return_whole_dossier_and_roles(cycle, login) -> None:
    cast = cycle.cast
    dossier, (a,) = submitted_dossier(cast, cycle.points_set, 1)
    path = f"{BASE}/{dossier.public_id}"
    ward = login(cast.ward_official)
    assert _post(ward, f"{path}/return", {"reason": "x"}).status_code == 403
    assert _post(ward, f"{path}/items/{a.public_id}/approve").status_code == 403
    assert _post(login(cast.viewer), f"{path}/finish").status_code == 403
    assert _post(login(cast.other_tenant_official), f"{path}/finish").status_code == 404
    unknown = _post(login(cast.reviewer), f"{path}/items/not-an-id/approve")
    assert unknown.status_code == 404
    returned = _post(login(cast.reviewer), f"{path}/return", {"reason": "Bổ sung"})
    assert returned.json()["status"] == DossierStatus.RETURNED
    assert Assessment.objects.get(pk=a.pk).status == A.RETURNED
    assert Dossier.objects.get(pk=dossier.pk).return_reason == "Bổ sung"


def test_resubmission_changes_in_detail(cycle, login) -> None:
    cast = cycle.cast
    dossier, (a, b) = submitted_dossier(cast, cycle.points_set, 2)
    review_services.item_approve(actor=cast.reviewer, item=a)
    review_services.item_return(actor=cast.reviewer, item=b, reason="Sửa")
    review_services.dossier_finish(actor=cast.reviewer, dossier=dossier)
    Assessment.objects.filter(pk=b.pk).update(status=A.READY, self_total=88)
    _post(login(cast.ward_official), f"{BASE}/{dossier.public_id}/submit")
    changes = login(cast.reviewer).get(f"{BASE}/{dossier.public_id}").json()["changes"]
    assert changes["previous"] == 1 and changes["current"] == 2
    assert changes["items"][0]["public_id"] == str(b.public_id)
    assert changes["items"][0]["total_after"] == "88"


def test_dossier_detail_pages_its_items(cycle, login, monkeypatch) -> None:
    """A ward's dossier may hold 20,000 items: the detail gives one page at a time."""
    import recognition.api.dossier as dossier_api

    monkeypatch.setattr(dossier_api, "ITEMS_PER_PAGE", 2)
    dossier, items = submitted_dossier(cycle.cast, cycle.points_set, count=3)
    client = login(cycle.cast.reviewer)
    first = client.get(f"{BASE}/{dossier.public_id}").json()
    second = client.get(f"{BASE}/{dossier.public_id}", {"page": 2}).json()
    assert (first["item_count"], first["items_page"], first["items_pages"]) == (3, 1, 2)
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    seen = {i["public_id"] for i in first["items"] + second["items"]}
    assert seen == {str(a.public_id) for a in items}
    assert client.get(f"{BASE}/{dossier.public_id}", {"page": 99}).json()["items_page"] == 2

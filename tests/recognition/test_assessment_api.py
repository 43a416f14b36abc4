"""The assessments API: list, detail, start, scores, transitions, evidence,
timeline; scoped (404), read-only (403), refused values (400/409)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from accounts.services import api_token_create
from recognition.models import Assessment, AssessmentStatus, Evidence
from recognition.services.evidence import evidence_upload
from tests.conftest import client_for
from tests.recognition.assessment_support import (
    EXE,
    PDF,
    PNG,
    ids_by_code,
    save,
    start,
    upload,
)
from tests.recognition.conftest import register_household

pytestmark = pytest.mark.django_db

API = "/api/v1/assessments"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def put(client: Client, path: str, body: dict) -> object:
    return client.put(path, json.dumps(body), content_type="application/json")


def post(client: Client, path: str, body: dict | None = None) -> object:
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def test_start_is_201_then_200_and_returns_the_empty_form(cycle):
    client = client_for(cycle.cast.ward_official)
    response = post(client, API, {"registration": str(cycle.registration.public_id)})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft" and body["year"] == 2025 and body["title"] == "gia_dinh"
    assert body["criteria_set"]["code"] == "TEST-GDHT"
    assert [s["code"] for s in body["scores"]] == ["1.1", "2.1", "2.2"]
    assert body["period_start"] == "2025-01-01" and body["period_end"] == "2025-12-31"
    assert body["unscored"] == ["1.1", "2.1", "2.2"] and body["missing_evidence"] == ["2.1"]
    again = post(client, API, {"registration": str(cycle.registration.public_id)})
    assert again.status_code == 200 and again.json()["public_id"] == body["public_id"]


def test_start_refusals(cycle):
    body = {"registration": str(cycle.registration.public_id)}
    assert post(client_for(cycle.cast.viewer), API, body).status_code == 403
    assert post(client_for(cycle.cast.reviewer), API, body).status_code == 403
    other = {"registration": str(cycle.other_tenant_registration.public_id)}
    assert post(client_for(cycle.cast.admin), API, other).status_code == 404
    assert post(client_for(cycle.cast.admin), API, {"registration": "x"}).status_code == 422
    assert not Assessment.objects.exists()


def test_list_filters_and_scope(cycle):
    mine = start(cycle.cast, cycle.registration)
    start(cycle.cast, cycle.other_registration, actor=cycle.cast.admin)
    ward = client_for(cycle.cast.ward_official)
    items = ward.get(API).json()["items"]
    assert [i["public_id"] for i in items] == [str(mine.public_id)]
    admin = client_for(cycle.cast.admin)
    assert admin.get(API).json()["count"] == 2
    assert admin.get(API, {"unit": str(cycle.cast.ward.public_id)}).json()["count"] == 1
    assert admin.get(API, {"status": "ready"}).json()["count"] == 0
    assert admin.get(API, {"year": 2024}).json()["count"] == 0
    assert admin.get(API, {"title": "gia_dinh", "status": "draft"}).json()["count"] == 2
    assert ward.get(API, {"unit": str(cycle.cast.other_ward.public_id)}).status_code == 404


def test_put_scores_saves_all_or_nothing(cycle):
    a = start(cycle.cast, cycle.registration)
    ids = ids_by_code(a)
    client = client_for(cycle.cast.ward_official)
    path = f"{API}/{a.public_id}/scores"
    ok = put(client, path, {"version": 1, "values": {ids["1.1"]: 40, ids["2.2"]: "10,5"}})
    assert ok.status_code == 200
    body = ok.json()
    assert body["version"] == 2 and body["self_total"] == "50.50"
    assert body["result"]["missing"] == ["2.1"]
    bad = put(client, path, {"version": 2, "values": {ids["2.1"]: 31, ids["1.1"]: 10}})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_score" and "2.1" in bad.json()["detail"]
    assert "Chỉ số 2.1" in bad.json()["detail"]
    stale = put(client, path, {"version": 1, "values": {ids["1.1"]: 10}})
    assert stale.status_code == 409 and stale.json()["code"] == "concurrent_edit"
    a.refresh_from_db()
    assert a.version == 2 and str(a.self_total) == "50.50"


def test_put_scores_refusals(cycle):
    a = start(cycle.cast, cycle.registration)
    path = f"{API}/{a.public_id}/scores"
    body = {"version": 1, "values": {ids_by_code(a)["1.1"]: 10}}
    assert put(client_for(cycle.cast.viewer), path, body).status_code == 403
    assert put(client_for(cycle.cast.reviewer), path, body).status_code == 403
    assert put(client_for(cycle.cast.other_tenant_official), path, body).status_code == 404
    Assessment.objects.filter(pk=a.pk).update(status=AssessmentStatus.SUBMITTED)
    refused = put(client_for(cycle.cast.ward_official), path, body)
    assert refused.status_code == 409 and refused.json()["code"] == "assessment_not_editable"


def test_complete_reopen_and_copy_previous(cycle):
    client = client_for(cycle.cast.ward_official)
    old = start(cycle.cast, register_household(cycle.cast, cycle.household, year=2024))
    save(cycle.cast, old, {"1.1": 40, "2.1": 30, "2.2": 20})
    a = start(cycle.cast, cycle.registration)
    incomplete = post(client, f"{API}/{a.public_id}/complete", {"version": 1})
    assert incomplete.status_code == 400 and incomplete.json()["code"] == "assessment_incomplete"
    copied = post(client, f"{API}/{a.public_id}/copy-previous", {"version": 1})
    assert copied.status_code == 200
    assert copied.json()["copied"] == ["1.1", "2.1", "2.2"] and copied.json()["skipped"] == []
    assert copied.json()["assessment"]["self_total"] == "90.00"
    again = post(client, f"{API}/{a.public_id}/copy-previous")
    assert again.status_code == 400 and again.json()["code"] == "copy_previous_impossible"
    evidence = client.post(
        f"{API}/{a.public_id}/evidence",
        {"indicator": ids_by_code(a)["2.1"], "file": upload("bb.pdf", PDF)},
    )
    assert evidence.status_code == 201
    done = post(client, f"{API}/{a.public_id}/complete")
    assert done.status_code == 200 and done.json()["status"] == "ready"
    twice = post(client, f"{API}/{a.public_id}/complete")
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_transition"
    reopened = post(client, f"{API}/{a.public_id}/reopen")
    assert reopened.status_code == 200 and reopened.json()["status"] == "draft"


def test_evidence_upload_checks_content_and_lists_the_file(cycle):
    a = start(cycle.cast, cycle.registration)
    client = client_for(cycle.cast.ward_official)
    path = f"{API}/{a.public_id}/evidence"
    ind = ids_by_code(a)["2.1"]
    created = client.post(path, {"indicator": ind, "file": upload("anh.png", PNG)})
    assert created.status_code == 201
    assert (
        created.json()["content_type"] == "image/png" and created.json()["indicator_code"] == "2.1"
    )
    fake = client.post(path, {"indicator": ind, "file": upload("giay.pdf", EXE)})
    assert fake.status_code == 400 and fake.json()["code"] == "invalid_evidence"
    assert "không phải là tệp PDF" in fake.json()["detail"]
    missing = client.post(path, {"indicator": ind})
    assert missing.status_code == 400 and "Hãy chọn tệp" in missing.json()["detail"]
    no_indicator = client.post(path, {"file": upload("a.png", PNG)})
    assert no_indicator.status_code == 400
    detail = client.get(f"{API}/{a.public_id}").json()
    assert [e["name"] for e in detail["evidence"]] == ["anh.png"]
    assert Evidence.objects.count() == 1
    viewer = client_for(cycle.cast.viewer).post(
        path, {"indicator": ind, "file": upload("b.png", PNG)}
    )
    assert viewer.status_code == 403


def test_evidence_download_isolation(cycle):
    """The download takes two ids (exempt from the walker): checked here."""
    a = start(cycle.cast, cycle.registration)
    b = start(cycle.cast, cycle.other_registration, actor=cycle.cast.admin)
    c = start(cycle.cast, cycle.other_tenant_registration, actor=cycle.cast.other_tenant_official)
    files = []
    for assessment, actor in (
        (a, cycle.cast.ward_official),
        (b, cycle.cast.admin),
        (c, cycle.cast.other_tenant_official),
    ):
        files.append(
            evidence_upload(
                actor=actor,
                assessment=assessment,
                indicator_public_id=ids_by_code(assessment)["2.1"],
                file=upload("Biên bản.pdf", PDF),
            )
        )

    def path(assessment, evidence) -> str:
        return f"{API}/{assessment}/evidence/{evidence}"

    ward = client_for(cycle.cast.ward_official)
    ok = ward.get(path(a.public_id, files[0].public_id))
    assert ok.status_code == 200
    assert b"".join(ok.streaming_content) == PDF
    assert ok["Content-Disposition"].startswith("attachment;")
    assert ok["X-Content-Type-Options"] == "nosniff"
    # The viewer reads; a token works too.
    assert (
        client_for(cycle.cast.viewer).get(path(a.public_id, files[0].public_id)).status_code == 200
    )
    _token, raw = api_token_create(user=cycle.cast.ward_official, name="t")
    bearer = Client().get(
        path(a.public_id, files[0].public_id), headers={"authorization": f"Bearer {raw}"}
    )
    assert bearer.status_code == 200
    # Another subtree, another tenant (even for the admin), mixed ids, malformed ids: 404.
    assert ward.get(path(b.public_id, files[1].public_id)).status_code == 404
    admin = client_for(cycle.cast.admin)
    assert admin.get(path(c.public_id, files[2].public_id)).status_code == 404
    assert admin.get(path(a.public_id, files[1].public_id)).status_code == 404
    for bad in ("x", "0", str(uuid.uuid4()), str(files[0].pk), "' OR 1=1 --"):
        assert admin.get(path(a.public_id, bad)).status_code == 404
        assert admin.get(path(bad, files[0].public_id)).status_code == 404
    # Anonymous: 401.
    assert Client().get(path(a.public_id, files[0].public_id)).status_code == 401


def test_detail_timeline_and_read_only_viewer(cycle):
    a = start(cycle.cast, cycle.registration)
    save(cycle.cast, a, {"1.1": 30})
    viewer = client_for(cycle.cast.viewer)
    detail = viewer.get(f"{API}/{a.public_id}")
    assert detail.status_code == 200
    scores = {s["code"]: s["points"] for s in detail.json()["scores"]}
    assert scores == {"1.1": "30.00", "2.1": None, "2.2": None}
    timeline = viewer.get(f"{API}/{a.public_id}/timeline").json()
    assert [e["action"] for e in timeline] == ["assessment.start", "assessment.scores"]
    assert timeline[1]["label"] == "Lưu điểm"
    for op in ("complete", "reopen", "copy-previous"):
        assert post(viewer, f"{API}/{a.public_id}/{op}").status_code == 403
    assert (
        client_for(cycle.cast.other_tenant_official).get(f"{API}/{a.public_id}").status_code == 404
    )

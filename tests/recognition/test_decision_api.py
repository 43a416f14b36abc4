"""Decision and job API: scoped list and detail, create, edit with a version,
the annex and its candidates, issue -> job -> PDF, preview, revoke,
certificates; another tenant's or subtree's ids 404, the read-only viewer 403."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from django.test import Client

from core.jobs import job_run
from core.models import Job, JobStatus
from recognition.models import AssessmentStatus, Decision, DecisionStatus
from recognition.services import decision as services
from recognition.titles import Title
from tests.conftest import Cast
from tests.factories import grant, make_user
from tests.recognition.conftest import YEAR
from tests.recognition.decision_support import (
    SIGNER_NAME,
    approved_dossier,
    draft_decision,
    issued_decision,
    pdf_pages,
    pdf_text,
    ready_decision,
)
from units.roles import Role

BASE = "/api/v1/decisions"
JOBS = "/api/v1/jobs"
S = DecisionStatus


def _post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def _patch(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.patch(path, json.dumps(body), content_type="application/json")


def _content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _other_tenant_decision(cast: Cast) -> Decision:
    """A draft of the other tenant's ward, made by a reviewer of that tenant."""
    reviewer = grant(make_user(cast.other_tenant, "other.reviewer"), cast.other_city, Role.REVIEWER)
    return services.decision_create(
        actor=reviewer, issuing_unit=cast.other_tenant_ward, title=Title.FAMILY, year=YEAR
    )


def test_list_is_scoped_and_filtered(cycle, login) -> None:
    cast = cycle.cast
    mine = draft_decision(cast, annex=False)
    other_district = services.decision_create(
        actor=cast.admin, issuing_unit=cast.other_district, title=Title.FAMILY, year=YEAR
    )
    foreign = _other_tenant_decision(cast)
    reviewer = login(cast.reviewer).get(BASE).json()
    assert [d["public_id"] for d in reviewer["items"]] == [str(mine.public_id)]
    assert reviewer["items"][0]["issuing_unit"]["code"] == cast.district.code
    assert reviewer["items"][0]["reference"] == ""
    for user in (cast.admin, cast.viewer):
        assert login(user).get(BASE).json()["count"] == 2
    admin = login(cast.admin)
    assert admin.get(BASE, {"unit": str(cast.other_district.public_id)}).json()["items"][0][
        "public_id"
    ] == str(other_district.public_id)
    assert admin.get(BASE, {"status": "issued"}).json()["count"] == 0
    assert admin.get(BASE, {"status": "draft", "year": YEAR}).json()["count"] == 2
    assert admin.get(BASE, {"title": Title.CLAN}).json()["count"] == 0
    assert admin.get(BASE, {"status": "nope"}).status_code == 422
    assert login(cast.ward_official).get(BASE).json()["count"] == 0
    theirs = login(cast.other_tenant_official).get(BASE).json()
    assert [d["public_id"] for d in theirs["items"]] == [str(foreign.public_id)]
    assert (
        login(cast.reviewer).get(BASE, {"unit": str(cast.other_district.public_id)}).status_code
        == 404
    )
    assert Client().get(BASE).status_code == 401


def test_create_update_and_stale_version(cycle, login) -> None:
    cast = cycle.cast
    client = login(cast.reviewer)
    created = _post(
        client,
        BASE,
        {"issuing_unit": str(cast.district.public_id), "title": "gia_dinh", "year": YEAR},
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == S.DRAFT and data["number"] is None
    assert data["agency"] == "ỦY BAN NHÂN DÂN QUẬN MỘT"
    assert len(data["articles"]) == 3 and data["articles"][0].startswith("Điều 1.")
    assert data["recipients"].splitlines()[-1].startswith("Lưu: VT")
    assert data["pdf_available"] is False and data["links"]["pdf"] is None
    assert data["problems"]  # empty annex, no signer
    path = f"{BASE}/{data['public_id']}"

    nfd = unicodedata.normalize("NFD", "Lê Văn Tám")
    updated = _patch(
        client,
        path,
        {"version": data["version"], "signer_name": nfd, "issued_on": "2026-01-05"},
    )
    assert updated.status_code == 200, updated.content
    body = updated.json()
    assert body["signer_name"] == "Lê Văn Tám" and body["issued_on"] == "2026-01-05"
    assert body["version"] == data["version"] + 1
    assert body["summary"] == data["summary"]  # fields not sent are left alone

    stale = _patch(client, path, {"version": data["version"], "summary": "Về việc khác"})
    assert stale.status_code == 409 and stale.json()["code"] == "concurrent_edit"
    bad = _patch(client, path, {"version": body["version"], "symbol": "QĐ UBND"})
    assert bad.status_code == 400 and bad.json()["code"] == "decision_error"
    assert client.get(path).json()["summary"] == data["summary"]
    missing = _patch(client, path, {"summary": "x"})
    assert missing.status_code == 422  # the version is required

    # A ward official may not create at the district (out of scope) nor at its ward (role).
    ward = login(cast.ward_official)
    body_ward = {"issuing_unit": str(cast.ward.public_id), "title": "gia_dinh", "year": YEAR}
    refused = _post(ward, BASE, body_ward)
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
    body_district = {**body_ward, "issuing_unit": str(cast.district.public_id)}
    assert _post(ward, BASE, body_district).status_code == 404
    assert _post(login(cast.viewer), BASE, body_district).status_code == 403
    assert Decision.objects.count() == 1


def test_scoping_404_and_read_only_403(cycle, login) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 1)
    path = f"{BASE}/{setup.decision.public_id}"
    foreign = f"{BASE}/{_other_tenant_decision(cast).public_id}"
    for user in (cast.ward_official, cast.other_tenant_official):
        client = login(user)
        assert client.get(path).status_code == 404
        assert client.get(f"{path}/items").status_code == 404
        assert client.get(f"{path}/pdf").status_code == 404
        assert _post(client, f"{path}/issue").status_code == 404
    admin = login(cast.admin)
    assert admin.get(foreign).status_code == 404
    assert admin.get(f"{BASE}/not-a-uuid").status_code == 404
    assert admin.get(f"{BASE}/{setup.decision.pk}").status_code == 404

    viewer = login(cast.viewer)
    assert viewer.get(path).status_code == 200
    assert viewer.get(f"{path}/items").json()["count"] == 1
    version = setup.decision.version
    writes = [
        _patch(viewer, path, {"version": version, "summary": "x"}),
        _post(viewer, f"{path}/items", {}),
        _post(viewer, f"{path}/items/remove", {"assessment_ids": None}),
        viewer.delete(f"{path}/items/{setup.items[0].public_id}"),
        _post(viewer, f"{path}/issue", {}),
        _post(viewer, f"{path}/preview"),
        _post(viewer, f"{path}/revoke", {"reason": "x"}),
        _post(viewer, f"{path}/certificates"),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    setup.decision.refresh_from_db()
    assert setup.decision.version == version and setup.decision.item_count == 1
    assert not Job.objects.exists()


def test_annex_candidates_add_and_remove(cycle, login) -> None:
    cast = cycle.cast
    _dossier, items = approved_dossier(cast, cycle.points_set, 3)
    approved_dossier(cast, cycle.points_set, 1, ward=cast.other_ward, unit=cast.other_neighbourhood)
    decision = draft_decision(cast, annex=False)
    client = login(cast.reviewer)
    path = f"{BASE}/{decision.public_id}"

    candidates = client.get(f"{path}/candidates").json()
    assert candidates["count"] == 3
    assert {c["public_id"] for c in candidates["items"]} == {str(a.public_id) for a in items}
    assert candidates["items"][0]["unit"]["name"] == "Khu phố 1"
    code = items[0].registration.household.code  # type: ignore[union-attr]
    assert client.get(f"{path}/candidates", {"q": code.lower()}).json()["count"] == 1
    assert (
        client.get(f"{path}/candidates", {"unit": str(cast.other_ward.public_id)}).status_code
        == 404
    )

    added = _post(client, f"{path}/items", {"assessment_ids": [str(items[0].public_id)]})
    assert added.json() == {"count": 1}
    assert _post(client, f"{path}/items", {"unit": str(cast.ward.public_id)}).json() == {"count": 2}
    assert _post(client, f"{path}/items", {"assessment_ids": ["nope"]}).status_code == 422
    annex = client.get(f"{path}/items").json()
    assert annex["count"] == 3
    assert [row["position"] for row in annex["items"]] == [1, 2, 3]
    assert annex["items"][0]["status"] == AssessmentStatus.APPROVED
    assert client.get(f"{path}/candidates").json()["count"] == 0

    removed = client.delete(f"{path}/items/{items[0].public_id}")
    assert removed.json() == {"count": 1}
    assert client.delete(f"{path}/items/{items[0].public_id}").status_code == 404
    assert client.delete(f"{path}/items/not-a-uuid").status_code == 404
    many = _post(client, f"{path}/items/remove", {"assessment_ids": [str(items[1].public_id)]})
    assert many.json() == {"count": 1}
    assert _post(client, f"{path}/items/remove", {"assessment_ids": None}).json() == {"count": 1}
    detail = client.get(path).json()
    assert detail["item_count"] == 0


def test_annex_pages(cycle, login) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 3)
    client = login(cast.reviewer)
    path = f"{BASE}/{setup.decision.public_id}/items"
    first = client.get(path, {"page": 1}).json()
    assert first["count"] == 3 and len(first["items"]) == 3
    assert client.get(path, {"page": 2}).json()["items"] == []


def test_issue_job_and_pdf_download(cycle, login, django_capture_on_commit_callbacks) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 2)
    client = login(cast.reviewer)
    path = f"{BASE}/{setup.decision.public_id}"
    detail = client.get(path).json()
    assert detail["problems"] == []
    assert client.get(f"{path}/pdf").status_code == 404  # a draft has no PDF yet

    stale = _post(client, f"{path}/issue", {"version": detail["version"] - 1})
    assert stale.status_code == 409 and stale.json()["code"] == "concurrent_edit"
    with django_capture_on_commit_callbacks(execute=True):
        started = _post(client, f"{path}/issue", {"version": detail["version"]})
    assert started.status_code == 202, started.content
    job = started.json()
    assert job["kind"] == "decision.issue"
    assert job["links"]["object"] == path

    # Tests run Celery eagerly: the job ran when the request's transaction committed.
    polled = client.get(job["links"]["detail"]).json()
    assert polled["status"] == JobStatus.DONE, polled["message"]
    assert polled["progress"] == 100 and polled["file_available"] is True
    assert polled["links"]["retry"] is None

    issued = client.get(path).json()
    assert issued["status"] == S.ISSUED and issued["reference"] == "01/QĐ-UBND"
    assert issued["number"] == 1 and issued["pdf_available"] is True
    assert issued["problems"] == [] and issued["links"]["pdf"] == f"{path}/pdf"

    response = client.get(f"{path}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    content = _content(response)
    text = unicodedata.normalize("NFC", pdf_text(content))
    assert "01/QĐ-UBND" in text and SIGNER_NAME in text
    download = client.get(polled["links"]["download"])
    assert download.status_code == 200 and _content(download) == content
    # The viewer reads it too; the ward does not see the district's decision.
    assert login(cast.viewer).get(f"{path}/pdf").status_code == 200
    assert login(cast.ward_official).get(f"{path}/pdf").status_code == 404
    assert login(cast.ward_official).get(polled["links"]["download"]).status_code == 404

    again = _post(client, f"{path}/issue", {})
    assert again.status_code == 400 and again.json()["code"] == "decision_error"
    edit = _patch(client, path, {"version": issued["version"], "summary": "Sửa"})
    assert edit.status_code == 400 and edit.json()["code"] == "decision_error"
    for item in setup.items:
        item.refresh_from_db()
        assert item.status == AssessmentStatus.RECOGNISED


def test_issue_refused_with_the_problems(cycle, login) -> None:
    cast = cycle.cast
    decision = draft_decision(cast, annex=False, signer_name="")
    client = login(cast.reviewer)
    path = f"{BASE}/{decision.public_id}"
    problems = client.get(path).json()["problems"]
    assert len(problems) == 2
    response = _post(client, f"{path}/issue", {})
    assert response.status_code == 400
    assert response.json()["code"] == "decision_error"
    assert all(p in response.json()["detail"] for p in problems)
    assert not Job.objects.exists()


def test_preview_job(cycle, login) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 1)
    client = login(cast.reviewer)
    started = _post(client, f"{BASE}/{setup.decision.public_id}/preview")
    assert started.status_code == 202
    job = started.json()
    assert job["kind"] == "decision.preview" and job["status"] == JobStatus.PENDING
    assert job["file_available"] is False and job["links"]["download"] is None
    assert client.get(f"{JOBS}/{job['public_id']}/download").status_code == 404
    job_run(Job.objects.get(public_id=job["public_id"]).pk)
    done = client.get(f"{JOBS}/{job['public_id']}").json()
    assert done["status"] == JobStatus.DONE
    response = client.get(done["links"]["download"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "DỰ THẢO" in unicodedata.normalize("NFC", pdf_text(_content(response))).upper()


def test_revoke_through_the_api(cycle, login) -> None:
    cast = cycle.cast
    setup = issued_decision(cycle, 1)
    client = login(cast.reviewer)
    path = f"{BASE}/{setup.decision.public_id}"
    no_reason = _post(client, f"{path}/revoke", {"reason": " "})
    assert no_reason.status_code == 400
    response = _post(client, f"{path}/revoke", {"reason": "Hồ sơ không trung thực"})
    assert response.status_code == 201, response.content
    revoking = response.json()
    assert revoking["status"] == S.DRAFT
    assert revoking["revokes"]["public_id"] == str(setup.decision.public_id)
    assert revoking["revokes"]["reference"] == "01/QĐ-UBND"
    assert client.get(path).json()["revoked_by"]["public_id"] == revoking["public_id"]
    assert _post(client, f"{path}/revoke", {"reason": "Lần hai"}).status_code == 400
    draft_path = f"{BASE}/{revoking['public_id']}"
    assert _post(client, f"{draft_path}/revoke", {"reason": "x"}).status_code == 400
    filtered = client.get(BASE, {"status": "draft"}).json()
    assert [d["public_id"] for d in filtered["items"]] == [revoking["public_id"]]


def test_certificates_batches(cycle, login) -> None:
    cast = cycle.cast
    draft = ready_decision(cycle, 1).decision
    client = login(cast.reviewer)
    refused = _post(client, f"{BASE}/{draft.public_id}/certificates")
    assert refused.status_code == 400 and refused.json()["code"] == "decision_error"

    setup = issued_decision(cycle, 2)
    path = f"{BASE}/{setup.decision.public_id}/certificates"
    assert client.get(path).json()["count"] == 0
    started = _post(client, path)
    assert started.status_code == 202
    job_run(Job.objects.get(public_id=started.json()["public_id"]).pk)
    batches = client.get(path).json()
    assert batches["count"] == 1
    batch = batches["items"][0]
    assert batch["kind"] == "decision.certificates" and batch["status"] == JobStatus.DONE
    pdf = client.get(batch["links"]["download"])
    assert pdf.status_code == 200
    assert len(pdf_pages(_content(pdf))) == 2
    assert login(cast.ward_official).get(path).status_code == 404
    # The issue job is not a certificate batch.
    assert all(b["kind"] == "decision.certificates" for b in batches["items"])


def test_job_retry_and_scoping(cycle, login, monkeypatch) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, 1)
    from django.core.files.storage import default_storage

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise OSError("disk full")

    default_storage.exists("probe")
    monkeypatch.setattr(type(default_storage._wrapped), "save", refuse)  # type: ignore[attr-defined]
    job = services.decision_issue_start(actor=cast.reviewer, decision=setup.decision)
    job_run(job.pk)
    monkeypatch.undo()

    client = login(cast.reviewer)
    failed = client.get(f"{JOBS}/{job.public_id}").json()
    assert failed["status"] == JobStatus.FAILED and "OSError" in failed["message"]
    assert failed["links"]["retry"] == f"{JOBS}/{job.public_id}/retry"
    assert failed["file_available"] is False
    for user, status in ((cast.ward_official, 404), (cast.other_tenant_official, 404)):
        assert login(user).get(f"{JOBS}/{job.public_id}").status_code == status
        assert _post(login(user), f"{JOBS}/{job.public_id}/retry").status_code == status
    assert _post(login(cast.viewer), f"{JOBS}/{job.public_id}/retry").status_code == 403
    assert client.get(f"{JOBS}/nope").status_code == 404

    retried = _post(client, f"{JOBS}/{job.public_id}/retry")
    assert retried.status_code == 202 and retried.json()["status"] == JobStatus.PENDING
    job_run(job.pk)
    assert client.get(f"{JOBS}/{job.public_id}").json()["status"] == JobStatus.DONE
    again = _post(client, f"{JOBS}/{job.public_id}/retry")
    assert again.status_code == 400 and again.json()["code"] == "job_error"
    setup.decision.refresh_from_db()
    assert setup.decision.number == 1


def test_another_subtree_reviewer_sees_nothing(cycle, login) -> None:
    """A reviewer of another district: the district's decision and its jobs are 404."""
    cast = cycle.cast
    setup = issued_decision(cycle, 1)
    other = grant(make_user(cast.tenant, "reviewer.q2"), cast.other_district, Role.REVIEWER)
    client = login(other)
    path = f"{BASE}/{setup.decision.public_id}"
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/pdf").status_code == 404
    assert _post(client, f"{path}/revoke", {"reason": "x"}).status_code == 404
    job = Job.objects.get(kind="decision.issue")
    assert client.get(f"{JOBS}/{job.public_id}").status_code == 404
    assert client.get(f"{JOBS}/{job.public_id}/download").status_code == 404

"""The decision screens: the list and a new draft, the editor (optimistic
concurrency, the live preview that saves nothing), the annex, issue with its
checklist and job, the PDF download, revoke, the issuer profile, and who may
see or write what."""

from __future__ import annotations

import io

from django.urls import reverse

from core.models import AuditEvent, Job, JobStatus
from recognition.models import AssessmentStatus, Decision, DecisionStatus
from recognition.services import decision as services
from recognition.titles import Title
from tests.recognition.conftest import YEAR
from tests.recognition.decision_support import (
    SIGNER_NAME,
    approved_dossier,
    draft_decision,
    issued_decision,
    ready_decision,
)

A = AssessmentStatus
S = DecisionStatus


def _detail(decision: Decision) -> str:
    return reverse("recognition:decision-detail", args=[decision.public_id])


def _url(name: str, decision: Decision) -> str:
    return reverse(f"recognition:{name}", args=[decision.public_id])


def _form_data(decision: Decision, **changes: object) -> dict[str, object]:
    from recognition.forms.decision import DecisionForm

    data = DecisionForm.initial_for(decision)
    data["issued_on"] = decision.issued_on.strftime("%d/%m/%Y") if decision.issued_on else ""
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update(changes)
    return data


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_list_is_scoped_and_creates_a_draft(cycle, login) -> None:
    cast = cycle.cast
    elsewhere = draft_decision(cast, issuing_unit=cast.other_district, actor=cast.admin)
    client = login(cast.reviewer)
    page = client.get(reverse("recognition:decision-list"))
    assert page.status_code == 200
    assert page.context["can_create"]
    units = list(page.context["form"].fields["issuing_unit"].queryset)
    assert cast.district in units and cast.other_district not in units
    assert cast.neighbourhood not in units
    response = client.post(
        reverse("recognition:decision-list"),
        {"issuing_unit": str(cast.district.public_id), "title": Title.FAMILY, "year": YEAR},
    )
    decision = Decision.objects.get(issuing_unit=cast.district)
    assert response.status_code == 302
    assert response["Location"] == _detail(decision)
    assert decision.status == S.DRAFT and decision.year == YEAR and not decision.scope_level
    rows = list(client.get(reverse("recognition:decision-list")).context["table"].data)
    assert rows == [decision]
    # The city admin sees both; filters narrow the list.
    admin = login(cast.admin)
    assert len(admin.get(reverse("recognition:decision-list")).context["table"].data) == 2
    filtered = admin.get(reverse("recognition:decision-list"), {"status": S.ISSUED})
    assert not list(filtered.context["table"].data)
    assert not list(
        admin.get(reverse("recognition:decision-list"), {"year": 2019}).context["table"].data
    )
    assert elsewhere in list(
        admin.get(reverse("recognition:decision-list"), {"title": Title.FAMILY})
        .context["table"]
        .data
    )
    # Ward officials and other tenants see nothing and cannot create.
    for user in (cast.ward_official, cast.other_tenant_official):
        other = login(user)
        page = other.get(reverse("recognition:decision-list"))
        assert not list(page.context["table"].data)
        assert not page.context["can_create"]
    assert (
        login(cast.viewer)
        .post(
            reverse("recognition:decision-list"),
            {"issuing_unit": str(cast.district.public_id), "title": Title.FAMILY, "year": YEAR},
        )
        .status_code
        == 403
    )


def test_editor_shows_the_form_and_why_it_cannot_be_issued(cycle, login) -> None:
    cast = cycle.cast
    decision = services.decision_create(
        actor=cast.reviewer, issuing_unit=cast.district, title=Title.FAMILY, year=YEAR
    )
    page = login(cast.reviewer).get(_detail(decision))
    assert page.status_code == 200
    assert page.context["editable"]
    assert page.context["form"].initial["articles"].startswith("Điều 1.")
    problems = page.context["problems"]
    assert any("Danh sách kèm theo đang trống" in p for p in problems)
    assert any("người ký" in p for p in problems)
    assert any("ngày ban hành" in p for p in problems)
    html = page.content.decode()
    assert 'data-testid="issue-problems"' in html
    assert "disabled" in html.split('data-testid="issue-decision"')[0].rsplit("<button", 1)[1]
    # The issue POST is refused with the same reasons and nothing changes.
    response = login(cast.reviewer).post(
        _url("decision-issue", decision), {"version": decision.version}, follow=True
    )
    assert any("Danh sách kèm theo đang trống" in m for m in _messages(response))
    assert not Job.objects.filter(kind="decision.issue").exists()


def test_edit_saves_and_a_stale_version_keeps_the_input(cycle, login) -> None:
    cast = cycle.cast
    decision = draft_decision(cast, annex=False)
    client = login(cast.reviewer)
    response = client.post(
        _detail(decision),
        _form_data(decision, signer_name="Trần Văn Ký", issued_on="05/01/2026"),
    )
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.signer_name == "Trần Văn Ký"
    assert decision.issued_on.strftime("%d/%m/%Y") == "05/01/2026"
    stale = decision.version - 1
    before = decision.signer_name
    response = client.post(
        _detail(decision), _form_data(decision, version=stale, signer_name="Lê Thị Mới")
    )
    assert response.status_code == 409
    form = response.context["form"]
    assert form["signer_name"].value() == "Lê Thị Mới"
    assert int(form["version"].value()) == decision.version  # a second save applies it
    assert "Người khác đã thay đổi quyết định này" in response.content.decode()
    decision.refresh_from_db()
    assert decision.signer_name == before
    # Service refusals come back on the form (an article without its number).
    response = client.post(
        _detail(decision), _form_data(decision, articles="Công nhận các hộ gia đình.")
    )
    assert response.status_code == 400
    assert "Điều 1" in " ".join(response.context["form"].non_field_errors())


def test_edit_keeps_one_legal_basis_per_line(cycle, login) -> None:
    cast = cycle.cast
    decision = draft_decision(cast, annex=False)
    bases = "Căn cứ Luật A\nCăn cứ Quyết định B"
    login(cast.reviewer).post(
        _detail(decision), _form_data(decision, legal_bases=bases, recipients="Như Điều 3\nLưu: VT")
    )
    decision.refresh_from_db()
    assert decision.legal_bases == bases
    assert decision.recipients == "Như Điều 3\nLưu: VT"


def test_preview_renders_the_posted_values_and_saves_nothing(cycle, login) -> None:
    setup = ready_decision(cycle, count=2)
    decision = setup.decision
    client = login(cycle.cast.reviewer)
    version, audit = decision.version, AuditEvent.objects.count()
    response = client.post(
        _url("decision-preview", decision),
        _form_data(decision, signer_name="Phạm Thị Xem Trước", summary="Về việc thử xem trước"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<iframe" in html and 'srcdoc="&lt;!DOCTYPE html&gt;' in html
    assert 'sandbox="allow-same-origin"' in html  # no scripts; fonts load from /static/
    assert "Phạm Thị Xem Trước" in html
    assert "Về việc thử xem trước" in html
    decision.refresh_from_db()
    assert decision.version == version and decision.signer_name == SIGNER_NAME
    assert AuditEvent.objects.count() == audit
    # A value that does not parse keeps the saved one; GET previews the saved draft.
    bad = client.post(_url("decision-preview", decision), _form_data(decision, issued_on="x"))
    assert bad.status_code == 200
    assert SIGNER_NAME in client.get(_url("decision-preview", decision)).content.decode()
    # Read-only users see the preview but cannot post values to it.
    viewer = login(cycle.cast.viewer)
    assert viewer.get(_url("decision-preview", decision)).status_code == 200
    assert viewer.post(_url("decision-preview", decision), _form_data(decision)).status_code == 403


def test_annex_add_all_filtered_selected_and_remove(cycle, login) -> None:
    cast = cycle.cast
    dossier, items = approved_dossier(cast, cycle.points_set, 3)
    decision = draft_decision(cast, annex=False)
    client = login(cast.reviewer)
    page = client.get(_detail(decision))
    assert page.context["candidate_count"] == 3
    assert len(page.context["candidate_table"].rows) == 3
    # Filters: the dossier, a name that matches nothing.
    page = client.get(_detail(decision), {"dossier": str(dossier.public_id)})
    assert page.context["candidate_count"] == 3
    page = client.get(_detail(decision), {"q": "không có ai tên này"})
    assert page.context["candidate_count"] == 0
    # Add the ticked one, then all the rest.
    response = client.post(
        _url("decision-annex-add", decision), {"items": [str(items[0].public_id), "not-a-uuid"]}
    )
    assert response.status_code == 302
    assert decision.items.count() == 1
    client.post(
        _url("decision-annex-add", decision), {"all": "1", "dossier": str(dossier.public_id)}
    )
    assert decision.items.count() == 3
    page = client.get(_detail(decision))
    assert page.context["annex_count"] == 3
    assert page.context["candidate_count"] == 0
    # Remove one, then all.
    client.post(_url("decision-annex-remove", decision), {"item": str(items[1].public_id)})
    assert set(decision.items.values_list("assessment_id", flat=True)) == {
        items[0].pk,
        items[2].pk,
    }
    annex = client.get(_detail(decision)).context["annex"]
    assert [row.get_cell("position") for row in annex.page.object_list] == ["1", "2"]
    client.post(_url("decision-annex-remove", decision), {"all": "1"})
    assert not decision.items.exists()
    decision.refresh_from_db()
    assert decision.item_count == 0


def test_issue_runs_the_job_and_the_pdf_downloads(
    cycle, login, django_capture_on_commit_callbacks
) -> None:
    from pypdf import PdfReader

    setup = ready_decision(cycle, count=3)
    decision = setup.decision
    client = login(cycle.cast.reviewer)
    page = client.get(_detail(decision))
    assert not page.context["problems"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("decision-issue", decision), {"version": decision.version})
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.status == S.ISSUED
    assert decision.number == 1
    job = Job.objects.get(kind="decision.issue")
    assert job.status == JobStatus.DONE, job.message
    for item in setup.items:
        item.refresh_from_db()
        assert item.status == A.RECOGNISED
    # The ward sees its households recognised, with the decision's number and date.
    ward_page = login(cycle.cast.ward_official).get(
        reverse("recognition:assessment-detail", args=[setup.items[0].public_id])
    )
    assert 'data-testid="recognised-by"' in ward_page.content.decode()
    assert decision.reference in ward_page.content.decode()
    assert decision.issued_on.strftime("%d/%m/%Y") in ward_page.content.decode()
    # The page is read-only now, with the PDF link.
    page = client.get(_detail(decision))
    assert not page.context["editable"]
    assert page.context["revoke_form"] is not None
    html = page.content.decode()
    assert 'data-testid="decision-form"' not in html
    assert _url("decision-pdf", decision) in html
    assert decision.reference in html
    pdf = client.get(_url("decision-pdf", decision))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert f'filename="QD-01-{decision.number_year}.pdf"' in pdf["Content-Disposition"]
    reader = PdfReader(io.BytesIO(b"".join(pdf.streaming_content)))
    assert "Số: 01/" in (reader.pages[0].extract_text() or "")
    # The issue job's progress partial says done and (watching from the editor) reloads.
    partial = client.get(
        reverse("jobs:progress", args=[job.public_id]) + "?reload=1",
        headers={"HX-Request": "true"},
    )
    assert partial["HX-Refresh"] == "true"
    # An issued decision refuses edits, the annex and issuing again.
    before = (decision.version, decision.summary, decision.items.count())
    response = client.post(_detail(decision), _form_data(decision, summary="Sửa sau khi ký"))
    assert response.status_code == 302
    client.post(_url("decision-annex-remove", decision), {"all": "1"})
    client.post(_url("decision-issue", decision), {"version": decision.version})
    decision.refresh_from_db()
    assert (decision.version, decision.summary, decision.items.count()) == before
    assert Job.objects.filter(kind="decision.issue").count() == 1


def test_issue_with_a_stale_version_is_refused(cycle, login) -> None:
    setup = ready_decision(cycle, count=1)
    client = login(cycle.cast.reviewer)
    response = client.post(
        _url("decision-issue", setup.decision),
        {"version": setup.decision.version - 1},
        follow=True,
    )
    assert any("Dự thảo đã thay đổi kể từ khi bạn mở trang" in m for m in _messages(response))
    assert not Job.objects.filter(kind="decision.issue").exists()


def test_draft_pdf_and_certificates_jobs(cycle, login, django_capture_on_commit_callbacks) -> None:
    setup = ready_decision(cycle, count=2)
    client = login(cycle.cast.reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("decision-preview-pdf", setup.decision))
    preview = Job.objects.get(kind="decision.preview")
    assert preview.status == JobStatus.DONE, preview.message
    setup.decision.refresh_from_db()
    assert setup.decision.status == S.DRAFT
    page = client.get(_detail(setup.decision))
    assert reverse("jobs:download", args=[preview.public_id]) in page.content.decode()
    # Certificates only for an issued decision.
    response = client.post(_url("decision-certificates", setup.decision), follow=True)
    assert not Job.objects.filter(kind="decision.certificates").exists()
    assert _messages(response)


def test_revoke_drafts_a_revoking_decision_and_issuing_it_revokes(
    cycle, login, django_capture_on_commit_callbacks
) -> None:
    setup = issued_decision(cycle, count=2)
    decision = setup.decision
    client = login(cycle.cast.reviewer)
    assert client.post(_url("decision-revoke", decision), {"reason": ""}).status_code == 400
    response = client.post(_url("decision-revoke", decision), {"reason": "Lập sai danh sách"})
    revoking = Decision.objects.get(revokes=decision)
    assert response.status_code == 302
    assert response["Location"] == _detail(revoking)
    page = client.get(_detail(revoking))
    assert page.context["editable"]
    assert 'id="annex-heading"' not in page.content.decode()
    assert "Lập sai danh sách" in page.context["form"].initial["articles"]
    # The original still shows the draft revocation and stays issued.
    assert client.get(_detail(decision)).context["revoked_by"] == revoking
    # Date the revoking decision and issue it.
    client.post(
        _detail(revoking), _form_data(revoking, issued_on=decision.issued_on.strftime("%d/%m/%Y"))
    )
    revoking.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("decision-issue", revoking), {"version": revoking.version})
    decision.refresh_from_db()
    revoking.refresh_from_db()
    assert revoking.status == S.ISSUED
    assert decision.status == S.REVOKED
    page = client.get(_detail(decision))
    assert 'data-testid="revoked-by"' in page.content.decode()
    assert revoking.reference in page.content.decode()
    for item in setup.items:
        item.refresh_from_db()
        assert item.status == A.APPROVED


def test_read_only_and_ward_users(cycle, login) -> None:
    cast = cycle.cast
    setup = ready_decision(cycle, count=1)
    decision = setup.decision
    viewer = login(cast.viewer)
    page = viewer.get(_detail(decision))
    assert page.status_code == 200
    assert not page.context["editable"] and not page.context["can_issue"]
    for name, body in (
        ("decision-detail", _form_data(decision)),
        ("decision-annex-add", {"all": "1"}),
        ("decision-annex-remove", {"all": "1"}),
        ("decision-issue", {"version": decision.version}),
        ("decision-preview-pdf", {}),
        ("decision-revoke", {"reason": "x"}),
    ):
        assert viewer.post(_url(name, decision), body).status_code == 403, name
    assert decision.items.count() == 1
    # The ward official does not see the district's decision at all.
    ward = login(cast.ward_official)
    assert ward.get(_detail(decision)).status_code == 404
    assert ward.post(_url("decision-issue", decision)).status_code == 404
    assert login(cast.other_tenant_official).get(_detail(decision)).status_code == 404


def test_issuer_profile(cycle, login) -> None:
    cast = cycle.cast
    url = reverse("recognition:decision-issuer-profile", args=[cast.district.public_id])
    client = login(cast.reviewer)
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["saved"]
    assert page.context["form"].initial["agency"] == "ỦY BAN NHÂN DÂN QUẬN MỘT"
    data = {
        "agency": "ỦY BAN NHÂN DÂN QUẬN MỘT",
        "authority": "CHỦ TỊCH ỦY BAN NHÂN DÂN QUẬN MỘT",
        "symbol": "QĐ-UBND",
        "place_name": "Quận Một",
        "signing_form": "KT.",
        "signer_collective": "CHỦ TỊCH",
        "signer_title": "PHÓ CHỦ TỊCH",
        "signer_name": "Đỗ Văn Phó",
    }
    back = _detail(draft_decision(cast, annex=False))
    response = client.post(f"{url}?next={back}", data)
    assert response.status_code == 302 and response["Location"] == back
    profile = services.issuer_profile_for(cast.district)
    assert profile.pk and profile.signer_name == "Đỗ Văn Phó"
    # A bad symbol is refused on the form.
    response = client.post(url, {**data, "symbol": "QĐ UBND"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    # Others: the viewer may not write, the ward official may not open it, other tenants 404.
    assert login(cast.viewer).post(url, data).status_code == 403
    assert login(cast.ward_official).get(url).status_code == 404
    assert login(cast.other_tenant_official).get(url).status_code == 404

"""A person's data on request (Luật 91/2025/QH15): the export of everything held,
and erasure that keeps the legal record of recognitions anonymised — atomic,
audited, confirmed on a second screen, impossible twice, and only for the
tenant administrator over the person (404 outside, 403 for other roles)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from core.models import AuditEvent
from recognition.models import (
    AccessAction,
    Citizen,
    DecisionItem,
    Evidence,
    Household,
    PersonalDataAccess,
)
from recognition.personal_data import erasure
from recognition.personal_data.exceptions import (
    ErasureNotAllowedError,
    ErasureRequestError,
    SubjectErasedError,
)
from recognition.personal_data.subject_export import person_export_data
from recognition.services import subjects as subject_services
from tests.conftest import client_for
from tests.recognition.decision_support import issued_decision, read_file
from tests.recognition.test_subjects_helpers import citizen, household, lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _recognised_household(cycle: Any) -> tuple[Household, Any]:
    setup = issued_decision(cycle, count=2)
    assessment = setup.items[0]
    return assessment.registration.household, setup


def test_the_export_holds_everything_about_the_person(cycle: Any) -> None:
    home, setup = _recognised_household(cycle)
    data = person_export_data(home)
    assert data["legal_basis"].startswith("Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15")
    assert data["person"]["code"] == home.code and data["person"]["head_name"] == home.head_name
    [registration] = data["registrations"]
    assessment = registration["assessment"]
    assert assessment["scores"] and {"indicator", "self_points", "note"} <= set(
        assessment["scores"][0]
    )
    files = Evidence.objects.filter(assessment__registration__household=home)
    assert [f["sha256"] for f in assessment["evidence_files"]] == [e.sha256 for e in files]
    [recognition] = data["recognitions"]
    assert recognition["decision"] == setup.decision.reference
    assert recognition["printed_name"] == home.head_name
    events = AuditEvent.objects.filter(object_id=str(home.public_id))
    assert [e["action"] for e in data["history"]] == [e.action for e in events.order_by("id")]


def test_the_export_view_downloads_json_and_logs_it(cast: Any) -> None:
    c = citizen(cast, national_id="079123456789")
    response = client_for(cast.admin).get(
        f"/recognition/subjects/citizens/{c.public_id}/personal-data/export/"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["person"]["national_id"] == "079123456789"  # the person's own data, in full
    row = PersonalDataAccess.objects.get(action=AccessAction.EXPORT_PERSON)
    assert row.actor == cast.admin and row.subject_id == str(c.public_id) and row.identifiers


def test_only_the_tenant_admin_exports_or_erases(cast: Any) -> None:
    c = citizen(cast)
    for url in (
        f"/recognition/subjects/citizens/{c.public_id}/personal-data/export/",
        f"/recognition/subjects/citizens/{c.public_id}/personal-data/erase/",
    ):
        assert client_for(cast.ward_official).get(url).status_code == 403
        assert client_for(cast.viewer).get(url).status_code == 403
        assert client_for(cast.other_tenant_official).get(url).status_code == 404
        assert Client().get(url).status_code == 302
    with pytest.raises(ErasureNotAllowedError):
        erasure.person_erase(actor=cast.ward_official, subject=c, reason="r", reference="x")
    assert not PersonalDataAccess.objects.exists()


def test_erasure_anonymises_and_keeps_the_legal_record(
    cycle: Any, django_capture_on_commit_callbacks: Any
) -> None:
    cast = cycle.cast
    home, setup = _recognised_household(cycle)
    pdf_before = read_file(setup.decision.pdf)
    evidence = list(Evidence.objects.filter(assessment__registration__household=home))
    assert evidence, "the fixture's dossier has evidence files"
    paths = [Path(e.file.path) for e in evidence]
    for path in paths:  # the factory stores rows only: put the files in place
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 evidence")
    other_item = DecisionItem.objects.exclude(assessment__registration__household=home).get()

    with django_capture_on_commit_callbacks(execute=True):
        result = erasure.person_erase(
            actor=cast.admin,
            subject=home,
            reason="Hộ chuyển đi, yêu cầu xoá",
            reference="Đơn 12/2026",
        )

    home.refresh_from_db()
    assert home.head_name == "Đã xoá theo yêu cầu Đơn 12/2026"
    assert home.code.startswith("XOA-") and home.address == ""
    assert home.erased_at is not None and not home.is_active
    assert result.evidence_files == len(evidence)
    assert not Evidence.objects.filter(assessment__registration__household=home).exists()
    assert not any(p.exists() for p in paths)  # deleted after commit
    item = DecisionItem.objects.get(assessment__registration__household=home)
    assert (item.subject_name, item.subject_code, item.address) == (home.head_name, "", "")
    assert item.decision == setup.decision and item.result and item.unit_name
    assert item.decision.title and item.decision.year
    # The other household of the decision is untouched; the signed PDF too.
    assert DecisionItem.objects.get(pk=other_item.pk).subject_name == other_item.subject_name
    setup.decision.refresh_from_db()
    assert read_file(setup.decision.pdf) == pdf_before
    # Audited and logged, without the erased values.
    event = AuditEvent.objects.get(action="household.erase")
    assert event.after["reference"] == "Đơn 12/2026" and event.actor == cast.admin
    row = PersonalDataAccess.objects.get(action=AccessAction.ERASE)
    assert row.detail["evidence_files"] == len(evidence) and "head_name" in row.fields


def test_erasure_is_impossible_twice_and_blocks_edits(cast: Any) -> None:
    c = citizen(cast, national_id="079123456789")
    erasure.person_erase(actor=cast.admin, subject=c, reason="Yêu cầu", reference="Số 1")
    c.refresh_from_db()
    assert (c.full_name, c.birth_year, c.national_id, c.national_id_index) == (
        "Đã xoá theo yêu cầu Số 1",
        None,
        "",
        "",
    )
    with pytest.raises(SubjectErasedError):
        erasure.person_erase(actor=cast.admin, subject=c, reason="Lại", reference="Số 2")
    with pytest.raises(SubjectErasedError):
        subject_services.citizen_update(
            actor=cast.admin,
            citizen=c,
            expected_version=c.version,
            unit=c.unit,
            full_name="Tên mới",
            birth_year=1980,
            labour_group=c.labour_group,
            national_id="",
        )
    assert AuditEvent.objects.filter(action="citizen.erase").count() == 1
    # The number is free again for another person of the tenant.
    subject_services.citizen_create(
        actor=None,
        unit=cast.neighbourhood,
        full_name="Người khác",
        birth_year=1990,
        labour_group=c.labour_group,
        national_id="079123456789",
    )


def test_erasure_needs_a_reason_and_a_reference(cast: Any) -> None:
    c = citizen(cast)
    with pytest.raises(ErasureRequestError):
        erasure.person_erase(actor=cast.admin, subject=c, reason=" ", reference="Số 1")
    with pytest.raises(ErasureRequestError):
        erasure.person_erase(actor=cast.admin, subject=c, reason="Lý do", reference="")
    c.refresh_from_db()
    assert c.erased_at is None and not PersonalDataAccess.objects.exists()


def test_a_failure_midway_changes_nothing(cast: Any, monkeypatch: Any) -> None:
    c = citizen(cast, national_id="079123456789")

    def boom(**kwargs: Any) -> None:
        raise RuntimeError("log store down")

    monkeypatch.setattr(erasure, "access_log_record", boom)
    with pytest.raises(RuntimeError):
        erasure.person_erase(actor=cast.admin, subject=c, reason="Yêu cầu", reference="Số 1")
    c.refresh_from_db()
    assert c.erased_at is None and c.national_id == "079123456789"
    assert not AuditEvent.objects.filter(action="citizen.erase").exists()


def test_the_erase_screens_ask_then_confirm(cast: Any) -> None:
    home = household(cast)
    url = f"/recognition/subjects/households/{home.public_id}/personal-data/erase/"
    admin = client_for(cast.admin)
    with translation.override("en"):
        assert admin.get(url).status_code == 200
        empty = admin.post(url, {"reference": "", "reason": ""})
        assert empty.status_code == 200 and empty.context["form"].errors
        first = admin.post(url, {"reference": "Đơn 5", "reason": "Chuyển đi"})
        assert first.status_code == 200 and first.context["confirming"]
        assert b"erase-confirm" in first.content
        home.refresh_from_db()
        assert home.erased_at is None  # nothing happens before the confirmation
        done = admin.post(url, {"reference": "Đơn 5", "reason": "Chuyển đi", "confirm": "on"})
        assert done.status_code == 302
        home.refresh_from_db()
        assert home.erased_at is not None
        again = admin.post(url, {"reference": "Đơn 6", "reason": "Lại", "confirm": "on"})
        assert again.status_code == 302
        assert AuditEvent.objects.filter(action="household.erase").count() == 1
        detail = admin.get(f"/recognition/subjects/households/{home.public_id}/")
        assert b'data-testid="erased"' in detail.content
        assert f"/recognition/subjects/households/{home.public_id}/edit/".encode() not in (
            detail.content
        )


def test_a_neighbourhood_lead_cannot_erase(cast: Any) -> None:
    c = citizen(cast)
    url = f"/recognition/subjects/citizens/{c.public_id}/personal-data/erase/"
    assert client_for(lead(cast)).post(url, {"reference": "x", "reason": "y"}).status_code == 403
    assert Citizen.objects.get(pk=c.pk).erased_at is None


def test_the_detail_page_offers_the_requests_to_the_tenant_admin_only(cast: Any) -> None:
    c = citizen(cast)
    url = f"/recognition/subjects/citizens/{c.public_id}/"
    admin_page = client_for(cast.admin).get(url).content.decode()
    assert 'data-testid="personal-data"' in admin_page
    assert f"/recognition/subjects/citizens/{c.public_id}/personal-data/erase/" in admin_page
    official_page = client_for(cast.ward_official).get(url).content.decode()
    assert 'data-testid="personal-data"' not in official_page


def test_an_erased_citizen_still_lists_and_shows(cast: Any) -> None:
    c = citizen(cast, national_id="079123456789")
    erasure.person_erase(actor=cast.admin, subject=c, reason="Yêu cầu", reference="Số 9")
    listed = client_for(cast.admin).get("/api/v1/subjects/citizens", {"status": "all"})
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert (item["birth_year"], item["national_id_masked"]) == (None, "")
    detail = client_for(cast.admin).get(f"/api/v1/subjects/citizens/{c.public_id}")
    assert detail.status_code == 200 and detail.json()["full_name"].startswith("Đã xoá")
    page = client_for(cast.admin).get(f"/recognition/subjects/citizens/{c.public_id}/")
    assert page.status_code == 200 and b"None" not in page.content
    html_list = client_for(cast.admin).get("/recognition/subjects/citizens/", {"status": "all"})
    assert html_list.status_code == 200

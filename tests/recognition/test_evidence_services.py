"""Evidence upload and removal: stored under MEDIA_ROOT with their SHA-256,
refused files leave nothing behind, removal only while editable."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.utils import timezone

from core.models import AuditEvent
from recognition.exceptions import (
    AssessmentNotEditableError,
    DeadlineLockedError,
    EvidenceError,
    RoleNotAllowedError,
)
from recognition.models import Assessment, AssessmentStatus, Evidence, FormLock
from recognition.services.evidence import evidence_delete, evidence_upload
from tests.recognition.assessment_support import DOCX, EXE, PDF, ids_by_code, start, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def add(cycle, a, name="bien-ban.pdf", content=PDF, code="2.1", actor=None) -> Evidence:
    return evidence_upload(
        actor=actor or cycle.cast.ward_official,
        assessment=a,
        indicator_public_id=ids_by_code(a)[code],
        file=upload(name, content),
    )


def test_upload_stores_the_file_outside_the_web_root_with_its_hash(cycle, media):
    a = start(cycle.cast, cycle.registration)
    ev = add(cycle, a, name="Biên bản họp khu phố.pdf")
    assert ev.original_name == "Biên bản họp khu phố.pdf"
    assert ev.content_type == "application/pdf"
    assert ev.size == len(PDF)
    assert ev.sha256 == hashlib.sha256(PDF).hexdigest()
    assert ev.indicator.code == "2.1"
    assert ev.uploaded_by == cycle.cast.ward_official
    # An opaque name under MEDIA_ROOT/evidence/<tenant>/, no extension, no user text.
    assert ev.file.name == f"evidence/{cycle.cast.tenant.pk}/{ev.public_id.hex}"
    [path] = stored_files(media)
    assert path.read_bytes() == PDF
    event = AuditEvent.objects.get(action="assessment.evidence_upload")
    assert event.object_id == str(a.public_id)
    assert event.after["file"] == "Biên bản họp khu phố.pdf" and event.after["indicator"] == "2.1"


def test_a_fake_pdf_is_refused_and_earlier_evidence_stays(cycle, media):
    a = start(cycle.cast, cycle.registration)
    kept = add(cycle, a)
    with pytest.raises(EvidenceError) as exc:
        add(cycle, a, name="giay-khen.pdf", content=EXE)
    assert "giay-khen.pdf" in str(exc.value) and "PDF" in str(exc.value)
    assert list(Evidence.objects.all()) == [kept]
    assert len(stored_files(media)) == 1
    assert AuditEvent.objects.filter(action="assessment.evidence_upload").count() == 1


def test_an_oversized_upload_is_refused_with_the_limit(cycle, media, settings):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    a = start(cycle.cast, cycle.registration)
    with pytest.raises(EvidenceError) as exc:
        add(cycle, a, content=PDF + b"0" * (1024 * 1024))
    assert "1 MB" in str(exc.value)
    assert not Evidence.objects.exists() and not stored_files(media)


def test_an_unknown_indicator_or_no_file_is_refused(cycle, media):
    a = start(cycle.cast, cycle.registration)
    for bad in ("not-a-uuid", "", str(a.public_id)):
        with pytest.raises(EvidenceError):
            evidence_upload(
                actor=cycle.cast.ward_official,
                assessment=a,
                indicator_public_id=bad,
                file=upload("a.pdf", PDF),
            )
    with pytest.raises(EvidenceError):
        evidence_upload(
            actor=cycle.cast.ward_official,
            assessment=a,
            indicator_public_id=ids_by_code(a)["1.1"],
            file=None,
        )
    assert not Evidence.objects.exists()


def test_a_long_name_is_shortened_keeping_the_extension(cycle, media):
    a = start(cycle.cast, cycle.registration)
    ev = add(cycle, a, name="Báo cáo " * 60 + ".docx", content=DOCX)
    assert len(ev.original_name) == 255 and ev.original_name.endswith(".docx")


def test_upload_is_refused_once_submitted_after_the_deadline_or_for_a_reviewer(cycle, media):
    a = start(cycle.cast, cycle.registration)
    with pytest.raises(RoleNotAllowedError):
        add(cycle, a, actor=cycle.cast.reviewer)
    lock = FormLock.objects.create(
        tenant=cycle.cast.tenant,
        unit=cycle.cast.city,
        title="gia_dinh",
        year=2025,
        stage="assessment",
        locks_at=timezone.now() - dt.timedelta(hours=1),
    )
    with pytest.raises(DeadlineLockedError):
        add(cycle, a)
    lock.delete()
    Assessment.objects.filter(pk=a.pk).update(status=AssessmentStatus.SUBMITTED)
    with pytest.raises(AssessmentNotEditableError):
        add(cycle, a)
    assert not Evidence.objects.exists() and not stored_files(media)


def test_delete_removes_the_row_and_then_the_file(cycle, media, django_capture_on_commit_callbacks):
    a = start(cycle.cast, cycle.registration)
    ev = add(cycle, a)
    with django_capture_on_commit_callbacks(execute=True):
        evidence_delete(actor=cycle.cast.ward_official, evidence=ev)
    assert not Evidence.objects.exists()
    assert not stored_files(media)
    event = AuditEvent.objects.get(action="assessment.evidence_delete")
    assert event.before == {"indicator": "2.1", "file": "bien-ban.pdf"}


def test_delete_is_refused_once_the_assessment_is_complete(cycle, media):
    a = start(cycle.cast, cycle.registration)
    ev = add(cycle, a)
    Assessment.objects.filter(pk=a.pk).update(status=AssessmentStatus.READY)
    with pytest.raises(AssessmentNotEditableError):
        evidence_delete(actor=cycle.cast.ward_official, evidence=ev)
    with pytest.raises(RoleNotAllowedError):
        evidence_delete(actor=cycle.cast.viewer, evidence=ev)
    assert Evidence.objects.filter(pk=ev.pk).exists()
    assert len(stored_files(media)) == 1


def test_an_indicator_holds_at_most_20_files(cycle, media):
    a = start(cycle.cast, cycle.registration)
    for n in range(20):
        add(cycle, a, name=f"{n}.pdf")
    with pytest.raises(EvidenceError, match="20"):
        add(cycle, a)
    add(cycle, a, code="1.1")

"""Event services: events and the lifelong-learning week, one report per unit
(ward officials report for their ward only), photos checked by their content
and size, and refusals that leave nothing behind."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from campaigns.models import Event, EventKind, EventPhoto, EventReport
from campaigns.services import events as services
from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.exceptions import RoleNotAllowedError
from tests.factories import make_unit

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
PDF = b"%PDF-1.4\n%%EOF\n"


def _week(cast, unit=None, year: int = 2025) -> Event:
    return services.lifelong_week_create(
        actor=cast.admin, unit=unit or cast.district, year=year, theme="Văn hóa đọc"
    )


def _report(cast, event: Event, unit=None, actor=None, **kwargs) -> EventReport:
    values = {"activities": "Ngày hội đọc sách\nThi kể chuyện", "participants": 1250, "sessions": 4}
    values.update(kwargs)
    return services.event_report_save(
        actor=actor or cast.ward_official, event=event, unit=unit or cast.ward, **values
    )


def test_lifelong_week_runs_1_to_7_october_once_a_year(cast) -> None:
    week = _week(cast)
    assert (week.starts_on, week.ends_on) == (dt.date(2025, 10, 1), dt.date(2025, 10, 7))
    assert week.kind == EventKind.LIFELONG_WEEK
    assert week.name == "Tuần lễ hưởng ứng học tập suốt đời năm 2025"
    assert week.tenant_id == cast.tenant.pk
    assert AuditEvent.objects.filter(action="event.create", object_id=str(week.public_id)).exists()
    with pytest.raises(services.EventError):
        _week(cast)
    assert Event.objects.count() == 1
    assert _week(cast, year=2026).starts_on == dt.date(2026, 10, 1)


def test_event_create_checks_dates_role_and_normalises(cast) -> None:
    decomposed = unicodedata.normalize("NFD", "Hội nghị sơ kết")
    event = services.event_create(
        actor=cast.reviewer,
        unit=cast.district,
        kind=EventKind.INTERIM_REVIEW,
        name=f"  {decomposed}  ",
        starts_on=dt.date(2025, 9, 20),
        ends_on=dt.date(2025, 9, 20),
    )
    assert event.name == unicodedata.normalize("NFC", "Hội nghị sơ kết")
    with pytest.raises(services.EventError):
        services.event_create(
            actor=cast.reviewer,
            unit=cast.district,
            kind=EventKind.OTHER,
            name="Ngược",
            starts_on=dt.date(2025, 9, 20),
            ends_on=dt.date(2025, 9, 19),
        )
    with pytest.raises(RoleNotAllowedError):
        services.event_create(
            actor=cast.viewer,
            unit=cast.district,
            kind=EventKind.OTHER,
            name="Khác",
            starts_on=dt.date(2025, 9, 20),
            ends_on=dt.date(2025, 9, 21),
        )
    with pytest.raises(RoleNotAllowedError):
        services.event_create(
            actor=cast.reviewer,
            unit=cast.other_district,
            kind=EventKind.OTHER,
            name="Khác",
            starts_on=dt.date(2025, 9, 20),
            ends_on=dt.date(2025, 9, 21),
        )
    assert Event.objects.count() == 1


def test_event_update_changes_and_audits(cast) -> None:
    week = _week(cast)
    updated = services.event_update(
        actor=cast.reviewer,
        event=week,
        data={"theme": "Chuyển đổi số", "reports_due": dt.date(2025, 10, 15)},
    )
    assert updated.theme == "Chuyển đổi số"
    assert updated.reports_due == dt.date(2025, 10, 15)
    with pytest.raises(services.EventError):
        services.event_update(
            actor=cast.reviewer, event=week, data={"ends_on": dt.date(2025, 9, 1)}
        )
    week.refresh_from_db()
    assert week.ends_on == dt.date(2025, 10, 7)


def test_ward_reports_for_its_ward_once_with_versions(cast) -> None:
    week = _week(cast)
    report = _report(cast, week)
    assert (report.participants, report.sessions, report.version) == (1250, 4, 1)
    assert report.activities == "Ngày hội đọc sách\nThi kể chuyện"
    again = _report(cast, week, participants=1300, expected_version=1)
    assert again.pk == report.pk and again.version == 2 and again.participants == 1300
    with pytest.raises(ConcurrentEditError):
        _report(cast, week, participants=1, expected_version=1)
    assert EventReport.objects.get().participants == 1300


def test_ward_cannot_report_for_another_ward_or_outside_the_event(cast) -> None:
    week = _week(cast)
    sibling = make_unit(cast.tenant, cast.district, "phuong", "Phường Hai", "27190")
    with pytest.raises(RoleNotAllowedError):
        _report(cast, week, unit=sibling)
    other_week = _week(cast, unit=cast.other_district)
    with pytest.raises(services.EventError):
        _report(cast, other_week, unit=cast.ward)
    with pytest.raises(services.EventError):
        _report(cast, week, activities="   ")
    with pytest.raises(services.EventError):
        _report(cast, week, participants=-3)
    assert not EventReport.objects.exists()


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def test_photos_are_checked_by_content(cast) -> None:
    report = _report(cast, _week(cast))
    for name, content, kind in (
        ("anh.jpg", JPEG, "image/jpeg"),
        ("anh.png", PNG, "image/png"),
        ("anh.webp", WEBP, "image/webp"),
        ("chuong-trinh.pdf", PDF, "application/pdf"),
    ):
        photo = services.event_photo_upload(
            actor=cast.ward_official, report=report, file=_upload(name, content)
        )
        assert photo.content_type == kind
        assert photo.original_name == name
        assert photo.public_id.hex in photo.file.name and name not in photo.file.name
    with pytest.raises(services.PhotoError):
        services.event_photo_upload(
            actor=cast.ward_official, report=report, file=_upload("virus.jpg", b"MZ\x90\x00" * 20)
        )
    with pytest.raises(services.PhotoError):
        services.event_photo_upload(
            actor=cast.ward_official, report=report, file=_upload("bang.docx", b"PK\x03\x04")
        )
    assert EventPhoto.objects.count() == 4


@override_settings(EVENT_PHOTO_MAX_BYTES=100)
def test_photo_size_limit(cast) -> None:
    report = _report(cast, _week(cast))
    with pytest.raises(services.PhotoError):
        services.event_photo_upload(
            actor=cast.ward_official, report=report, file=_upload("to.jpg", JPEG + b"\x00" * 200)
        )
    assert not EventPhoto.objects.exists()


def test_photo_delete_and_roles(cast, django_capture_on_commit_callbacks) -> None:
    report = _report(cast, _week(cast))
    photo = services.event_photo_upload(
        actor=cast.ward_official, report=report, file=_upload("anh.jpg", JPEG)
    )
    with pytest.raises(RoleNotAllowedError):
        services.event_photo_upload(actor=cast.viewer, report=report, file=_upload("b.jpg", JPEG))
    with pytest.raises(RoleNotAllowedError):
        services.event_photo_delete(actor=cast.viewer, photo=photo)
    storage, name = photo.file.storage, photo.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.event_photo_delete(actor=cast.ward_official, photo=photo)
    assert not EventPhoto.objects.exists()
    assert not storage.exists(name)


def test_check_photo_file_reads_a_plain_file_object() -> None:
    handle = io.BytesIO(PNG)
    handle.name = "anh.png"
    assert services.check_photo_file(handle).code == "png"


def test_event_update_with_a_stale_version_changes_nothing(cast) -> None:
    week = _week(cast)
    opened = week.version
    services.event_update(
        actor=cast.reviewer, event=week, data={"theme": "Đọc sách"}, expected_version=opened
    )
    with pytest.raises(ConcurrentEditError):
        services.event_update(
            actor=cast.reviewer, event=week, data={"theme": "Khác"}, expected_version=opened
        )
    week.refresh_from_db()
    assert week.theme == "Đọc sách" and week.version == opened + 1

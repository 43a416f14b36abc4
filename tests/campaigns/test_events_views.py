"""Event screens: scoped list (the ward sees its district's week), create,
the organiser's table of units with totals, the ward's report form and photos
served through the scoped view; another tenant → 404, the viewer → 403."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Event, EventKind, EventPhoto, EventReport
from campaigns.services import events as services
from tests.factories import make_unit

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def _week(cast, unit=None) -> Event:
    return services.lifelong_week_create(actor=cast.admin, unit=unit or cast.district, year=2025)


def _detail(event: Event) -> str:
    return reverse("campaigns:event-detail", args=[event.public_id])


def _report(cast, event, unit=None, participants: int = 1250):
    return services.event_report_save(
        actor=cast.admin,
        event=event,
        unit=unit or cast.ward,
        activities="Ngày hội đọc sách",
        participants=participants,
        sessions=3,
    )


def test_list_shows_own_and_ancestor_events_only(cast, login) -> None:
    district_week = _week(cast)
    city_week = _week(cast, unit=cast.city)
    other = _week(cast, unit=cast.other_district)
    page = login(cast.ward_official).get(reverse("campaigns:event-list"))
    assert page.status_code == 200
    shown = {e.pk for e in page.context["page"]}
    assert shown == {district_week.pk, city_week.pk}
    assert other.pk not in shown
    assert page.context["can_create"]
    assert login(cast.viewer).get(reverse("campaigns:event-list")).context["can_create"] is False


def test_create_an_event(cast, login) -> None:
    client = login(cast.reviewer)
    form = client.get(reverse("campaigns:event-create") + "?week=1")
    assert form.status_code == 200
    assert form.context["form"].initial["kind"] == EventKind.LIFELONG_WEEK
    response = client.post(
        reverse("campaigns:event-create"),
        {
            "unit": str(cast.district.public_id),
            "kind": EventKind.INTERIM_REVIEW,
            "name": "Hội nghị sơ kết giai đoạn 2023–2025",
            "starts_on": "20/09/2025",
            "ends_on": "20/09/2025",
            "theme": "",
            "reports_due": "",
        },
    )
    event = Event.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail(event)
    assert event.starts_on == dt.date(2025, 9, 20) and event.unit == cast.district
    bad = client.post(
        reverse("campaigns:event-create"),
        {
            "unit": str(cast.district.public_id),
            "kind": EventKind.OTHER,
            "name": "Ngược",
            "starts_on": "20/09/2025",
            "ends_on": "19/09/2025",
        },
    )
    assert bad.status_code == 400 and Event.objects.count() == 1
    assert login(cast.viewer).get(reverse("campaigns:event-create")).status_code == 403


def test_organiser_sees_units_below_with_status_and_totals(cast, login) -> None:
    week = _week(cast)
    sibling = make_unit(cast.tenant, cast.district, "phuong", "Phường Hai", "27190")
    _report(cast, week, participants=1250)
    page = login(cast.reviewer).get(_detail(week))
    assert page.status_code == 200
    progress = page.context["progress"]
    rows = {row.unit.pk: row for row in progress.rows}
    assert rows[cast.ward.pk].report is not None and rows[sibling.pk].report is None
    assert progress.reported == 1 and progress.participants == 1250
    html = page.content.decode()
    assert 'data-testid="total-participants">1.250<' in html
    assert html.count('data-testid="reported"') == 1
    assert html.count('data-testid="not-reported"') == 1


def test_ward_reports_for_its_ward_and_uploads_photos(cast, login) -> None:
    week = _week(cast)
    client = login(cast.ward_official)
    page = client.get(_detail(week))
    assert page.status_code == 200
    assert page.context["progress"] is None
    assert page.context["report_unit"] == cast.ward
    response = client.post(
        reverse("campaigns:event-report", args=[week.public_id]),
        {
            "unit": str(cast.ward.public_id),
            "version": "0",
            "activities": "Ngày hội đọc sách\nThi kể chuyện",
            "participants": "1250",
            "sessions": "4",
        },
    )
    assert response.status_code == 302
    report = EventReport.objects.get()
    assert (report.unit, report.participants, report.version) == (cast.ward, 1250, 1)
    upload = client.post(
        reverse("campaigns:event-photo-upload", args=[report.public_id]),
        {"file": SimpleUploadedFile("khai-mac.jpg", JPEG, content_type="image/jpeg")},
    )
    assert upload.status_code == 302
    photo = EventPhoto.objects.get()
    refused = client.post(
        reverse("campaigns:event-photo-upload", args=[report.public_id]),
        {"file": SimpleUploadedFile("anh.jpg", b"MZ" + b"\x00" * 40, content_type="image/jpeg")},
        follow=True,
    )
    assert EventPhoto.objects.count() == 1
    assert any("JPEG" in str(m) for m in refused.context["messages"])
    page = client.get(_detail(week))
    html = page.content.decode()
    photo_url = reverse("campaigns:event-photo", args=[photo.public_id])
    assert f'src="{photo_url}"' in html and 'alt="' in html
    served = client.get(photo_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == JPEG
    delete = client.post(reverse("campaigns:event-photo-delete", args=[photo.public_id]))
    assert delete.status_code == 302 and not EventPhoto.objects.exists()


def test_another_ward_and_another_tenant_are_404_and_the_viewer_403(cast, login) -> None:
    week = _week(cast)
    other_report = _report(cast, _week(cast, unit=cast.other_district), unit=cast.other_ward)
    client = login(cast.ward_official)
    # Reporting for another ward (outside the official's scope): 404.
    response = client.post(
        reverse("campaigns:event-report", args=[week.public_id]),
        {
            "unit": str(cast.other_ward.public_id),
            "activities": "x",
            "participants": 1,
            "sessions": 1,
        },
    )
    assert response.status_code == 404
    assert (
        client.get(
            reverse("campaigns:event-photo-upload", args=[other_report.public_id])
        ).status_code
        == 405
    )
    assert (
        client.post(
            reverse("campaigns:event-photo-upload", args=[other_report.public_id])
        ).status_code
        == 404
    )
    assert login(cast.other_tenant_official).get(_detail(week)).status_code == 404
    viewer = login(cast.viewer)
    assert viewer.get(_detail(week)).status_code == 200
    refused = viewer.post(
        reverse("campaigns:event-report", args=[week.public_id]),
        {"unit": str(cast.ward.public_id), "activities": "x", "participants": 1, "sessions": 1},
    )
    assert refused.status_code == 403
    assert viewer.post(reverse("campaigns:event-edit", args=[week.public_id])).status_code == 403
    assert EventReport.objects.filter(event=week).count() == 0

"""Event API: create the week, a ward's report (one per unit, versioned), photos
uploaded by content and downloaded through the scoped route; another tenant →
404, the viewer → 403."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import EventPhoto, EventReport

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def _post(client, path: str, body: dict) -> object:
    return client.post(path, json.dumps(body), content_type="application/json")


def test_week_report_and_photos(cast, login) -> None:
    reviewer = login(cast.reviewer)
    created = _post(
        reviewer,
        "/api/v1/events/lifelong-week",
        {"unit": str(cast.district.public_id), "year": 2025},
    )
    assert created.status_code == 201, created.content
    event = created.json()
    assert (event["starts_on"], event["ends_on"]) == ("2025-10-01", "2025-10-07")
    ward = login(cast.ward_official)
    assert ward.get("/api/v1/events").json()["count"] == 1
    body = {
        "unit": str(cast.ward.public_id),
        "activities": "Ngày hội đọc sách",
        "participants": 1250,
        "sessions": 3,
    }
    saved = _post(ward, f"/api/v1/events/{event['public_id']}/reports", body)
    assert saved.status_code == 200, saved.content
    report = saved.json()
    assert report["version"] == 1
    stale = _post(ward, f"/api/v1/events/{event['public_id']}/reports", {**body, "version": 7})
    assert stale.status_code == 409
    other = _post(
        ward,
        f"/api/v1/events/{event['public_id']}/reports",
        {**body, "unit": str(cast.other_ward.public_id)},
    )
    assert other.status_code == 404
    upload = ward.post(
        f"/api/v1/events/reports/{report['public_id']}/photos",
        {"file": SimpleUploadedFile("anh.jpg", JPEG)},
    )
    assert upload.status_code == 201, upload.content
    refused = ward.post(
        f"/api/v1/events/reports/{report['public_id']}/photos",
        {"file": SimpleUploadedFile("anh.png", b"GIF89a" + b"\x00" * 20)},
    )
    assert refused.status_code == 400 and refused.json()["code"] == "event_photo"
    assert EventPhoto.objects.count() == 1
    download = ward.get(upload.json()["download"])
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    detail = reviewer.get(f"/api/v1/events/{event['public_id']}").json()
    assert detail["participants"] == 1250
    assert [row["reported"] for row in detail["progress"]] == [True]
    assert (
        login(cast.other_tenant_official).get(f"/api/v1/events/{event['public_id']}").status_code
        == 404
    )
    viewer = login(cast.viewer)
    assert _post(viewer, f"/api/v1/events/{event['public_id']}/reports", body).status_code == 403
    photo = upload.json()["public_id"]
    assert viewer.delete(f"/api/v1/events/photos/{photo}").status_code == 403
    assert ward.delete(f"/api/v1/events/photos/{photo}").status_code == 204
    assert EventReport.objects.get().participants == 1250

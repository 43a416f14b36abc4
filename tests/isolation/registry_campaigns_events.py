"""Isolation registry of the event screens and API (tests/test_isolation.py).

The world: a lifelong-learning week organised by the cast's district, by the
other district and by the other tenant's district, each with its ward's report
and one photo. The actor is the cast's ward official: the district's week is in
scope (a ward reports to its district's week), the other district's is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Event, EventPhoto, EventReport
from campaigns.services import events as services
from tests.conftest import Cast
from tests.isolation.base import Entry, Ids, _pid

Three = tuple[Any, Any, Any]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@dataclass
class World:
    events: Three
    reports: Three
    photos: Three


def _make(ward: Any) -> tuple[Event, EventReport, EventPhoto]:
    event = services.lifelong_week_create(actor=None, unit=ward.parent, year=2025)
    report = services.event_report_save(
        actor=None,
        event=event,
        unit=ward,
        activities="Ngày hội đọc sách",
        participants=10,
        sessions=1,
    )
    photo = services.event_photo_upload(
        actor=None, report=report, file=SimpleUploadedFile("anh.jpg", JPEG)
    )
    return event, report, photo


def _world(cast: Cast) -> World:
    cached = getattr(cast, "_event_world", None)
    if cached is not None:
        return cached
    made = [_make(w) for w in (cast.ward, cast.other_ward, cast.other_tenant_ward)]
    world = World(
        events=tuple(m[0] for m in made),  # type: ignore[arg-type]
        reports=tuple(m[1] for m in made),  # type: ignore[arg-type]
        photos=tuple(m[2] for m in made),  # type: ignore[arg-type]
    )
    cast._event_world = world  # type: ignore[attr-defined]
    return world


def _ids(objects: Three, cast: Cast) -> Ids:
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(objects[0]),
        other_subtree=_pid(objects[1]),
        other_tenant=_pid(objects[2]),
    )


def event_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).events, cast)


def report_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).reports, cast)


def photo_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).photos, cast)


def _create_form(cast: Cast) -> dict[str, Any]:
    return {
        "unit": _pid(cast.district),
        "kind": "other",
        "name": "Hội nghị",
        "starts_on": "20/09/2025",
        "ends_on": "20/09/2025",
    }


def _report_form(cast: Cast) -> dict[str, Any]:
    return {
        "unit": _pid(cast.ward),
        "activities": "Thi kể chuyện",
        "participants": "5",
        "sessions": "1",
    }


def _photo_form(cast: Cast) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("anh2.jpg", JPEG)}


HTML_REGISTRY: dict[str, Entry] = {
    "campaigns:event-list": Entry(),
    "campaigns:event-create": Entry(writes=("POST",), body=_create_form),
    "campaigns:event-detail": Entry(ids=event_ids),
    "campaigns:event-edit": Entry(writes=("POST",), ids=event_ids, body=_create_form),
    "campaigns:event-report": Entry(reads=(), writes=("POST",), ids=event_ids, body=_report_form),
    "campaigns:event-photo-upload": Entry(
        reads=(), writes=("POST",), ids=report_ids, body=_photo_form
    ),
    "campaigns:event-photo": Entry(ids=photo_ids),
    "campaigns:event-photo-delete": Entry(reads=(), writes=("POST",), ids=photo_ids),
}


def _event_json(cast: Cast) -> dict[str, Any]:
    return {
        "unit": _pid(cast.district),
        "kind": "other",
        "name": "Hội nghị",
        "starts_on": "2025-09-20",
        "ends_on": "2025-09-20",
    }


def _report_json(cast: Cast) -> dict[str, Any]:
    return {
        "unit": _pid(cast.ward),
        "activities": "Thi kể chuyện",
        "participants": 5,
        "sessions": 1,
    }


def unit_ids(cast: Cast) -> Ids:
    """The list filter ?unit=: the ward official's district, the other district,
    the other tenant's ward."""
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(cast.ward),
        other_subtree=_pid(cast.other_ward),
        other_tenant=_pid(cast.other_tenant_ward),
    )


API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/events": Entry(ids=unit_ids, query="unit"),
    "POST /api/v1/events": Entry(reads=(), writes=("POST",), body=_event_json),
    "POST /api/v1/events/lifelong-week": Entry(
        reads=(), writes=("POST",), body=lambda cast: {"unit": _pid(cast.district), "year": 2031}
    ),
    "GET /api/v1/events/{public_id}": Entry(ids=event_ids),
    "PATCH /api/v1/events/{public_id}": Entry(
        reads=(), writes=("PATCH",), ids=event_ids, body=lambda cast: {"theme": "Đọc sách"}
    ),
    "GET /api/v1/events/{public_id}/reports": Entry(ids=event_ids),
    "POST /api/v1/events/{public_id}/reports": Entry(
        reads=(), writes=("POST",), ids=event_ids, body=_report_json
    ),
    "GET /api/v1/events/reports/{public_id}": Entry(ids=report_ids),
    "POST /api/v1/events/reports/{public_id}/photos": Entry(
        reads=(), writes=("POST",), ids=report_ids
    ),
    "GET /api/v1/events/photos/{public_id}": Entry(ids=photo_ids),
    "DELETE /api/v1/events/photos/{public_id}": Entry(reads=(), writes=("DELETE",), ids=photo_ids),
}

"""API of campaign events, their reports and photos.

Scoped like the screens: a user sees the events of the units in their subtrees
and of the units above them (a ward reports to its district's week), the
reports and photos of the units they see; another tenant's or another
subtree's object is a 404, a read-only user's write a 403, a refused action a
400 (409 for a stale version) with a code and a Vietnamese message.
"""

import datetime as dt
import uuid

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from campaigns.models import Event, EventKind, EventPhoto, EventReport
from campaigns.selectors.events import (
    event_progress,
    events_for_user,
    get_event_for_user,
    get_photo_for_user,
    get_report_for_user,
    reports_for_user,
)
from campaigns.services import events as services
from campaigns.views.events import photo_response
from core.api_pagination import PageNumberPagination
from core.http import AuthedRequest
from recognition.api.dossier import UnitRef
from units.models import AdministrativeUnit
from units.selectors import get_unit_for_user, require_write

router = Router(tags=["campaigns: events"])


class EventOut(Schema):
    public_id: uuid.UUID
    kind: EventKind
    name: str
    unit: UnitRef
    starts_on: dt.date
    ends_on: dt.date
    theme: str
    reports_due: dt.date | None
    version: int
    created_at: dt.datetime


class ProgressRowOut(Schema):
    unit: UnitRef
    reported: bool
    participants: int
    sessions: int


class EventDetailOut(EventOut):
    #: For the organiser's units: the units one level down and their totals.
    progress: list[ProgressRowOut]
    participants: int
    sessions: int
    #: The reports of the event (those the user may see).
    reports: str


class EventFilter(Schema):
    #: A calendar year (a date's year: ?year=65536 used to answer 500).
    year: int | None = Field(None, ge=1, le=9999)
    kind: EventKind | None = None
    unit: uuid.UUID | None = None


class EventIn(Schema):
    unit: uuid.UUID
    kind: EventKind
    name: str
    starts_on: dt.date
    ends_on: dt.date
    theme: str = ""
    reports_due: dt.date | None = None


class WeekIn(Schema):
    unit: uuid.UUID
    year: int
    theme: str = ""
    reports_due: dt.date | None = None


class EventUpdateIn(Schema):
    version: int | None = None
    kind: EventKind | None = None
    name: str | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    theme: str | None = None
    reports_due: dt.date | None = None


class PhotoOut(Schema):
    public_id: uuid.UUID
    original_name: str
    content_type: str
    size: int
    uploaded_at: dt.datetime
    download: str

    @staticmethod
    def resolve_download(obj: EventPhoto) -> str:
        return reverse("api:event-photo", kwargs={"public_id": obj.public_id})


class ReportOut(Schema):
    public_id: uuid.UUID
    event_id: uuid.UUID
    unit: UnitRef
    activities: str
    participants: int
    sessions: int
    version: int
    updated_at: dt.datetime
    photos: list[PhotoOut]

    @staticmethod
    def resolve_event_id(obj: EventReport) -> uuid.UUID:
        return obj.event.public_id

    @staticmethod
    def resolve_photos(obj: EventReport) -> list[EventPhoto]:
        return list(obj.photos.all())


class ReportIn(Schema):
    """One report per unit and event: sent again, it replaces the unit's report
    (``version``: the one you read, 409 if it changed meanwhile)."""

    unit: uuid.UUID
    activities: str = ""
    participants: int = 0
    sessions: int = 0
    version: int | None = None


def _writable_unit(request: AuthedRequest, unit_id: uuid.UUID | str) -> AdministrativeUnit:
    unit = get_unit_for_user(request.user, unit_id)
    require_write(request.user, unit)
    return unit


def _detail(event: Event) -> dict[str, object]:
    progress = event_progress(event)
    out = EventOut.from_orm(event).dict()
    out.update(
        progress=[
            {
                "unit": row.unit,
                "reported": bool(row.reports),
                "participants": row.participants,
                "sessions": row.sessions,
            }
            for row in progress.rows
        ],
        participants=progress.participants,
        sessions=progress.sessions,
        reports=reverse("api:event-reports", kwargs={"public_id": event.public_id}),
    )
    return out


@router.get(
    "",
    response=list[EventOut],
    url_name="event-list",
    summary="Events of the user's units and of the units above them",
)
@paginate(PageNumberPagination, page_size=50)
def list_events(request: AuthedRequest, filters: Query[EventFilter]) -> QuerySet[Event]:
    qs = events_for_user(request.user)
    if filters.unit:
        qs = qs.filter(unit=get_unit_for_user(request.user, filters.unit))
    if filters.year:
        qs = qs.filter(starts_on__year=filters.year)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.order_by("-starts_on", "pk")


@router.post("", response={201: EventOut}, url_name="event-create", summary="A new event")
def create_event(request: AuthedRequest, payload: EventIn) -> Status[Event]:
    unit = _writable_unit(request, payload.unit)
    event = services.event_create(
        actor=request.user,
        unit=unit,
        kind=payload.kind,
        name=payload.name,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        theme=payload.theme,
        reports_due=payload.reports_due,
    )
    return Status(201, event)


@router.post(
    "/lifelong-week",
    response={201: EventOut},
    url_name="event-week-create",
    summary="The unit's lifelong-learning week of a year (1–7 October)",
)
def create_week(request: AuthedRequest, payload: WeekIn) -> Status[Event]:
    unit = _writable_unit(request, payload.unit)
    event = services.lifelong_week_create(
        actor=request.user,
        unit=unit,
        year=payload.year,
        theme=payload.theme,
        reports_due=payload.reports_due,
    )
    return Status(201, event)


@router.get(
    "/reports/{public_id}",
    response=ReportOut,
    url_name="event-report",
    summary="One unit's report, with its photos",
)
def get_report(request: AuthedRequest, public_id: str) -> EventReport:
    return get_report_for_user(request.user, public_id)


@router.post(
    "/reports/{public_id}/photos",
    response={201: PhotoOut},
    url_name="event-photo-upload",
    summary="Add a photo (JPEG, PNG, WebP) or a PDF to a report (multipart: file)",
)
def upload_photo(
    request: AuthedRequest, public_id: str, file: File[UploadedFile | None] = None
) -> Status[EventPhoto]:
    """The file is optional in the schema so that a request without it gets the
    service's message (400) after the scope checks."""
    report = get_report_for_user(request.user, public_id)
    require_write(request.user, report.unit)
    if file is None:
        raise services.PhotoError(_("Choose a photo or a PDF to upload."))
    return Status(201, services.event_photo_upload(actor=request.user, report=report, file=file))


@router.get(
    "/photos/{public_id}",
    response={200: None},
    url_name="event-photo",
    summary="Download a photo (images inline, a PDF as an attachment)",
)
def download_photo(request: AuthedRequest, public_id: str) -> HttpResponseBase:
    return photo_response(get_photo_for_user(request.user, public_id))


@router.delete(
    "/photos/{public_id}",
    response={204: None},
    url_name="event-photo-delete",
    summary="Remove a photo",
)
def delete_photo(request: AuthedRequest, public_id: str) -> Status[None]:
    photo = get_photo_for_user(request.user, public_id)
    require_write(request.user, photo.report.unit)
    services.event_photo_delete(actor=request.user, photo=photo)
    return Status(204, None)


@router.get(
    "/{public_id}",
    response=EventDetailOut,
    url_name="event-detail",
    summary="One event, with the report status of the units one level down",
)
def get_event(request: AuthedRequest, public_id: str) -> dict[str, object]:
    return _detail(get_event_for_user(request.user, public_id))


@router.patch(
    "/{public_id}",
    response=EventOut,
    url_name="event-update",
    summary="Change an event (only the fields sent)",
)
def update_event(request: AuthedRequest, public_id: str, payload: EventUpdateIn) -> Event:
    event = get_event_for_user(request.user, public_id)
    require_write(request.user, event.unit)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    return services.event_update(
        actor=request.user, event=event, data=data, expected_version=version
    )


@router.get(
    "/{public_id}/reports",
    response=list[ReportOut],
    url_name="event-reports",
    summary="The reports of the event that the user may see",
)
@paginate(PageNumberPagination, page_size=100)
def list_reports(request: AuthedRequest, public_id: str) -> QuerySet[EventReport]:
    event = get_event_for_user(request.user, public_id)
    return (
        reports_for_user(request.user)
        .filter(event=event)
        .prefetch_related("photos")
        .order_by("unit__sort_name")
    )


@router.post(
    "/{public_id}/reports",
    response=ReportOut,
    url_name="event-report-save",
    summary="Save a unit's report for the event (one per unit; replaces it)",
)
def save_report(request: AuthedRequest, public_id: str, payload: ReportIn) -> EventReport:
    event = get_event_for_user(request.user, public_id)
    unit = _writable_unit(request, payload.unit)
    return services.event_report_save(
        actor=request.user,
        event=event,
        unit=unit,
        activities=payload.activities,
        participants=payload.participants,
        sessions=payload.sessions,
        expected_version=payload.version,
    )

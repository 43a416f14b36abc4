"""Screens of campaign events: the list (events of the user's units and of the
units above them), a new event (prefilled for the lifelong-learning week), the
event page — for the organiser the units one level down with their report
status and totals; for a reporting unit (a ward) its report form with photos —
and the photos, served only through a scoped view.

Lookups go through campaigns.selectors.events (404 outside the scope); writes
need a planner's role at the unit concerned (403 for a read-only user or
another role); service refusals come back as form errors or messages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.forms.events import EventForm, EventReportForm, PhotoForm
from campaigns.models import Event, EventKind, EventPhoto, EventReport
from campaigns.permissions import PLANNERS, can_plan
from campaigns.selectors.events import (
    event_progress,
    events_for_user,
    get_event_for_user,
    get_photo_for_user,
    get_report_for_user,
    reporting_units,
)
from campaigns.services import events as services
from core.exceptions import ApplicationError, ConcurrentEditError
from core.http import AuthedRequest
from recognition.views.dossier import forbid_wrong_role
from units.levels import Level
from units.models import AdministrativeUnit
from units.roles import READ_ONLY_ROLES
from units.selectors import get_unit_for_user, require_write, roles_at, units_for_user

PER_PAGE = 50


def organiser_units(user: Any) -> QuerySet[AdministrativeUnit]:
    """Units where the user may organise events."""
    return (
        units_for_user(user, roles=PLANNERS)
        .filter(level__in=[Level.PROVINCE, Level.DISTRICT, Level.COMMUNE])
        .order_by("depth", "sort_name")
    )


def may_write(user: Any, unit: AdministrativeUnit) -> bool:
    return can_plan(user, unit) and bool(roles_at(user, unit) - READ_ONLY_ROLES)


def _require_planner(request: AuthedRequest, unit: AdministrativeUnit) -> None:
    """404 outside the scope, 403 read-only or without a planner's role."""
    require_write(request.user, unit)
    if not can_plan(request.user, unit):
        raise PermissionDenied


def _detail(event: Event, unit: AdministrativeUnit | None = None) -> str:
    url = reverse("campaigns:event-detail", kwargs={"public_id": event.public_id})
    return f"{url}?unit={unit.public_id}#report" if unit is not None else url


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- List and create -------------------------------------------------------------------


@login_required
@require_GET
def event_list_view(request: AuthedRequest) -> HttpResponse:
    queryset = events_for_user(request.user).order_by("-starts_on", "unit__sort_name")
    year = _int(request.GET.get("year"))
    kind = request.GET.get("kind", "")
    if year:
        queryset = queryset.filter(starts_on__year=year)
    if kind in EventKind.values:
        queryset = queryset.filter(kind=kind)
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "year": year,
        "kind": kind,
        "kinds": EventKind.choices,
        "can_create": organiser_units(request.user).exists(),
    }
    return render(request, "campaigns/event_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def event_create_view(request: AuthedRequest) -> HttpResponse:
    units = organiser_units(request.user)
    if not units.exists():
        raise PermissionDenied
    initial = EventForm.week_initial() if request.GET.get("week") else {}
    form = EventForm(request.POST or None, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _require_planner(request, data["unit"])
        try:
            event = services.event_create(
                actor=request.user,
                unit=data["unit"],
                kind=data["kind"],
                name=data["name"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                theme=data["theme"],
                reports_due=data["reports_due"],
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The event was created."))
            return redirect(_detail(event))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "campaigns/event_form.html", {"form": form, "event": None}, status=status
    )


def _posted_version(request: AuthedRequest) -> int | None:
    """The version the form was opened with (hidden field), if it sent one."""
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        return None


@login_required
@require_http_methods(["GET", "POST"])
def event_edit_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    event = get_event_for_user(request.user, public_id)
    # Visible (a ward sees its district's week) but only its organisers edit it.
    if not may_write(request.user, event.unit):
        raise PermissionDenied
    initial = {
        name: getattr(event, name)
        for name in ("kind", "name", "starts_on", "ends_on", "theme", "reports_due")
    }
    form = EventForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.event_update(
                actor=request.user,
                event=event,
                data=form.cleaned_data,
                expected_version=_posted_version(request),
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The event was saved."))
            return redirect(_detail(event))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "campaigns/event_form.html", {"form": form, "event": event}, status=status
    )


# --- The event page ----------------------------------------------------------------------


def _report_unit(
    request: AuthedRequest, event: Event, unit_id: str | None = None
) -> tuple[AdministrativeUnit | None, list[AdministrativeUnit]]:
    """The unit whose report the page shows (``?unit=``, else the user's own) and the
    units the user reports for."""
    own = reporting_units(request.user, event)
    wanted = unit_id or request.GET.get("unit")
    if wanted:
        unit = get_unit_for_user(request.user, wanted)
        if unit.path.startswith(event.unit.path) and unit.pk != event.unit_id:
            return unit, own
    return (own[0] if own else None), own


def _report_context(
    request: AuthedRequest,
    event: Event,
    unit: AdministrativeUnit,
    form: EventReportForm | None = None,
    photo_form: PhotoForm | None = None,
) -> dict[str, Any]:
    report = EventReport.objects.filter(event=event, unit=unit).first()
    writable = may_write(request.user, unit)
    if form is None:
        initial: dict[str, Any] = {"unit": unit.public_id, "version": 0}
        if report is not None:
            initial.update(
                version=report.version,
                activities=report.activities,
                participants=report.participants,
                sessions=report.sessions,
            )
        form = EventReportForm(initial=initial)
    return {
        "report_unit": unit,
        "report": report,
        "report_form": form if writable else None,
        "photo_form": (photo_form or PhotoForm()) if writable and report else None,
        "photos": list(report.photos.all()) if report else [],
        "report_writable": writable,
    }


def _render_detail(
    request: AuthedRequest,
    event: Event,
    status: int = 200,
    unit_id: str | None = None,
    **extra: Any,
) -> HttpResponse:
    organiser = bool(roles_at(request.user, event.unit))
    unit, own = _report_unit(request, event, unit_id)
    context: dict[str, Any] = {
        "event": event,
        "organiser": organiser,
        "can_edit": may_write(request.user, event.unit),
        "own_units": own,
        "progress": event_progress(event) if organiser else None,
        "max_mb": services.photo_max_megabytes(),
    }
    if unit is not None:
        context.update(
            _report_context(
                request, event, unit, extra.pop("form", None), extra.pop("photo_form", None)
            )
        )
    context.update(extra)
    return render(request, "campaigns/event_detail.html", context, status=status)


@login_required
@require_GET
def event_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _render_detail(request, get_event_for_user(request.user, public_id))


@login_required
@require_POST
def event_report_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Save a unit's report (``unit`` in the form: the user's ward)."""
    event = get_event_for_user(request.user, public_id)
    unit = get_unit_for_user(request.user, request.POST.get("unit"))
    _require_planner(request, unit)
    form = EventReportForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, event, status=400, form=form, unit_id=str(unit.public_id))
    data = form.cleaned_data
    try:
        services.event_report_save(
            actor=request.user,
            event=event,
            unit=unit,
            activities=data["activities"],
            participants=data["participants"],
            sessions=data["sessions"],
            expected_version=data.get("version") or None,
        )
    except ConcurrentEditError:
        messages.error(
            request,
            _("Someone else saved this report meanwhile. Check it below and save again."),
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The report was saved."))
    return redirect(_detail(event, unit))


# --- Photos ------------------------------------------------------------------------------


@login_required
@require_POST
def event_photo_upload_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    report = get_report_for_user(request.user, public_id)
    _require_planner(request, report.unit)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a photo or a PDF to upload."))
    else:
        try:
            services.event_photo_upload(
                actor=request.user, report=report, file=form.cleaned_data["file"]
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The photo was added to the report."))
    return redirect(_detail(report.event, report.unit))


@login_required
@require_POST
def event_photo_delete_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    photo = get_photo_for_user(request.user, public_id)
    report = photo.report
    _require_planner(request, report.unit)
    try:
        services.event_photo_delete(actor=request.user, photo=photo)
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The photo was removed."))
    return redirect(_detail(report.event, report.unit))


def photo_response(photo: EventPhoto) -> FileResponse:
    """Images inline (for the thumbnails), a PDF as an attachment; never sniffed."""
    try:
        handle = photo.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=photo.content_type not in services.IMAGE_TYPES,
        filename=photo.original_name,
        content_type=photo.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def event_photo_view(request: AuthedRequest, public_id: str) -> FileResponse:
    return photo_response(get_photo_for_user(request.user, public_id))

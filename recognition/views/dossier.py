"""Screens of the ward's dossier: list and open, the builder with its progress,
add and remove items, submit (with the refusal list), and the timeline.

Every lookup goes through recognition.selectors.dossier (404 outside the
user's scope); a read-only user gets 403 before any write; the services check
the role, the state and the deadline and their refusals come back as messages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.http import AuthedRequest
from recognition.exceptions import DossierIncompleteError, RoleNotAllowedError
from recognition.forms.dossier import DossierOpenForm, VersionForm
from recognition.locks import active_lock
from recognition.models import AssessmentStatus, Dossier, DossierStatus, Stage
from recognition.selectors.dossier import (
    SUBJECT_RELATED,
    dossier_events,
    dossier_item_page,
    dossier_items,
    get_dossier_for_user,
    scope_label,
    timeline_entries,
    ward_dossiers,
)
from recognition.services import dossier as services
from recognition.titles import Title
from recognition.transitions import WARD
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import require_write, roles_at, units_for_user

ITEMS_PER_PAGE = 200
CANDIDATES_SHOWN = 100
EVENTS_PER_PAGE = 100


def forbid_wrong_role(exc: ApplicationError) -> None:
    """A role that may not act here sees the 403 page, like a read-only one."""
    if isinstance(exc, RoleNotAllowedError):
        raise PermissionDenied from exc


def proposing_units(user: Any) -> QuerySet[AdministrativeUnit]:
    """Units where the user prepares dossiers (wards/communes, or districts for
    district-level community titles)."""
    return (
        units_for_user(user, roles=WARD)
        .filter(level__in=[Level.COMMUNE, Level.DISTRICT])
        .order_by("sort_name")
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_http_methods(["GET", "POST"])
def dossier_list_view(request: AuthedRequest) -> HttpResponse:
    """The user's dossiers, and a form to open one per unit, title and year."""
    units = proposing_units(request.user)
    if request.method == "POST" and not units.exists():
        raise PermissionDenied
    form = DossierOpenForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dossier = services.dossier_for(
                actor=request.user,
                proposing_unit=data["proposing_unit"],
                title=data["title"],
                scope_level=data["scope_level"] or "",
                year=data["year"],
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            return redirect("recognition:dossier-detail", public_id=dossier.public_id)
    year = _int(request.GET.get("year"))
    title = request.GET.get("title", "")
    if title not in Title.values:
        title = ""
    page = Paginator(ward_dossiers(request.user, year=year, title=title), 50).get_page(
        request.GET.get("page")
    )
    for dossier in page:
        dossier.scope_label = scope_label(dossier.scope_level)  # type: ignore[attr-defined]
    context = {
        "form": form,
        "page": page,
        "can_open": units.exists(),
        "year": year or "",
        "title": title,
        "titles": Title.choices,
    }
    return render(request, "recognition/dossier/dossier_list.html", context)


def may_prepare(user: Any, dossier: Dossier) -> bool:
    return bool(roles_at(user, dossier.proposing_unit) & WARD)


def builder_context(request: AuthedRequest, dossier: Dossier, **extra: Any) -> dict[str, Any]:
    """Everything the builder page shows (a few aggregate queries, one per list)."""
    can_prepare = may_prepare(request.user, dossier)
    editable = dossier.status in services.EDITABLE_DOSSIER_STATES
    lock = active_lock(
        unit=dossier.proposing_unit, title=dossier.title, year=dossier.year, stage=Stage.DOSSIER
    )
    items = dossier_item_page(dossier, request.GET.get("page"), ITEMS_PER_PAGE)
    context: dict[str, Any] = {
        "dossier": dossier,
        "progress": services.dossier_progress(dossier),
        "items": items,
        "can_edit": can_prepare and editable and lock is None,
        "can_prepare": can_prepare,
        "lock": lock,
        "returned": dossier.status == DossierStatus.RETURNED,
        "statuses": AssessmentStatus,
        "version_form": VersionForm(initial={"version": dossier.version}),
        "scope_label": scope_label(dossier.scope_level),
    }
    if context["can_edit"]:
        context["candidates"] = list(
            services.ready_candidates(dossier)
            .select_related(*SUBJECT_RELATED, "unit")
            .order_by("unit__sort_name", "registration__pk")[:CANDIDATES_SHOWN]
        )
        context["problems"] = services.submit_problems(dossier)
    if context["returned"]:
        context["to_fix"] = list(
            dossier_items(dossier).filter(status=AssessmentStatus.RETURNED)[:ITEMS_PER_PAGE]
        )
    context.update(extra)
    return context


@login_required
@require_GET
def dossier_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    dossier = get_dossier_for_user(request.user, public_id)
    return render(
        request, "recognition/dossier/dossier_detail.html", builder_context(request, dossier)
    )


def _writable(request: AuthedRequest, public_id: str) -> Dossier:
    dossier = get_dossier_for_user(request.user, public_id)
    require_write(request.user, dossier.proposing_unit)
    return dossier


@login_required
@require_POST
def dossier_add_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Add every ready item (``all``) or the checked ones (``items``)."""
    dossier = _writable(request, public_id)
    try:
        if request.POST.get("all"):
            added = services.dossier_add_ready(actor=request.user, dossier=dossier)
        else:
            added = services.dossier_add_items(
                actor=request.user, dossier=dossier, assessment_ids=request.POST.getlist("items")
            )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        if added:
            messages.success(
                request,
                ngettext(
                    "%(count)s item was added to the dossier.",
                    "%(count)s items were added to the dossier.",
                    added,
                )
                % {"count": added},
            )
        else:
            messages.info(request, _("There was no self-assessed item to add."))
    return redirect("recognition:dossier-detail", public_id=dossier.public_id)


@login_required
@require_POST
def dossier_remove_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    dossier = _writable(request, public_id)
    try:
        removed = services.dossier_remove_items(
            actor=request.user,
            dossier=dossier,
            assessment_ids=request.POST.getlist("item"),
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s item was taken out of the dossier.",
                "%(count)s items were taken out of the dossier.",
                removed,
            )
            % {"count": removed},
        )
    return redirect("recognition:dossier-detail", public_id=dossier.public_id)


@login_required
@require_POST
def dossier_submit_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    dossier = _writable(request, public_id)
    form = VersionForm(request.POST)
    version = form.cleaned_data.get("version") if form.is_valid() else None
    try:
        services.dossier_submit(
            actor=request.user,
            dossier=dossier,
            expected_version=version,
            base_url=request.build_absolute_uri("/"),
        )
    except DossierIncompleteError as exc:
        context = builder_context(request, dossier, refusal=exc.problems)
        return render(request, "recognition/dossier/dossier_detail.html", context, status=409)
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The dossier was submitted to %(unit)s; its reviewers have been notified.")
            % {"unit": dossier.reviewing_unit.name},
        )
    return redirect("recognition:dossier-detail", public_id=dossier.public_id)


@login_required
@require_GET
def dossier_timeline_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Every event on the dossier and its items, oldest first."""
    dossier = get_dossier_for_user(request.user, public_id)
    page = Paginator(dossier_events(dossier), EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"dossier": dossier, "page": page, "entries": timeline_entries(page.object_list)}
    return render(request, "recognition/dossier/dossier_timeline.html", context)

"""Screens of award nominations: the list (filters; the user's subtree, so a
reviewer sees what it reviews), propose (the nominee kind switches the fields),
edit while proposed, the detail with its timeline and the review actions, and
"create the award decision" for a reviewing unit, which drafts a decision of
kind "award" holding its approved nominations and opens the decision editor.

Lookups go through campaigns.selectors.nominations (404 outside the scope);
proposing needs a planner's role at the nominating unit, reviewing a
reviewer's role at the reviewing unit (403 otherwise, and for read-only users).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.forms.nominations import (
    AwardDecisionForm,
    NominationFilterForm,
    NominationForm,
    ReviewForm,
)
from campaigns.models import Nomination, NominationStatus, NomineeKind
from campaigns.permissions import PLANNERS, can_plan
from campaigns.selectors.nominations import (
    get_nomination_for_user,
    nomination_timeline,
    nominations_for_user,
)
from campaigns.services import nominations as services
from core.exceptions import ApplicationError, ConcurrentEditError
from core.http import AuthedRequest
from recognition.models import Household, Organisation
from recognition.transitions import REVIEWER
from recognition.views.dossier import forbid_wrong_role
from units.levels import Level
from units.models import AdministrativeUnit
from units.roles import READ_ONLY_ROLES
from units.selectors import (
    get_unit_for_user,
    require_write,
    roles_at,
    scope_queryset,
    units_for_user,
)

N = NominationStatus
PER_PAGE = 50


def nominating_units(user: Any) -> QuerySet[AdministrativeUnit]:
    return (
        units_for_user(user, roles=PLANNERS)
        .filter(level__in=[Level.PROVINCE, Level.DISTRICT, Level.COMMUNE])
        .order_by("depth", "sort_name")
    )


def may_review(user: Any, nomination: Nomination) -> bool:
    roles = roles_at(user, nomination.reviewing_unit)
    return bool(roles & REVIEWER) and bool(roles - READ_ONLY_ROLES)


def may_edit(user: Any, nomination: Nomination) -> bool:
    unit = nomination.nominating_unit
    return (
        nomination.status == N.PROPOSED
        and can_plan(user, unit)
        and bool(roles_at(user, unit) - READ_ONLY_ROLES)
    )


def _detail(nomination: Nomination) -> HttpResponse:
    return redirect("campaigns:nomination-detail", public_id=nomination.public_id)


def _form(request: AuthedRequest, data: Any = None, **kwargs: Any) -> NominationForm:
    user = request.user
    return NominationForm(
        data,
        units=nominating_units(user),
        nominee_units=units_for_user(user, roles=PLANNERS).order_by("depth", "sort_name"),
        organisations=scope_queryset(
            Organisation.objects.select_related("unit"), user, roles=PLANNERS
        ).order_by("name"),
        **kwargs,
    )


def _nominee(request: AuthedRequest, form: NominationForm) -> dict[str, Any] | None:
    """The nominee fields for the service (the household looked up by its code in the
    user's scope); ``None`` after adding a form error."""
    data = form.cleaned_data
    kind = data["nominee_kind"]
    values: dict[str, Any] = {
        "nominee_unit": data.get("nominee_unit") if kind == NomineeKind.UNIT else None,
        "organisation": data.get("organisation") if kind == NomineeKind.ORGANISATION else None,
        "household": None,
        "person_name": data.get("person_name", "") if kind == NomineeKind.PERSON else "",
        "person_position": data.get("person_position", "") if kind == NomineeKind.PERSON else "",
    }
    if kind == NomineeKind.HOUSEHOLD:
        household = (
            scope_queryset(Household.objects.select_related("unit"), request.user)
            .filter(code__iexact=data["household_code"])
            .first()
        )
        if household is None:
            form.add_error("household_code", _("No household with this code in your area."))
            return None
        values["household"] = household
    return values


# --- List ------------------------------------------------------------------------------


def _award_groups(user: Any) -> list[dict[str, Any]]:
    """Approved nominations waiting for an award decision, per reviewing unit and year,
    at the units where the user may issue decisions."""
    reviewer_paths = [
        u.path
        for u in units_for_user(user, roles=REVIEWER).filter(
            level__in=[Level.PROVINCE, Level.DISTRICT, Level.COMMUNE]
        )
    ]
    if not reviewer_paths:
        return []
    rows = (
        nominations_for_user(user)
        .filter(status=N.APPROVED)
        .exclude(decision_items__decision__status__in=["draft", "issued"])
        .values("reviewing_unit__public_id", "reviewing_unit__name", "reviewing_unit__path", "year")
        .annotate(n=Count("pk"))
        .order_by("reviewing_unit__path", "-year")
    )
    return [
        {
            "unit_id": row["reviewing_unit__public_id"],
            "unit_name": row["reviewing_unit__name"],
            "year": row["year"],
            "count": row["n"],
        }
        for row in rows
        if any(row["reviewing_unit__path"].startswith(p) for p in reviewer_paths)
        and not _read_only(user, row["reviewing_unit__path"])
    ]


def _read_only(user: Any, path: str) -> bool:
    from units.selectors import user_grants

    roles = {g.role for g in user_grants(user) if path.startswith(g.path)}
    return not (roles - READ_ONLY_ROLES)


@login_required
@require_GET
def nomination_list_view(request: AuthedRequest) -> HttpResponse:
    queryset = nominations_for_user(request.user)
    filters = NominationFilterForm(request.GET or None)
    if filters.is_valid():
        data = filters.cleaned_data
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("year"):
            queryset = queryset.filter(year=data["year"])
        if data.get("award_form"):
            queryset = queryset.filter(award_form=data["award_form"])
        if data.get("mine"):
            paths = [u.path for u in units_for_user(request.user, roles=REVIEWER)]
            queryset = queryset.filter(reviewing_unit__path__in=paths)
    page = Paginator(queryset.order_by("-year", "-created_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "filters": filters,
        "can_create": nominating_units(request.user).exists() and not _all_read_only(request.user),
        "award_groups": _award_groups(request.user),
        "query": _query_without_page(request),
    }
    return render(request, "campaigns/nomination_list.html", context)


def _all_read_only(user: Any) -> bool:
    from units.selectors import is_read_only

    return is_read_only(user)


def _query_without_page(request: AuthedRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Create and edit -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def nomination_create_view(request: AuthedRequest) -> HttpResponse:
    units = nominating_units(request.user)
    if not units.exists() or _all_read_only(request.user):
        raise PermissionDenied
    if request.method == "GET" and request.GET.get("nominee_kind"):
        form = _form(request, initial={"nominee_kind": request.GET["nominee_kind"]})
    else:
        form = _form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        unit = form.cleaned_data["nominating_unit"]
        require_write(request.user, unit)
        nominee = _nominee(request, form)
        if nominee is not None:
            try:
                nomination = services.nomination_create(
                    actor=request.user,
                    nominating_unit=unit,
                    year=form.cleaned_data["year"],
                    nominee_kind=form.cleaned_data["nominee_kind"],
                    award_form=form.cleaned_data["award_form"],
                    achievements=form.cleaned_data["achievements"],
                    **nominee,
                )
            except ApplicationError as exc:
                forbid_wrong_role(exc)
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The nomination was proposed."))
                return _detail(nomination)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "campaigns/nomination_form.html",
        {"form": form, "nomination": None, "kinds": NomineeKind.choices},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def nomination_edit_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    nomination = get_nomination_for_user(request.user, public_id)
    require_write(request.user, nomination.nominating_unit)
    if not can_plan(request.user, nomination.nominating_unit):
        raise PermissionDenied
    if nomination.status != N.PROPOSED:
        messages.error(request, _("Only a proposed nomination can be changed."))
        return _detail(nomination)
    initial = {
        "version": nomination.version,
        "year": nomination.year,
        "nominee_kind": request.GET.get("nominee_kind") or nomination.nominee_kind,
        "award_form": nomination.award_form,
        "nominee_unit": nomination.nominee_unit.public_id if nomination.nominee_unit else None,
        "organisation": nomination.organisation.public_id if nomination.organisation else None,
        "household_code": nomination.household.code if nomination.household else "",
        "person_name": nomination.person_name,
        "person_position": nomination.person_position,
        "achievements": nomination.achievements,
    }
    form = _form(request, request.POST or None, initial=initial, fixed_unit=True)
    if request.method == "POST" and form.is_valid():
        nominee = _nominee(request, form)
        if nominee is not None:
            data = {
                "year": form.cleaned_data["year"],
                "nominee_kind": form.cleaned_data["nominee_kind"],
                "award_form": form.cleaned_data["award_form"],
                "achievements": form.cleaned_data["achievements"],
                **nominee,
            }
            try:
                services.nomination_update(
                    actor=request.user,
                    nomination=nomination,
                    data=data,
                    expected_version=form.cleaned_data.get("version"),
                )
            except ConcurrentEditError:
                form.add_error(
                    None,
                    _("Someone else changed this nomination meanwhile. Reload it and edit again."),
                )
            except ApplicationError as exc:
                forbid_wrong_role(exc)
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The nomination was saved."))
                return _detail(nomination)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "campaigns/nomination_form.html",
        {"form": form, "nomination": nomination, "kinds": NomineeKind.choices},
        status=status,
    )


# --- Detail and review -------------------------------------------------------------------


@login_required
@require_GET
def nomination_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    nomination = get_nomination_for_user(request.user, public_id)
    reviewer = may_review(request.user, nomination)
    decisions = [
        item.decision
        for item in nomination.decision_items.select_related("decision").order_by("-pk")
    ]
    context = {
        "nomination": nomination,
        "timeline": nomination_timeline(nomination),
        "can_edit": may_edit(request.user, nomination),
        "can_review": reviewer and nomination.status == N.PROPOSED,
        "can_approve": reviewer and nomination.status == N.REVIEWED,
        "can_reject": reviewer and nomination.status in (N.PROPOSED, N.REVIEWED),
        "review_form": ReviewForm(initial={"version": nomination.version}),
        "decisions": decisions,
    }
    return render(request, "campaigns/nomination_detail.html", context)


def _act(request: AuthedRequest, public_id: str, action: str) -> HttpResponse:
    nomination = get_nomination_for_user(request.user, public_id)
    require_write(request.user, nomination.nominating_unit)
    if not may_review(request.user, nomination):
        raise PermissionDenied
    form = ReviewForm(request.POST)
    form.is_valid()
    note = form.cleaned_data.get("note", "") if hasattr(form, "cleaned_data") else ""
    version = form.cleaned_data.get("version") if hasattr(form, "cleaned_data") else None
    service = {
        "review": services.nomination_review,
        "approve": services.nomination_approve,
        "reject": services.nomination_reject,
    }[action]
    try:
        service(actor=request.user, nomination=nomination, note=note, expected_version=version)
    except ConcurrentEditError:
        messages.error(
            request, _("Someone else acted on this nomination meanwhile; check it below.")
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        done = {
            "review": _("The nomination was marked reviewed."),
            "approve": _("The nomination was approved."),
            "reject": _("The nomination was not approved."),
        }
        messages.success(request, done[action])
    return _detail(nomination)


@login_required
@require_POST
def nomination_review_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _act(request, public_id, "review")


@login_required
@require_POST
def nomination_approve_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _act(request, public_id, "approve")


@login_required
@require_POST
def nomination_reject_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    return _act(request, public_id, "reject")


# --- The award decision ------------------------------------------------------------------


@login_required
@require_POST
def nomination_award_decision_view(request: AuthedRequest) -> HttpResponse:
    """Draft the reviewing unit's award decision with its approved nominations of the
    year and open it in the decision editor."""
    form = AwardDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the reviewing unit and the year."))
        return redirect("campaigns:nomination-list")
    unit = get_unit_for_user(request.user, form.cleaned_data["unit"])
    require_write(request.user, unit)
    if not roles_at(request.user, unit) & REVIEWER:
        raise PermissionDenied
    try:
        decision = services.award_decision_start(
            actor=request.user, reviewing_unit=unit, year=form.cleaned_data["year"]
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
        return redirect("campaigns:nomination-list")
    messages.success(
        request,
        _("The award decision was drafted with the approved nominations; complete and issue it."),
    )
    return redirect(
        reverse("recognition:decision-detail", kwargs={"public_id": decision.public_id})
    )

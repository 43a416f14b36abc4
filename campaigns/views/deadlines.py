"""Screens of deadlines: a plan's deadlines (list and new), one deadline (edit,
delete, the units it concerns, extensions for reviewers) and the calendar of a
unit.

Lookups go through campaigns.selectors.deadlines (404 outside the user's
scope). A deadline set by a unit above the user is readable (it applies to
them) but writing it is a 403, as is any write by a read-only user or by a
role that may not plan (extensions: reviewers only). Service refusals come
back as form errors or messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.forms.deadlines import DeadlineForm, ExtensionForm
from campaigns.models import Deadline, Plan
from campaigns.permissions import PLANNERS, REVIEWERS
from campaigns.selectors.deadlines import (
    DONE,
    LATE,
    calendar_for_unit,
    concerned_units,
    deadlines_of_plan,
    extended_until,
    extensions_of,
    get_deadline_for_user,
    get_plan_for_deadlines,
    group_by_month,
    met_units,
)
from campaigns.services import deadlines as services
from core.exceptions import ApplicationError
from core.http import AuthedRequest
from recognition.views.dossier import forbid_wrong_role
from units.levels import Level
from units.models import AdministrativeUnit
from units.roles import READ_ONLY_ROLES
from units.selectors import get_unit_for_user, home_units, roles_at, units_for_user

#: Units listed on a deadline's page (the calendar counts them all).
UNITS_SHOWN = 200


def may_plan(user: Any, plan: Plan) -> bool:
    return bool(roles_at(user, plan.issuing_unit) & PLANNERS)


def may_extend(user: Any, plan: Plan) -> bool:
    return bool(roles_at(user, plan.issuing_unit) & REVIEWERS)


def _require(user: Any, plan: Plan, allowed: frozenset[str]) -> None:
    """403 for a plan the user can read but not write (read-only role, a plan
    set above them, a role that may not do this)."""
    roles = roles_at(user, plan.issuing_unit)
    if not (roles - READ_ONLY_ROLES) or not (roles & allowed):
        raise PermissionDenied


def _detail(deadline: Deadline) -> HttpResponse:
    return redirect("campaigns:deadline-detail", public_id=deadline.public_id)


# --- A plan's deadlines ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def deadline_list_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The deadlines of one plan, and a new one for its planners."""
    plan = get_plan_for_deadlines(request.user, public_id)
    can_plan = may_plan(request.user, plan)
    form = DeadlineForm(request.POST or None, plan=plan, initial={"year": plan.start_year})
    status = 200
    if request.method == "POST":
        _require(request.user, plan, PLANNERS)
        if form.is_valid():
            try:
                deadline = services.deadline_save(
                    actor=request.user, plan=plan, data=form.cleaned_data
                )
            except ApplicationError as exc:
                forbid_wrong_role(exc)
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The deadline was added."))
                return _detail(deadline)
        status = 400
    context = {
        "plan": plan,
        "deadlines": deadlines_of_plan(plan),
        "form": form,
        "can_plan": can_plan,
    }
    return render(request, "campaigns/deadline_list.html", context, status=status)


# --- One deadline ----------------------------------------------------------------------


def _unit_rows(user: Any, deadline: Deadline, today: dt.date) -> tuple[list[Any], int]:
    """The units the deadline concerns that the user sees, each with its status."""
    visible = units_for_user(user).values("pk")
    units_qs = concerned_units(deadline, superseded=True).filter(pk__in=visible)
    total = units_qs.count()
    units = list(units_qs[:UNITS_SHOWN])
    met = met_units(deadline, [u.pk for u in units])
    ext = extended_until(deadline, units)
    rows = []
    for unit in units:
        m = met.get(unit.pk)
        if m is not None:
            status = DONE
        elif today <= deadline.due_on or unit.pk in ext:
            status = "due"
        else:
            status = LATE
        rows.append(
            {
                "unit": unit,
                "status": status,
                "late": bool(m and m.late),
                "until": services.last_day(ext[unit.pk]) if unit.pk in ext else None,
            }
        )
    return rows, total


def _extension_units(user: Any, plan: Plan) -> QuerySet[AdministrativeUnit]:
    return (
        units_for_user(user)
        .filter(path__startswith=plan.issuing_unit.path)
        .exclude(level=Level.NEIGHBOURHOOD)
        .order_by("depth", "sort_name")
    )


def _render_detail(
    request: AuthedRequest,
    deadline: Deadline,
    *,
    form: DeadlineForm | None = None,
    extension_form: ExtensionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    plan = deadline.plan
    today = timezone.localdate()
    now = timezone.now()
    can_plan = may_plan(request.user, plan)
    can_extend = may_extend(request.user, plan) and deadline.form_lock_id is not None
    if form is None:
        form = DeadlineForm(plan=plan, initial=DeadlineForm.initial_for(deadline))
    if extension_form is None and can_extend:
        extension_form = ExtensionForm(units=_extension_units(request.user, plan))
    rows, total = _unit_rows(request.user, deadline, today)
    context = {
        "deadline": deadline,
        "plan": plan,
        "form": form,
        "extension_form": extension_form,
        "can_plan": can_plan,
        "can_extend": can_extend,
        "extensions": [
            {"ext": e, "last_day": services.last_day(e.until), "active": e.until > now}
            for e in extensions_of(deadline)
        ],
        "unit_rows": rows,
        "unit_total": total,
        "units_shown": UNITS_SHOWN,
        "locks_at": deadline.form_lock.locks_at if deadline.form_lock_id else None,  # type: ignore[union-attr]
    }
    return render(request, "campaigns/deadline_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def deadline_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    deadline = get_deadline_for_user(request.user, public_id)
    if request.method != "POST":
        return _render_detail(request, deadline)
    _require(request.user, deadline.plan, PLANNERS)
    form = DeadlineForm(request.POST, plan=deadline.plan)
    if form.is_valid():
        try:
            services.deadline_save(
                actor=request.user, plan=deadline.plan, data=form.cleaned_data, deadline=deadline
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The deadline was saved."))
            return _detail(deadline)
    return _render_detail(request, deadline, form=form, status=400)


@login_required
@require_POST
def deadline_delete_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    deadline = get_deadline_for_user(request.user, public_id)
    plan = deadline.plan
    _require(request.user, plan, PLANNERS)
    try:
        services.deadline_delete(actor=request.user, deadline=deadline)
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
        return _detail(deadline)
    messages.success(request, _("The deadline was deleted."))
    return redirect("campaigns:deadline-list", public_id=plan.public_id)


@login_required
@require_POST
def deadline_extend_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    deadline = get_deadline_for_user(request.user, public_id)
    _require(request.user, deadline.plan, REVIEWERS)
    form = ExtensionForm(request.POST, units=_extension_units(request.user, deadline.plan))
    if form.is_valid():
        try:
            services.extension_grant(
                actor=request.user,
                deadline=deadline,
                unit=form.cleaned_data["unit"],
                until=form.cleaned_data["until"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(unit)s may submit until %(date)s.")
                % {
                    "unit": form.cleaned_data["unit"].name,
                    "date": form.cleaned_data["until"].strftime("%d/%m/%Y"),
                },
            )
            return _detail(deadline)
    return _render_detail(request, deadline, extension_form=form, status=400)


@login_required
@require_POST
def deadline_extension_revoke_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    deadline = get_deadline_for_user(request.user, public_id)
    _require(request.user, deadline.plan, REVIEWERS)
    try:
        services.extension_revoke(
            actor=request.user, deadline=deadline, extension_id=request.POST.get("extension")
        )
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The extension was ended."))
    return _detail(deadline)


# --- The calendar ----------------------------------------------------------------------


def calendar_units(user: Any) -> QuerySet[AdministrativeUnit]:
    """Units whose calendar the user may open (down to the wards)."""
    return units_for_user(user).exclude(level=Level.NEIGHBOURHOOD).order_by("depth", "sort_name")


def _year(value: Any, default: int) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if 2000 <= year <= 2100 else default


@login_required
@require_GET
def calendar_view(request: AuthedRequest) -> HttpResponse:
    """What a unit must do in a year and what is late, month by month."""
    today = timezone.localdate()
    year = _year(request.GET.get("year"), today.year)
    if request.GET.get("unit"):
        unit: AdministrativeUnit | None = get_unit_for_user(request.user, request.GET["unit"])
    else:
        unit = home_units(request.user).first()
    rows = calendar_for_unit(unit=unit, year=year, today=today) if unit is not None else []
    context = {
        "unit": unit,
        "year": year,
        "years": list(range(today.year - 2, today.year + 3)),
        "units": calendar_units(request.user)[:2000],
        "months": group_by_month(rows),
        "today": today,
        "row_count": len(rows),
    }
    return render(request, "campaigns/calendar.html", context)

"""Unit browser and unit edits. Every lookup goes through units.selectors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from core.exceptions import ApplicationError
from core.http import AuthedRequest
from units import services
from units.forms import UnitForm, UnitMoveForm
from units.levels import Level
from units.selectors import (
    can_write,
    children_of,
    get_unit_for_user,
    home_units,
    is_admin_at,
    require_admin,
    search_units,
    units_for_user,
    visible_ancestors,
    with_child_counts,
)
from units.tables import UnitTable


@login_required
def unit_browser(request: AuthedRequest) -> HttpResponse:
    """The tree from the user's top units, with search by name or code."""
    q = request.GET.get("q", "").strip()
    level = request.GET.get("level", "")
    if level not in Level.values:
        level = ""
    table = None
    if q or level:
        results = search_units(
            with_child_counts(units_for_user(request.user)).select_related("parent"),
            q=q,
            level=level,
            current_only=request.GET.get("current") == "1",
            on=timezone.localdate(),
        ).order_by("path")
        table = UnitTable(results)
        RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {
        "roots": with_child_counts(home_units(request.user)),
        "q": q,
        "level": level,
        "levels": Level.choices,
        "table": table,
    }
    return render(request, "units/unit_browser.html", context)


@login_required
def unit_children(request: AuthedRequest, public_id: str) -> HttpResponse:
    """htmx partial: the direct children of one node of the tree."""
    unit = get_unit_for_user(request.user, public_id)
    return render(request, "units/_children.html", {"unit": unit, "children": children_of(unit)})


@login_required
def unit_detail(request: AuthedRequest, public_id: str) -> HttpResponse:
    unit = get_unit_for_user(request.user, public_id)
    context = {
        "unit": unit,
        "breadcrumb": visible_ancestors(request.user, unit),
        "children": children_of(unit),
        "can_write": can_write(request.user, unit),
        "can_admin": is_admin_at(request.user, unit),
        "successors": unit.successors.all(),
        "predecessors": unit.predecessors.all(),
    }
    return render(request, "units/unit_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def unit_create(request: AuthedRequest, public_id: str) -> HttpResponse:
    parent = get_unit_for_user(request.user, public_id)
    require_admin(request.user, parent)
    form = UnitForm(request.POST or None, parent=parent, initial={"valid_from": parent.valid_from})
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(
                actor=request.user,
                tenant=parent.tenant,
                parent=parent,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
                valid_from=form.cleaned_data["valid_from"],
                valid_to=form.cleaned_data["valid_to"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Unit %(name)s was created.") % {"name": unit.name})
            return redirect(unit.get_absolute_url())
    return render(request, "units/unit_form.html", {"form": form, "parent": parent, "unit": None})


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request: AuthedRequest, public_id: str) -> HttpResponse:
    unit = get_unit_for_user(request.user, public_id)
    require_admin(request.user, unit)
    if unit.parent is None:
        raise PermissionDenied
    initial = {
        "name": unit.name,
        "code": unit.code,
        "kind": unit.kind,
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
        "version": unit.version,
    }
    form = UnitForm(request.POST or None, parent=unit.parent, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_update(
                actor=request.user,
                unit=unit,
                expected_version=form.cleaned_data["version"] or 0,
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
                kind=form.cleaned_data["kind"],
                valid_from=form.cleaned_data["valid_from"],
                valid_to=form.cleaned_data["valid_to"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Changes saved."))
            return redirect(unit.get_absolute_url())
    return render(
        request, "units/unit_form.html", {"form": form, "parent": unit.parent, "unit": unit}
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_move(request: AuthedRequest, public_id: str) -> HttpResponse:
    unit = get_unit_for_user(request.user, public_id)
    require_admin(request.user, unit)
    if unit.parent is None:
        raise PermissionDenied
    form = UnitMoveForm(request.POST or None, initial={"version": unit.version})
    if request.method == "POST" and form.is_valid():
        new_parent = get_unit_for_user(request.user, form.cleaned_data["new_parent"])
        require_admin(request.user, new_parent)
        try:
            services.unit_move(
                actor=request.user,
                unit=unit,
                new_parent=new_parent,
                expected_version=form.cleaned_data["version"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Unit moved."))
            return redirect(unit.get_absolute_url())
    candidates = (
        units_for_user(request.user)
        .filter(level=unit.parent.level)
        .exclude(parent=None)
        .exclude(pk=unit.parent.pk)
        .order_by("sort_name")[:500]
    )
    return render(
        request,
        "units/unit_move.html",
        {"form": form, "unit": unit, "candidates": candidates},
    )

"""Screens of the reorganisation plans: list, create, import of the official code
mapping, steps, preview, apply, cancel, and the roles flagged for reassignment.
Thin: reads through the selectors, writes through the services; only tenant
administrators reach them (others 403, other tenants' plans 404)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.forms import formset_factory
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.http import AuthedRequest
from spreadsheets.exceptions import FileRejected
from units.levels import Kind, Level
from units.models import AdministrativeUnit
from units.reorganisation import selectors, services
from units.reorganisation.exceptions import ReorganisationConflictError
from units.reorganisation.forms import (
    MappingImportForm,
    MergeForm,
    MoveForm,
    PlanForm,
    RecodeForm,
    RenameForm,
    ResolveForm,
    SplitForm,
    SplitTargetForm,
    StepRemoveForm,
    VersionForm,
)
from units.reorganisation.mapping import (
    MappingFileError,
    RowError,
    mapping_import,
    mapping_template,
    plan_warnings,
)
from units.reorganisation.models import (
    Reorganisation,
    ReorganisationSource,
    ReorganisationStatus,
    StepKind,
)
from units.selectors import (
    is_tenant_admin,
    public_id_or_none,
    search_units,
    units_for_user,
)

STEP_FORMS: dict[str, Any] = {
    StepKind.MERGE: MergeForm,
    StepKind.SPLIT: SplitForm,
    StepKind.RENAME: RenameForm,
    StepKind.RECODE: RecodeForm,
    StepKind.MOVE: MoveForm,
}
MAX_CHOICES = 500
SplitTargets = formset_factory(SplitTargetForm, extra=4, max_num=20)


def _require_planner(request: AuthedRequest) -> None:
    """Only tenant administrators plan reorganisations (others: 403)."""
    if not is_tenant_admin(request.user):
        raise PermissionDenied


def _plan(request: AuthedRequest, public_id: str) -> Reorganisation:
    _require_planner(request)
    return selectors.get_reorganisation_for_user(request.user, public_id)


def _in_force(request: AuthedRequest, on: dt.date) -> QuerySet[AdministrativeUnit]:
    return (
        units_for_user(request.user)
        .filter(valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .select_related("parent")
    )


def _candidates(request: AuthedRequest, plan: Reorganisation) -> QuerySet[AdministrativeUnit]:
    """Units in force on the plan's date, narrowed by the search box (name or code)."""
    units = _in_force(request, plan.effective_on).exclude(parent=None)
    q = request.GET.get("q", "").strip()
    level = request.GET.get("level", "")
    if q or level in Level.values:
        units = search_units(units, q=q, level=level if level in Level.values else "")
    return _limited(units)


def _limited(units: QuerySet[AdministrativeUnit]) -> QuerySet[AdministrativeUnit]:
    """The first choices by path, as an unsliced queryset the form can look values up in."""
    pks = list(units.order_by("path").values_list("pk", flat=True)[:MAX_CHOICES])
    return AdministrativeUnit.objects.filter(pk__in=pks).select_related("parent").order_by("path")


def _kind_labels() -> dict[str, str]:
    return {str(value): str(label) for value, label in Kind.choices}


@login_required
def plan_list(request: AuthedRequest) -> HttpResponse:
    plans = selectors.plans_for_reader(request.user)
    context = {"plans": plans, "can_edit": is_tenant_admin(request.user)}
    return render(request, "units/reorganisation/plan_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: AuthedRequest) -> HttpResponse:
    _require_planner(request)
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.reorganisation_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Plan %(name)s was created.") % {"name": plan.name})
            return redirect("units:reorganisation-detail", public_id=plan.public_id)
    return render(request, "units/reorganisation/plan_form.html", {"form": form})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def mapping_template_download(request: AuthedRequest) -> HttpResponse:
    """The empty template of the official mapping file ("Tải mẫu")."""
    _require_planner(request)
    out = io.BytesIO()
    mapping_template(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="mau-bang-chuyen-doi-ma-xa.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def plan_import(request: AuthedRequest) -> HttpResponse:
    """Import the official old → new code mapping as a draft plan. A file with
    errors creates nothing and lists every error with its row and column; a clean
    file opens the new plan's preview."""
    _require_planner(request)
    form = MappingImportForm(request.POST or None, request.FILES or None)
    errors: list[RowError] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = mapping_import(
                actor=request.user,
                file=upload,
                filename=upload.name,
                name=form.cleaned_data["name"],
                legal_basis=form.cleaned_data["legal_basis"],
                abolish_level=form.cleaned_data["abolish_level"],
            )
        except MappingFileError as exc:
            errors = exc.errors
            form.add_error(None, str(exc))
        except FileRejected as exc:
            form.add_error("file", str(exc))
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            plan = result.plan
            count = len(result.preview.steps)
            messages.success(
                request,
                ngettext(
                    "Plan %(name)s was created from the mapping file with %(count)d step.",
                    "Plan %(name)s was created from the mapping file with %(count)d steps.",
                    count,
                )
                % {"name": plan.name, "count": count},
            )
            return redirect("units:reorganisation-preview", public_id=plan.public_id)
    context = {"form": form, "errors": errors}
    return render(request, "units/reorganisation/plan_import.html", context)


def _step_rows(plan: Reorganisation) -> list[dict[str, Any]]:
    rows = []
    for step, sources in selectors.plan_steps(plan):
        rows.append({"step": step, "sources": sources, "targets": step.targets})
    return rows


@login_required
def plan_detail(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = selectors.get_plan_for_reader(request.user, public_id)
    can_edit = is_tenant_admin(request.user)
    context = {
        "plan": plan,
        "can_edit": can_edit,
        "steps": _step_rows(plan),
        "kinds": StepKind.choices,
        "kind_labels": _kind_labels(),
        "is_draft": can_edit and plan.status == ReorganisationStatus.DRAFT,
        "reassignments": selectors.reassignments_for_user(request.user).filter(plan=plan).count(),
    }
    return render(request, "units/reorganisation/plan_detail.html", context)


def _targets(kind: str, data: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """The sources and targets of a step from a valid form's cleaned data."""
    if kind == StepKind.MERGE:
        target = {"code": data["code"], "name": data["name"], "kind": data["kind"]}
        target["parent"] = data.get("parent")
        return list(data["sources"]), [target]
    if kind == StepKind.RENAME:
        return [data["source"]], [{"name": data["name"]}]
    if kind == StepKind.RECODE:
        return [data["source"]], [{"code": data["code"]}]
    return [data["source"]], [{"parent": data["parent"]}]


@login_required
@require_http_methods(["GET", "POST"])
def step_add(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Add one step of the kind chosen (``?kind=merge|split|rename|recode|move``)."""
    plan = _plan(request, public_id)
    kind = request.GET.get("kind") or StepKind.MERGE
    if kind not in STEP_FORMS:
        kind = StepKind.MERGE
    units = _candidates(request, plan)
    parents = _limited(_in_force(request, plan.effective_on).exclude(level=Level.NEIGHBOURHOOD))
    data = request.POST if request.method == "POST" else None
    form = STEP_FORMS[kind](data, units=units, parents=parents, initial={"version": plan.version})
    if kind == StepKind.SPLIT and request.method == "GET" and request.GET.get("source"):
        form = SplitForm(
            initial={"version": plan.version, "source": request.GET["source"]},
            units=units,
            parents=parents,
        )
    source = _split_source(request, plan, form) if kind == StepKind.SPLIT else None
    children = (
        _in_force(request, plan.effective_on).filter(parent=source).order_by("path")
        if source is not None
        else AdministrativeUnit.objects.none()
    )
    targets = SplitTargets(data, prefix="t", form_kwargs={"children": children})
    if request.method == "POST" and form.is_valid():
        try:
            if kind == StepKind.SPLIT:
                sources, new_units = _split_targets(form, targets)
            else:
                sources, new_units = _targets(kind, form.cleaned_data)
            if new_units is not None:
                services.step_add(
                    actor=request.user,
                    plan=plan,
                    kind=kind,
                    sources=sources,
                    targets=new_units,
                    expected_version=form.cleaned_data["version"],
                )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            if new_units is not None:
                messages.success(request, _("The step was added to the plan."))
                return redirect("units:reorganisation-detail", public_id=plan.public_id)
    context = {
        "plan": plan,
        "form": form,
        "kind": kind,
        "kind_label": StepKind(kind).label,
        "kinds": StepKind.choices,
        "targets": targets,
        "split_source": source,
        "q": request.GET.get("q", ""),
        "level": request.GET.get("level", ""),
        "levels": Level.choices,
    }
    return render(request, "units/reorganisation/step_form.html", context)


def _split_source(
    request: AuthedRequest, plan: Reorganisation, form: Any
) -> AdministrativeUnit | None:
    raw = request.POST.get("source") if request.method == "POST" else request.GET.get("source")
    parsed = public_id_or_none(raw) if raw else None
    if parsed is None:
        return None
    return form.fields["source"].queryset.filter(public_id=parsed).first()  # type: ignore[no-any-return]


def _split_targets(form: Any, targets: Any) -> tuple[list[Any], list[dict[str, Any]] | None]:
    """The split's new units from the formset; errors go on the form (None: invalid)."""
    source = form.cleaned_data["source"]
    if not targets.is_valid():
        form.add_error(None, _("Correct the new units below."))
        return [source], None
    rows = [
        {
            "code": row["code"],
            "name": row["name"],
            "kind": row["kind"],
            "neighbourhoods": list(row.get("neighbourhoods") or []),
            "default": bool(row.get("default")),
        }
        for row in targets.cleaned_data
        if row and row.get("code")
    ]
    if len(rows) < 2:
        form.add_error(None, _("A split creates two or more new units."))
        return [source], None
    if sum(1 for r in rows if r["default"]) != 1:
        form.add_error(None, _("Mark exactly one new unit as taking the unit's own subjects."))
        return [source], None
    return [source], rows


@login_required
@require_POST
def step_remove(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _plan(request, public_id)
    form = StepRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request was not valid: reload the page."))
        return redirect("units:reorganisation-detail", public_id=plan.public_id)
    step = selectors.get_step_for_user(request.user, plan, form.cleaned_data["step"])
    try:
        services.step_remove(
            actor=request.user, step=step, expected_version=form.cleaned_data["version"]
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The step was removed."))
    return redirect("units:reorganisation-detail", public_id=plan.public_id)


def _preview_context(
    plan: Reorganisation, conflicts: list[Any] | None = None, *, can_edit: bool = True
) -> dict[str, Any]:
    preview = services.reorganisation_preview(plan=plan)
    is_draft = plan.status == ReorganisationStatus.DRAFT
    imported = plan.source == ReorganisationSource.IMPORT
    return {
        "plan": plan,
        "preview": preview,
        "steps": [(step, StepKind(step.kind).label) for step in preview.steps],
        "conflicts": conflicts if conflicts is not None else preview.conflicts,
        "notices": preview.notices,
        "kind_labels": _kind_labels(),
        "level_labels": {str(v): str(lbl) for v, lbl in Level.choices},
        "is_draft": can_edit and is_draft,
        "warnings": plan_warnings(plan) if imported and is_draft else [],
    }


@login_required
def plan_preview(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = selectors.get_plan_for_reader(request.user, public_id)
    context = _preview_context(plan, can_edit=is_tenant_admin(request.user))
    return render(request, "units/reorganisation/plan_preview.html", context)


@login_required
@require_POST
def plan_apply(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _plan(request, public_id)
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request was not valid: reload the page."))
        return redirect("units:reorganisation-preview", public_id=plan.public_id)
    try:
        plan = services.reorganisation_apply(
            actor=request.user, plan=plan, expected_version=form.cleaned_data["version"]
        )
    except ReorganisationConflictError as exc:
        context = _preview_context(plan, conflicts=exc.conflicts)
        context["error"] = str(exc)
        return render(request, "units/reorganisation/plan_preview.html", context, status=409)
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("units:reorganisation-preview", public_id=plan.public_id)
    messages.success(request, _("The plan was applied."))
    return redirect("units:reorganisation-detail", public_id=plan.public_id)


@login_required
@require_POST
def plan_cancel(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _plan(request, public_id)
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request was not valid: reload the page."))
    else:
        try:
            services.reorganisation_cancel(
                actor=request.user, plan=plan, expected_version=form.cleaned_data["version"]
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The plan was cancelled."))
    return redirect("units:reorganisation-detail", public_id=plan.public_id)


@login_required
def reassignment_list(request: AuthedRequest) -> HttpResponse:
    _require_planner(request)
    rows = selectors.reassignments_for_user(request.user)
    return render(request, "units/reorganisation/reassignment_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def reassignment_resolve(request: AuthedRequest, public_id: str) -> HttpResponse:
    _require_planner(request)
    row = selectors.get_reassignment_for_user(request.user, public_id)
    form = ResolveForm(request.POST or None, choices=selectors.successor_choices(row))
    if request.method == "POST" and form.is_valid():
        try:
            services.role_reassignment_resolve(
                actor=request.user, reassignment=row, units=form.cleaned_data["units"]
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The role was reassigned."))
            return redirect("units:reassignment-list")
    return render(
        request, "units/reorganisation/reassignment_form.html", {"row": row, "form": form}
    )

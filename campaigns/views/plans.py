"""Screens of plans: the list (the user's plans and the plans above that their
units implement), a new plan, and the plan page — header, text sections,
phases, targets (with the inherited value beside each), deadlines, the units
that have derived it and the one-step "make our unit's plan", and the PDF.

Lookups go through campaigns.selectors.plans (404 outside what the user may
see); writes need a planner's role at the issuing unit (403 for a read-only
user, or for a ward official reading the district's plan). Refusals of the
services come back as a message beside the part of the page they concern.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_tables2 as tables
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from campaigns.documents import pdf_file_name, render_plan_pdf
from campaigns.forms.plans import (
    DeriveForm,
    PhaseForm,
    PlanCreateForm,
    PlanEditForm,
    SectionForm,
    TargetForm,
)
from campaigns.models import Plan, ReviewKind, TargetKind
from campaigns.permissions import PLANNERS, can_plan
from campaigns.selectors.plans import (
    child_plan_status,
    derive_units,
    get_phase,
    get_plan_for_user,
    get_section,
    get_target,
    plan_phases,
    plan_sections,
    plan_targets,
    plans_for_user,
)
from campaigns.services import plans as services
from core.exceptions import ApplicationError, ConcurrentEditError
from core.http import AuthedRequest
from recognition.titles import Title
from recognition.views.dossier import forbid_wrong_role
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import can_write, units_for_user

PER_PAGE = 50


def planner_units(user: Any) -> QuerySet[AdministrativeUnit]:
    """Units where the user may write plans (administrators, reviewers, ward officials)."""
    return (
        units_for_user(user, roles=PLANNERS)
        .filter(level__in=[Level.PROVINCE, Level.DISTRICT, Level.COMMUNE])
        .order_by("depth", "sort_name")
    )


def may_plan(user: Any, plan: Plan) -> bool:
    return can_plan(user, plan.issuing_unit) and can_write(user, plan.issuing_unit)


def _writable(request: AuthedRequest, public_id: str) -> Plan:
    """404 outside what the user may see, 403 where they may only read."""
    plan = get_plan_for_user(request.user, public_id)
    if not may_plan(request.user, plan):
        raise PermissionDenied
    return plan


def _detail(plan: Plan, anchor: str = "") -> HttpResponse:
    url = reverse("campaigns:plan-detail", kwargs={"public_id": plan.public_id})
    return redirect(f"{url}#{anchor}" if anchor else url)


def value_input(value: Decimal) -> str:
    """70.00 -> "70", 72.50 -> "72,5" (no grouping: it goes into an input)."""
    number = Decimal(value).normalize()
    if number == number.to_integral_value():
        return str(int(number))
    return f"{number:f}".replace(".", ",")


# --- List and create -----------------------------------------------------------------


class PlanTable(tables.Table):
    reference = tables.Column(
        verbose_name=gettext_lazy("Number and symbol"),
        empty_values=(),
        order_by=("number",),
        linkify=lambda record: reverse(
            "campaigns:plan-detail", kwargs={"public_id": record.public_id}
        ),
    )
    title = tables.Column(
        verbose_name=gettext_lazy("Title"),
        linkify=lambda record: reverse(
            "campaigns:plan-detail", kwargs={"public_id": record.public_id}
        ),
    )
    issuing_unit = tables.Column(
        verbose_name=gettext_lazy("Issuing unit"),
        accessor="issuing_unit__name",
        order_by="issuing_unit__path",
    )
    period = tables.Column(
        verbose_name=gettext_lazy("Period"), empty_values=(), order_by=("start_year", "end_year")
    )
    parent = tables.Column(
        verbose_name=gettext_lazy("Implements"), empty_values=(), orderable=False
    )

    class Meta:
        attrs = {"class": "table table-hover align-middle", "data-testid": "plans"}
        empty_text = gettext_lazy("No plan yet.")

    def render_reference(self, record: Plan) -> str:
        return record.reference or _("Draft")

    def render_period(self, record: Plan) -> str:
        return f"{record.start_year}–{record.end_year}"

    def render_parent(self, record: Plan) -> str:
        if record.parent is None:
            return "—"
        parent = record.parent
        ref = parent.reference or parent.title[:60]
        return f"{ref} ({parent.issuing_unit.name})"


@login_required
@require_GET
def plan_list_view(request: AuthedRequest) -> HttpResponse:
    """The plans of the user's units and of the units above them."""
    queryset = plans_for_user(request.user)
    year = request.GET.get("year", "").strip()
    if year.isdigit():
        queryset = queryset.filter(start_year__lte=int(year), end_year__gte=int(year))
    table = PlanTable(
        queryset.order_by("issuing_unit__depth", "-start_year", "issuing_unit__sort_name")
    )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {
        "table": table,
        "year": year if year.isdigit() else "",
        "can_create": planner_units(request.user).exists(),
    }
    return render(request, "campaigns/plan_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_create_view(request: AuthedRequest) -> HttpResponse:
    units = planner_units(request.user)
    if not units.exists():
        raise PermissionDenied
    form = PlanCreateForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_create(
                actor=request.user,
                issuing_unit=data["issuing_unit"],
                title=data["title"],
                start_year=data["start_year"],
                end_year=data["end_year"],
                number=data.get("number"),
                symbol=data.get("symbol") or "KH-UBND",
                issued_on=data.get("issued_on"),
                legal_bases=data.get("legal_bases") or "",
                signer_title=data.get("signer_title") or "",
                signer_name=data.get("signer_name") or "",
                recipients=data.get("recipients") or "",
            )
        except ApplicationError as exc:
            forbid_wrong_role(exc)
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("The plan was created: add its text, phases and targets below.")
            )
            return _detail(plan)
    status = 400 if request.method == "POST" else 200
    return render(request, "campaigns/plan_create.html", {"form": form}, status=status)


# --- The plan page -------------------------------------------------------------------


def _deadline_list_url() -> str:
    try:
        return reverse("campaigns:deadline-list")
    except NoReverseMatch:
        return ""


def _target_units(plan: Plan) -> QuerySet[AdministrativeUnit]:
    """The plan's unit and the units right under it (for overrides)."""
    unit = plan.issuing_unit
    return AdministrativeUnit.objects.filter(
        tenant_id=unit.tenant_id, path__startswith=unit.path, depth__lte=unit.depth + 1
    ).order_by("depth", "sort_name")


def detail_context(
    request: AuthedRequest, plan: Plan, *, error: tuple[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    editable = may_plan(request.user, plan)
    targets = list(plan_targets(plan))
    for target in targets:
        target.display = services.format_value(target.value, target.kind)  # type: ignore[attr-defined]
        target.input = value_input(target.value)  # type: ignore[attr-defined]
        source = target.source
        target.inherited = (  # type: ignore[attr-defined]
            services.format_value(source.value, source.kind) if source is not None else ""
        )
    phases = list(plan_phases(plan))
    deadlines = list(plan.deadlines.select_related("source").order_by("due_on", "pk"))
    levels = dict(Level.choices)
    for deadline in deadlines:
        deadline.level_label = levels.get(deadline.level, deadline.level)  # type: ignore[attr-defined]
    derive = derive_units(request.user, plan)
    context: dict[str, Any] = {
        "plan": plan,
        "editable": editable,
        "sections": list(plan_sections(plan)),
        "phases": phases,
        "targets": targets,
        "deadlines": deadlines,
        "deadline_list_url": _deadline_list_url(),
        "children": child_plan_status(plan),
        "derive_form": DeriveForm(units=derive) if derive.exists() else None,
        "review_kinds": ReviewKind.choices,
        "target_kinds": TargetKind.choices,
        "titles": Title.choices,
        "error_area": error[0] if error else "",
        "error_message": error[1] if error else "",
    }
    if editable:
        context.update(
            header_form=PlanEditForm(initial=PlanEditForm.initial_for(plan)),
            target_units=list(_target_units(plan)),
        )
    context.update(extra)
    return context


def _render_detail(
    request: AuthedRequest, plan: Plan, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(
        request, "campaigns/plan_detail.html", detail_context(request, plan, **extra), status=status
    )


def _refused(request: AuthedRequest, plan: Plan, area: str, exc: ApplicationError) -> HttpResponse:
    """The plan page again, the refusal beside the part it concerns; nothing saved."""
    forbid_wrong_role(exc)
    return _render_detail(request, plan, status=400, error=(area, str(exc)))


def _form_refused(request: AuthedRequest, plan: Plan, area: str, form: Any) -> HttpResponse:
    problems = [
        f"{form.fields[f].label}: {' '.join(e)}" if f != "__all__" else " ".join(e)
        for f, e in form.errors.items()
    ]
    return _render_detail(request, plan, status=400, error=(area, " ".join(problems)))


@login_required
@require_http_methods(["GET", "POST"])
def plan_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The plan; a POST saves its header (with the version read)."""
    if request.method == "GET":
        return _render_detail(request, get_plan_for_user(request.user, public_id))
    plan = _writable(request, public_id)
    form = PlanEditForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, plan, status=400, header_form=form, error=("header", ""))
    data = dict(form.cleaned_data)
    version = data.pop("version")
    try:
        services.plan_update(actor=request.user, plan=plan, expected_version=version, data=data)
    except ConcurrentEditError:
        plan.refresh_from_db()
        posted = request.POST.copy()
        posted["version"] = str(plan.version)
        form = PlanEditForm(posted)
        form.is_valid()
        form.add_error(
            None,
            _(
                "Someone else changed this plan while you were editing it. Your text is kept "
                "below: check it and save again to apply it."
            ),
        )
        return _render_detail(request, plan, status=409, header_form=form, error=("header", ""))
    except ApplicationError as exc:
        forbid_wrong_role(exc)
        form.add_error(None, str(exc))
        return _render_detail(request, plan, status=400, header_form=form, error=("header", ""))
    messages.success(request, _("The plan was saved."))
    return _detail(plan)


@login_required
@require_POST
def plan_derive_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Make the plan of a unit under this plan's unit, implementing it, in one step."""
    plan = get_plan_for_user(request.user, public_id)
    units = derive_units(request.user, plan)
    if not units.exists():
        raise PermissionDenied
    form = DeriveForm(request.POST, units=units)
    if not form.is_valid():
        return _form_refused(request, plan, "children", form)
    try:
        child = services.plan_derive(
            actor=request.user, parent=plan, issuing_unit=form.cleaned_data["issuing_unit"]
        )
    except ApplicationError as exc:
        return _refused(request, plan, "children", exc)
    messages.success(
        request,
        _(
            "The plan of %(unit)s was made from %(parent)s with its sections, phases, targets "
            "and deadlines: tighten them where the unit aims higher."
        )
        % {"unit": child.issuing_unit.name, "parent": plan.reference or plan.title},
    )
    return _detail(child)


# --- Sections, phases, targets -----------------------------------------------------------


@login_required
@require_POST
def section_save_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _writable(request, public_id)
    form = SectionForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, plan, "sections", form)
    data = form.cleaned_data
    try:
        if data.get("section"):
            section = get_section(plan, data["section"])
            services.section_update(
                actor=request.user, section=section, heading=data["heading"], body=data["body"]
            )
        else:
            section = services.section_add(
                actor=request.user, plan=plan, heading=data["heading"], body=data["body"]
            )
    except ApplicationError as exc:
        return _refused(request, plan, "sections", exc)
    messages.success(request, _("The section was saved."))
    return _detail(plan, f"section-{section.pk}")


@login_required
@require_POST
def section_delete_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _writable(request, public_id)
    section = get_section(plan, request.POST.get("section"))
    try:
        services.section_delete(actor=request.user, section=section)
    except ApplicationError as exc:
        return _refused(request, plan, "sections", exc)
    messages.success(request, _("The section was deleted."))
    return _detail(plan, "sections")


@login_required
@require_POST
def section_move_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _writable(request, public_id)
    section = get_section(plan, request.POST.get("section"))
    offset = -1 if request.POST.get("direction") == "up" else 1
    try:
        services.section_move(actor=request.user, section=section, offset=offset)
    except ApplicationError as exc:
        return _refused(request, plan, "sections", exc)
    return _detail(plan, f"section-{section.pk}")


@login_required
@require_POST
def phase_save_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _writable(request, public_id)
    form = PhaseForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, plan, "phases", form)
    data = dict(form.cleaned_data)
    phase_id = data.pop("phase", None)
    phase = get_phase(plan, phase_id) if phase_id else None
    try:
        services.phase_save(actor=request.user, plan=plan, data=data, phase=phase)
    except ApplicationError as exc:
        return _refused(request, plan, "phases", exc)
    messages.success(request, _("The phase was saved."))
    return _detail(plan, "phases")


@login_required
@require_POST
def phase_delete_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _writable(request, public_id)
    phase = get_phase(plan, request.POST.get("phase"))
    try:
        services.phase_delete(actor=request.user, phase=phase)
    except ApplicationError as exc:
        return _refused(request, plan, "phases", exc)
    messages.success(request, _("The phase was deleted."))
    return _detail(plan, "phases")


@login_required
@require_POST
def target_save_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _writable(request, public_id)
    target = get_target(plan, request.POST["target"]) if request.POST.get("target") else None
    posted = request.POST.copy()
    if target is not None:
        # An inherited row keeps its unit, title, year and kind: only the value is posted.
        posted.setdefault("unit", str(target.unit.public_id))
        posted.setdefault("title", target.title)
        posted.setdefault("year", str(target.year))
        posted.setdefault("kind", target.kind)
    form = TargetForm(posted, units=_target_units(plan))
    if not form.is_valid():
        return _form_refused(request, plan, "targets", form)
    data = form.cleaned_data
    try:
        services.target_save(
            actor=request.user,
            plan=plan,
            unit=data["unit"],
            title=data["title"],
            year=data["year"],
            kind=data["kind"],
            value=data["value"],
            target=target,
        )
    except ApplicationError as exc:
        return _refused(request, plan, "targets", exc)
    messages.success(request, _("The target was saved."))
    return _detail(plan, "targets")


@login_required
@require_POST
def target_delete_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    plan = _writable(request, public_id)
    target = get_target(plan, request.POST.get("target"))
    try:
        services.target_delete(actor=request.user, target=target)
    except ApplicationError as exc:
        return _refused(request, plan, "targets", exc)
    messages.success(request, _("The target was deleted."))
    return _detail(plan, "targets")


# --- The PDF -----------------------------------------------------------------------------


@login_required
@require_GET
def plan_pdf_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The plan in the state format (rendered now: a plan is a few pages)."""
    plan = get_plan_for_user(request.user, public_id)
    content = render_plan_pdf(plan)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_file_name(plan)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response

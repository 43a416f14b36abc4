"""Screens of reports: the list (per unit and plan, finalised ones grouped by
plan), a new draft, the detail with its sections editor, the build with its
progress bar, the downloads and finalising.

Every lookup goes through reports.report_services.get_report_for_user and
units.selectors (404 outside the user's subtrees); writes need a writing role
at the report's unit (403 read-only); refusals come back as messages.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.models import Phase, Plan
from campaigns.selectors.plans import plans_for_user
from core.exceptions import ApplicationError
from core.http import AuthedRequest
from core.selectors import jobs_for_object
from core.views_jobs import progress_context
from reports import report_services as services
from reports.report_models import Report, ReportKind, ReportStatus, ReportView
from units.models import AdministrativeUnit
from units.selectors import (
    can_write,
    children_of,
    get_unit_for_user,
    home_units,
    parse_public_id,
    require_write,
)

PER_PAGE = 50
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _unit_choices(user: Any) -> list[tuple[str, str]]:
    """The user's top units and their current children where they may write."""
    choices: list[tuple[str, str]] = []
    for home in home_units(user):
        for unit in [home, *children_of(home).filter(valid_to__isnull=True)]:
            if can_write(user, unit):
                choices.append((str(unit.public_id), unit.name))
    return choices


class ReportCreateForm(forms.Form):
    unit = forms.ChoiceField(label=gettext_lazy("Unit"))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ReportKind.choices)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    plan = forms.ChoiceField(label=gettext_lazy("Plan"), required=False)
    phase = forms.ChoiceField(
        label=gettext_lazy("Phase (interim and final reviews)"), required=False
    )
    view = forms.ChoiceField(
        label=gettext_lazy("Units"),
        choices=ReportView.choices,
        initial=ReportView.THEN,
        required=False,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Across an administrative reorganisation: the units as they were in the "
            "report's year, or their figures added to the units in force today."
        ),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        cast(forms.ChoiceField, self.fields["unit"]).choices = _unit_choices(user)
        plans = list(plans_for_user(user).order_by("-start_year", "issuing_unit__path")[:200])
        cast(forms.ChoiceField, self.fields["plan"]).choices = [("", "—")] + [
            (str(p.public_id), str(p)) for p in plans
        ]
        phases = Phase.objects.filter(plan__in=plans).select_related("plan")
        cast(forms.ChoiceField, self.fields["phase"]).choices = [("", "—")] + [
            (str(ph.pk), f"{ph} — {ph.get_review_kind_display()} — {ph.plan.title}")
            for ph in phases.order_by("plan__start_year", "start_year", "pk")
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["view"] = data.get("view") or ReportView.THEN
        if data.get("unit"):
            data["unit_obj"] = get_unit_for_user(self.user, data["unit"])
        plan_id = data.get("plan")
        data["plan_obj"] = (
            plans_for_user(self.user).filter(public_id=parse_public_id(plan_id)).first()
            if plan_id
            else None
        )
        phase_id = data.get("phase")
        data["phase_obj"] = (
            Phase.objects.filter(pk=int(phase_id), plan__in=plans_for_user(self.user))
            .select_related("plan", "plan__issuing_unit")
            .first()
            if phase_id and phase_id.isdigit()
            else None
        )
        return data


@login_required
@require_GET
def report_list_view(request: AuthedRequest) -> HttpResponse:
    reports = services.reports_for_user(request.user)
    unit: AdministrativeUnit | None = None
    plan: Plan | None = None
    if request.GET.get("unit"):
        unit = get_unit_for_user(request.user, request.GET["unit"])
        reports = reports.filter(unit__path__startswith=unit.path)
    if request.GET.get("plan"):
        plan = (
            plans_for_user(request.user)
            .filter(public_id=parse_public_id(request.GET["plan"]))
            .first()
        )
        if plan is None:
            raise Http404
        reports = reports.filter(plan=plan)
    status = request.GET.get("status", "")
    if status in ReportStatus.values:
        reports = reports.filter(status=status)
    finalised: dict[str, list[Report]] = defaultdict(list)
    for report in reports.filter(status=ReportStatus.FINALISED).order_by(
        "plan__start_year", "plan_id", "-year", "unit__path"
    )[:500]:
        finalised[str(report.plan) if report.plan else _("Without a plan")].append(report)
    page = Paginator(reports.order_by("-created_at"), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/report_list.html",
        {
            "page": page,
            "finalised": dict(finalised),
            "unit": unit,
            "plan": plan,
            "status": status,
            "statuses": ReportStatus.choices,
            "can_create": bool(_unit_choices(request.user)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_create_view(request: AuthedRequest) -> HttpResponse:
    initial: dict[str, Any] = {
        "year": timezone.localdate().year,
        "kind": ReportKind.YEARLY,
        "view": ReportView.THEN,
    }
    if request.GET.get("unit"):
        initial["unit"] = str(get_unit_for_user(request.user, request.GET["unit"]).public_id)
    form = ReportCreateForm(request.POST or None, user=request.user, initial=initial)
    if not cast(forms.ChoiceField, form.fields["unit"]).choices:
        raise PermissionDenied  # read-only everywhere
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = services.report_create(
                actor=request.user,
                unit=data["unit_obj"],
                kind=data["kind"],
                year=data["year"],
                plan=data["plan_obj"],
                phase=data["phase_obj"],
                view=data["view"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The draft report was created."))
            return redirect("reports:report-detail", public_id=report.public_id)
    return render(request, "reports/report_create.html", {"form": form})


def _detail_context(request: AuthedRequest, report: Report) -> dict[str, Any]:
    job = (
        jobs_for_object(request.user, report, kind=services.BUILD_KIND)
        .order_by("-created_at")
        .first()
    )
    return {
        "report": report,
        "heading": services.report_heading(report),
        "can_edit": report.is_draft and can_write(request.user, report.unit),
        "sections": report.section_list(),
        "figures": report.figures,
        "job": progress_context(job, reload=True) if job else None,
    }


@login_required
@require_http_methods(["GET", "POST"])
def report_detail_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The report; a POST saves the narrative sections of a draft."""
    report = services.get_report_for_user(request.user, public_id)
    if request.method == "POST":
        require_write(request.user, report.unit)
        headings = request.POST.getlist("heading")
        bodies = request.POST.getlist("body")
        sections = [{"heading": h, "body": b} for h, b in zip(headings, bodies, strict=False)]
        try:
            services.report_update(
                actor=request.user,
                report=report,
                version=int(request.POST.get("version") or 0),
                sections=sections,
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The sections were saved. Build the report again."))
        return redirect("reports:report-detail", public_id=report.public_id)
    return render(request, "reports/report_detail.html", _detail_context(request, report))


@login_required
@require_POST
def report_build_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    report = services.get_report_for_user(request.user, public_id)
    require_write(request.user, report.unit)
    try:
        services.report_build_start(actor=request.user, report=report)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("reports:report-detail", public_id=report.public_id)


@login_required
@require_POST
def report_finalise_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    report = services.get_report_for_user(request.user, public_id)
    require_write(request.user, report.unit)
    try:
        services.report_finalise(
            actor=request.user, report=report, version=int(request.POST.get("version") or 0)
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The report is finalised."))
    return redirect("reports:report-detail", public_id=report.public_id)


def report_file_response(report: Report, fmt: str) -> FileResponse:
    """The report's PDF or XLSX as an attachment (404 if not built)."""
    if fmt not in CONTENT_TYPES:
        raise Http404
    field = report.pdf if fmt == "pdf" else report.xlsx
    if not field:
        raise Http404
    name = f"{services.file_stem(report)}.{fmt}"
    return FileResponse(
        field.open("rb"), as_attachment=True, filename=name, content_type=CONTENT_TYPES[fmt]
    )


@login_required
@require_GET
def report_pdf_view(request: AuthedRequest, public_id: str) -> FileResponse:
    return report_file_response(services.get_report_for_user(request.user, public_id), "pdf")


@login_required
@require_GET
def report_xlsx_view(request: AuthedRequest, public_id: str) -> FileResponse:
    return report_file_response(services.get_report_for_user(request.user, public_id), "xlsx")

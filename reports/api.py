"""API of reports (yearly, sơ kết, tổng kết), mounted by core.api:
``api.add_router("/reports", reports_router)``.

Scoped like the screens: a report is visible in its unit's subtree scope
(404 elsewhere), writes need a writing role at its unit (403 read-only),
refusals answer 400, a stale version or a finalised report 409. The build
answers 202 with the job: poll ``/api/v1/jobs/{id}``, then download the PDF or
the XLSX here.
"""

import datetime as dt
import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.http.response import HttpResponseBase
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from campaigns.models import Phase
from campaigns.selectors.plans import plans_for_user
from core.api_jobs import JobOut
from core.api_pagination import PageNumberPagination
from core.http import AuthedRequest
from core.models import Job
from recognition.api.dossier import UnitRef
from reports import report_services as services
from reports.report_models import Report, ReportKind, ReportStatus, ReportView
from reports.report_views import report_file_response
from units.selectors import get_unit_for_user, require_write

router = Router(tags=["report"])


class SectionIO(Schema):
    heading: str
    body: str = ""


class ReportOut(Schema):
    public_id: uuid.UUID
    unit: UnitRef
    kind: ReportKind
    year: int
    plan_id: uuid.UUID | None
    phase_id: int | None
    status: ReportStatus
    #: "then" (the units as they were) or "mapped" (onto today's units).
    view: ReportView
    version: int
    built: bool
    pdf_available: bool
    xlsx_available: bool
    built_at: dt.datetime | None
    finalised_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_plan_id(obj: Report) -> uuid.UUID | None:
        return obj.plan.public_id if obj.plan else None

    @staticmethod
    def resolve_built(obj: Report) -> bool:
        return obj.is_built

    @staticmethod
    def resolve_pdf_available(obj: Report) -> bool:
        return bool(obj.pdf)

    @staticmethod
    def resolve_xlsx_available(obj: Report) -> bool:
        return bool(obj.xlsx)


class ReportDetailOut(ReportOut):
    heading: str
    sections: list[SectionIO]
    figures: dict[str, Any]

    @staticmethod
    def resolve_heading(obj: Report) -> str:
        return services.report_heading(obj)


class ReportFilter(Schema):
    unit: uuid.UUID | None = None
    plan: uuid.UUID | None = None
    status: ReportStatus | None = None
    kind: ReportKind | None = None
    year: int | None = None


class ReportIn(Schema):
    unit: uuid.UUID
    kind: ReportKind
    year: int | None = None
    plan: uuid.UUID | None = None
    phase: int | None = None
    #: "then": the units as they were in the report's year; "mapped": their
    #: figures added to the units in force today (a unit in force today only).
    view: ReportView = ReportView.THEN


class ReportUpdateIn(Schema):
    version: int
    sections: list[SectionIO]


class VersionIn(Schema):
    version: int


def _writable(request: AuthedRequest, public_id: str) -> Report:
    report = services.get_report_for_user(request.user, public_id)
    require_write(request.user, report.unit)
    return report


def _fresh(report: Report) -> Report:
    return Report.objects.select_related("unit", "plan", "phase").get(pk=report.pk)


@router.get(
    "",
    response=list[ReportOut],
    url_name="report-list",
    summary="Reports in scope (filter by unit subtree, plan, status, kind, year; paginate)",
)
@paginate(PageNumberPagination, page_size=50)
def list_reports(request: AuthedRequest, filters: Query[ReportFilter]) -> QuerySet[Report]:
    qs = services.reports_for_user(request.user)
    if filters.unit:
        unit = get_unit_for_user(request.user, filters.unit)
        qs = qs.filter(unit__path__startswith=unit.path)
    if filters.plan:
        qs = qs.filter(plan__public_id=filters.plan)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.year:
        qs = qs.filter(year=filters.year)
    return qs.order_by("-year", "unit__path", "-created_at", "-pk")


@router.post(
    "",
    response={201: ReportDetailOut},
    url_name="report-create",
    summary="A new draft report of a unit, its sections prefilled with the figures",
)
def create_report(request: AuthedRequest, payload: ReportIn) -> Status[Report]:
    unit = get_unit_for_user(request.user, payload.unit)
    require_write(request.user, unit)
    plan = None
    if payload.plan:
        plan = plans_for_user(request.user).filter(public_id=payload.plan).first()
        if plan is None:
            raise Http404
    phase = None
    if payload.phase:
        phase = (
            Phase.objects.filter(pk=payload.phase, plan__in=plans_for_user(request.user))
            .select_related("plan", "plan__issuing_unit")
            .first()
        )
        if phase is None:
            raise Http404
    report = services.report_create(
        actor=request.user,
        unit=unit,
        kind=payload.kind,
        year=payload.year,
        plan=plan,
        phase=phase,
        view=payload.view,
    )
    return Status(201, _fresh(report))


@router.get(
    "/{public_id}",
    response=ReportDetailOut,
    url_name="report-detail",
    summary="One report: sections, the figures of its last build, files",
)
def get_report(request: AuthedRequest, public_id: str) -> Report:
    return services.get_report_for_user(request.user, public_id)


@router.patch(
    "/{public_id}",
    response=ReportDetailOut,
    url_name="report-update",
    summary="Replace the sections of a draft (send the version you read; 409 if stale)",
)
def update_report(request: AuthedRequest, public_id: str, payload: ReportUpdateIn) -> Report:
    report = _writable(request, public_id)
    services.report_update(
        actor=request.user,
        report=report,
        version=payload.version,
        sections=[s.dict() for s in payload.sections],
    )
    return _fresh(report)


@router.post(
    "/{public_id}/build",
    response={202: JobOut},
    url_name="report-build",
    summary="Build the tables, the PDF and the XLSX (202 with the job to poll)",
)
def build_report(request: AuthedRequest, public_id: str) -> Status[Job]:
    report = _writable(request, public_id)
    return Status(202, services.report_build_start(actor=request.user, report=report))


@router.post(
    "/{public_id}/finalise",
    response=ReportDetailOut,
    url_name="report-finalise",
    summary="Finalise a built draft; it is immutable afterwards",
)
def finalise_report(request: AuthedRequest, public_id: str, payload: VersionIn) -> Report:
    report = _writable(request, public_id)
    services.report_finalise(actor=request.user, report=report, version=payload.version)
    return _fresh(report)


@router.get(
    "/{public_id}/pdf",
    response={200: None},
    url_name="report-pdf",
    summary="Download the report as PDF (404 until built)",
)
def download_pdf(request: AuthedRequest, public_id: str) -> HttpResponseBase:
    return report_file_response(services.get_report_for_user(request.user, public_id), "pdf")


@router.get(
    "/{public_id}/xlsx",
    response={200: None},
    url_name="report-xlsx",
    summary="Download the report's tables as XLSX (404 until built)",
)
def download_xlsx(request: AuthedRequest, public_id: str) -> HttpResponseBase:
    return report_file_response(services.get_report_for_user(request.user, public_id), "xlsx")

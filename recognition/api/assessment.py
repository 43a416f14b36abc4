"""API of the recognition cycle: self-assessments, their scores and evidence.

Scoped like the screens: another tenant's or another subtree's assessment is a
404, a read-only user's write a 403, a refused value or file a 400 (409 for
a state, version or deadline conflict) with a code and a Vietnamese message.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.http.response import HttpResponseBase
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from core.api_pagination import PageNumberPagination
from core.http import AuthedRequest
from recognition.models import Assessment, AssessmentStatus, Evidence
from recognition.selectors.assessment import (
    DETAIL_RELATED,
    assessment_rows,
    assessment_timeline,
    assessments_for_user,
    get_assessment_for_user,
    get_evidence_for_user,
    get_registration_for_user,
    subject_label,
)
from recognition.services import assessment as services
from recognition.services import evidence as evidence_services
from recognition.titles import Title
from recognition.views.assessment import evidence_response
from units.selectors import get_unit_for_user, require_write

router = Router(tags=["assessment"])


class CriteriaSetRef(Schema):
    public_id: uuid.UUID
    code: str
    version: int
    name: str
    method: str


class AssessmentOut(Schema):
    public_id: uuid.UUID
    registration_id: uuid.UUID
    title: str
    year: int
    subject_kind: str
    subject: str
    unit_id: uuid.UUID
    unit_name: str
    status: str
    area_class: str
    criteria_set: CriteriaSetRef
    self_total: Decimal | None
    self_level: int | None
    self_grade: str
    self_passed: bool | None
    version: int
    updated_at: dt.datetime

    @staticmethod
    def resolve_registration_id(obj: Assessment) -> uuid.UUID:
        return obj.registration.public_id

    @staticmethod
    def resolve_title(obj: Assessment) -> str:
        return obj.registration.title

    @staticmethod
    def resolve_year(obj: Assessment) -> int:
        return obj.registration.year

    @staticmethod
    def resolve_subject_kind(obj: Assessment) -> str:
        return obj.registration.subject_kind

    @staticmethod
    def resolve_subject(obj: Assessment) -> str:
        return subject_label(obj.registration)

    @staticmethod
    def resolve_unit_id(obj: Assessment) -> uuid.UUID:
        return obj.unit.public_id

    @staticmethod
    def resolve_unit_name(obj: Assessment) -> str:
        return obj.unit.name


class EvidenceOut(Schema):
    public_id: uuid.UUID
    indicator_id: uuid.UUID | None
    indicator_code: str
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime

    @staticmethod
    def resolve_indicator_id(obj: Evidence) -> uuid.UUID | None:
        return obj.indicator.public_id if obj.indicator else None

    @staticmethod
    def resolve_indicator_code(obj: Evidence) -> str:
        return obj.indicator.code if obj.indicator else ""

    @staticmethod
    def resolve_name(obj: Evidence) -> str:
        return obj.original_name


class ScoreOut(Schema):
    indicator_id: uuid.UUID
    criterion_code: str
    code: str
    text: str
    max_points: Decimal | None
    evidence_required: bool
    points: Decimal | None
    level: int | None
    note: str


class ResultOut(Schema):
    total: Decimal | None
    level: int | None
    grade: str
    passed: bool | None
    complete: bool
    threshold: Decimal | None
    missing: list[str]
    below_minimum: list[str]
    note: str


class AssessmentDetailOut(AssessmentOut):
    """The computed parts come from ``_detail`` (attached as ``obj.api_detail``)."""

    period_start: dt.date
    period_end: dt.date
    scores: list[ScoreOut]
    result: ResultOut
    evidence: list[EvidenceOut]
    unscored: list[str]
    missing_evidence: list[str]

    @staticmethod
    def resolve_period_start(obj: Any) -> dt.date:
        return obj.api_detail["period_start"]

    @staticmethod
    def resolve_period_end(obj: Any) -> dt.date:
        return obj.api_detail["period_end"]

    @staticmethod
    def resolve_scores(obj: Any) -> list[dict[str, Any]]:
        return obj.api_detail["scores"]

    @staticmethod
    def resolve_result(obj: Any) -> dict[str, Any]:
        return obj.api_detail["result"]

    @staticmethod
    def resolve_evidence(obj: Any) -> list[Evidence]:
        return obj.api_detail["evidence"]

    @staticmethod
    def resolve_unscored(obj: Any) -> list[str]:
        return obj.api_detail["unscored"]

    @staticmethod
    def resolve_missing_evidence(obj: Any) -> list[str]:
        return obj.api_detail["missing_evidence"]


class AssessmentFilter(Schema):
    title: Title | None = None
    year: int | None = None
    status: AssessmentStatus | None = None
    unit: uuid.UUID | None = None


class StartIn(Schema):
    registration: uuid.UUID


class ScoresIn(Schema):
    version: int
    values: dict[str, str | int | float | None] = {}
    notes: dict[str, str] | None = None


class VersionIn(Schema):
    version: int | None = None


class CopyOut(Schema):
    assessment: AssessmentDetailOut
    copied: list[str]
    skipped: list[dict[str, str]]
    message: str


class TimelineOut(Schema):
    time: dt.datetime
    actor: str | None
    action: str
    label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _detail(assessment: Assessment) -> Assessment:
    """The assessment reloaded, with its scores, saved result and evidence
    attached for :class:`AssessmentDetailOut` (a few queries)."""
    fresh = get_assessment_for_user_unscoped(assessment)
    scores = []
    evidence: list[Evidence] = []
    for row in assessment_rows(fresh):
        for item in row.indicators:
            ind = item.indicator
            scores.append(
                {
                    "indicator_id": ind.public_id,
                    "criterion_code": row.criterion.code,
                    "code": ind.code,
                    "text": ind.text,
                    "max_points": ind.max_points,
                    "evidence_required": ind.evidence_required,
                    "points": item.score.self_points,
                    "level": item.score.self_level,
                    "note": item.score.note,
                }
            )
            for ev in item.evidence:
                ev.indicator = ind
                evidence.append(ev)
    result = services.compute_result(fresh, services.saved_values(fresh))
    gaps = services.completeness(fresh)
    start, end = services.assessment_period(fresh.registration.year)
    fresh.api_detail = {  # type: ignore[attr-defined]
        "period_start": start,
        "period_end": end,
        "scores": scores,
        "result": {
            "total": result.total,
            "level": result.level,
            "grade": result.grade,
            "passed": result.passed,
            "complete": result.complete,
            "threshold": result.threshold,
            "missing": list(result.missing),
            "below_minimum": list(result.below_minimum),
            "note": result.cap_note,
        },
        "evidence": evidence,
        "unscored": gaps.unscored,
        "missing_evidence": gaps.missing_evidence,
    }
    return fresh


def get_assessment_for_user_unscoped(assessment: Assessment) -> Assessment:
    """Reload an assessment already resolved through the user's scope."""
    return Assessment.objects.select_related(*DETAIL_RELATED).get(pk=assessment.pk)


def _writable(request: AuthedRequest, public_id: str) -> Assessment:
    assessment = get_assessment_for_user(request.user, public_id)
    require_write(request.user, assessment.unit)
    return assessment


@router.get("", response=list[AssessmentOut], summary="Self-assessments in scope")
@paginate(PageNumberPagination, page_size=50)
def list_assessments(
    request: AuthedRequest, filters: Query[AssessmentFilter]
) -> QuerySet[Assessment]:
    qs = assessments_for_user(request.user)
    if filters.unit:
        unit = get_unit_for_user(request.user, filters.unit)
        qs = qs.filter(unit__path__startswith=unit.path)
    if filters.title:
        qs = qs.filter(registration__title=filters.title)
    if filters.year:
        qs = qs.filter(registration__year=filters.year)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.select_related(
        "unit",
        "criteria_set",
        "registration__household",
        "registration__clan",
        "registration__organisation",
        "registration__citizen",
        "registration__subject_unit",
    ).order_by("unit__path", "pk")


@router.post(
    "",
    response={200: AssessmentDetailOut, 201: AssessmentDetailOut},
    summary="Start the self-assessment of a registration (idempotent)",
)
def start_assessment(request: AuthedRequest, payload: StartIn) -> Status[Assessment]:
    registration = get_registration_for_user(request.user, payload.registration)
    require_write(request.user, registration.unit)
    existed = Assessment.objects.filter(registration=registration).exists()
    assessment = services.assessment_start(actor=request.user, registration=registration)
    return Status(200 if existed else 201, _detail(assessment))


@router.get("/{public_id}", response=AssessmentDetailOut, summary="One self-assessment")
def get_assessment(request: AuthedRequest, public_id: str) -> Assessment:
    return _detail(get_assessment_for_user(request.user, public_id))


@router.put(
    "/{public_id}/scores",
    response=AssessmentDetailOut,
    summary="Save self-scores (indicator id -> points or level; all or nothing)",
)
def put_scores(request: AuthedRequest, public_id: str, payload: ScoresIn) -> Assessment:
    assessment = _writable(request, public_id)
    services.assessment_save_scores(
        actor=request.user,
        assessment=assessment,
        expected_version=payload.version,
        values=payload.values,
        notes=payload.notes,
    )
    return _detail(assessment)


@router.post(
    "/{public_id}/complete",
    response=AssessmentDetailOut,
    summary="Mark the self-assessment complete",
)
def complete_assessment(request: AuthedRequest, public_id: str, payload: VersionIn) -> Assessment:
    assessment = _writable(request, public_id)
    services.assessment_complete(
        actor=request.user, assessment=assessment, expected_version=payload.version
    )
    return _detail(assessment)


@router.post(
    "/{public_id}/reopen",
    response=AssessmentDetailOut,
    summary="Reopen a completed self-assessment",
)
def reopen_assessment(request: AuthedRequest, public_id: str, payload: VersionIn) -> Assessment:
    assessment = _writable(request, public_id)
    services.assessment_reopen(
        actor=request.user, assessment=assessment, expected_version=payload.version
    )
    return _detail(assessment)


@router.post(
    "/{public_id}/copy-previous",
    response=CopyOut,
    summary="Copy last year's scores into the unscored indicators",
)
def copy_previous(request: AuthedRequest, public_id: str, payload: VersionIn) -> dict[str, Any]:
    assessment = _writable(request, public_id)
    report = services.assessment_copy_previous(
        actor=request.user, assessment=assessment, expected_version=payload.version
    )
    return {
        "assessment": _detail(assessment),
        "copied": report.copied,
        "skipped": [{"code": code, "reason": why} for code, why in report.skipped],
        "message": report.message(),
    }


@router.get(
    "/{public_id}/timeline", response=list[TimelineOut], summary="Every event, oldest first"
)
def timeline(request: AuthedRequest, public_id: str) -> list[dict[str, Any]]:
    assessment = get_assessment_for_user(request.user, public_id)
    return [
        {
            "time": e.event.created_at,
            "actor": e.event.actor.display_name if e.event.actor else None,
            "action": e.event.action,
            "label": e.label,
            "before": e.event.before,
            "after": e.event.after,
        }
        for e in assessment_timeline(assessment)
    ]


@router.post(
    "/{public_id}/evidence",
    response={201: EvidenceOut},
    summary="Upload an evidence file for one indicator (multipart: indicator, file)",
)
def upload_evidence(
    request: AuthedRequest,
    public_id: str,
    indicator: Form[str | None] = None,
    file: File[UploadedFile | None] = None,
) -> Status[Evidence]:
    """Both parts are optional in the schema so that a request without them
    gets the service's Vietnamese message (400), after the scope checks."""
    assessment = _writable(request, public_id)
    evidence = evidence_services.evidence_upload(
        actor=request.user, assessment=assessment, indicator_public_id=indicator or "", file=file
    )
    return Status(201, Evidence.objects.select_related("indicator").get(pk=evidence.pk))


@router.get(
    "/{public_id}/evidence/{evidence_id}",
    summary="Download an evidence file (attachment, original name)",
    response={200: None},
)
def download_evidence(request: AuthedRequest, public_id: str, evidence_id: str) -> HttpResponseBase:
    assessment = get_assessment_for_user(request.user, public_id)
    evidence = get_evidence_for_user(request.user, evidence_id)
    if evidence.assessment_id != assessment.pk:
        raise Http404
    return evidence_response(evidence)

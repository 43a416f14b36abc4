"""API of recognition decisions: drafts, their annex, issuing, revoking, PDFs
and certificate batches.

Scoped like the screens: a decision is visible to whoever sees its issuing
unit (the district's reviewers, the city above it, the read-only steering
viewer); another tenant's or another subtree's decision is a 404, a read-only
user's write a 403, a wrong role a 403, a refused action 400 (409 for a stale
version or a state conflict) with a code and a Vietnamese message. Long work
(issuing, the draft PDF, certificates) answers 202 with the job: poll
``/api/v1/jobs/{id}`` until it is done, then download its file.
"""

import datetime as dt
import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.http.response import HttpResponseBase
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from core.api_jobs import JobOut
from core.api_pagination import PageNumberPagination
from core.http import AuthedRequest
from core.models import Job
from core.selectors import jobs_for_object
from recognition.api.dossier import UnitRef
from recognition.models import Assessment, Decision, DecisionItem, DecisionStatus
from recognition.selectors.decision import (
    decision_items,
    decisions_for_user,
    get_decision_for_user,
)
from recognition.selectors.dossier import SUBJECT_RELATED, subject_label
from recognition.services import decision as services
from recognition.titles import Title
from units.selectors import get_unit_for_user, parse_public_id, require_write

router = Router(tags=["decision"])


class DecisionRef(Schema):
    public_id: uuid.UUID
    reference: str
    status: DecisionStatus
    summary: str
    issued_on: dt.date | None


class DecisionOut(Schema):
    public_id: uuid.UUID
    title: str
    scope_level: str
    year: int
    status: DecisionStatus
    issuing_unit: UnitRef
    symbol: str
    number: int | None
    number_year: int | None
    reference: str
    issued_on: dt.date | None
    summary: str
    item_count: int
    version: int
    revokes: DecisionRef | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DecisionLinks(Schema):
    detail: str
    pdf: str | None
    items: str
    candidates: str
    certificates: str


class DecisionDetailOut(DecisionOut):
    parent_agency: str
    agency: str
    place_name: str
    authority: str
    legal_bases: str
    articles: list[str]
    signing_form: str
    signer_collective: str
    signer_title: str
    signer_name: str
    recipients: str
    annex_title: str
    page_count: int | None
    issued_at: dt.datetime | None
    revoked_by: DecisionRef | None
    pdf_available: bool
    #: Why a draft cannot be issued yet (empty: it can; always empty once issued).
    problems: list[str]
    links: DecisionLinks

    @staticmethod
    def resolve_revoked_by(obj: Decision) -> Decision | None:
        try:
            return obj.revoked_by
        except Decision.DoesNotExist:
            return None

    @staticmethod
    def resolve_pdf_available(obj: Decision) -> bool:
        return bool(obj.pdf)

    @staticmethod
    def resolve_problems(obj: Decision) -> list[str]:
        if obj.status != DecisionStatus.DRAFT:
            return []
        return services.issue_problems(obj)

    @staticmethod
    def resolve_links(obj: Decision) -> dict[str, str | None]:
        kwargs = {"public_id": obj.public_id}
        return {
            "detail": reverse("api:decision-detail", kwargs=kwargs),
            "pdf": reverse("api:decision-pdf", kwargs=kwargs) if obj.pdf else None,
            "items": reverse("api:decision-items", kwargs=kwargs),
            "candidates": reverse("api:decision-candidates", kwargs=kwargs),
            "certificates": reverse("api:decision-certificates", kwargs=kwargs),
        }


class DecisionFilter(Schema):
    status: DecisionStatus | None = None
    title: Title | None = None
    year: int | None = None
    unit: uuid.UUID | None = None


class DecisionIn(Schema):
    issuing_unit: uuid.UUID
    title: Title
    year: int
    scope_level: str = ""


class DecisionUpdateIn(Schema):
    """Only the fields sent are changed; ``version`` is the one the client read."""

    version: int
    parent_agency: str | None = None
    agency: str | None = None
    symbol: str | None = None
    place_name: str | None = None
    issued_on: dt.date | None = None
    summary: str | None = None
    authority: str | None = None
    legal_bases: str | None = None
    articles: list[str] | None = None
    signing_form: str | None = None
    signer_collective: str | None = None
    signer_title: str | None = None
    signer_name: str | None = None
    recipients: str | None = None
    annex_title: str | None = None


class AnnexItemOut(Schema):
    assessment_id: uuid.UUID | None
    nomination_id: uuid.UUID | None
    position: int
    subject_kind: str
    subject_code: str
    subject_name: str
    address: str
    unit_name: str
    result: str
    status: str

    @staticmethod
    def resolve_assessment_id(obj: DecisionItem) -> uuid.UUID | None:
        return obj.assessment.public_id if obj.assessment is not None else None

    @staticmethod
    def resolve_nomination_id(obj: DecisionItem) -> uuid.UUID | None:
        """Award decisions (campaigns) annex nominations instead of assessments."""
        return obj.nomination.public_id if obj.nomination is not None else None

    @staticmethod
    def resolve_status(obj: DecisionItem) -> str:
        subject = obj.assessment if obj.assessment is not None else obj.nomination
        return subject.status if subject is not None else ""


class CandidateFilter(Schema):
    unit: uuid.UUID | None = None
    proposing_unit: uuid.UUID | None = None
    dossier: uuid.UUID | None = None
    q: str | None = None


class CandidateOut(Schema):
    public_id: uuid.UUID
    subject: str
    subject_kind: str
    unit: UnitRef
    dossier_id: uuid.UUID
    status: str

    @staticmethod
    def resolve_subject(obj: Assessment) -> str:
        return subject_label(obj)

    @staticmethod
    def resolve_subject_kind(obj: Assessment) -> str:
        return obj.registration.subject_kind

    @staticmethod
    def resolve_dossier_id(obj: Assessment) -> uuid.UUID:
        assert obj.dossier is not None  # noqa: S101 — candidates are in a dossier
        return obj.dossier.public_id


class AnnexAddIn(CandidateFilter):
    """Add the candidates matching the filters, or only ``assessment_ids``."""

    assessment_ids: list[uuid.UUID] | None = None


class AnnexRemoveIn(Schema):
    """Remove these items (assessment public ids); ``null`` empties the annex."""

    assessment_ids: list[uuid.UUID] | None = None


class CountOut(Schema):
    count: int


class VersionIn(Schema):
    version: int | None = None


class ReasonIn(Schema):
    reason: str = ""


# --- Helpers ---------------------------------------------------------------------------


def _writable(request: AuthedRequest, public_id: str) -> Decision:
    """The decision if the user may write at its issuing unit (404 / 403 otherwise)."""
    decision = get_decision_for_user(request.user, public_id)
    require_write(request.user, decision.issuing_unit)
    return decision


def _fresh(decision: Decision) -> Decision:
    """Reload a decision already checked against the user's scope."""
    return Decision.objects.select_related("issuing_unit", "revokes").get(pk=decision.pk)


def _filters(request: AuthedRequest, filters: CandidateFilter) -> dict[str, Any]:
    """Candidate filters with their unit ids checked against the user's scope."""
    out: dict[str, Any] = {}
    if filters.unit:
        out["unit"] = get_unit_for_user(request.user, filters.unit).public_id
    if filters.proposing_unit:
        out["proposing_unit"] = get_unit_for_user(request.user, filters.proposing_unit).public_id
    if filters.dossier:
        out["dossier"] = filters.dossier
    if filters.q and filters.q.strip():
        out["q"] = filters.q.strip()
    return out


def _pdf_response(decision: Decision) -> FileResponse:
    if not decision.pdf:
        raise Http404
    try:
        handle = decision.pdf.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    year = decision.number_year or decision.year
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"QD-{decision.number or 0:02d}-{year}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Decisions -------------------------------------------------------------------------


@router.get(
    "",
    response=list[DecisionOut],
    url_name="decision-list",
    summary="Decisions in scope (filter by status, title, year, issuing unit; paginate)",
)
@paginate(PageNumberPagination, page_size=50)
def list_decisions(request: AuthedRequest, filters: Query[DecisionFilter]) -> QuerySet[Decision]:
    qs = decisions_for_user(request.user)
    if filters.unit:
        qs = qs.filter(issuing_unit=get_unit_for_user(request.user, filters.unit))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.title:
        qs = qs.filter(title=filters.title)
    if filters.year:
        qs = qs.filter(year=filters.year)
    return qs.order_by("-year", "-number_year", "-number", "-created_at", "-pk")


@router.get(
    "/{public_id}",
    response=DecisionDetailOut,
    url_name="decision-detail",
    summary="One decision: header, body, number, status, counts, revocation links",
)
def get_decision(request: AuthedRequest, public_id: str) -> Decision:
    return get_decision_for_user(request.user, public_id)


@router.post(
    "",
    response={201: DecisionDetailOut},
    url_name="decision-create",
    summary="A new draft of an issuing unit, prefilled for the title and year",
)
def create_decision(request: AuthedRequest, payload: DecisionIn) -> Status[Decision]:
    unit = get_unit_for_user(request.user, payload.issuing_unit)
    require_write(request.user, unit)
    decision = services.decision_create(
        actor=request.user,
        issuing_unit=unit,
        title=payload.title,
        year=payload.year,
        scope_level=payload.scope_level,
    )
    return Status(201, _fresh(decision))


@router.patch(
    "/{public_id}",
    response=DecisionDetailOut,
    url_name="decision-update",
    summary="Edit a draft (send the version you read; 409 if it changed meanwhile)",
)
def update_decision(request: AuthedRequest, public_id: str, payload: DecisionUpdateIn) -> Decision:
    decision = _writable(request, public_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.decision_update(
        actor=request.user, decision=decision, expected_version=version, data=data
    )
    return _fresh(decision)


# --- The annex -------------------------------------------------------------------------


@router.get(
    "/{public_id}/items",
    response=list[AnnexItemOut],
    url_name="decision-items",
    summary="The annex, one page at a time (?page=)",
)
@paginate(PageNumberPagination, page_size=100)
def list_items(request: AuthedRequest, public_id: str) -> QuerySet[DecisionItem]:
    return decision_items(get_decision_for_user(request.user, public_id))


@router.post(
    "/{public_id}/items",
    response=CountOut,
    url_name="decision-items-add",
    summary="Add approved items: every candidate matching the filters, or the given ids",
)
def add_items(request: AuthedRequest, public_id: str, payload: AnnexAddIn) -> dict[str, int]:
    decision = _writable(request, public_id)
    count = services.annex_add(
        actor=request.user,
        decision=decision,
        filters=_filters(request, payload),
        assessment_ids=payload.assessment_ids,
    )
    return {"count": count}


@router.post(
    "/{public_id}/items/remove",
    response=CountOut,
    url_name="decision-items-remove",
    summary="Take items out of the annex (null: all of them)",
)
def remove_items(request: AuthedRequest, public_id: str, payload: AnnexRemoveIn) -> dict[str, int]:
    decision = _writable(request, public_id)
    count = services.annex_remove(
        actor=request.user, decision=decision, assessment_ids=payload.assessment_ids
    )
    return {"count": count}


@router.delete(
    "/{public_id}/items/{assessment_id}",
    response=CountOut,
    url_name="decision-item-remove",
    summary="Take one item out of the annex",
)
def remove_item(request: AuthedRequest, public_id: str, assessment_id: str) -> dict[str, int]:
    decision = _writable(request, public_id)
    wanted = parse_public_id(assessment_id)
    if not decision.items.filter(assessment__public_id=wanted).exists():
        raise Http404
    count = services.annex_remove(actor=request.user, decision=decision, assessment_ids=[wanted])
    return {"count": count}


@router.get(
    "/{public_id}/candidates",
    response=list[CandidateOut],
    url_name="decision-candidates",
    summary="Approved items of reviewed dossiers under the issuer, not yet in the annex",
)
@paginate(PageNumberPagination, page_size=100)
def list_candidates(
    request: AuthedRequest, public_id: str, filters: Query[CandidateFilter]
) -> QuerySet[Assessment]:
    decision = get_decision_for_user(request.user, public_id)
    qs = services.filter_candidates(services.annex_candidates(decision), _filters(request, filters))
    return qs.select_related(*SUBJECT_RELATED, "unit", "dossier").order_by(
        "unit__sort_name", "registration__household__code", "registration_id"
    )


# --- Issuing, preview, revocation, PDF -------------------------------------------------


@router.post(
    "/{public_id}/issue",
    response={202: JobOut},
    url_name="decision-issue",
    summary="Issue the draft: a job numbers it, renders the PDF and recognises the annex",
)
def issue_decision(request: AuthedRequest, public_id: str, payload: VersionIn) -> Status[Job]:
    decision = _writable(request, public_id)
    job = services.decision_issue_start(
        actor=request.user, decision=decision, expected_version=payload.version
    )
    return Status(202, job)


@router.post(
    "/{public_id}/preview",
    response={202: JobOut},
    url_name="decision-preview",
    summary="Render the draft as a PDF marked DỰ THẢO (a job; nothing changes)",
)
def preview_decision(request: AuthedRequest, public_id: str) -> Status[Job]:
    decision = _writable(request, public_id)
    return Status(202, services.decision_preview_start(actor=request.user, decision=decision))


@router.post(
    "/{public_id}/revoke",
    response={201: DecisionDetailOut},
    url_name="decision-revoke",
    summary="Draft a decision revoking this issued one (issue it to revoke)",
)
def revoke_decision(request: AuthedRequest, public_id: str, payload: ReasonIn) -> Status[Decision]:
    decision = _writable(request, public_id)
    revoking = services.revocation_create(
        actor=request.user, decision=decision, reason=payload.reason
    )
    return Status(201, _fresh(revoking))


@router.get(
    "/{public_id}/pdf",
    response={200: None},
    url_name="decision-pdf",
    summary="Download the issued decision (application/pdf; 404 for a draft)",
)
def download_pdf(request: AuthedRequest, public_id: str) -> HttpResponseBase:
    return _pdf_response(get_decision_for_user(request.user, public_id))


# --- Certificates ----------------------------------------------------------------------


@router.post(
    "/{public_id}/certificates",
    response={202: JobOut},
    url_name="decision-certificates-start",
    summary="Render the certificates of an issued decision as one PDF (a job)",
)
def start_certificates(request: AuthedRequest, public_id: str) -> Status[Job]:
    decision = _writable(request, public_id)
    return Status(202, services.certificates_start(actor=request.user, decision=decision))


@router.get(
    "/{public_id}/certificates",
    response=list[JobOut],
    url_name="decision-certificates",
    summary="The certificate batches of the decision (jobs), newest first",
)
@paginate(PageNumberPagination, page_size=50)
def list_certificates(request: AuthedRequest, public_id: str) -> QuerySet[Job]:
    decision = get_decision_for_user(request.user, public_id)
    return jobs_for_object(request.user, decision, kind="decision.certificates").order_by(
        "-created_at", "-pk"
    )

"""API of the dossier and its review.

Scoped like the screens: a dossier is visible to whoever sees its proposing
unit (the ward, and the reviewers above it); another tenant's or another
subtree's dossier is a 404, a read-only user's write a 403, a wrong role a
403, a refused action 400 (409 for a state, version or deadline conflict) with
a code and a Vietnamese message. Item ids are the assessments' public ids.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from core.api_pagination import PageNumberPagination
from core.http import AuthedRequest
from recognition.exceptions import DossierError
from recognition.models import Assessment, Dossier, DossierStatus, Indicator
from recognition.selectors.dossier import (
    dossier_item,
    dossier_item_page,
    dossiers_for_user,
    get_dossier_for_user,
    get_item,
    subject_label,
)
from recognition.services import dossier as services
from recognition.services import review as review_services
from recognition.services.dossier import DossierChanges, DossierProgress
from recognition.titles import Title
from units.models import AdministrativeUnit
from units.selectors import get_unit_for_user, require_write

router = Router(tags=["dossier"])


class UnitRef(Schema):
    public_id: uuid.UUID
    name: str
    code: str


class DossierOut(Schema):
    public_id: uuid.UUID
    title: str
    scope_level: str
    year: int
    status: str
    proposing_unit: UnitRef
    reviewing_unit: UnitRef
    submission_count: int
    version: int
    return_reason: str
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    item_count: int | None = None

    @staticmethod
    def resolve_item_count(obj: Dossier | dict[str, Any]) -> int | None:
        if isinstance(obj, dict):
            return obj.get("item_count")
        return getattr(obj, "item_count", None)


class ItemOut(Schema):
    public_id: uuid.UUID
    subject: str
    unit: UnitRef
    status: str
    self_total: Decimal | None
    self_level: int | None
    self_passed: bool | None
    final_total: Decimal | None
    final_level: int | None
    final_passed: bool | None
    return_reason: str
    version: int
    evidence_count: int | None = None
    missing_evidence: bool | None = None

    @staticmethod
    def resolve_subject(obj: Assessment) -> str:
        return subject_label(obj)

    @staticmethod
    def resolve_evidence_count(obj: Assessment) -> int | None:
        return getattr(obj, "evidence_count", None)

    @staticmethod
    def resolve_missing_evidence(obj: Assessment) -> bool | None:
        return getattr(obj, "missing_evidence", None)


class ProgressOut(Schema):
    registered: int
    assessed: int
    passing: int
    missing_evidence: int
    in_dossier: int
    returned: int
    ready_to_add: int


class ScoreChangeOut(Schema):
    code: str
    before: str
    after: str


class ItemChangeOut(Schema):
    public_id: str
    label: str
    kind: str
    scores: list[ScoreChangeOut]
    evidence_added: list[str]
    evidence_removed: list[str]
    total_before: str | None
    total_after: str | None


class ChangesOut(Schema):
    previous: int
    current: int
    items: list[ItemChangeOut]


class DossierDetailOut(DossierOut):
    progress: ProgressOut
    changes: ChangesOut | None
    items: list[ItemOut]
    items_page: int
    items_pages: int


class DossierFilter(Schema):
    status: DossierStatus | None = None
    title: Title | None = None
    year: int | None = None
    unit: uuid.UUID | None = None


class DossierIn(Schema):
    proposing_unit: uuid.UUID
    title: Title
    scope_level: str = ""
    year: int


class ItemsIn(Schema):
    assessment_ids: list[str]


class CountOut(Schema):
    count: int


class VersionIn(Schema):
    version: int | None = None


class ReasonIn(Schema):
    reason: str = ""
    version: int | None = None


class ScoresIn(Schema):
    scores: dict[str, Any]
    version: int | None = None


#: Items per page of ``GET /dossiers/{id}`` (a ward's dossier may hold 20,000).
ITEMS_PER_PAGE = 200


def _detail(dossier: Dossier, page: int = 1) -> dict[str, Any]:
    progress: DossierProgress = services.dossier_progress(dossier)
    changes: DossierChanges | None = services.dossier_changes(dossier)
    items = dossier_item_page(dossier, page, ITEMS_PER_PAGE)
    return {
        **{f: getattr(dossier, f) for f in DossierOut.model_fields if f != "item_count"},
        "items": list(items.object_list),
        "item_count": items.paginator.count,
        "items_page": items.number,
        "items_pages": items.paginator.num_pages,
        "progress": progress.__dict__,
        "changes": None
        if changes is None
        else {
            "previous": changes.previous,
            "current": changes.current,
            "items": [
                c.__dict__ | {"scores": [s.__dict__ for s in c.scores]} for c in changes.items
            ],
        },
    }


def _writable(request: AuthedRequest, public_id: str) -> Dossier:
    dossier = get_dossier_for_user(request.user, public_id)
    require_write(request.user, dossier.proposing_unit)
    return dossier


def _units(dossier: Dossier) -> Dossier:
    return (
        Dossier.objects.select_related("proposing_unit", "reviewing_unit")
        .filter(pk=dossier.pk)
        .get()
    )


@router.get("", response=list[DossierOut], summary="Dossiers in scope (filter, paginate)")
@paginate(PageNumberPagination, page_size=50)
def list_dossiers(request: AuthedRequest, filters: Query[DossierFilter]) -> QuerySet[Dossier]:
    qs = dossiers_for_user(request.user)
    if filters.unit:
        unit: AdministrativeUnit = get_unit_for_user(request.user, filters.unit)
        qs = qs.filter(proposing_unit=unit)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.title:
        qs = qs.filter(title=filters.title)
    if filters.year:
        qs = qs.filter(year=filters.year)
    return qs.order_by("-year", "proposing_unit__sort_name", "title", "pk")


@router.get(
    "/{public_id}",
    response=DossierDetailOut,
    summary="One dossier: progress, changes and one page of its items (?page=)",
)
def get_dossier(request: AuthedRequest, public_id: str, page: int = 1) -> dict[str, Any]:
    return _detail(get_dossier_for_user(request.user, public_id), page)


@router.post(
    "", response=DossierOut, summary="Open (get or create) the dossier of a unit, title and year"
)
def open_dossier(request: AuthedRequest, payload: DossierIn) -> Dossier:
    unit = get_unit_for_user(request.user, payload.proposing_unit)
    require_write(request.user, unit)
    dossier = services.dossier_for(
        actor=request.user,
        proposing_unit=unit,
        title=payload.title,
        scope_level=payload.scope_level,
        year=payload.year,
    )
    return _units(dossier)


@router.post("/{public_id}/items", response=CountOut, summary="Add self-assessed items")
def add_items(request: AuthedRequest, public_id: str, payload: ItemsIn) -> dict[str, int]:
    dossier = _writable(request, public_id)
    count = services.dossier_add_items(
        actor=request.user, dossier=dossier, assessment_ids=payload.assessment_ids
    )
    return {"count": count}


@router.delete("/{public_id}/items/{assessment_id}", response=CountOut, summary="Take an item out")
def remove_item(request: AuthedRequest, public_id: str, assessment_id: str) -> dict[str, int]:
    dossier = _writable(request, public_id)
    item = get_item(dossier, assessment_id)
    count = services.dossier_remove_items(
        actor=request.user, dossier=dossier, assessment_ids=[item.public_id]
    )
    return {"count": count}


@router.post("/{public_id}/submit", response=DossierOut, summary="Submit to the reviewing unit")
def submit_dossier(request: AuthedRequest, public_id: str, payload: VersionIn) -> Dossier:
    dossier = _writable(request, public_id)
    result = services.dossier_submit(
        actor=request.user,
        dossier=dossier,
        expected_version=payload.version,
        base_url=request.build_absolute_uri("/"),
    )
    return _units(result)


@router.post("/{public_id}/return", response=DossierOut, summary="Return the whole dossier")
def return_dossier(request: AuthedRequest, public_id: str, payload: ReasonIn) -> Dossier:
    dossier = _writable(request, public_id)
    result = review_services.dossier_return(
        actor=request.user,
        dossier=dossier,
        reason=payload.reason,
        expected_version=payload.version,
        base_url=request.build_absolute_uri("/"),
    )
    return _units(result)


@router.post("/{public_id}/finish", response=DossierOut, summary="Finish the review")
def finish_review(request: AuthedRequest, public_id: str, payload: VersionIn) -> Dossier:
    dossier = _writable(request, public_id)
    result = review_services.dossier_finish(
        actor=request.user,
        dossier=dossier,
        expected_version=payload.version,
        base_url=request.build_absolute_uri("/"),
    )
    return _units(result)


def _uuid_text(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def _item_for_write(request: AuthedRequest, public_id: str, assessment_id: str) -> Assessment:
    dossier = _writable(request, public_id)
    return get_item(dossier, assessment_id)


def _item_out(item: Assessment) -> Assessment:
    """The item as the list shows it (evidence count, missing-evidence flag)."""
    return dossier_item(item)


@router.post(
    "/{public_id}/items/{assessment_id}/approve", response=ItemOut, summary="Approve an item"
)
def approve_item(
    request: AuthedRequest, public_id: str, assessment_id: str, payload: VersionIn
) -> Assessment:
    item = _item_for_write(request, public_id, assessment_id)
    review_services.item_approve(actor=request.user, item=item, expected_version=payload.version)
    return _item_out(item)


@router.post(
    "/{public_id}/items/{assessment_id}/return",
    response=ItemOut,
    summary="Return an item with a reason",
)
def return_item(
    request: AuthedRequest, public_id: str, assessment_id: str, payload: ReasonIn
) -> Assessment:
    item = _item_for_write(request, public_id, assessment_id)
    review_services.item_return(
        actor=request.user, item=item, reason=payload.reason, expected_version=payload.version
    )
    return _item_out(item)


@router.post(
    "/{public_id}/items/{assessment_id}/reject",
    response=ItemOut,
    summary="Refuse an item with a reason",
)
def reject_item(
    request: AuthedRequest, public_id: str, assessment_id: str, payload: ReasonIn
) -> Assessment:
    item = _item_for_write(request, public_id, assessment_id)
    review_services.item_reject(
        actor=request.user, item=item, reason=payload.reason, expected_version=payload.version
    )
    return _item_out(item)


@router.post(
    "/{public_id}/items/{assessment_id}/score",
    response=ItemOut,
    summary="The reviewer's points or levels per indicator (keys: indicator public ids)",
)
def score_item(
    request: AuthedRequest, public_id: str, assessment_id: str, payload: ScoresIn
) -> Assessment:
    item = _item_for_write(request, public_id, assessment_id)
    indicators = {
        str(public_id): pk
        for public_id, pk in Indicator.objects.filter(
            criterion__criteria_set_id=item.criteria_set_id
        ).values_list("public_id", "pk")
    }
    unknown = [k for k in payload.scores if _uuid_text(k) not in indicators]
    if unknown:
        raise DossierError(
            _("Unknown indicators for this assessment: %(ids)s") % {"ids": ", ".join(unknown)[:300]}
        )
    scores = {indicators[_uuid_text(k)]: v for k, v in payload.scores.items()}
    review_services.item_confirm_score(
        actor=request.user, item=item, scores=scores, expected_version=payload.version
    )
    return _item_out(item)

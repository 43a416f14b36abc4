"""API of award nominations: list, detail (with the timeline), propose, edit
while proposed, review / approve / reject, approve many, and the award
decision of a reviewing unit.

Scoped like the screens: a nomination is seen by whoever sees its nominating
unit; a nominee the user cannot see is a 404, one outside the nominator's
subtree a 400 (``nominee_out_of_scope``); a read-only user's write and a wrong
role a 403; a state conflict or stale version a 409.
"""

import datetime as dt
import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from campaigns.models import AwardForm, Nomination, NominationStatus, NomineeKind
from campaigns.selectors.nominations import (
    RELATED,
    get_nomination_for_user,
    nomination_timeline,
    nominations_for_user,
)
from campaigns.services import nominations as services
from core.api_pagination import PageNumberPagination
from core.http import AuthedRequest
from recognition.api.dossier import UnitRef
from recognition.models import Household, Organisation
from units.selectors import get_unit_for_user, parse_public_id, require_write, scope_queryset

router = Router(tags=["campaigns: nominations"])


class NominationOut(Schema):
    public_id: uuid.UUID
    year: int
    status: NominationStatus
    nominee_kind: NomineeKind
    nominee_name: str
    award_form: AwardForm
    nominating_unit: UnitRef
    reviewing_unit: UnitRef
    nominee_unit: UnitRef | None
    organisation_id: uuid.UUID | None
    household_id: uuid.UUID | None
    person_name: str
    person_position: str
    achievements: str
    review_note: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_organisation_id(obj: Nomination) -> uuid.UUID | None:
        return obj.organisation.public_id if obj.organisation else None

    @staticmethod
    def resolve_household_id(obj: Nomination) -> uuid.UUID | None:
        return obj.household.public_id if obj.household else None


class TimelineOut(Schema):
    at: dt.datetime
    action: str
    actor: str
    note: str


class NominationDetailOut(NominationOut):
    timeline: list[TimelineOut]

    @staticmethod
    def resolve_timeline(obj: Nomination) -> list[dict[str, Any]]:
        return [
            {
                "at": e.event.created_at,
                "action": e.action,
                "actor": str(e.event.actor) if e.event.actor else "",
                "note": e.note,
            }
            for e in nomination_timeline(obj)
        ]


class NominationFilter(Schema):
    status: NominationStatus | None = None
    year: int | None = None
    award_form: AwardForm | None = None
    reviewing_unit: uuid.UUID | None = None


class NomineeIn(Schema):
    nominee_kind: NomineeKind
    nominee_unit: uuid.UUID | None = None
    organisation: uuid.UUID | None = None
    household: uuid.UUID | None = None
    person_name: str = ""
    person_position: str = ""


class NominationIn(NomineeIn):
    nominating_unit: uuid.UUID
    year: int
    award_form: AwardForm
    achievements: str = ""


class NominationUpdateIn(Schema):
    """Only the fields sent change; the nominee fields go together with ``nominee_kind``."""

    version: int | None = None
    year: int | None = None
    award_form: AwardForm | None = None
    achievements: str | None = None
    nominee_kind: NomineeKind | None = None
    nominee_unit: uuid.UUID | None = None
    organisation: uuid.UUID | None = None
    household: uuid.UUID | None = None
    person_name: str | None = None
    person_position: str | None = None


class ReviewIn(Schema):
    note: str = ""
    version: int | None = None


class ApproveManyIn(Schema):
    reviewing_unit: uuid.UUID
    nominations: list[uuid.UUID]


class CountOut(Schema):
    count: int


class AwardDecisionIn(Schema):
    reviewing_unit: uuid.UUID
    year: int


class AwardDecisionOut(Schema):
    decision_id: uuid.UUID
    item_count: int
    detail: str


def _fresh(nomination: Nomination) -> Nomination:
    """Reload a nomination already checked against the user's scope."""
    return Nomination.objects.select_related(*RELATED).get(pk=nomination.pk)


def _writable(request: AuthedRequest, public_id: str) -> Nomination:
    nomination = get_nomination_for_user(request.user, public_id)
    require_write(request.user, nomination.nominating_unit)
    return nomination


def _nominee(request: AuthedRequest, payload: Any) -> dict[str, Any]:
    """Nominee ids resolved within the user's scope (an unseen one is a 404)."""
    kind = payload.nominee_kind
    out: dict[str, Any] = {"nominee_kind": kind}
    if kind == NomineeKind.UNIT and payload.nominee_unit:
        out["nominee_unit"] = get_unit_for_user(request.user, payload.nominee_unit)
    if kind == NomineeKind.ORGANISATION and payload.organisation:
        out["organisation"] = _subject(request, Organisation, payload.organisation)
    if kind == NomineeKind.HOUSEHOLD and payload.household:
        out["household"] = _subject(request, Household, payload.household)
    if kind == NomineeKind.PERSON:
        out["person_name"] = payload.person_name or ""
        out["person_position"] = payload.person_position or ""
    return out


def _subject(request: AuthedRequest, model: Any, public_id: uuid.UUID) -> Any:
    found = (
        scope_queryset(model.objects.select_related("unit"), request.user)
        .filter(public_id=parse_public_id(public_id))
        .first()
    )
    if found is None:
        raise Http404
    return found


@router.get(
    "",
    response=list[NominationOut],
    url_name="nomination-list",
    summary="Nominations in scope (filter by status, year, award, reviewing unit)",
)
@paginate(PageNumberPagination, page_size=50)
def list_nominations(
    request: AuthedRequest, filters: Query[NominationFilter]
) -> QuerySet[Nomination]:
    qs = nominations_for_user(request.user)
    if filters.reviewing_unit:
        qs = qs.filter(reviewing_unit=get_unit_for_user(request.user, filters.reviewing_unit))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.award_form:
        qs = qs.filter(award_form=filters.award_form)
    return qs.order_by("-year", "-created_at", "-pk")


@router.post(
    "",
    response={201: NominationDetailOut},
    url_name="nomination-create",
    summary="Propose a nominee inside the nominating unit's area",
)
def create_nomination(request: AuthedRequest, payload: NominationIn) -> Status[Nomination]:
    unit = get_unit_for_user(request.user, payload.nominating_unit)
    require_write(request.user, unit)
    nomination = services.nomination_create(
        actor=request.user,
        nominating_unit=unit,
        year=payload.year,
        award_form=payload.award_form,
        achievements=payload.achievements,
        **_nominee(request, payload),
    )
    return Status(201, _fresh(nomination))


@router.post(
    "/approve-many",
    response=CountOut,
    url_name="nomination-approve-many",
    summary="Approve many reviewed nominations of a reviewing unit (all or nothing)",
)
def approve_many(request: AuthedRequest, payload: ApproveManyIn) -> dict[str, int]:
    unit = get_unit_for_user(request.user, payload.reviewing_unit)
    require_write(request.user, unit)
    count = services.nomination_approve_many(
        actor=request.user, reviewing_unit=unit, public_ids=payload.nominations
    )
    return {"count": count}


@router.post(
    "/award-decision",
    response={201: AwardDecisionOut},
    url_name="nomination-award-decision",
    summary="Draft the reviewing unit's award decision with its approved nominations",
)
def award_decision(request: AuthedRequest, payload: AwardDecisionIn) -> Status[dict[str, Any]]:
    unit = get_unit_for_user(request.user, payload.reviewing_unit)
    require_write(request.user, unit)
    decision = services.award_decision_start(
        actor=request.user, reviewing_unit=unit, year=payload.year
    )
    return Status(
        201,
        {
            "decision_id": decision.public_id,
            "item_count": decision.item_count,
            "detail": reverse("api:decision-detail", kwargs={"public_id": decision.public_id}),
        },
    )


@router.get(
    "/{public_id}",
    response=NominationDetailOut,
    url_name="nomination-detail",
    summary="One nomination, with its timeline",
)
def get_nomination(request: AuthedRequest, public_id: str) -> Nomination:
    return get_nomination_for_user(request.user, public_id)


@router.patch(
    "/{public_id}",
    response=NominationDetailOut,
    url_name="nomination-update",
    summary="Edit a proposed nomination (send the version you read; 409 if it changed)",
)
def update_nomination(
    request: AuthedRequest, public_id: str, payload: NominationUpdateIn
) -> Nomination:
    nomination = _writable(request, public_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    for key in ("nominee_unit", "organisation", "household", "person_name", "person_position"):
        data.pop(key, None)
    if payload.nominee_kind is not None:
        data.update(_nominee(request, payload))
    services.nomination_update(
        actor=request.user, nomination=nomination, data=data, expected_version=version
    )
    return _fresh(nomination)


def _act(request: AuthedRequest, public_id: str, payload: ReviewIn, action: str) -> Nomination:
    nomination = _writable(request, public_id)
    service = {
        "review": services.nomination_review,
        "approve": services.nomination_approve,
        "reject": services.nomination_reject,
    }[action]
    service(
        actor=request.user,
        nomination=nomination,
        note=payload.note,
        expected_version=payload.version,
    )
    return _fresh(nomination)


@router.post(
    "/{public_id}/review",
    response=NominationDetailOut,
    url_name="nomination-review",
    summary="The reviewing unit has checked the proposal (proposed → reviewed)",
)
def review(request: AuthedRequest, public_id: str, payload: ReviewIn) -> Nomination:
    return _act(request, public_id, payload, "review")


@router.post(
    "/{public_id}/approve",
    response=NominationDetailOut,
    url_name="nomination-approve",
    summary="Approve for the award (reviewed → approved)",
)
def approve(request: AuthedRequest, public_id: str, payload: ReviewIn) -> Nomination:
    return _act(request, public_id, payload, "approve")


@router.post(
    "/{public_id}/reject",
    response=NominationDetailOut,
    url_name="nomination-reject",
    summary="Do not approve, with the reason (note required)",
)
def reject(request: AuthedRequest, public_id: str, payload: ReviewIn) -> Nomination:
    return _act(request, public_id, payload, "reject")

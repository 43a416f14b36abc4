"""API of campaign plans: plans, deriving a unit's plan in one step, text
sections, phases, targets, the effective targets of a unit, and the PDF.

Scoped like the screens: a plan is visible to whoever sees its issuing unit
and to the units under it that implement it (a ward reads the district's and
the city's plans); another tenant's or another subtree's plan is a 404. Writes
need a planner's role at the issuing unit (403 otherwise, and for the
read-only viewer); a refused change is a 400 with a code and a Vietnamese
message (``loosened`` when a derived plan would go below its parent), 409 for
a stale version. Sections, phases and targets are addressed inside their plan.
"""

import datetime as dt
import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from campaigns.documents import pdf_file_name, render_plan_pdf
from campaigns.models import Deadline, Phase, Plan, PlanSection, ReviewKind, Target, TargetKind
from campaigns.selectors.plans import (
    effective_targets,
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
from campaigns.views.plans import may_plan
from core.api_pagination import PageNumberPagination
from core.http import AuthedRequest
from recognition.api.dossier import UnitRef
from recognition.titles import Title
from units.selectors import get_unit_for_user, require_write

router = Router(tags=["campaigns: plans"])


# --- Schemas -------------------------------------------------------------------------


class PlanRef(Schema):
    public_id: uuid.UUID
    reference: str
    title: str
    issuing_unit: UnitRef


class PlanOut(Schema):
    public_id: uuid.UUID
    issuing_unit: UnitRef
    parent: PlanRef | None
    number: int | None
    symbol: str
    reference: str
    issued_on: dt.date | None
    title: str
    start_year: int
    end_year: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class SectionOut(Schema):
    id: int
    position: int
    heading: str
    body: str


class PhaseOut(Schema):
    id: int
    name: str
    start_year: int
    end_year: int
    review_kind: ReviewKind
    review_due: dt.date
    #: The parent plan's review date this phase may not be later than.
    inherited_review_due: dt.date | None

    @staticmethod
    def resolve_inherited_review_due(obj: Phase) -> dt.date | None:
        return obj.source.review_due if obj.source else None


class TargetOut(Schema):
    id: int
    unit: UnitRef
    title: Title
    year: int
    kind: TargetKind
    value: Decimal
    #: The parent plan's value this target may not go below (None: not inherited).
    inherited_value: Decimal | None

    @staticmethod
    def resolve_inherited_value(obj: Target) -> Decimal | None:
        return obj.source.value if obj.source else None


class EffectiveTargetOut(Schema):
    title: Title
    year: int
    kind: TargetKind
    value: Decimal
    unit: UnitRef
    plan: PlanRef


class DeadlineRefOut(Schema):
    public_id: uuid.UUID
    kind: str
    title: str
    year: int
    level: str
    due_on: dt.date
    label: str


class PlanDetailOut(PlanOut):
    place_name: str
    agency: str
    legal_bases: str
    signer_title: str
    signer_name: str
    recipients: str
    sections: list[SectionOut]
    phases: list[PhaseOut]
    targets: list[TargetOut]
    deadlines: list[DeadlineRefOut]
    children: list[PlanRef]

    @staticmethod
    def resolve_sections(obj: Plan) -> QuerySet[PlanSection]:
        return plan_sections(obj)

    @staticmethod
    def resolve_phases(obj: Plan) -> QuerySet[Phase]:
        return plan_phases(obj)

    @staticmethod
    def resolve_targets(obj: Plan) -> QuerySet[Target]:
        return plan_targets(obj)

    @staticmethod
    def resolve_deadlines(obj: Plan) -> QuerySet[Deadline]:
        return obj.deadlines.order_by("due_on", "pk")

    @staticmethod
    def resolve_children(obj: Plan) -> QuerySet[Plan]:
        return obj.children.select_related("issuing_unit").order_by("issuing_unit__sort_name")


class PlanFilter(Schema):
    unit: uuid.UUID | None = None
    year: int | None = None


class PlanIn(Schema):
    issuing_unit: uuid.UUID
    title: str
    start_year: int
    end_year: int
    number: int | None = None
    symbol: str = "KH-UBND"
    issued_on: dt.date | None = None
    legal_bases: str = ""
    place_name: str | None = None
    agency: str | None = None
    signer_title: str = ""
    signer_name: str = ""
    recipients: str = ""


class PlanUpdateIn(Schema):
    """Only the fields sent are changed; ``version`` is the one the client read."""

    version: int
    number: int | None = None
    symbol: str | None = None
    issued_on: dt.date | None = None
    place_name: str | None = None
    agency: str | None = None
    title: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    legal_bases: str | None = None
    signer_title: str | None = None
    signer_name: str | None = None
    recipients: str | None = None


class DeriveIn(Schema):
    issuing_unit: uuid.UUID


class SectionIn(Schema):
    heading: str
    body: str = ""


class MoveIn(Schema):
    """-1: one place up, 1: one place down."""

    offset: int


class PhaseIn(Schema):
    name: str
    start_year: int
    end_year: int
    review_kind: ReviewKind
    review_due: dt.date


class TargetIn(Schema):
    unit: uuid.UUID
    title: Title
    year: int
    kind: TargetKind
    value: Decimal


class TargetUpdateIn(Schema):
    value: Decimal


class EffectiveFilter(Schema):
    unit: uuid.UUID
    title: Title | None = None
    year: int | None = None


# --- Helpers -------------------------------------------------------------------------


def _writable(request: AuthedRequest, public_id: str) -> Plan:
    """The plan if the user may write it (404 out of sight, 403 read-only or not a planner)."""
    plan = get_plan_for_user(request.user, public_id)
    if not may_plan(request.user, plan):
        raise PermissionDenied
    return plan


def _fresh(plan: Plan) -> Plan:
    return Plan.objects.select_related("issuing_unit", "parent", "parent__issuing_unit").get(
        pk=plan.pk
    )


# --- Plans ---------------------------------------------------------------------------


@router.get(
    "/effective-targets",
    response=list[EffectiveTargetOut],
    url_name="plan-effective-targets",
    summary="The targets in force for a unit (the nearest plan's, overrides first)",
)
def list_effective_targets(request: AuthedRequest, filters: Query[EffectiveFilter]) -> list[Target]:
    unit = get_unit_for_user(request.user, filters.unit)
    return effective_targets(unit=unit, title=filters.title, year=filters.year)


@router.get(
    "",
    response=list[PlanOut],
    url_name="plan-list",
    summary="Plans in scope and the plans above that the user's units implement",
)
@paginate(PageNumberPagination, page_size=50)
def list_plans(request: AuthedRequest, filters: Query[PlanFilter]) -> QuerySet[Plan]:
    qs = plans_for_user(request.user)
    if filters.unit:
        qs = qs.filter(issuing_unit=get_unit_for_user(request.user, filters.unit))
    if filters.year:
        qs = qs.filter(start_year__lte=filters.year, end_year__gte=filters.year)
    return qs.order_by("issuing_unit__depth", "-start_year", "issuing_unit__sort_name", "pk")


@router.post(
    "",
    response={201: PlanDetailOut},
    url_name="plan-create",
    summary="A new plan of an issuing unit (agency and place from its issuer profile)",
)
def create_plan(request: AuthedRequest, payload: PlanIn) -> Status[Plan]:
    unit = get_unit_for_user(request.user, payload.issuing_unit)
    require_write(request.user, unit)
    data = payload.dict()
    data.pop("issuing_unit")
    plan = services.plan_create(actor=request.user, issuing_unit=unit, **data)
    return Status(201, _fresh(plan))


@router.get(
    "/{public_id}",
    response=PlanDetailOut,
    url_name="plan-detail",
    summary="One plan with its sections, phases, targets, deadlines and child plans",
)
def get_plan(request: AuthedRequest, public_id: str) -> Plan:
    return get_plan_for_user(request.user, public_id)


@router.patch(
    "/{public_id}",
    response=PlanDetailOut,
    url_name="plan-update",
    summary="Edit the header (send the version you read; 409 if it changed meanwhile)",
)
def update_plan(request: AuthedRequest, public_id: str, payload: PlanUpdateIn) -> Plan:
    plan = _writable(request, public_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.plan_update(actor=request.user, plan=plan, expected_version=version, data=data)
    return _fresh(plan)


@router.post(
    "/{public_id}/derive",
    response={201: PlanDetailOut},
    url_name="plan-derive",
    summary="Make the plan of a unit under this plan's unit, implementing it, in one step",
)
def derive_plan(request: AuthedRequest, public_id: str, payload: DeriveIn) -> Status[Plan]:
    parent = get_plan_for_user(request.user, public_id)
    unit = get_unit_for_user(request.user, payload.issuing_unit)
    require_write(request.user, unit)
    child = services.plan_derive(actor=request.user, parent=parent, issuing_unit=unit)
    return Status(201, _fresh(child))


@router.get(
    "/{public_id}/pdf",
    response={200: None},
    url_name="plan-pdf",
    summary="The plan in the state format (application/pdf)",
)
def download_pdf(request: AuthedRequest, public_id: str) -> HttpResponseBase:
    plan = get_plan_for_user(request.user, public_id)
    response = HttpResponse(render_plan_pdf(plan), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_file_name(plan)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Sections ------------------------------------------------------------------------


@router.get(
    "/{public_id}/sections",
    response=list[SectionOut],
    url_name="plan-sections",
    summary="The text of the plan, in order",
)
def list_sections(request: AuthedRequest, public_id: str) -> QuerySet[PlanSection]:
    return plan_sections(get_plan_for_user(request.user, public_id))


@router.post(
    "/{public_id}/sections",
    response={201: SectionOut},
    url_name="plan-section-add",
    summary="Append a section",
)
def add_section(request: AuthedRequest, public_id: str, payload: SectionIn) -> Status[PlanSection]:
    plan = _writable(request, public_id)
    section = services.section_add(
        actor=request.user, plan=plan, heading=payload.heading, body=payload.body
    )
    return Status(201, section)


@router.patch(
    "/{public_id}/sections/{section_id}",
    response=SectionOut,
    url_name="plan-section-update",
    summary="Change a section's heading and text",
)
def update_section(
    request: AuthedRequest, public_id: str, section_id: str, payload: SectionIn
) -> PlanSection:
    plan = _writable(request, public_id)
    section = get_section(plan, section_id)
    return services.section_update(
        actor=request.user, section=section, heading=payload.heading, body=payload.body
    )


@router.post(
    "/{public_id}/sections/{section_id}/move",
    response=SectionOut,
    url_name="plan-section-move",
    summary="Move a section up (-1) or down (1)",
)
def move_section(
    request: AuthedRequest, public_id: str, section_id: str, payload: MoveIn
) -> PlanSection:
    plan = _writable(request, public_id)
    section = get_section(plan, section_id)
    return services.section_move(actor=request.user, section=section, offset=payload.offset)


@router.delete(
    "/{public_id}/sections/{section_id}",
    response={204: None},
    url_name="plan-section-delete",
    summary="Delete a section",
)
def delete_section(request: AuthedRequest, public_id: str, section_id: str) -> Status[None]:
    plan = _writable(request, public_id)
    services.section_delete(actor=request.user, section=get_section(plan, section_id))
    return Status(204, None)


# --- Phases --------------------------------------------------------------------------


@router.get(
    "/{public_id}/phases",
    response=list[PhaseOut],
    url_name="plan-phases",
    summary="The phases of the plan with their reviews",
)
def list_phases(request: AuthedRequest, public_id: str) -> QuerySet[Phase]:
    return plan_phases(get_plan_for_user(request.user, public_id))


@router.post(
    "/{public_id}/phases",
    response={201: PhaseOut},
    url_name="plan-phase-add",
    summary="Add a phase inside the plan's period",
)
def add_phase(request: AuthedRequest, public_id: str, payload: PhaseIn) -> Status[Phase]:
    plan = _writable(request, public_id)
    phase = services.phase_save(actor=request.user, plan=plan, data=payload.dict())
    return Status(201, phase)


@router.put(
    "/{public_id}/phases/{phase_id}",
    response=PhaseOut,
    url_name="plan-phase-update",
    summary="Change a phase (an inherited review may come earlier, not later)",
)
def update_phase(request: AuthedRequest, public_id: str, phase_id: str, payload: PhaseIn) -> Phase:
    plan = _writable(request, public_id)
    phase = get_phase(plan, phase_id)
    return services.phase_save(actor=request.user, plan=plan, data=payload.dict(), phase=phase)


@router.delete(
    "/{public_id}/phases/{phase_id}",
    response={204: None},
    url_name="plan-phase-delete",
    summary="Delete a phase of this plan's own (not an inherited one)",
)
def delete_phase(request: AuthedRequest, public_id: str, phase_id: str) -> Status[None]:
    plan = _writable(request, public_id)
    services.phase_delete(actor=request.user, phase=get_phase(plan, phase_id))
    return Status(204, None)


# --- Targets -------------------------------------------------------------------------


@router.get(
    "/{public_id}/targets",
    response=list[TargetOut],
    url_name="plan-targets",
    summary="The targets of the plan, each with the parent's value it may not go below",
)
def list_targets(request: AuthedRequest, public_id: str) -> QuerySet[Target]:
    return plan_targets(get_plan_for_user(request.user, public_id))


@router.post(
    "/{public_id}/targets",
    response={201: TargetOut},
    url_name="plan-target-add",
    summary="Set a target for the plan's unit or a unit under it (a rate 0–100 or a count)",
)
def add_target(request: AuthedRequest, public_id: str, payload: TargetIn) -> Status[Target]:
    plan = _writable(request, public_id)
    unit = get_unit_for_user(request.user, payload.unit)
    target = services.target_save(
        actor=request.user,
        plan=plan,
        unit=unit,
        title=payload.title,
        year=payload.year,
        kind=payload.kind,
        value=payload.value,
    )
    return Status(201, target)


@router.patch(
    "/{public_id}/targets/{target_id}",
    response=TargetOut,
    url_name="plan-target-update",
    summary="Change a target's value (an inherited one may be raised, not lowered)",
)
def update_target(
    request: AuthedRequest, public_id: str, target_id: str, payload: TargetUpdateIn
) -> Target:
    plan = _writable(request, public_id)
    target = get_target(plan, target_id)
    return services.target_save(
        actor=request.user,
        plan=plan,
        unit=target.unit,
        title=target.title,
        year=target.year,
        kind=target.kind,
        value=payload.value,
        target=target,
    )


@router.delete(
    "/{public_id}/targets/{target_id}",
    response={204: None},
    url_name="plan-target-delete",
    summary="Delete a target of this plan's own (not an inherited one)",
)
def delete_target(request: AuthedRequest, public_id: str, target_id: str) -> Status[None]:
    plan = _writable(request, public_id)
    services.target_delete(actor=request.user, target=get_target(plan, target_id))
    return Status(204, None)

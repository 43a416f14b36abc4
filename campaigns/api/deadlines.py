"""API of campaign deadlines: a plan's deadlines, extensions, a unit's calendar.

Scoped like the screens: a deadline is visible to whoever sees its plan's
unit or a unit under it; another tenant's or another subtree's is a 404. A
write needs a planner's role at the plan's unit (extensions: a reviewer's);
a read-only user or a deadline set above the user answers 403. Refusals
(a child deadline later than its parent's, a year outside the plan) answer
400 with a code and a Vietnamese message, and save nothing.
"""

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from campaigns.models import Deadline, DeadlineKind, Plan
from campaigns.permissions import PLANNERS, REVIEWERS
from campaigns.selectors.deadlines import (
    applicable_deadlines,
    calendar_for_unit,
    deadlines_for_user,
    extensions_of,
    get_deadline_for_user,
    get_plan_for_deadlines,
)
from campaigns.services import deadlines as services
from core.http import AuthedRequest
from recognition.models import LockExtension
from recognition.titles import Title
from units.levels import Level
from units.roles import READ_ONLY_ROLES
from units.selectors import get_unit_for_user, roles_at

router = Router(tags=["campaigns: deadlines"])


class UnitRef(Schema):
    public_id: uuid.UUID
    name: str
    code: str
    level: str


class PlanRef(Schema):
    public_id: uuid.UUID
    reference: str
    title: str
    issuing_unit: UnitRef


class DeadlineOut(Schema):
    public_id: uuid.UUID
    plan: PlanRef
    kind: DeadlineKind
    title: str
    year: int
    level: str
    due_on: dt.date
    label: str
    remind_days: int
    #: The parent plan's deadline this one implements (it may be earlier, never later).
    source: uuid.UUID | None
    #: When the forms of its stage lock (registration, self-assessment, dossier of one title).
    locks_at: dt.datetime | None

    @staticmethod
    def resolve_source(obj: Deadline) -> uuid.UUID | None:
        return obj.source.public_id if obj.source_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_locks_at(obj: Deadline) -> dt.datetime | None:
        return obj.form_lock.locks_at if obj.form_lock_id else None  # type: ignore[union-attr]


class DeadlineFilter(Schema):
    plan: uuid.UUID | None = None
    #: Deadlines that apply to this unit (set by it or above it).
    unit: uuid.UUID | None = None
    year: int | None = None


class DeadlineIn(Schema):
    plan: uuid.UUID
    kind: DeadlineKind
    title: Title | None = None
    year: int
    level: Level
    due_on: dt.date
    label: str = ""
    remind_days: int = 7


class DeadlineUpdateIn(Schema):
    kind: DeadlineKind | None = None
    title: Title | None = None
    year: int | None = None
    level: Level | None = None
    due_on: dt.date | None = None
    label: str | None = None
    remind_days: int | None = None


class ExtensionOut(Schema):
    id: int
    unit: UnitRef
    until: dt.datetime
    reason: str
    active: bool
    created_at: dt.datetime

    @staticmethod
    def resolve_active(obj: LockExtension) -> bool:
        return obj.until > timezone.now()


class ExtensionIn(Schema):
    unit: uuid.UUID
    #: The last day of the extension (it runs to the end of that day, local time).
    until: dt.date
    reason: str


class ExtensionRevokeIn(Schema):
    extension: int


class CalendarFilter(Schema):
    unit: uuid.UUID
    year: int | None = None


class CalendarRowOut(Schema):
    deadline: DeadlineOut
    scope: str
    status: str
    days_left: int
    done_late: bool
    extended_until: dt.datetime | None
    total: int
    done: int
    late: int
    pending: int
    late_units: list[UnitRef]


def _require(request: AuthedRequest, plan: Plan, allowed: frozenset[str]) -> None:
    roles = roles_at(request.user, plan.issuing_unit)
    if not (roles - READ_ONLY_ROLES) or not (roles & allowed):
        raise PermissionDenied


def _fresh(deadline: Deadline) -> Deadline:
    return Deadline.objects.select_related("plan__issuing_unit", "source", "form_lock").get(
        pk=deadline.pk
    )


def _data(deadline: Deadline) -> dict[str, Any]:
    return {
        "kind": deadline.kind,
        "title": deadline.title,
        "year": deadline.year,
        "level": deadline.level,
        "due_on": deadline.due_on,
        "label": deadline.label,
        "remind_days": deadline.remind_days,
    }


@router.get(
    "/calendar",
    response=list[CalendarRowOut],
    url_name="deadline-calendar",
    summary="A unit's calendar: what it and the units under it must do in a year, with status",
)
def unit_calendar(request: AuthedRequest, filters: Query[CalendarFilter]) -> list[Any]:
    unit = get_unit_for_user(request.user, filters.unit)
    today = timezone.localdate()
    return calendar_for_unit(unit=unit, year=filters.year or today.year, today=today)


@router.get(
    "",
    response=list[DeadlineOut],
    url_name="deadline-list",
    summary="Deadlines in scope (of one plan, or applying to one unit; by year of the cycle)",
)
def list_deadlines(request: AuthedRequest, filters: Query[DeadlineFilter]) -> QuerySet[Deadline]:
    qs = deadlines_for_user(request.user)
    if filters.plan:
        qs = qs.filter(plan=get_plan_for_deadlines(request.user, filters.plan))
    if filters.unit:
        unit = get_unit_for_user(request.user, filters.unit)
        qs = qs.filter(pk__in=applicable_deadlines(unit=unit).values("pk"))
    if filters.year:
        qs = qs.filter(year=filters.year)
    return qs.order_by("due_on", "kind", "pk")


@router.post(
    "",
    response={201: DeadlineOut},
    url_name="deadline-create",
    summary="A new deadline of a plan (no later than the parent plan's)",
)
def create_deadline(request: AuthedRequest, payload: DeadlineIn) -> Status[Deadline]:
    plan = get_plan_for_deadlines(request.user, payload.plan)
    _require(request, plan, PLANNERS)
    data = payload.dict()
    data.pop("plan")
    data["title"] = data["title"] or ""
    deadline = services.deadline_save(actor=request.user, plan=plan, data=data)
    return Status(201, _fresh(deadline))


@router.get("/{public_id}", response=DeadlineOut, url_name="deadline-detail", summary="A deadline")
def get_deadline(request: AuthedRequest, public_id: str) -> Deadline:
    return get_deadline_for_user(request.user, public_id)


@router.patch(
    "/{public_id}",
    response=DeadlineOut,
    url_name="deadline-update",
    summary="Change a deadline (moving it earlier moves the plans below that are later)",
)
def update_deadline(request: AuthedRequest, public_id: str, payload: DeadlineUpdateIn) -> Deadline:
    deadline = get_deadline_for_user(request.user, public_id)
    _require(request, deadline.plan, PLANNERS)
    data = _data(deadline)
    changes = payload.dict(exclude_unset=True)
    if "title" in changes:
        changes["title"] = changes["title"] or ""
    data.update({k: v for k, v in changes.items() if v is not None or k == "title"})
    services.deadline_save(actor=request.user, plan=deadline.plan, data=data, deadline=deadline)
    return _fresh(deadline)


@router.delete(
    "/{public_id}", response={204: None}, url_name="deadline-delete", summary="Delete a deadline"
)
def delete_deadline(request: AuthedRequest, public_id: str) -> Status[None]:
    deadline = get_deadline_for_user(request.user, public_id)
    _require(request, deadline.plan, PLANNERS)
    services.deadline_delete(actor=request.user, deadline=deadline)
    return Status(204, None)


@router.get(
    "/{public_id}/extensions",
    response=list[ExtensionOut],
    url_name="deadline-extensions",
    summary="Extensions granted for a deadline",
)
def list_extensions(request: AuthedRequest, public_id: str) -> QuerySet[LockExtension]:
    return extensions_of(get_deadline_for_user(request.user, public_id))


@router.post(
    "/{public_id}/extensions",
    response={201: ExtensionOut},
    url_name="deadline-extend",
    summary="Grant one unit an extension with a reason (reviewers of the plan's unit)",
)
def grant_extension(
    request: AuthedRequest, public_id: str, payload: ExtensionIn
) -> Status[LockExtension]:
    deadline = get_deadline_for_user(request.user, public_id)
    _require(request, deadline.plan, REVIEWERS)
    unit = get_unit_for_user(request.user, payload.unit)
    extension = services.extension_grant(
        actor=request.user,
        deadline=deadline,
        unit=unit,
        until=payload.until,
        reason=payload.reason,
    )
    return Status(201, extension)


@router.post(
    "/{public_id}/extensions/revoke",
    response=ExtensionOut,
    url_name="deadline-extension-revoke",
    summary="End an extension now",
)
def revoke_extension(
    request: AuthedRequest, public_id: str, payload: ExtensionRevokeIn
) -> LockExtension:
    deadline = get_deadline_for_user(request.user, public_id)
    _require(request, deadline.plan, REVIEWERS)
    return services.extension_revoke(
        actor=request.user, deadline=deadline, extension_id=payload.extension
    )

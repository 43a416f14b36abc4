"""API of registrations: list, register one, register in bulk, withdraw.

Scoped to the caller's area (404 outside it); reviewers and the steering
committee read but get 403 on writes; a registration after the deadline
answers 409 ``deadline_locked``; a duplicate single registration 409
``duplicate_registration`` (in bulk, duplicates are counted, not errors).
"""

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from core.api_pagination import PageNumberPagination
from recognition.models import Registration, RegistrationStatus
from recognition.selectors.registration import (
    candidate_kind,
    filter_registrations,
    get_registration_for_user,
    registration_candidates,
    registrations_for_user,
)
from recognition.selectors.subjects import (
    get_subject_for_user,
    require_subject_write,
    subject_name,
    subject_unit,
    subjects_for_user,
    writes_subjects_somewhere,
)
from recognition.services import registration as services
from recognition.titles import SubjectKind, Title
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import get_unit_for_user, units_for_user

router = Router(tags=["registrations"])


class UnitRef(Schema):
    public_id: uuid.UUID
    code: str
    name: str


class RegistrationOut(Schema):
    public_id: uuid.UUID
    title: Title
    year: int
    status: RegistrationStatus
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    subject_name: str
    scope_level: str
    unit: UnitRef
    proposing_unit: UnitRef
    assessment_status: str | None
    created_at: dt.datetime

    @staticmethod
    def resolve_subject_id(obj: Registration) -> uuid.UUID:
        subject: Any = obj.subject
        return uuid.UUID(str(subject.public_id))

    @staticmethod
    def resolve_subject_name(obj: Registration) -> str:
        subject: Any = obj.subject
        return (
            str(subject.name) if isinstance(subject, AdministrativeUnit) else subject_name(subject)
        )

    @staticmethod
    def resolve_scope_level(obj: Registration) -> str:
        unit = obj.subject_unit
        return str(unit.level) if obj.subject_kind == SubjectKind.UNIT and unit else ""

    @staticmethod
    def resolve_assessment_status(obj: Registration) -> str | None:
        assessment = getattr(obj, "assessment", None)
        return str(assessment.status) if assessment is not None else None


class RegistrationFilter(Schema):
    title: Title | None = None
    year: int | None = None
    unit: uuid.UUID | None = None
    status: RegistrationStatus | None = None


class RegistrationIn(Schema):
    title: Title
    year: int
    subject: uuid.UUID


class BulkIn(Schema):
    title: Title
    year: int
    unit: uuid.UUID | None = None
    level: Level = Level.COMMUNE
    q: str = ""
    subjects: list[uuid.UUID] | None = None


class BulkOut(Schema):
    created: int
    reinstated: int
    already_registered: int
    not_eligible: int
    registered: int


def _registration(pk: int) -> Registration:
    """Reload with everything :class:`RegistrationOut` reads."""
    return Registration.objects.select_related(
        "unit",
        "proposing_unit",
        "household",
        "clan",
        "organisation",
        "citizen",
        "subject_unit",
        "assessment",
    ).get(pk=pk)


@router.get("", response=list[RegistrationOut], summary="Registrations in scope")
@paginate(PageNumberPagination, page_size=50)
def list_registrations(
    request: HttpRequest, filters: Query[RegistrationFilter]
) -> QuerySet[Registration]:
    unit = get_unit_for_user(request.user, filters.unit) if filters.unit else None
    return filter_registrations(
        registrations_for_user(request.user),
        title=filters.title,
        year=filters.year,
        unit=unit,
        status=filters.status,
    ).order_by("-year", "title", "pk")


@router.post("", response={201: RegistrationOut}, summary="Register one subject")
def create_registration(request: HttpRequest, payload: RegistrationIn) -> Status[Registration]:
    subject = get_subject_for_user(request.user, candidate_kind(payload.title), payload.subject)
    require_subject_write(request.user, subject_unit(subject))
    registration = services.registration_create(
        actor=request.user, title=payload.title, year=payload.year, subject=subject
    )
    return Status(201, _registration(registration.pk))


@router.post("/bulk", response=BulkOut, summary="Register many subjects at once")
def bulk_register(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    """Either the listed ``subjects`` (public ids of the title's kind of subject), or
    every active subject matching ``unit`` (its whole subtree), ``q`` and, for
    "Cộng đồng học tập", ``level``. Subjects already registered are counted in
    ``already_registered``, not refused."""
    kind = candidate_kind(payload.title)
    unit = get_unit_for_user(request.user, payload.unit) if payload.unit else None
    if unit is not None:
        require_subject_write(request.user, unit)
    elif not writes_subjects_somewhere(request.user):
        raise PermissionDenied
    subjects: QuerySet[Any]
    if payload.subjects is not None:
        ids = set(payload.subjects)
        visible = (
            units_for_user(request.user)
            if kind == SubjectKind.UNIT
            else subjects_for_user(request.user, kind)
        )
        subjects = visible.filter(public_id__in=ids)
        if unit is not None:
            field = "path" if kind == SubjectKind.UNIT else "unit__path"
            subjects = subjects.filter(**{f"{field}__startswith": unit.path})
        if subjects.count() != len(ids):
            raise Http404
    else:
        subjects = registration_candidates(
            request.user,
            title=payload.title,
            year=payload.year,
            level=payload.level,
            unit=unit,
            q=payload.q,
        )
    result = services.registration_bulk_create(
        actor=request.user, title=payload.title, year=payload.year, subjects=subjects
    )
    return {**result.as_dict(), "registered": result.registered}


@router.get("/{public_id}", response=RegistrationOut, summary="One registration")
def get_registration(request: HttpRequest, public_id: str) -> Registration:
    return get_registration_for_user(request.user, public_id)


@router.post(
    "/{public_id}/withdraw",
    response=RegistrationOut,
    summary="Withdraw a registration (only before its assessment is submitted)",
)
def withdraw_registration(request: HttpRequest, public_id: str) -> Registration:
    registration = get_registration_for_user(request.user, public_id)
    require_subject_write(request.user, registration.unit)
    services.registration_withdraw(actor=request.user, registration=registration)
    return _registration(registration.pk)

"""API of the subjects: households, clans, organisations, citizens.

GET/POST /api/v1/subjects/<kind> and GET/PATCH /api/v1/subjects/<kind>/{public_id},
scoped to the caller's area (404 outside it); roles that only read subjects
(reviewer, steering committee) get 403 on writes; domain errors answer with a
code and a translated message. Lists show a citizen's ID number masked; the
full number is returned only by the detail operation and only to the officials
who keep the record (issue 4 §4).
"""

import datetime as dt
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from core.api_pagination import PageNumberPagination
from core.exceptions import ConcurrentEditError
from recognition.models import Citizen, Clan, Household, LabourGroup, Organisation
from recognition.personal_data.access_log import log_detail_view
from recognition.selectors.subjects import (
    NAME_FIELD,
    can_see_national_id,
    get_subject_for_user,
    require_subject_write,
    search_subjects,
    subjects_for_user,
)
from recognition.services import subjects as services
from recognition.titles import SubjectKind
from units.models import AdministrativeUnit
from units.selectors import get_unit_for_user

router = Router(tags=["subjects"])


# --- Schemas ----------------------------------------------------------------------------


class UnitRef(Schema):
    public_id: uuid.UUID
    code: str
    name: str


class SubjectOut(Schema):
    public_id: uuid.UUID
    unit: UnitRef
    is_active: bool
    version: int
    updated_at: dt.datetime


class HouseholdOut(SubjectOut):
    code: str
    head_name: str
    address: str
    member_count: int


class ClanOut(SubjectOut):
    name: str
    representative: str
    member_count: int | None
    home_units: list[UnitRef]

    @staticmethod
    def resolve_home_units(obj: Clan) -> list[AdministrativeUnit]:
        return list(obj.home_units.all())


class OrganisationOut(SubjectOut):
    name: str
    kind: Organisation.Kind
    address: str
    member_count: int | None


class CitizenOut(SubjectOut):
    full_name: str
    birth_year: int | None  # None only once the citizen's data was erased
    labour_group: LabourGroup
    national_id_masked: str


class CitizenDetailOut(CitizenOut):
    national_id: str | None = None


class HouseholdIn(Schema):
    unit: uuid.UUID
    code: str
    head_name: str
    address: str = ""
    member_count: int = 1


class HouseholdPatch(Schema):
    version: int
    unit: uuid.UUID | None = None
    code: str | None = None
    head_name: str | None = None
    address: str | None = None
    member_count: int | None = None
    is_active: bool | None = None


class ClanIn(Schema):
    unit: uuid.UUID
    name: str
    representative: str
    member_count: int | None = None
    home_units: list[uuid.UUID] = []


class ClanPatch(Schema):
    version: int
    unit: uuid.UUID | None = None
    name: str | None = None
    representative: str | None = None
    member_count: int | None = None
    home_units: list[uuid.UUID] | None = None
    is_active: bool | None = None


class OrganisationIn(Schema):
    unit: uuid.UUID
    name: str
    kind: Organisation.Kind
    address: str = ""
    member_count: int | None = None


class OrganisationPatch(Schema):
    version: int
    unit: uuid.UUID | None = None
    name: str | None = None
    kind: Organisation.Kind | None = None
    address: str | None = None
    member_count: int | None = None
    is_active: bool | None = None


class CitizenIn(Schema):
    unit: uuid.UUID
    full_name: str
    birth_year: int
    labour_group: LabourGroup
    national_id: str = ""


class CitizenPatch(Schema):
    version: int
    unit: uuid.UUID | None = None
    full_name: str | None = None
    birth_year: int | None = None
    labour_group: LabourGroup | None = None
    national_id: str | None = None
    is_active: bool | None = None


class ActiveState(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ALL = "all"


class SubjectFilter(Schema):
    unit: uuid.UUID | None = None
    q: str | None = None
    status: ActiveState = ActiveState.ACTIVE


# --- Shared steps -------------------------------------------------------------------------


def _list(request: HttpRequest, kind: str, filters: SubjectFilter) -> QuerySet[Any]:
    unit = get_unit_for_user(request.user, filters.unit) if filters.unit else None
    active = {ActiveState.ACTIVE: True, ActiveState.INACTIVE: False}.get(filters.status)
    qs = search_subjects(
        subjects_for_user(request.user, kind),
        kind=kind,
        q=filters.q or "",
        unit=unit,
        active=active,
    )
    return qs.order_by(NAME_FIELD[kind], "pk")


def _unit(request: HttpRequest, public_id: uuid.UUID) -> AdministrativeUnit:
    """A unit named in a body: it must be in the caller's area (else 404)."""
    return get_unit_for_user(request.user, public_id)


def _units(request: HttpRequest, ids: list[uuid.UUID]) -> list[AdministrativeUnit]:
    return [_unit(request, pk) for pk in dict.fromkeys(ids)]


def _writable(request: HttpRequest, kind: str, public_id: str) -> Any:
    subject = get_subject_for_user(request.user, kind, public_id)
    require_subject_write(request.user, subject.unit)
    return subject


def _patch(
    request: HttpRequest,
    subject: Any,
    payload: Schema,
    update: Callable[..., Any],
    current: dict[str, Any],
) -> Any:
    """Apply a partial edit: the given fields over the current ones, then the
    active flag; every step checks the version (409 when stale)."""
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    is_active = changes.pop("is_active", None)
    if changes:
        fields = {**current, **changes}
        subject = update(subject, version, fields)
        version = subject.version
    if is_active is not None:
        subject = services.subject_set_active(
            actor=request.user, subject=subject, active=is_active, expected_version=version
        )
    elif not changes and subject.version != version:
        raise ConcurrentEditError()
    return subject


# --- Households -----------------------------------------------------------------------------


@router.get("/households", response=list[HouseholdOut], summary="Households in scope")
@paginate(PageNumberPagination, page_size=50)
def list_households(request: HttpRequest, filters: Query[SubjectFilter]) -> QuerySet[Household]:
    return _list(request, SubjectKind.HOUSEHOLD, filters)


@router.post("/households", response={201: HouseholdOut}, summary="Add a household")
def create_household(request: HttpRequest, payload: HouseholdIn) -> Status[Household]:
    unit = _unit(request, payload.unit)
    require_subject_write(request.user, unit)
    household = services.household_create(
        actor=request.user,
        unit=unit,
        code=payload.code,
        head_name=payload.head_name,
        address=payload.address,
        member_count=payload.member_count,
    )
    return Status(201, household)


@router.get("/households/{public_id}", response=HouseholdOut, summary="One household")
def get_household(request: HttpRequest, public_id: str) -> Household:
    household: Household = get_subject_for_user(request.user, SubjectKind.HOUSEHOLD, public_id)
    log_detail_view(request, household, show_id=False, via="api")
    return household


@router.patch("/households/{public_id}", response=HouseholdOut, summary="Edit a household")
def patch_household(request: HttpRequest, public_id: str, payload: HouseholdPatch) -> Household:
    household = _writable(request, SubjectKind.HOUSEHOLD, public_id)

    def update(subject: Household, version: int, fields: dict[str, Any]) -> Household:
        return services.household_update(
            actor=request.user,
            household=subject,
            expected_version=version,
            unit=_unit(request, fields["unit"]),
            code=fields["code"],
            head_name=fields["head_name"],
            address=fields["address"],
            member_count=fields["member_count"],
        )

    current = {
        "unit": household.unit.public_id,
        "code": household.code,
        "head_name": household.head_name,
        "address": household.address,
        "member_count": household.member_count,
    }
    result: Household = _patch(request, household, payload, update, current)
    return result


# --- Clans --------------------------------------------------------------------------------------


@router.get("/clans", response=list[ClanOut], summary="Clans in scope")
@paginate(PageNumberPagination, page_size=50)
def list_clans(request: HttpRequest, filters: Query[SubjectFilter]) -> QuerySet[Clan]:
    return _list(request, SubjectKind.CLAN, filters)


@router.post("/clans", response={201: ClanOut}, summary="Add a clan")
def create_clan(request: HttpRequest, payload: ClanIn) -> Status[Clan]:
    unit = _unit(request, payload.unit)
    require_subject_write(request.user, unit)
    clan = services.clan_create(
        actor=request.user,
        unit=unit,
        name=payload.name,
        representative=payload.representative,
        member_count=payload.member_count,
        home_units=_units(request, payload.home_units),
    )
    return Status(201, clan)


@router.get("/clans/{public_id}", response=ClanOut, summary="One clan")
def get_clan(request: HttpRequest, public_id: str) -> Clan:
    clan: Clan = get_subject_for_user(request.user, SubjectKind.CLAN, public_id)
    return clan


@router.patch("/clans/{public_id}", response=ClanOut, summary="Edit a clan")
def patch_clan(request: HttpRequest, public_id: str, payload: ClanPatch) -> Clan:
    clan = _writable(request, SubjectKind.CLAN, public_id)

    def update(subject: Clan, version: int, fields: dict[str, Any]) -> Clan:
        return services.clan_update(
            actor=request.user,
            clan=subject,
            expected_version=version,
            unit=_unit(request, fields["unit"]),
            name=fields["name"],
            representative=fields["representative"],
            member_count=fields["member_count"],
            home_units=_units(request, fields["home_units"]),
        )

    current = {
        "unit": clan.unit.public_id,
        "name": clan.name,
        "representative": clan.representative,
        "member_count": clan.member_count,
        "home_units": [u.public_id for u in clan.home_units.all()],
    }
    result: Clan = _patch(request, clan, payload, update, current)
    return result


# --- Organisations ---------------------------------------------------------------------------------


@router.get("/organisations", response=list[OrganisationOut], summary="Organisations in scope")
@paginate(PageNumberPagination, page_size=50)
def list_organisations(
    request: HttpRequest, filters: Query[SubjectFilter]
) -> QuerySet[Organisation]:
    return _list(request, SubjectKind.ORGANISATION, filters)


@router.post("/organisations", response={201: OrganisationOut}, summary="Add an organisation")
def create_organisation(request: HttpRequest, payload: OrganisationIn) -> Status[Organisation]:
    unit = _unit(request, payload.unit)
    require_subject_write(request.user, unit)
    organisation = services.organisation_create(
        actor=request.user,
        unit=unit,
        name=payload.name,
        kind=payload.kind,
        address=payload.address,
        member_count=payload.member_count,
    )
    return Status(201, organisation)


@router.get("/organisations/{public_id}", response=OrganisationOut, summary="One organisation")
def get_organisation(request: HttpRequest, public_id: str) -> Organisation:
    organisation: Organisation = get_subject_for_user(
        request.user, SubjectKind.ORGANISATION, public_id
    )
    return organisation


@router.patch(
    "/organisations/{public_id}", response=OrganisationOut, summary="Edit an organisation"
)
def patch_organisation(
    request: HttpRequest, public_id: str, payload: OrganisationPatch
) -> Organisation:
    organisation = _writable(request, SubjectKind.ORGANISATION, public_id)

    def update(subject: Organisation, version: int, fields: dict[str, Any]) -> Organisation:
        return services.organisation_update(
            actor=request.user,
            organisation=subject,
            expected_version=version,
            unit=_unit(request, fields["unit"]),
            name=fields["name"],
            kind=fields["kind"],
            address=fields["address"],
            member_count=fields["member_count"],
        )

    current = {
        "unit": organisation.unit.public_id,
        "name": organisation.name,
        "kind": organisation.kind,
        "address": organisation.address,
        "member_count": organisation.member_count,
    }
    result: Organisation = _patch(request, organisation, payload, update, current)
    return result


# --- Citizens --------------------------------------------------------------------------------------


def _citizen_detail(request: HttpRequest, citizen: Citizen) -> CitizenDetailOut:
    out = CitizenDetailOut.from_orm(citizen)
    out.national_id = citizen.national_id if can_see_national_id(request.user, citizen) else None
    return out


@router.get(
    "/citizens",
    response=list[CitizenOut],
    summary="Citizens in scope (ID numbers masked)",
)
@paginate(PageNumberPagination, page_size=50)
def list_citizens(request: HttpRequest, filters: Query[SubjectFilter]) -> QuerySet[Citizen]:
    return _list(request, SubjectKind.CITIZEN, filters)


@router.post("/citizens", response={201: CitizenDetailOut}, summary="Add a citizen")
def create_citizen(request: HttpRequest, payload: CitizenIn) -> Status[CitizenDetailOut]:
    unit = _unit(request, payload.unit)
    require_subject_write(request.user, unit)
    citizen = services.citizen_create(
        actor=request.user,
        unit=unit,
        full_name=payload.full_name,
        birth_year=payload.birth_year,
        labour_group=payload.labour_group,
        national_id=payload.national_id,
    )
    return Status(201, _citizen_detail(request, citizen))


@router.get(
    "/citizens/{public_id}",
    response=CitizenDetailOut,
    summary="One citizen (the full ID number only for the officials who keep the record)",
)
def get_citizen(request: HttpRequest, public_id: str) -> CitizenDetailOut:
    citizen: Citizen = get_subject_for_user(request.user, SubjectKind.CITIZEN, public_id)
    out = _citizen_detail(request, citizen)
    log_detail_view(request, citizen, show_id=out.national_id is not None, via="api")
    return out


@router.patch("/citizens/{public_id}", response=CitizenDetailOut, summary="Edit a citizen")
def patch_citizen(request: HttpRequest, public_id: str, payload: CitizenPatch) -> CitizenDetailOut:
    citizen = _writable(request, SubjectKind.CITIZEN, public_id)

    def update(subject: Citizen, version: int, fields: dict[str, Any]) -> Citizen:
        return services.citizen_update(
            actor=request.user,
            citizen=subject,
            expected_version=version,
            unit=_unit(request, fields["unit"]),
            full_name=fields["full_name"],
            birth_year=fields["birth_year"],
            labour_group=fields["labour_group"],
            national_id=fields["national_id"] or "",
        )

    current = {
        "unit": citizen.unit.public_id,
        "full_name": citizen.full_name,
        "birth_year": citizen.birth_year,
        "labour_group": citizen.labour_group,
        "national_id": citizen.national_id,
    }
    result: Citizen = _patch(request, citizen, payload, update, current)
    return _citizen_detail(request, result)

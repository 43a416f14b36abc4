"""Reads on the subjects of recognition: households, clans, organisations, citizens,
and the units themselves (community titles).

Every function takes the user and restricts through ``units.selectors``
(STYLE.md §4): a subject is visible to whoever holds a role over its unit's
subtree, and to nobody else (404). Personal data stays inside the scope that
owns it (issue 4 §4): lists show a citizen's ID number masked; the full number
is shown only to the officials who keep the record (:func:`can_see_national_id`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from core.models import AuditEvent
from core.text import fold, nfc
from recognition.models import Citizen, Clan, Household, Organisation
from recognition.models.subjects import SubjectBase
from recognition.personal_data.policy import sees_full_ids
from recognition.titles import SubjectKind
from units.models import AdministrativeUnit
from units.roles import Role
from units.selectors import parse_public_id, roles_at, scope_queryset, units_for_user

#: Roles that create and edit subjects and register them (issue 4 §4–5). A
#: reviewer and the steering viewer only read them.
SUBJECT_WRITERS: frozenset[str] = frozenset(
    {Role.WARD_OFFICIAL, Role.NEIGHBOURHOOD_LEAD, Role.TENANT_ADMIN}
)

#: Subject kinds that are records of their own (the community titles' subject is a unit).
SUBJECT_MODELS: dict[str, type[SubjectBase]] = {
    SubjectKind.HOUSEHOLD: Household,
    SubjectKind.CLAN: Clan,
    SubjectKind.ORGANISATION: Organisation,
    SubjectKind.CITIZEN: Citizen,
}

#: The kind of each subject model (the reverse of :data:`SUBJECT_MODELS`).
MODEL_KINDS: dict[type[Any], str] = {
    **{model: kind for kind, model in SUBJECT_MODELS.items()},
    AdministrativeUnit: SubjectKind.UNIT,
}

#: The fields each kind's ``search_text`` is folded from.
SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    SubjectKind.HOUSEHOLD: ("code", "head_name", "address"),
    SubjectKind.CLAN: ("name", "representative"),
    SubjectKind.ORGANISATION: ("name", "address"),
    SubjectKind.CITIZEN: ("full_name",),
}

#: The field a list is ordered by, and the name field a search also looks in.
NAME_FIELD: dict[str, str] = {
    SubjectKind.HOUSEHOLD: "code",
    SubjectKind.CLAN: "name",
    SubjectKind.ORGANISATION: "name",
    SubjectKind.CITIZEN: "full_name",
}


def kind_of(subject: Any) -> str:
    """The :class:`SubjectKind` of a subject object (a unit is a community's subject)."""
    kind = MODEL_KINDS.get(type(subject))
    if kind is None:
        raise TypeError(f"{type(subject).__name__} is not a subject of recognition")
    return kind


def subject_unit(subject: Any) -> AdministrativeUnit:
    """The unit a subject belongs to (for a unit: the unit itself)."""
    if isinstance(subject, AdministrativeUnit):
        return subject
    unit: AdministrativeUnit = subject.unit
    return unit


def subject_name(subject: Any) -> str:
    """How a subject is named in lists and messages (never with an ID number)."""
    if isinstance(subject, Household):
        return f"{subject.code} — {subject.head_name}"
    if isinstance(subject, Citizen):
        return subject.full_name
    return str(subject.name)


def search_text_for(kind: str, subject: Any) -> str:
    """The folded search text of a subject (written by the services)."""
    parts = (nfc(str(getattr(subject, f, "") or "")) for f in SEARCH_FIELDS[kind])
    return fold(" ".join(p for p in parts if p))[:600]


# --- Scoped querysets --------------------------------------------------------------


def subjects_for_user(user: Any, kind: str) -> QuerySet[Any]:
    """Subjects of ``kind`` the user may see, with their unit loaded (no N+1)."""
    model = SUBJECT_MODELS.get(kind)
    if model is None:
        raise Http404
    qs: QuerySet[Any] = model._default_manager.select_related("unit")
    if model is Clan:
        qs = qs.prefetch_related("home_units")
    tenant_id = getattr(user, "tenant_id", None)
    # The subject's own tenant column lets the (tenant, unit) index serve the query.
    return scope_queryset(qs.filter(tenant_id=tenant_id), user)


def households_for_user(user: Any) -> QuerySet[Household]:
    return subjects_for_user(user, SubjectKind.HOUSEHOLD)


def clans_for_user(user: Any) -> QuerySet[Clan]:
    return subjects_for_user(user, SubjectKind.CLAN)


def organisations_for_user(user: Any) -> QuerySet[Organisation]:
    return subjects_for_user(user, SubjectKind.ORGANISATION)


def citizens_for_user(user: Any) -> QuerySet[Citizen]:
    return subjects_for_user(user, SubjectKind.CITIZEN)


def get_subject_for_user(user: Any, kind: str, public_id: Any) -> Any:
    """The subject of ``kind`` with ``public_id`` if the user may see it, else 404.

    For :data:`SubjectKind.UNIT` this is a unit in the user's scope.
    """
    uid = parse_public_id(public_id)
    if kind == SubjectKind.UNIT:
        found: Any = units_for_user(user).select_related("parent").filter(public_id=uid).first()
    else:
        found = subjects_for_user(user, kind).filter(public_id=uid).first()
    if found is None:
        raise Http404
    return found


def get_household_for_user(user: Any, public_id: Any) -> Household:
    household: Household = get_subject_for_user(user, SubjectKind.HOUSEHOLD, public_id)
    return household


def get_clan_for_user(user: Any, public_id: Any) -> Clan:
    clan: Clan = get_subject_for_user(user, SubjectKind.CLAN, public_id)
    return clan


def get_organisation_for_user(user: Any, public_id: Any) -> Organisation:
    organisation: Organisation = get_subject_for_user(user, SubjectKind.ORGANISATION, public_id)
    return organisation


def get_citizen_for_user(user: Any, public_id: Any) -> Citizen:
    citizen: Citizen = get_subject_for_user(user, SubjectKind.CITIZEN, public_id)
    return citizen


def search_subjects(
    queryset: QuerySet[Any],
    *,
    kind: str,
    q: str = "",
    unit: AdministrativeUnit | None = None,
    active: bool | None = True,
) -> QuerySet[Any]:
    """Filter an already-scoped subject queryset.

    ``q`` matches the code or names accent- and case-insensitively ("nguyen van"
    finds "Nguyễn Văn"); ``unit`` keeps the subjects of its whole subtree;
    ``active=None`` keeps active and inactive subjects.
    """
    if unit is not None:
        queryset = queryset.filter(unit__path__startswith=unit.path)
    if active is not None:
        queryset = queryset.filter(is_active=active)
    term = nfc(q)
    if term:
        name_field = NAME_FIELD[kind]
        match = Q(search_text__contains=fold(term)) | Q(**{f"{name_field}__icontains": term})
        if kind == SubjectKind.HOUSEHOLD:
            match |= Q(head_name__icontains=term)
        queryset = queryset.filter(match)
    return queryset


# --- Community subjects (units) ---------------------------------------------------------


def in_force_during(year: int) -> Q:
    """Units in force at some time during ``year``."""
    return Q(valid_from__lte=dt.date(year, 12, 31)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=dt.date(year, 1, 1))
    )


def community_units_for_user(
    user: Any, *, level: str, year: int | None = None
) -> QuerySet[AdministrativeUnit]:
    """Units of ``level`` the user may see: the subjects of "Cộng đồng học tập"
    (neighbourhoods under the Khuyến học criteria, communes and above under
    TT 25/2023, RULES.md §0), optionally only those in force during ``year``."""
    qs = units_for_user(user).filter(level=level).select_related("parent")
    if year is not None:
        qs = qs.filter(in_force_during(year))
    return qs


def search_units_as_subjects(
    queryset: QuerySet[AdministrativeUnit], *, q: str = "", unit: AdministrativeUnit | None = None
) -> QuerySet[AdministrativeUnit]:
    if unit is not None:
        queryset = queryset.filter(path__startswith=unit.path)
    term = nfc(q)
    if term:
        queryset = queryset.filter(Q(search_name__contains=fold(term)) | Q(code__istartswith=term))
    return queryset


# --- Permissions ----------------------------------------------------------------------


def can_write_subjects(user: Any, unit: AdministrativeUnit) -> bool:
    """Whether the user may create, edit and register subjects at ``unit``."""
    return bool(roles_at(user, unit) & SUBJECT_WRITERS)


def require_subject_write(user: Any, unit: AdministrativeUnit) -> None:
    """404 outside the user's scope, 403 for roles that only read subjects."""
    roles = roles_at(user, unit)
    if not roles:
        raise Http404
    if not roles & SUBJECT_WRITERS:
        raise PermissionDenied


def writes_subjects_somewhere(user: Any) -> bool:
    """Whether the user holds a role that writes subjects anywhere (menus, create pages)."""
    return subject_write_units(user).exists()


def subject_write_units(user: Any) -> QuerySet[AdministrativeUnit]:
    """Units where the user may create subjects (their writing roles' subtrees)."""
    return units_for_user(user, roles=SUBJECT_WRITERS)


def can_see_national_id(user: Any, citizen: Citizen) -> bool:
    """The full ID number is for the officials who keep the record, over the
    citizen's unit (``PERSONAL_DATA_FULL_ID_ROLES``, recognition.personal_data.policy)."""
    return sees_full_ids(user, citizen.unit)


#: How the detail page names each step of a subject's timeline.
TIMELINE_LABELS: dict[str, Any] = {
    "create": _("Added"),
    "update": _("Edited"),
    "deactivate": _("Marked inactive"),
    "activate": _("Active again"),
    "erase": _("Personal data erased on request"),
    "retention": _("Anonymised after the retention period"),
}


def subject_timeline(subject: Any, *, limit: int = 50) -> list[AuditEvent]:
    """The audit events of one subject (already known to be in scope), newest first,
    each with a ``label``."""
    events = list(
        AuditEvent.objects.filter(
            tenant_id=subject.tenant_id,
            object_type=subject._meta.label_lower,
            object_id=str(subject.public_id),
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    for event in events:
        event.label = TIMELINE_LABELS.get(event.action.rsplit(".", 1)[-1], event.action)  # type: ignore[attr-defined]
    return events

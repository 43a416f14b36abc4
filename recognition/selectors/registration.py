"""Reads on registrations (Giấy đăng ký …, RULES.md §4.2) and the registration screen.

A registration belongs to the subject's unit (``Registration.unit``) for
scoping, and to the commune/ward that proposes it (``proposing_unit``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from recognition.models import Registration, RegistrationStatus
from recognition.selectors.subjects import (
    NAME_FIELD,
    community_units_for_user,
    kind_of,
    search_subjects,
    search_units_as_subjects,
    subjects_for_user,
)
from recognition.titles import SUBJECT_FIELD, TITLE_SUBJECT, SubjectKind, Title
from units.levels import Level, level_rank
from units.models import AdministrativeUnit
from units.selectors import parse_public_id, scope_queryset

#: Levels whose units may register for "Cộng đồng học tập": neighbourhoods under
#: the Khuyến học criteria (QĐ 448/QĐ-KHVN), communes, districts and provinces
#: under TT 25/2023 (RULES.md §0, §2).
COMMUNITY_LEVELS: tuple[str, ...] = (
    Level.NEIGHBOURHOOD,
    Level.COMMUNE,
    Level.DISTRICT,
    Level.PROVINCE,
)


class CandidateState:
    """Filter values of the registration screen."""

    ALL = ""
    REGISTERED = "registered"
    NOT_REGISTERED = "not_registered"
    WITHDRAWN = "withdrawn"


# --- Proposing unit -------------------------------------------------------------------


def proposing_level_unit(
    unit: AdministrativeUnit, by_id: dict[int, AdministrativeUnit]
) -> AdministrativeUnit | None:
    """The commune/ward at or above ``unit`` (``by_id`` holds its ancestors).

    A neighbourhood's subjects are proposed by its commune or ward; a commune
    proposes its own subjects and its own community; a district or province
    (TT 24/2023 and TT 25/2023 subjects at those levels) proposes itself.
    """
    if level_rank(unit.level) <= level_rank(Level.COMMUNE):
        return unit
    for ancestor_id in reversed(unit.ancestor_ids()):
        ancestor = by_id.get(ancestor_id)
        if ancestor is not None and ancestor.level == Level.COMMUNE:
            return ancestor
    return None


def proposing_units_for(
    units: Iterable[AdministrativeUnit],
) -> dict[int, AdministrativeUnit | None]:
    """The proposing unit of each unit (keyed by unit pk), in one query."""
    units = list(units)
    ancestor_ids = {pk for u in units for pk in u.ancestor_ids()}
    by_id = AdministrativeUnit.objects.in_bulk(ancestor_ids) if ancestor_ids else {}
    return {u.pk: proposing_level_unit(u, by_id) for u in units}


def proposing_unit_for(unit: AdministrativeUnit) -> AdministrativeUnit | None:
    """The commune/ward that proposes the subjects of ``unit`` (see above)."""
    return proposing_units_for([unit])[unit.pk]


def registration_scope_level(registration: Registration) -> str:
    """The ``scope_level`` of the criteria set and dossier a registration goes to:
    the community's level for "Cộng đồng học tập" ("neighbourhood" under the
    Khuyến học criteria, "commune" under TT 25/2023 …), blank for other titles."""
    if registration.subject_kind == SubjectKind.UNIT and registration.subject_unit is not None:
        return str(registration.subject_unit.level)
    return ""


# --- Registrations --------------------------------------------------------------------


def registrations_for_user(user: Any) -> QuerySet[Registration]:
    """Registrations of the subjects the user may see, with everything a list shows."""
    tenant_id: Any = getattr(user, "tenant_id", None)
    qs = Registration.objects.filter(tenant_id=tenant_id).select_related(
        "unit",
        "proposing_unit",
        "household",
        "clan",
        "organisation",
        "citizen",
        "subject_unit",
        "assessment",
    )
    return scope_queryset(qs, user)


def get_registration_for_user(user: Any, public_id: Any) -> Registration:
    registration = registrations_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if registration is None:
        raise Http404
    return registration


def filter_registrations(
    queryset: QuerySet[Registration],
    *,
    title: str | None = None,
    year: int | None = None,
    unit: AdministrativeUnit | None = None,
    status: str | None = None,
    proposing_unit: AdministrativeUnit | None = None,
) -> QuerySet[Registration]:
    """Filter already-scoped registrations; ``unit`` keeps its whole subtree."""
    if title:
        queryset = queryset.filter(title=title)
    if year:
        queryset = queryset.filter(year=year)
    if unit is not None:
        queryset = queryset.filter(unit__path__startswith=unit.path)
    if status:
        queryset = queryset.filter(status=status)
    if proposing_unit is not None:
        queryset = queryset.filter(proposing_unit=proposing_unit)
    return queryset


def registrations_of_subject(subject: Any) -> QuerySet[Registration]:
    """Every registration of one subject (already known to be in scope), newest first."""
    qs = Registration.objects.filter(**{SUBJECT_FIELD[kind_of(subject)]: subject})
    return qs.select_related("proposing_unit", "assessment").order_by("-year", "title")


# --- The registration screen ------------------------------------------------------------


def candidate_kind(title: str) -> str:
    return TITLE_SUBJECT[Title(title)]


def registration_candidates(
    user: Any,
    *,
    title: str,
    year: int,
    level: str = "",
    unit: AdministrativeUnit | None = None,
    q: str = "",
    state: str = CandidateState.ALL,
    active: bool | None = True,
) -> QuerySet[Any]:
    """The subjects the title is awarded to, in the user's scope, each annotated
    with its registration for ``title`` and ``year`` (``registration_status``,
    ``registration_id``), in one query per page.

    For "Cộng đồng học tập" the subjects are the units of ``level``.
    """
    kind = candidate_kind(title)
    if kind == SubjectKind.UNIT:
        qs: QuerySet[Any] = search_units_as_subjects(
            community_units_for_user(user, level=level, year=year), q=q, unit=unit
        ).order_by("sort_name", "pk")
    else:
        qs = search_subjects(
            subjects_for_user(user, kind), kind=kind, q=q, unit=unit, active=active
        ).order_by(NAME_FIELD[kind], "pk")
    # One row at most per subject, title and year (unique constraint): no ordering.
    regs = Registration.objects.filter(
        **{SUBJECT_FIELD[kind]: OuterRef("pk")}, title=title, year=year
    ).order_by()
    qs = qs.annotate(
        registration_status=Subquery(regs.values("status")[:1]),
        registration_id=Subquery(regs.values("public_id")[:1]),
    )
    registered = Exists(regs.filter(status=RegistrationStatus.REGISTERED))
    if state == CandidateState.REGISTERED:
        qs = qs.filter(registered)
    elif state == CandidateState.NOT_REGISTERED:
        qs = qs.filter(~registered)
    elif state == CandidateState.WITHDRAWN:
        qs = qs.filter(Exists(regs.filter(status=RegistrationStatus.WITHDRAWN)))
    return qs


@dataclass(frozen=True)
class CandidateCounts:
    total: int
    registered: int

    @property
    def not_registered(self) -> int:
        return self.total - self.registered


def candidate_counts(candidates: QuerySet[Any], *, title: str, year: int) -> CandidateCounts:
    """How many of ``candidates`` are registered for ``title``/``year``, in one query."""
    kind = candidate_kind(title)
    regs = Registration.objects.filter(
        **{SUBJECT_FIELD[kind]: OuterRef("pk")},
        title=title,
        year=year,
        status=RegistrationStatus.REGISTERED,
    )
    row = candidates.order_by().aggregate(
        total=Count("pk"), registered=Count("pk", filter=Q(Exists(regs)))
    )
    return CandidateCounts(total=row["total"] or 0, registered=row["registered"] or 0)


def unregistered(candidates: QuerySet[Any], *, title: str, year: int) -> QuerySet[Any]:
    """The candidates with no standing registration for ``title``/``year``."""
    kind = candidate_kind(title)
    regs = Registration.objects.filter(
        **{SUBJECT_FIELD[kind]: OuterRef("pk")},
        title=title,
        year=year,
        status=RegistrationStatus.REGISTERED,
    )
    return candidates.filter(~Exists(regs))

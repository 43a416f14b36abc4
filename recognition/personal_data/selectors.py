"""Reads of the access log, scoped like everything else (STYLE.md §4).

The log is for tenant administrators: a row is visible when its unit lies in
the subtree of one of the user's ``tenant_admin`` assignments, in their tenant.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.text import fold, nfc
from recognition.models import Citizen, Household, PersonalDataAccess
from recognition.titles import SubjectKind
from units.roles import Role
from units.selectors import public_id_or_none, scope_queryset, units_for_user

ADMIN_ROLES = frozenset({Role.TENANT_ADMIN})
#: A name search over the people of the scope stops at this many matches.
MAX_PEOPLE = 500


def reads_access_log(user: Any) -> bool:
    return units_for_user(user, roles=ADMIN_ROLES).exists()


def access_log_rows(user: Any) -> QuerySet[PersonalDataAccess]:
    """Access rows of the units under the user's administrator roles (none for others)."""
    qs = PersonalDataAccess.objects.select_related("actor", "unit")
    return scope_queryset(qs, user, roles=ADMIN_ROLES)


def access_log_for_user(user: Any) -> QuerySet[PersonalDataAccess]:
    """:func:`access_log_rows` for the screen, which is refused (403) to non-administrators."""
    if not reads_access_log(user):
        raise PermissionDenied
    return access_log_rows(user)


def _people_matching(user: Any, term: str) -> list[str]:
    """Public ids of the households and citizens in scope whose name matches ``term``."""
    folded = fold(nfc(term))
    ids: list[str] = []
    for model in (Household, Citizen):
        qs = scope_queryset(
            model._default_manager.filter(tenant_id=user.tenant_id), user, roles=ADMIN_ROLES
        ).filter(Q(search_text__contains=folded))
        ids += [str(p) for p in qs.values_list("public_id", flat=True)[:MAX_PEOPLE]]
    return ids


def filter_access_log(
    queryset: QuerySet[PersonalDataAccess],
    *,
    user: Any,
    person: str = "",
    actor: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    action: str = "",
) -> QuerySet[PersonalDataAccess]:
    """``person``: a public id, or a name (accent-insensitive); ``actor``: a username or
    name part; dates inclusive, in local time."""
    person = nfc(person)
    if person:
        pid = public_id_or_none(person)
        ids = [str(pid)] if pid else _people_matching(user, person)
        queryset = queryset.filter(subject_id__in=ids)
    actor = nfc(actor)
    if actor:
        queryset = queryset.filter(
            Q(actor__username__icontains=actor) | Q(actor__full_name__icontains=actor)
        )
    zone = timezone.get_current_timezone()
    if date_from:
        start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
        queryset = queryset.filter(created_at__gte=start)
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        queryset = queryset.filter(created_at__lt=end)
    if action:
        queryset = queryset.filter(action=action)
    return queryset


def subject_names(rows: list[PersonalDataAccess]) -> dict[str, str]:
    """The current name of each person in ``rows`` (anonymised once erased)."""
    wanted: dict[str, list[str]] = {SubjectKind.HOUSEHOLD: [], SubjectKind.CITIZEN: []}
    for row in rows:
        if row.subject_kind in wanted:
            wanted[row.subject_kind].append(row.subject_id)
    names: dict[str, str] = {}
    for h in Household.objects.filter(public_id__in=wanted[SubjectKind.HOUSEHOLD]):
        names[str(h.public_id)] = f"{h.code} — {h.head_name}"
    for c in Citizen.objects.filter(public_id__in=wanted[SubjectKind.CITIZEN]).only(
        "public_id", "full_name"
    ):
        names[str(c.public_id)] = c.full_name
    return names

"""Reads of imports, scoped through units/selectors.py.

An import is visible to whoever holds a role over its unit's subtree (its
scope unit), like a job; anywhere else it is a 404. Which kinds a user may
import follows :func:`spreadsheets.services.require_importer`: a writing role
at the unit, and one of the kind's ``roles`` when it names any.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from spreadsheets.kinds.base import ImportKind
from spreadsheets.models import ImportRun
from spreadsheets.registry import KINDS, kind_class
from units.models import AdministrativeUnit
from units.roles import READ_ONLY_ROLES
from units.selectors import (
    home_units,
    parse_public_id,
    roles_at,
    scope_queryset,
    units_for_user,
    user_grants,
)

#: Imports listed on the index page.
RECENT_IMPORTS = 20


def imports_for_user(user: Any) -> QuerySet[ImportRun]:
    """Imports whose scope unit lies in the user's subtrees (newest first)."""
    return scope_queryset(
        ImportRun.objects.select_related("unit", "created_by", "validate_job", "apply_job"),
        user,
    ).order_by("-created_at", "-id")


def get_import_for_user(user: Any, public_id: Any) -> ImportRun:
    run = imports_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if run is None:
        raise Http404
    return run


def recent_imports(user: Any, *, limit: int = RECENT_IMPORTS) -> list[ImportRun]:
    return list(imports_for_user(user)[:limit])


def writer_roles(user: Any) -> set[str]:
    """The user's roles that may write (the read-only ones left out)."""
    return {g.role for g in user_grants(user)} - READ_ONLY_ROLES


def may_import(user: Any, kind: type[ImportKind]) -> bool:
    """Whether the user may import ``kind`` somewhere (require_importer, unit by unit,
    decides for the unit chosen at upload)."""
    roles = writer_roles(user)
    if not roles:
        return False
    return not kind.roles or bool(roles & kind.roles)


def importable_kinds(user: Any) -> list[type[ImportKind]]:
    """The kinds the user may import, in the registry's order."""
    return [cls for cls in (kind_class(key) for key in KINDS) if may_import(user, cls)]


def import_units(user: Any, kind: type[ImportKind]) -> QuerySet[AdministrativeUnit]:
    """The units the user may import ``kind`` into (their writing subtrees)."""
    roles = set(writer_roles(user))
    if kind.roles:
        roles &= set(kind.roles)
    return units_for_user(user, roles=roles)


def default_import_unit(user: Any, kind: type[ImportKind]) -> AdministrativeUnit | None:
    """The top unit where the user may import ``kind`` (the upload form's default)."""
    roles = set(writer_roles(user))
    if kind.roles:
        roles &= set(kind.roles)
    for unit in home_units(user):
        if roles_at(user, unit) & roles:
            return unit
    # A role lower in the tree than the user's top unit: its own unit.
    paths = sorted(g.path for g in user_grants(user) if g.role in roles)
    if not paths:
        return None
    return AdministrativeUnit.objects.filter(tenant_id=user.tenant_id, path=paths[0]).first()


#: The import kind behind each subject list (recognition.titles.SubjectKind values).
SUBJECT_LIST_KINDS: dict[str, str] = {
    "household": "households",
    "clan": "clans",
    "organisation": "organisations",
    "citizen": "citizens",
}


def list_export_kind(user: Any, subject_kind: str) -> str:
    """The kind a subject list exports as ("" when the user may not export it)."""
    key = SUBJECT_LIST_KINDS.get(subject_kind, "")
    if not key or not may_import(user, kind_class(key)):
        return ""
    return key

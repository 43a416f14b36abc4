"""Scoping in one place: which units, and which rows under them, a user may see.

Every view and API operation reaches tenant data through the functions here
(or through a selector that calls them). Outside the user's tenant or the
subtrees of their role assignments the answer is 404; a read-only role trying
to write gets 403 (ARCHITECTURE.md, Tenancy; STYLE.md §4).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, Model, OuterRef, Q, QuerySet
from django.http import Http404

from core.text import fold
from units.models import AdministrativeUnit, RoleAssignment, Tenant
from units.roles import ADMIN_ROLES, READ_ONLY_ROLES, ROLE_RANK

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Grant:
    """One role assignment reduced to what scoping needs."""

    unit_id: int
    path: str
    role: str


def user_grants(user: Any) -> list[Grant]:
    """The user's role assignments, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or user.tenant_id is None:
        return []
    cached = getattr(user, "_xhht_grants", None)
    if cached is None:
        cached = [
            Grant(unit_id=unit_id, path=path, role=role)
            for unit_id, path, role in RoleAssignment.objects.filter(
                user=user, tenant_id=user.tenant_id
            ).values_list("unit_id", "unit__path", "role")
        ]
        user._xhht_grants = cached
    return cached


def forget_grants(user: Any) -> None:
    """Drop the cached grants (after a role change in the same request)."""
    if hasattr(user, "_xhht_grants"):
        del user._xhht_grants


def _roots(paths: list[str]) -> list[str]:
    """Remove paths lying inside another path of the list."""
    roots: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots


def _subtree_q(paths: list[str], field: str = "path") -> Q:
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in _roots(paths)))


def scope_paths(user: Any, *, roles: frozenset[str] | set[str] | None = None) -> list[str]:
    return [g.path for g in user_grants(user) if roles is None or g.role in roles]


def scope_queryset(
    queryset: QuerySet[M],
    user: Any,
    *,
    unit_field: str = "unit",
    roles: frozenset[str] | set[str] | None = None,
) -> QuerySet[M]:
    """Restrict any tenant-owned queryset to the user's tenant and subtrees.

    ``unit_field`` names the foreign key to :class:`AdministrativeUnit` (or
    ``""`` when the queryset is of units itself).
    """
    if not getattr(user, "is_authenticated", False) or user.tenant_id is None:
        return queryset.none()
    paths = scope_paths(user, roles=roles)
    if not paths:
        return queryset.none()
    prefix = f"{unit_field}__" if unit_field else ""
    return queryset.filter(**{f"{prefix}tenant_id": user.tenant_id}).filter(
        _subtree_q(paths, f"{prefix}path")
    )


def units_for_user(
    user: Any, *, roles: frozenset[str] | set[str] | None = None
) -> QuerySet[AdministrativeUnit]:
    """All units the user may see (or act on with one of ``roles``)."""
    return scope_queryset(AdministrativeUnit.objects.all(), user, unit_field="", roles=roles)


def public_id_or_none(value: Any) -> uuid.UUID | None:
    """A UUID from a URL, form or API value, or ``None`` when it is malformed."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def parse_public_id(value: Any) -> uuid.UUID:
    """A UUID from a URL or form value; anything malformed is a 404, not a 500."""
    parsed = public_id_or_none(value)
    if parsed is None:
        raise Http404
    return parsed


def get_unit_for_user(user: Any, public_id: Any) -> AdministrativeUnit:
    """The unit with ``public_id`` if the user may see it, else 404."""
    unit = (
        units_for_user(user)
        .select_related("parent")
        .filter(public_id=parse_public_id(public_id))
        .first()
    )
    if unit is None:
        raise Http404
    return unit


def roles_at(user: Any, unit: AdministrativeUnit) -> set[str]:
    """The roles the user holds over ``unit`` (through it or an ancestor)."""
    if unit.tenant_id != getattr(user, "tenant_id", None):
        return set()
    return {g.role for g in user_grants(user) if unit.path.startswith(g.path)}


def highest_rank_at(user: Any, unit: AdministrativeUnit) -> int:
    return max((ROLE_RANK[r] for r in roles_at(user, unit)), default=0)


def can_write(user: Any, unit: AdministrativeUnit) -> bool:
    return bool(roles_at(user, unit) - READ_ONLY_ROLES)


def require_write(user: Any, unit: AdministrativeUnit) -> None:
    """404 outside scope, 403 where the user may only read."""
    roles = roles_at(user, unit)
    if not roles:
        raise Http404
    if not roles - READ_ONLY_ROLES:
        raise PermissionDenied


def is_admin_at(user: Any, unit: AdministrativeUnit) -> bool:
    return bool(roles_at(user, unit) & ADMIN_ROLES)


def require_admin(user: Any, unit: AdministrativeUnit) -> None:
    require_write(user, unit)
    if not is_admin_at(user, unit):
        raise PermissionDenied


def is_tenant_admin(user: Any) -> bool:
    return any(g.role in ADMIN_ROLES for g in user_grants(user))


def has_any_role(user: Any, roles: frozenset[str] | set[str]) -> bool:
    return any(g.role in roles for g in user_grants(user))


def is_read_only(user: Any) -> bool:
    grants = user_grants(user)
    return bool(grants) and all(g.role in READ_ONLY_ROLES for g in grants)


def home_units(user: Any) -> QuerySet[AdministrativeUnit]:
    """The top units of the user's scope (the roots of their subtrees)."""
    roots = _roots(scope_paths(user))
    return AdministrativeUnit.objects.filter(tenant_id=user.tenant_id, path__in=roots).order_by(
        "path"
    )


def with_child_counts(queryset: QuerySet[AdministrativeUnit]) -> QuerySet[AdministrativeUnit]:
    return queryset.annotate(child_count=Count("children", distinct=True))


def children_of(unit: AdministrativeUnit) -> QuerySet[AdministrativeUnit]:
    """Direct children of a unit already known to be in scope."""
    # Current units (no end date) first on every database: PostgreSQL sorts
    # NULLs last in ascending order, SQLite first.
    return with_child_counts(
        AdministrativeUnit.objects.filter(tenant_id=unit.tenant_id, parent=unit)
    ).order_by(F("valid_to").asc(nulls_first=True), "sort_name")


def subtree(unit: AdministrativeUnit, *, include_self: bool = True) -> QuerySet[AdministrativeUnit]:
    """The unit's subtree in one indexed query (no recursion)."""
    qs = AdministrativeUnit.objects.filter(tenant_id=unit.tenant_id, path__startswith=unit.path)
    if not include_self:
        qs = qs.exclude(pk=unit.pk)
    return qs


def ancestors(unit: AdministrativeUnit) -> list[AdministrativeUnit]:
    """Ancestors root first, in one query."""
    by_id = AdministrativeUnit.objects.in_bulk(unit.ancestor_ids())
    return [by_id[i] for i in unit.ancestor_ids() if i in by_id]


def visible_ancestors(user: Any, unit: AdministrativeUnit) -> list[AdministrativeUnit]:
    """Breadcrumb: the ancestors that are themselves inside the user's scope."""
    paths = _roots(scope_paths(user))
    return [a for a in ancestors(unit) if any(a.path.startswith(p) for p in paths)]


def search_units(
    queryset: QuerySet[AdministrativeUnit],
    *,
    q: str = "",
    level: str = "",
    code: str = "",
    parent: AdministrativeUnit | None = None,
    current_only: bool = False,
    on: Any = None,
) -> QuerySet[AdministrativeUnit]:
    """Filter an already-scoped unit queryset (name or code search is accent-insensitive)."""
    if q:
        term = fold(q)
        # Codes match case-insensitively on every database ("27184-kp01"); a
        # plain startswith is case-sensitive on PostgreSQL only.
        queryset = queryset.filter(Q(search_name__contains=term) | Q(code__istartswith=q.strip()))
    if level:
        queryset = queryset.filter(level=level)
    if code:
        queryset = queryset.filter(code=code.strip())
    if parent is not None:
        queryset = queryset.filter(parent=parent)
    if current_only and on is not None:
        queryset = queryset.filter(valid_from__lte=on).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=on)
        )
    return queryset


def tenant_for_user(user: Any) -> Tenant:
    if not getattr(user, "is_authenticated", False) or user.tenant_id is None:
        raise Http404
    return user.tenant


def has_children(unit: AdministrativeUnit) -> bool:
    return AdministrativeUnit.objects.filter(parent=unit).exists()


def assignments_for_user(user: Any) -> QuerySet[RoleAssignment]:
    """Role assignments the user may see: those at units inside their admin scope."""
    return scope_queryset(
        RoleAssignment.objects.select_related("user", "unit", "granted_by"),
        user,
        roles=ADMIN_ROLES,
    )


def users_for_user(user: Any) -> QuerySet[Any]:
    """Users a tenant admin manages: their tenant's users with a role in the admin's
    subtree, or with no role yet (just invited). Others see nobody."""
    from accounts.models import User

    admin_paths = scope_paths(user, roles=ADMIN_ROLES)
    if not admin_paths or user.tenant_id is None:
        return User.objects.none()
    in_scope = RoleAssignment.objects.filter(user=OuterRef("pk")).filter(
        _subtree_q(admin_paths, "unit__path")
    )
    any_role = RoleAssignment.objects.filter(user=OuterRef("pk"))
    return User.objects.filter(tenant_id=user.tenant_id).filter(
        Exists(in_scope) | ~Exists(any_role)
    )


def get_user_for_user(user: Any, public_id: Any) -> Any:
    target = users_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if target is None:
        raise Http404
    return target

"""Writes on tenants, units and role assignments.

Every function is atomic, checks what it must, writes an audit event and
leaves nothing half-done when it refuses (STYLE.md §2–3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.text import fold, natural_key, nfc
from units.exceptions import (
    CodeClashError,
    LevelError,
    LevelPeriodError,
    PeriodError,
    RoleGrantError,
    TreeCycleError,
    ValidityError,
)
from units.levels import KIND_LEVEL, LEVEL_ORDER, Level, level_rank
from units.models import (
    AdministrativeUnit,
    RoleAssignment,
    Tenant,
    TenantLevel,
    path_segment,
)
from units.roles import ADMIN_ROLES, ROLE_RANK
from units.selectors import forget_grants, highest_rank_at, is_admin_at

FAR_PAST = dt.date(1900, 1, 1)


def _unit_snapshot(unit: AdministrativeUnit) -> dict[str, Any]:
    return {
        "name": unit.name,
        "code": unit.code,
        "kind": unit.kind,
        "level": unit.level,
        "parent": str(unit.parent.public_id) if unit.parent_id and unit.parent else None,
        "valid_from": unit.valid_from.isoformat(),
        "valid_to": unit.valid_to.isoformat() if unit.valid_to else None,
    }


def _lock_tenant(tenant: Tenant) -> Tenant:
    """Serialise unit writes per tenant so code-uniqueness checks cannot race.

    A no-key lock (``FOR NO KEY UPDATE``): it still serialises every unit write
    of the tenant, but lets rows that merely reference the tenant (audit
    events, units, subjects) be inserted meanwhile, which a plain ``FOR UPDATE``
    would block (and deadlock against a transaction holding such an insert)."""
    return Tenant.objects.select_for_update(no_key=True).get(pk=tenant.pk)


# --- Tenants -----------------------------------------------------------------


@transaction.atomic
def tenant_create(
    *,
    name: str,
    slug: str,
    code: str = "",
    levels: Iterable[tuple[str, dt.date, dt.date | None]] | None = None,
) -> Tenant:
    """Create a tenant with the levels it uses (default: the four-tier tree)."""
    tenant = Tenant.objects.create(name=nfc(name), slug=slug, code=code)
    for level, valid_from, valid_to in levels or [(lvl, FAR_PAST, None) for lvl in LEVEL_ORDER]:
        TenantLevel.objects.create(
            tenant=tenant, level=level, valid_from=valid_from, valid_to=valid_to
        )
    audit_record(
        actor=None, action="tenant.create", obj=tenant, tenant=tenant, after={"name": tenant.name}
    )
    return tenant


@transaction.atomic
def tenant_set_level_period(
    *, tenant: Tenant, level: str, valid_from: dt.date, valid_to: dt.date | None
) -> TenantLevel:
    """Record that ``tenant`` uses ``level`` over a period (e.g. districts until 30/06/2025)."""
    row, _created = TenantLevel.objects.update_or_create(
        tenant=tenant, level=level, valid_from=valid_from, defaults={"valid_to": valid_to}
    )
    audit_record(
        actor=None,
        action="tenant.level_period",
        obj=tenant,
        tenant=tenant,
        after={
            "level": level,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
        },
    )
    return row


def levels_in_use(tenant: Tenant, on: dt.date) -> list[str]:
    """The tenant's levels in force on ``on``, top first."""
    rows = TenantLevel.objects.filter(tenant=tenant, valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )
    used = {row.level for row in rows}
    return [lvl for lvl in LEVEL_ORDER if lvl in used]


# --- Validation --------------------------------------------------------------


def _check_level_lasts(
    *, tenant: Tenant, level: str, valid_from: dt.date, valid_to: dt.date | None
) -> None:
    """A unit cannot outlive its level: a district of a tenant whose district
    level ends on 30/06/2025 must itself end by then (RULES.md §7.2, §8)."""
    row = (
        TenantLevel.objects.filter(tenant=tenant, level=level, valid_from__lte=valid_from)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
        .order_by("-valid_from")
        .first()
    )
    if row is None or row.valid_to is None:
        return
    if valid_to is None or valid_to > row.valid_to:
        raise LevelPeriodError(
            LevelPeriodError.default_message % {"end": row.valid_to.strftime("%d/%m/%Y")}
        )


def _check_placement(
    *,
    tenant: Tenant,
    parent: AdministrativeUnit | None,
    kind: str,
    valid_from: dt.date,
    valid_to: dt.date | None,
) -> str:
    """Return the unit's level, or raise if it cannot stand under ``parent``."""
    level = KIND_LEVEL.get(kind)
    if level is None:
        raise LevelError()
    if valid_to is not None and valid_to < valid_from:
        raise PeriodError()
    in_use = levels_in_use(tenant, valid_from)
    if in_use and level not in in_use:
        raise LevelError()
    _check_level_lasts(tenant=tenant, level=level, valid_from=valid_from, valid_to=valid_to)
    if parent is None:
        if level != Level.PROVINCE:
            raise LevelError()
        return level
    if parent.tenant_id != tenant.pk:
        raise LevelError()
    if level_rank(level) <= level_rank(parent.level):
        raise LevelError()
    if in_use and parent.level not in in_use:
        # e.g. a commune valid from 1 July 2025 under a district, in a tenant
        # whose district level ended on 30 June 2025.
        raise LevelError()
    skipped = [
        lvl for lvl in in_use if level_rank(parent.level) < level_rank(lvl) < level_rank(level)
    ]
    if skipped:
        raise LevelError()
    if valid_from < parent.valid_from or (
        parent.valid_to is not None and (valid_to is None or valid_to > parent.valid_to)
    ):
        raise ValidityError()
    return level


def _check_code(
    *,
    tenant: Tenant,
    code: str,
    valid_from: dt.date,
    valid_to: dt.date | None,
    exclude_pk: int | None = None,
) -> None:
    """Official codes are unique per tenant among units valid at the same date."""
    overlapping = AdministrativeUnit.objects.filter(tenant=tenant, code=code).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from)
    )
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_to)
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    other = overlapping.first()
    if other is not None:
        raise CodeClashError(
            CodeClashError.default_message % {"code": code, "other": other.name},
            code_value=code,
        )


def _check_children_inside(
    unit: AdministrativeUnit, valid_from: dt.date, valid_to: dt.date | None
) -> None:
    outside = AdministrativeUnit.objects.filter(parent=unit).filter(
        Q(valid_from__lt=valid_from)
        | (Q(valid_to__isnull=True) | Q(valid_to__gt=valid_to) if valid_to else Q(pk__in=[]))
    )
    if outside.exists():
        raise ValidityError()


# --- Units -------------------------------------------------------------------


@transaction.atomic
def unit_create(
    *,
    actor: Any,
    tenant: Tenant,
    parent: AdministrativeUnit | None,
    kind: str,
    name: str,
    code: str,
    valid_from: dt.date = FAR_PAST,
    valid_to: dt.date | None = None,
) -> AdministrativeUnit:
    """Add a unit under ``parent`` (``None`` for the tenant's province root)."""
    tenant = _lock_tenant(tenant)
    if parent is not None:
        parent = AdministrativeUnit.objects.select_for_update().get(pk=parent.pk)
    if actor is not None and (parent is None or not is_admin_at(actor, parent)):
        raise RoleGrantError()
    name, code = nfc(name), nfc(code)
    level = _check_placement(
        tenant=tenant, parent=parent, kind=kind, valid_from=valid_from, valid_to=valid_to
    )
    _check_code(tenant=tenant, code=code, valid_from=valid_from, valid_to=valid_to)
    unit = AdministrativeUnit.objects.create(
        tenant=tenant,
        parent=parent,
        level=level,
        kind=kind,
        name=name,
        search_name=fold(name),
        sort_name=natural_key(name),
        code=code,
        valid_from=valid_from,
        valid_to=valid_to,
        path=f"tmp-{code}-{id(name)}",
        depth=(parent.depth + 1) if parent else 0,
    )
    unit.path = (parent.path if parent else "") + path_segment(unit.pk)
    AdministrativeUnit.objects.filter(pk=unit.pk).update(path=unit.path)
    audit_record(
        actor=actor,
        action="unit.create",
        obj=unit,
        tenant=tenant,
        unit=unit,
        after=_unit_snapshot(unit),
    )
    return unit


@transaction.atomic
def unit_update(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    expected_version: int,
    name: str,
    code: str,
    kind: str,
    valid_from: dt.date,
    valid_to: dt.date | None,
) -> AdministrativeUnit:
    """Edit a unit's name, code, kind and validity; refuses stale edits."""
    tenant = _lock_tenant(unit.tenant)
    # Lock the unit row only: its parent is a nullable (outer) join, which
    # PostgreSQL cannot lock ("FOR UPDATE cannot be applied to the nullable side").
    locked = (
        AdministrativeUnit.objects.select_for_update(of=("self",))
        .select_related("parent")
        .get(pk=unit.pk)
    )
    if locked.version != expected_version:
        raise ConcurrentEditError()
    if actor is not None and not is_admin_at(actor, locked):
        raise RoleGrantError()
    before = _unit_snapshot(locked)
    name, code = nfc(name), nfc(code)
    level = _check_placement(
        tenant=tenant, parent=locked.parent, kind=kind, valid_from=valid_from, valid_to=valid_to
    )
    if level != locked.level and AdministrativeUnit.objects.filter(parent=locked).exists():
        raise LevelError()
    _check_code(
        tenant=tenant, code=code, valid_from=valid_from, valid_to=valid_to, exclude_pk=locked.pk
    )
    _check_children_inside(locked, valid_from, valid_to)
    locked.name, locked.search_name, locked.code = name, fold(name), code
    locked.sort_name = natural_key(name)
    locked.kind, locked.level = kind, level
    locked.valid_from, locked.valid_to = valid_from, valid_to
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    audit_record(
        actor=actor,
        action="unit.update",
        obj=locked,
        tenant=tenant,
        unit=locked,
        before=before,
        after=_unit_snapshot(locked),
    )
    return locked


@transaction.atomic
def unit_move(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    new_parent: AdministrativeUnit,
    expected_version: int,
) -> AdministrativeUnit:
    """Move a unit (and its subtree) under ``new_parent`` in one path rewrite."""
    tenant = _lock_tenant(unit.tenant)
    locked = AdministrativeUnit.objects.select_for_update().get(pk=unit.pk)
    if locked.version != expected_version:
        raise ConcurrentEditError()
    new_parent = AdministrativeUnit.objects.select_for_update().get(pk=new_parent.pk)
    if actor is not None and not (is_admin_at(actor, locked) and is_admin_at(actor, new_parent)):
        raise RoleGrantError()
    if new_parent.path.startswith(locked.path):
        raise TreeCycleError()
    _check_placement(
        tenant=tenant,
        parent=new_parent,
        kind=locked.kind,
        valid_from=locked.valid_from,
        valid_to=locked.valid_to,
    )
    before = _unit_snapshot(locked)
    old_path = locked.path
    new_path = new_parent.path + path_segment(locked.pk)
    depth_delta = new_parent.depth + 1 - locked.depth
    AdministrativeUnit.objects.filter(tenant=tenant, path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", Length(Value(old_path)) + 1)),
        depth=F("depth") + depth_delta,
    )
    AdministrativeUnit.objects.filter(pk=locked.pk).update(
        parent=new_parent, version=F("version") + 1
    )
    locked.refresh_from_db()
    audit_record(
        actor=actor,
        action="unit.move",
        obj=locked,
        tenant=tenant,
        unit=locked,
        before=before,
        after=_unit_snapshot(locked),
    )
    return locked


# --- Roles -------------------------------------------------------------------


@transaction.atomic
def role_assign(*, actor: Any, user: Any, unit: AdministrativeUnit, role: str) -> RoleAssignment:
    """Grant ``role`` over ``unit``'s subtree.

    The actor must administer ``unit`` (it lies in their subtree) and may not
    grant a role ranked above their own there. ``actor=None`` is the system
    (demo data, management commands).
    """
    if role not in ROLE_RANK:
        raise RoleGrantError()
    if user.tenant_id != unit.tenant_id:
        raise RoleGrantError()
    if actor is not None and (
        not is_admin_at(actor, unit) or ROLE_RANK[role] > highest_rank_at(actor, unit)
    ):
        raise RoleGrantError()
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user,
        unit=unit,
        role=role,
        defaults={"tenant_id": unit.tenant_id, "granted_by": actor if actor is not None else None},
    )
    if created:
        audit_record(
            actor=actor,
            action="role.assign",
            obj=assignment,
            tenant=unit.tenant,
            unit=unit,
            after={"user": user.username, "role": role, "unit": unit.code},
        )
    forget_grants(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor: Any, assignment: RoleAssignment) -> None:
    """Withdraw an assignment; the actor must be able to grant it."""
    unit = assignment.unit
    if actor is not None:
        if not is_admin_at(actor, unit) or ROLE_RANK[assignment.role] > highest_rank_at(
            actor, unit
        ):
            raise RoleGrantError()
        if assignment.user_id == actor.pk and assignment.role in ADMIN_ROLES:
            raise RoleGrantError(
                message=_("You cannot withdraw your own administrator role."),
                code="cannot_revoke_own_admin",
            )
    audit_record(
        actor=actor,
        action="role.revoke",
        obj=assignment,
        tenant=unit.tenant,
        unit=unit,
        before={"user": assignment.user.username, "role": assignment.role, "unit": unit.code},
    )
    assignment.delete()
    forget_grants(assignment.user)

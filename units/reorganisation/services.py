"""Writes of the reorganisation plans: create, edit, cancel, apply, resolve flagged roles.

Every function is atomic, keyword-only, checks that the actor administers the
units involved (``actor=None`` is the system: imports, demo data, commands) and
writes an audit event. :func:`reorganisation_apply` is the one heavy write: it
re-runs the preview inside its transaction with the rows locked and writes the
layout with bulk statements only (one UPDATE per table, never one per row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.text import nfc
from units.levels import Kind, Level
from units.models import (
    AdministrativeUnit,
    RoleAssignment,
    Tenant,
)
from units.reorganisation.apply import LayoutWriter
from units.reorganisation.exceptions import (
    ReorganisationConflictError,
    ReorganisationStateError,
    StepError,
)
from units.reorganisation.models import (
    REORGANISATION_TRANSITIONS,
    Reorganisation,
    ReorganisationSource,
    ReorganisationStatus,
    ReorganisationStep,
    RoleReassignment,
    StepKind,
)
from units.reorganisation.preview import (
    _chunks,
    reorganisation_preview,
)
from units.roles import ADMIN_ROLES
from units.selectors import forget_grants, is_tenant_admin, scope_paths

__all__ = [
    "StepInput",
    "TargetInput",
    "reorganisation_apply",
    "reorganisation_cancel",
    "reorganisation_create",
    "reorganisation_preview",
    "role_reassignment_resolve",
    "step_add",
    "step_remove",
    "steps_add",
]

BATCH = 2000


# --- Permissions -----------------------------------------------------------------


def _require_tenant_admin(actor: Any, tenant_id: int) -> None:
    """The actor is an administrator of the tenant (404 for another tenant)."""
    if actor is None:
        return
    if getattr(actor, "tenant_id", None) != tenant_id:
        raise Http404
    if not is_tenant_admin(actor):
        raise PermissionDenied


def _require_admin_paths(actor: Any, paths: Iterable[str]) -> None:
    """The actor administers every unit of ``paths`` (403 otherwise)."""
    if actor is None:
        return
    roots = scope_paths(actor, roles=ADMIN_ROLES)
    for path in paths:
        if not any(path.startswith(root) for root in roots):
            raise PermissionDenied


def _lock_plan(
    *, actor: Any, plan: Reorganisation, expected_version: int | None, action: str | None = None
) -> Reorganisation:
    locked = Reorganisation.objects.select_for_update().get(pk=plan.pk)
    _require_tenant_admin(actor, locked.tenant_id)
    allowed = (
        REORGANISATION_TRANSITIONS[action].sources
        if action
        else frozenset({ReorganisationStatus.DRAFT})
    )
    if locked.status not in allowed:
        raise ReorganisationStateError(
            ReorganisationStateError.default_message % {"status": locked.get_status_display()},
            current=locked.status,
        )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    return locked


def _bump(plan: Reorganisation) -> None:
    Reorganisation.objects.filter(pk=plan.pk).update(version=F("version") + 1)
    plan.refresh_from_db(fields=["version"])


# --- Plans and steps ----------------------------------------------------------------


@transaction.atomic
def reorganisation_create(
    *,
    actor: Any,
    name: str,
    effective_on: dt.date,
    legal_basis: str = "",
    abolish_level: str = "",
    source: str = ReorganisationSource.MANUAL,
    tenant: Any = None,
) -> Reorganisation:
    """A new draft plan of the actor's tenant (``tenant`` only when ``actor`` is None)."""
    tenant_id = actor.tenant_id if actor is not None else tenant.pk
    _require_tenant_admin(actor, tenant_id)
    if abolish_level and abolish_level not in Level.values:
        raise StepError(_("Choose a level to abolish."), code="abolish_level_invalid")
    plan = Reorganisation.objects.create(
        tenant_id=tenant_id,
        name=nfc(name),
        legal_basis=nfc(legal_basis),
        effective_on=effective_on,
        abolish_level=abolish_level or "",
        source=source,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action="reorganisation.create",
        obj=plan,
        tenant=plan.tenant,
        after={
            "name": plan.name,
            "effective_on": effective_on.isoformat(),
            "abolish_level": plan.abolish_level,
            "legal_basis": plan.legal_basis,
        },
    )
    return plan


@dataclass
class TargetInput:
    """A unit a step creates. ``parent``: a unit in force, the code of another new
    unit of the plan, or None (the source's parent or that parent's successor).
    ``neighbourhoods`` and ``default`` are for splits (see ReorganisationStep)."""

    code: str = ""
    name: str = ""
    kind: str = ""
    parent: AdministrativeUnit | str | None = None
    neighbourhoods: Sequence[AdministrativeUnit] = ()
    default: bool = False


@dataclass
class StepInput:
    kind: str
    sources: Sequence[AdministrativeUnit]
    targets: Sequence[TargetInput | Mapping[str, Any]] = field(default_factory=list)


def _target_json(
    *, actor: Any, plan: Reorganisation, step: StepInput, raw: TargetInput | Mapping[str, Any]
) -> dict[str, Any]:
    target = raw if isinstance(raw, TargetInput) else TargetInput(**dict(raw))
    first = step.sources[0]
    one_to_one = step.kind in (StepKind.RENAME, StepKind.RECODE, StepKind.MOVE)
    code = nfc(target.code) or (first.code if one_to_one else "")
    name = nfc(target.name) or (first.name if one_to_one else "")
    kind = target.kind or (first.kind if one_to_one else "")
    if kind not in Kind.values:
        raise StepError(_("Choose the kind of each new unit."), code="target_kind")
    parent: int | str | None
    if isinstance(target.parent, AdministrativeUnit):
        if target.parent.tenant_id != plan.tenant_id:
            raise Http404
        _require_admin_paths(actor, [target.parent.path])
        parent = target.parent.pk
    else:
        parent = nfc(target.parent) or None
    if step.kind == StepKind.MOVE and parent is None:
        raise StepError(_("Choose the unit to move it under."), code="move_needs_parent")
    neighbourhoods = []
    for child in target.neighbourhoods:
        if child.tenant_id != plan.tenant_id:
            raise Http404
        neighbourhoods.append(child.pk)
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "parent": parent,
        "neighbourhoods": neighbourhoods,
        "default": bool(target.default),
    }


def _check_shape(kind: str, sources: int, targets: int) -> None:
    if kind not in StepKind.values:
        raise StepError(_("Choose the kind of change."), code="step_kind")
    if kind == StepKind.MERGE:
        ok = sources >= 2 and targets == 1
    elif kind == StepKind.SPLIT:
        ok = sources == 1 and targets >= 2
    else:
        ok = sources == 1 and targets <= 1
    if not ok:
        raise StepError(
            _(
                "A merge joins two or more units into one, a split divides one unit into two "
                "or more, and a rename, re-code or move changes one unit."
            ),
            code="step_shape",
        )


@transaction.atomic
def steps_add(
    *,
    actor: Any,
    plan: Reorganisation,
    steps: Sequence[StepInput],
    expected_version: int | None = None,
) -> list[ReorganisationStep]:
    """Append ``steps`` to a draft plan (one insert for all; the plan import uses it).

    Refuses malformed steps (:class:`StepError`: wrong number of units for the
    kind, unknown kind); everything else (codes, placement, overlaps) is a
    conflict the preview lists.
    """
    locked = _lock_plan(actor=actor, plan=plan, expected_version=expected_version)
    start = (
        ReorganisationStep.objects.filter(plan=locked).aggregate(top=Max("position"))["top"] or 0
    )
    rows: list[ReorganisationStep] = []
    for offset, step in enumerate(steps, start=1):
        targets = list(step.targets) or ([{}] if step.kind != StepKind.MERGE else [])
        _check_shape(step.kind, len(step.sources), len(targets))
        for unit in step.sources:
            if unit.tenant_id != locked.tenant_id:
                raise Http404
        _require_admin_paths(actor, [u.path for u in step.sources])
        rows.append(
            ReorganisationStep(
                plan=locked,
                position=start + offset,
                kind=step.kind,
                sources=[u.pk for u in step.sources],
                targets=[_target_json(actor=actor, plan=locked, step=step, raw=t) for t in targets],
            )
        )
    ReorganisationStep.objects.bulk_create(rows, batch_size=BATCH)
    _bump(locked)
    audit_record(
        actor=actor,
        action="reorganisation.steps_add",
        obj=locked,
        tenant=locked.tenant,
        after={
            "steps": [
                {
                    "position": r.position,
                    "kind": r.kind,
                    "sources": [u.code for u in s.sources],
                    "targets": [t["code"] for t in r.targets],
                }
                for r, s in zip(rows, steps, strict=True)
            ][:200],
            "count": len(rows),
        },
    )
    plan.version = locked.version
    return rows


def step_add(
    *,
    actor: Any,
    plan: Reorganisation,
    kind: str,
    sources: Sequence[AdministrativeUnit],
    targets: Sequence[TargetInput | Mapping[str, Any]] = (),
    expected_version: int | None = None,
) -> ReorganisationStep:
    """Append one step (see :func:`steps_add`). For rename, re-code and move the
    target's blank code, name and kind are the source's."""
    return steps_add(
        actor=actor,
        plan=plan,
        steps=[StepInput(kind=kind, sources=sources, targets=list(targets))],
        expected_version=expected_version,
    )[0]


@transaction.atomic
def step_remove(
    *, actor: Any, step: ReorganisationStep, expected_version: int | None = None
) -> None:
    locked = _lock_plan(actor=actor, plan=step.plan, expected_version=expected_version)
    row = ReorganisationStep.objects.filter(pk=step.pk, plan=locked).first()
    if row is None:
        raise Http404
    before = {"position": row.position, "kind": row.kind, "sources": row.sources}
    row.delete()
    _bump(locked)
    step.plan.version = locked.version
    audit_record(
        actor=actor,
        action="reorganisation.step_remove",
        obj=locked,
        tenant=locked.tenant,
        before=before,
    )


@transaction.atomic
def reorganisation_cancel(
    *, actor: Any, plan: Reorganisation, expected_version: int
) -> Reorganisation:
    locked = _lock_plan(actor=actor, plan=plan, expected_version=expected_version, action="cancel")
    Reorganisation.objects.filter(pk=locked.pk).update(
        status=REORGANISATION_TRANSITIONS["cancel"].target, version=F("version") + 1
    )
    locked.refresh_from_db()
    audit_record(
        actor=actor,
        action="reorganisation.cancel",
        obj=locked,
        tenant=locked.tenant,
        before={"status": ReorganisationStatus.DRAFT},
        after={"status": locked.status},
    )
    return locked


# --- Apply ----------------------------------------------------------------------------


@transaction.atomic
def reorganisation_apply(
    *, actor: Any, plan: Reorganisation, expected_version: int
) -> Reorganisation:
    """Apply a draft plan in one transaction, or refuse it whole.

    Locks the tenant (unit writes are serialised per tenant), the plan, the
    source units and the open dossiers of every unit it closes (a dossier being
    submitted at the same moment finishes first and stays with its unit, or
    waits and finds its items gone to the successor), re-runs the preview and
    refuses on any conflict (:class:`ReorganisationConflictError`), then writes
    the layout, moves subjects, open registrations and role assignments, ends
    the abolished level, audits one event per step and one for the plan and
    rebuilds the tenant's rollups. Returns the plan, ``applied`` with ``result``.
    """
    from recognition.models import Dossier, DossierStatus
    from reports.services import bases_freeze, rollups_rebuild

    # FOR NO KEY UPDATE, not FOR UPDATE: it serialises unit writes of the tenant
    # without blocking inserts that merely reference the tenant or a unit (audit
    # events, dossier submissions), which would otherwise deadlock with a
    # transaction holding a dossier this apply waits for.
    tenant = Tenant.objects.select_for_update(no_key=True).get(pk=plan.tenant_id)
    locked = _lock_plan(actor=actor, plan=plan, expected_version=expected_version, action="apply")
    source_ids = sorted(
        {
            int(pk)
            for sources in ReorganisationStep.objects.filter(plan=locked).values_list(
                "sources", flat=True
            )
            for pk in sources
            if str(pk).isdigit()
        }
    )
    for batch in _chunks(source_ids):
        list(
            AdministrativeUnit.objects.select_for_update(no_key=True)
            .filter(tenant=tenant, pk__in=batch)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    preview = reorganisation_preview(plan=locked)
    _require_admin_paths(actor, (preview.units[pk].path for pk in preview.closed_by))
    _require_admin_paths(
        actor,
        (
            preview.units[node.parent[1]].path
            for node in preview.new_units
            if node.parent and node.parent[0] == "old"
        ),
    )
    if preview.conflicts:
        raise ReorganisationConflictError(preview.conflicts)
    for batch in _chunks(preview.closed_by):
        list(
            Dossier.objects.select_for_update(of=("self",))
            .filter(
                proposing_unit_id__in=batch,
                status__in=[DossierStatus.DRAFT, DossierStatus.RETURNED],
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    # Before anything moves: the bases the closed units' past years are read against.
    bases_freeze(unit_ids=preview.closed_by, on=locked.effective_on)
    writer = LayoutWriter(actor=actor, plan=locked, preview=preview)
    result = writer.write()
    rebuilt = rollups_rebuild(tenant=tenant)
    result["rollup_rows"] = rebuilt.rows
    Reorganisation.objects.filter(pk=locked.pk).update(
        status=REORGANISATION_TRANSITIONS["apply"].target,
        applied_by=actor if getattr(actor, "is_authenticated", False) else None,
        applied_at=writer.now,
        version=F("version") + 1,
        result=result,
    )
    locked.refresh_from_db()
    audit_record(
        actor=actor,
        action="reorganisation.apply",
        obj=locked,
        tenant=tenant,
        before={"status": ReorganisationStatus.DRAFT},
        after={"status": locked.status, "result": result},
    )
    return locked


# --- Flagged role assignments -----------------------------------------------------------


@transaction.atomic
def role_reassignment_resolve(
    *, actor: Any, reassignment: RoleReassignment, units: Iterable[AdministrativeUnit]
) -> list[RoleAssignment]:
    """Give the flagged role at ``units`` (the successors the admin chose; none to
    drop it), withdraw the assignment on the closed unit and mark the flag resolved."""
    from units.services import role_assign

    locked = (
        RoleReassignment.objects.select_for_update(of=("self",))
        .select_related("unit", "user", "assignment")
        .get(pk=reassignment.pk)
    )
    _require_tenant_admin(actor, locked.tenant_id)
    _require_admin_paths(actor, [locked.unit.path])
    if locked.resolved_at is not None:
        raise ReorganisationStateError(
            _("This role has already been reassigned: reload the page."),
            code="reassignment_resolved",
        )
    granted = [
        role_assign(actor=actor, user=locked.user, unit=unit, role=locked.role) for unit in units
    ]
    if locked.assignment is not None:
        audit_record(
            actor=actor,
            action="role.revoke",
            obj=locked.assignment,
            tenant=locked.unit.tenant,
            unit=locked.unit,
            before={"user": locked.user.username, "role": locked.role, "unit": locked.unit.code},
            after={"replaced_by": [a.unit.code for a in granted]},
        )
        locked.assignment.delete()
        forget_grants(locked.user)
    RoleReassignment.objects.filter(pk=locked.pk).update(
        resolved_at=timezone.now(),
        resolved_by=actor if getattr(actor, "is_authenticated", False) else None,
        assignment=None,
    )
    return granted

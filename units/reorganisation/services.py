"""Writes of the reorganisation plans: create, edit, cancel, apply, resolve flagged roles.

Every function is atomic, keyword-only, checks that the actor administers the
units involved (``actor=None`` is the system: imports, demo data, commands) and
writes an audit event. :func:`reorganisation_apply` is the one heavy write: it
re-runs the preview inside its transaction with the rows locked and writes the
layout with bulk statements only (one UPDATE per table, never one per row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from core.text import fold, natural_key, nfc
from units.levels import Kind, Level
from units.models import (
    AdministrativeUnit,
    RoleAssignment,
    Tenant,
    TenantLevel,
    UnitSuccession,
    path_segment,
)
from units.reorganisation.exceptions import (
    ReorganisationConflictError,
    ReorganisationStateError,
    StepError,
)
from units.reorganisation.models import (
    REORGANISATION_TRANSITIONS,
    Reorganisation,
    ReorganisationMapping,
    ReorganisationSource,
    ReorganisationStatus,
    ReorganisationStep,
    RoleReassignment,
    StepKind,
)
from units.reorganisation.preview import (
    Preview,
    _chunks,
    open_registrations_q,
    reorganisation_preview,
)
from units.roles import ADMIN_ROLES
from units.selectors import forget_grants, is_tenant_admin, scope_paths
from units.services import tenant_set_level_period

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
        raise StepError(code="abolish_level_invalid")
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
        raise StepError(code="target_kind")
    parent: int | str | None
    if isinstance(target.parent, AdministrativeUnit):
        if target.parent.tenant_id != plan.tenant_id:
            raise Http404
        _require_admin_paths(actor, [target.parent.path])
        parent = target.parent.pk
    else:
        parent = nfc(target.parent) or None
    if step.kind == StepKind.MOVE and parent is None:
        raise StepError(code="move_needs_parent")
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
        raise StepError(code="step_kind")
    if kind == StepKind.MERGE:
        ok = sources >= 2 and targets == 1
    elif kind == StepKind.SPLIT:
        ok = sources == 1 and targets >= 2
    else:
        ok = sources == 1 and targets <= 1
    if not ok:
        raise StepError(code="step_shape")


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


def _allocate_ids(count: int) -> Iterator[int]:
    """Reserve ``count`` primary keys for new units, so paths are known before insert."""
    if count == 0:
        return iter(())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [AdministrativeUnit._meta.db_table, count],
            )
            return iter([row[0] for row in cursor.fetchall()])
    # SQLite: the write transaction holds the database lock.
    start = (AdministrativeUnit.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    return iter(range(start, start + count))


class _Writer:
    """Writes one plan's layout (``Preview``) with bulk statements."""

    def __init__(self, *, actor: Any, plan: Reorganisation, preview: Preview) -> None:
        self.actor = actor
        self.plan = plan
        self.preview = preview
        self.eff = plan.effective_on
        self.now = timezone.now()
        self.new_pk: dict[str, int] = {}
        self.result: dict[str, int] = {}

    def resolve(self, ref: tuple[str, Any]) -> int:
        return int(ref[1]) if ref[0] == "old" else self.new_pk[ref[1]]

    def write(self) -> dict[str, int]:
        self._create_units()
        self._close_units()
        self._link()
        self._move_subjects()
        self._move_registrations()
        self._move_home_units()
        self._move_roles()
        self._end_level()
        self._audit_steps()
        return self.result

    def _create_units(self) -> None:
        preview = self.preview
        ids = _allocate_ids(len(preview.new_units))
        paths: dict[str, tuple[str, int]] = {}
        rows = []
        for node in preview.new_units:
            pk = next(ids)
            assert node.parent is not None  # noqa: S101 - a conflict otherwise
            kind, ref = node.parent
            if kind == "old":
                parent_id = int(ref)
                parent_path = preview.units[parent_id].path
                parent_depth = preview.units[parent_id].depth
            else:
                parent_id = self.new_pk[ref]
                parent_path, parent_depth = paths[ref]
            self.new_pk[node.key] = pk
            paths[node.key] = (parent_path + path_segment(pk), parent_depth + 1)
            rows.append(
                AdministrativeUnit(
                    id=pk,
                    tenant_id=self.plan.tenant_id,
                    parent_id=parent_id,
                    path=paths[node.key][0],
                    depth=parent_depth + 1,
                    level=node.level,
                    kind=node.kind,
                    name=node.name,
                    search_name=fold(node.name),
                    sort_name=natural_key(node.name),
                    code=node.code,
                    valid_from=self.eff,
                    valid_to=None,
                    is_disadvantaged=node.is_disadvantaged,
                )
            )
        AdministrativeUnit.objects.bulk_create(rows, batch_size=BATCH)
        self.result["units_created"] = len(rows)
        self.result["neighbourhoods_copied"] = sum(
            1 for n in preview.new_units if n.copied_from is not None
        )

    def _close_units(self) -> None:
        closed = 0
        for batch in _chunks(self.preview.closed_by):
            closed += AdministrativeUnit.objects.filter(pk__in=batch).update(
                valid_to=self.eff - dt.timedelta(days=1),
                version=F("version") + 1,
                updated_at=self.now,
            )
        self.result["units_closed"] = closed

    def _link(self) -> None:
        preview = self.preview
        successions: list[UnitSuccession] = []
        steps = {s.position: s for s in ReorganisationStep.objects.filter(plan=self.plan)}
        for step_preview in preview.steps:
            step = steps[step_preview.position]
            for source in step_preview.closes:
                for target in step_preview.creates:
                    successions.append(
                        UnitSuccession(
                            tenant_id=self.plan.tenant_id,
                            predecessor_id=source.pk,
                            successor_id=self.new_pk[target.key],
                            kind=step.kind,
                            effective_on=self.eff,
                            legal_basis=self.plan.legal_basis,
                        )
                    )
        for node in preview.new_units:
            if node.copied_from is not None:
                successions.append(
                    UnitSuccession(
                        tenant_id=self.plan.tenant_id,
                        predecessor_id=node.copied_from,
                        successor_id=self.new_pk[node.key],
                        kind=UnitSuccession.Kind.MOVE,
                        effective_on=self.eff,
                        legal_basis=self.plan.legal_basis,
                    )
                )
        UnitSuccession.objects.bulk_create(successions, batch_size=BATCH)
        ReorganisationMapping.objects.bulk_create(
            (
                ReorganisationMapping(
                    plan=self.plan,
                    old_unit_id=pk,
                    new_unit_id=self.resolve(preview.successor[pk]),
                    exclusive=pk in preview.exclusive,
                )
                for pk in preview.closed_by
            ),
            batch_size=BATCH,
        )
        self.result["successions"] = len(successions)

    # The moves: one UPDATE per table through the mapping rows just written.

    def _closed(self, *, exclusive: bool | None = None) -> QuerySet[Any]:
        rows = ReorganisationMapping.objects.filter(plan=self.plan)
        if exclusive is not None:
            rows = rows.filter(exclusive=exclusive)
        return rows.values("old_unit_id")

    def _new_for(self, column: str) -> Subquery:
        return Subquery(
            ReorganisationMapping.objects.filter(
                plan=self.plan, old_unit_id=OuterRef(column)
            ).values("new_unit_id")[:1]
        )

    def _move_subjects(self) -> None:
        from recognition.models import Citizen, Clan, Household, Organisation

        for name, model in (
            ("households", Household),
            ("clans", Clan),
            ("organisations", Organisation),
            ("citizens", Citizen),
        ):
            self.result[name] = model.objects.filter(  # type: ignore[attr-defined]
                tenant_id=self.plan.tenant_id, unit_id__in=self._closed()
            ).update(
                unit_id=self._new_for("unit_id"),
                version=F("version") + 1,
                updated_at=self.now,
            )

    def _move_registrations(self) -> None:
        """Open registrations (and their self-assessments) follow their subject;
        submitted and decided ones stay with the unit they were made under.
        Self-assessments in a draft dossier of a closed unit leave that dossier."""
        from recognition.models import Assessment, Registration

        closed = self._closed()
        movable = (
            Registration.objects.filter(tenant_id=self.plan.tenant_id)
            .filter(open_registrations_q(self.plan))
            .exclude(subject_unit_id__in=self._closed(exclusive=False))
        )
        affected = movable.filter(Q(unit_id__in=closed) | Q(proposing_unit_id__in=closed))
        assessments = Assessment.objects.filter(tenant_id=self.plan.tenant_id)
        self.result["assessments"] = assessments.filter(
            registration_id__in=affected.values("pk"), unit_id__in=closed
        ).update(unit_id=self._new_for("unit_id"), version=F("version") + 1, updated_at=self.now)
        self.result["assessments_left_dossier"] = assessments.filter(
            registration_id__in=affected.filter(proposing_unit_id__in=closed).values("pk"),
            dossier__isnull=False,
        ).update(dossier=None, version=F("version") + 1, updated_at=self.now)
        movable.filter(subject_unit_id__in=self._closed(exclusive=True)).update(
            subject_unit_id=self._new_for("subject_unit_id")
        )
        self.result["registrations"] = movable.filter(unit_id__in=closed).update(
            unit_id=self._new_for("unit_id")
        )
        self.result["registrations_proposing"] = movable.filter(
            proposing_unit_id__in=closed
        ).update(proposing_unit_id=self._new_for("proposing_unit_id"))

    def _move_home_units(self) -> None:
        from recognition.models import Clan

        through = Clan.home_units.through
        rows: list[tuple[int, int, int]] = []
        for batch in _chunks(self.preview.closed_by):
            rows.extend(
                through.objects.filter(administrativeunit_id__in=batch).values_list(
                    "pk", "clan_id", "administrativeunit_id"
                )
            )
        if not rows:
            return
        through.objects.filter(pk__in=[r[0] for r in rows]).delete()
        through.objects.bulk_create(
            [
                through(
                    clan_id=clan_id, administrativeunit_id=self.resolve(self.preview.successor[u])
                )
                for _pk, clan_id, u in rows
            ],
            ignore_conflicts=True,
        )

    def _move_roles(self) -> None:
        preview = self.preview
        assignments: list[RoleAssignment] = []
        for batch in _chunks(preview.closed_by):
            assignments.extend(
                RoleAssignment.objects.filter(unit_id__in=batch).select_related("user", "unit")
            )
        moved: list[RoleAssignment] = []
        flagged: list[RoleReassignment] = []
        events: list[AuditEvent] = []
        actor = self.actor if getattr(self.actor, "is_authenticated", False) else None
        for a in assignments:
            if a.unit_id in preview.flag_roles:
                flagged.append(
                    RoleReassignment(
                        tenant_id=self.plan.tenant_id,
                        plan=self.plan,
                        assignment=a,
                        user_id=a.user_id,
                        role=a.role,
                        unit_id=a.unit_id,
                        reason=preview.flag_roles[a.unit_id],
                    )
                )
                continue
            new_unit = self.resolve(preview.successor[a.unit_id])
            moved.append(
                RoleAssignment(
                    tenant_id=a.tenant_id,
                    user_id=a.user_id,
                    unit_id=new_unit,
                    role=a.role,
                    granted_by_id=a.granted_by_id,
                )
            )
            events.append(
                AuditEvent(
                    tenant_id=self.plan.tenant_id,
                    actor=actor,
                    unit_id=new_unit,
                    action="role.move",
                    object_type=RoleAssignment._meta.label_lower,
                    object_id=str(a.public_id),
                    before={"user": a.user.username, "role": a.role, "unit": a.unit.code},
                    after={
                        "user": a.user.username,
                        "role": a.role,
                        "unit_id": new_unit,
                        "plan": str(self.plan.public_id),
                    },
                )
            )
        RoleAssignment.objects.bulk_create(moved, batch_size=BATCH, ignore_conflicts=True)
        moved_ids = [a.pk for a in assignments if a.unit_id not in preview.flag_roles]
        for batch in _chunks(moved_ids):
            RoleAssignment.objects.filter(pk__in=batch).delete()
        RoleReassignment.objects.bulk_create(flagged, batch_size=BATCH)
        AuditEvent.objects.bulk_create(events, batch_size=BATCH)
        self.result["roles_moved"] = len(moved)
        self.result["roles_flagged"] = len(flagged)
        for a in assignments:
            forget_grants(a.user)

    def _end_level(self) -> None:
        level = self.plan.abolish_level
        if not level:
            return
        rows = TenantLevel.objects.filter(
            tenant_id=self.plan.tenant_id,
            level=level,
            valid_from__lt=self.eff,
            valid_to__isnull=True,
        )
        for row in rows:
            tenant_set_level_period(
                tenant=self.plan.tenant,
                level=level,
                valid_from=row.valid_from,
                valid_to=self.eff - dt.timedelta(days=1),
            )
        self.result["units_abolished"] = len(self.preview.abolished)

    def _audit_steps(self) -> None:
        actor = self.actor if getattr(self.actor, "is_authenticated", False) else None
        events = [
            AuditEvent(
                tenant_id=self.plan.tenant_id,
                actor=actor,
                unit_id=step.closes[0].pk if step.closes else None,
                action="reorganisation.step",
                object_type=Reorganisation._meta.label_lower,
                object_id=str(self.plan.public_id),
                after={
                    "position": step.position,
                    "kind": step.kind,
                    "closed": [u.code for u in step.closes],
                    "created": [
                        {"code": n.code, "name": n.name, "id": self.new_pk[n.key]}
                        for n in step.creates
                    ],
                    "copies": step.copies,
                    "counts": dict(step.counts),
                },
            )
            for step in self.preview.steps
        ]
        AuditEvent.objects.bulk_create(events, batch_size=BATCH)


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
    from reports.services import rollups_rebuild

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
    writer = _Writer(actor=actor, plan=locked, preview=preview)
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
            gettext("This role has already been reassigned: reload the page."),
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

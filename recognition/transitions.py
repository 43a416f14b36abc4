"""The declarative transition maps and the one function that applies them.

Every status change of an assessment or a dossier goes through
:func:`apply_transition`: it locks the row, checks the map (current state and
the actor's role over the unit), bumps the version, writes the audit event in
the same transaction and leaves notifications to ``transaction.on_commit``
(STYLE.md §3). Two reviewers acting at once: the second finds the new state
and gets a :class:`TransitionError` with a clear message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from recognition.exceptions import RoleNotAllowedError, TransitionError
from recognition.models import AssessmentStatus as A
from recognition.models import DecisionStatus as DS
from recognition.models import DossierStatus as D
from units.roles import Role
from units.selectors import roles_at

M = TypeVar("M", bound=models.Model)

WARD = frozenset({Role.WARD_OFFICIAL, Role.TENANT_ADMIN})
WARD_AND_NEIGHBOURHOOD = frozenset({Role.WARD_OFFICIAL, Role.NEIGHBOURHOOD_LEAD, Role.TENANT_ADMIN})
REVIEWER = frozenset({Role.REVIEWER, Role.TENANT_ADMIN})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: frozenset[str]


ASSESSMENT_TRANSITIONS: dict[str, Transition] = {
    # The self-assessment is complete (scores for every indicator, required evidence).
    "complete": Transition(frozenset({A.DRAFT, A.RETURNED}), A.READY, WARD_AND_NEIGHBOURHOOD),
    "reopen": Transition(frozenset({A.READY}), A.DRAFT, WARD_AND_NEIGHBOURHOOD),
    # Through the dossier: its items lock when it is submitted.
    "submit": Transition(frozenset({A.READY}), A.SUBMITTED, WARD),
    "return": Transition(frozenset({A.SUBMITTED}), A.RETURNED, REVIEWER),
    "approve": Transition(frozenset({A.SUBMITTED}), A.APPROVED, REVIEWER),
    "reject": Transition(frozenset({A.SUBMITTED}), A.REJECTED, REVIEWER),
    # Issued decision (decisions issue).
    "recognise": Transition(frozenset({A.APPROVED}), A.RECOGNISED, REVIEWER),
    # A later decision revokes the one that recognised it: approved again, so a
    # corrected decision can recognise it.
    "unrecognise": Transition(frozenset({A.RECOGNISED}), A.APPROVED, REVIEWER),
}

DOSSIER_TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({D.DRAFT, D.RETURNED}), D.SUBMITTED, WARD),
    "return": Transition(frozenset({D.SUBMITTED}), D.RETURNED, REVIEWER),
    "approve": Transition(frozenset({D.SUBMITTED}), D.APPROVED, REVIEWER),
}

DECISION_TRANSITIONS: dict[str, Transition] = {
    "issue": Transition(frozenset({DS.DRAFT}), DS.ISSUED, REVIEWER),
    "revoke": Transition(frozenset({DS.ISSUED}), DS.REVOKED, REVIEWER),
}

#: Assessment states in which the ward may still edit scores and evidence.
EDITABLE_ASSESSMENT_STATES = frozenset({A.DRAFT, A.RETURNED})


def allowed(action: str, transitions: dict[str, Transition], state: str) -> bool:
    return state in transitions[action].sources


@transaction.atomic
def apply_transition(
    *,
    obj: M,
    transitions: dict[str, Transition],
    action: str,
    actor: Any,
    role_unit: Any,
    expected_version: int | None = None,
    changes: dict[str, Any] | None = None,
    audit_after: dict[str, Any] | None = None,
    on_commit: Callable[[], None] | None = None,
) -> M:
    """Move ``obj`` along ``transitions[action]`` or raise, changing nothing.

    ``role_unit`` is the unit over which the actor must hold one of the
    transition's roles (the proposing unit for ward actions, the reviewing
    unit for reviewer actions). ``actor=None`` is the system.
    """
    rule = transitions[action]
    model = type(obj)
    locked = model.objects.select_for_update(of=("self",)).get(pk=obj.pk)  # type: ignore[attr-defined]
    if actor is not None and not (roles_at(actor, role_unit) & rule.roles):
        raise RoleNotAllowedError()
    state = locked.status
    if state not in rule.sources:
        raise TransitionError(
            TransitionError.default_message % {"status": locked.get_status_display()},
            current=state,
        )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    before = {"status": state}
    fields = {"status": rule.target, "version": F("version") + 1, **(changes or {})}
    model.objects.filter(pk=locked.pk).update(**fields)  # type: ignore[attr-defined]
    locked.refresh_from_db()
    if model._meta.label == "recognition.Assessment":
        from reports.services import rollup_assessments_moved  # lazy: import cycle

        rollup_assessments_moved(moves=[(locked.pk, state)], new_status=rule.target)
    audit_record(
        actor=actor,
        action=f"{model._meta.model_name}.{action}",
        obj=locked,
        tenant=getattr(locked, "tenant", None),
        unit=role_unit,
        before=before,
        after={"status": rule.target, **(audit_after or {})},
    )
    if on_commit is not None:
        transaction.on_commit(on_commit)
    return locked


@transaction.atomic
def apply_transition_many(
    *,
    queryset: models.QuerySet[M],
    transitions: dict[str, Transition],
    action: str,
    actor: Any,
    role_unit: Any,
    changes: dict[str, Any] | None = None,
    audit_after: dict[str, Any] | None = None,
) -> int:
    """:func:`apply_transition` for many rows at once, with the same guarantees.

    Locks every row, checks the actor's role once and every row's state, then
    moves them all in one UPDATE and writes one audit event per row in one
    INSERT: a ward's dossier of 20,000 households is submitted in seconds, not
    minutes. All or nothing: one row in the wrong state refuses the lot.
    """
    from core.models import AuditEvent

    rule = transitions[action]
    model = queryset.model
    rows = list(
        queryset.select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "status", "public_id")
    )
    if actor is not None and not (roles_at(actor, role_unit) & rule.roles):
        raise RoleNotAllowedError()
    wrong = [status for _pk, status, _pid in rows if status not in rule.sources]
    if wrong:
        status_field = model._meta.get_field("status")
        label = dict(getattr(status_field, "choices", None) or []).get(wrong[0], wrong[0])
        raise TransitionError(
            TransitionError.default_message % {"status": label}, current=wrong[0], count=len(wrong)
        )
    if not rows:
        return 0
    ids = [pk for pk, _status, _pid in rows]
    model.objects.filter(pk__in=ids).update(  # type: ignore[attr-defined]
        status=rule.target, version=F("version") + 1, **(changes or {})
    )
    if model._meta.label == "recognition.Assessment":
        from reports.services import rollup_assessments_moved  # lazy: import cycle

        rollup_assessments_moved(moves=[(pk, st) for pk, st, _p in rows], new_status=rule.target)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    label = model._meta.label_lower
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                tenant_id=getattr(role_unit, "tenant_id", None),
                actor=actor_obj,
                unit=role_unit,
                action=f"{model._meta.model_name}.{action}",
                object_type=label,
                object_id=str(public_id),
                before={"status": status},
                after={"status": rule.target, **(audit_after or {})},
            )
            for _pk, status, public_id in rows
        ],
        batch_size=2000,
    )
    return len(rows)

"""Reads of the reorganisation plans, the flagged role assignments and unit lineage.

Plans are seen by their tenant's administrators only (404 for anyone else);
flagged role assignments by the administrators whose subtree holds the closed
unit. The lineage reads (:func:`successors_in_force`, :func:`today_map`) serve
the "mapped onto today's units" reports.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from units.models import AdministrativeUnit, UnitSuccession, path_ids
from units.reorganisation.models import (
    ReassignmentReason,
    Reorganisation,
    ReorganisationMapping,
    ReorganisationStatus,
    ReorganisationStep,
    RoleReassignment,
)
from units.roles import ADMIN_ROLES
from units.selectors import (
    is_read_only,
    is_tenant_admin,
    parse_public_id,
    scope_queryset,
    user_grants,
)


def reorganisations_for_user(user: Any) -> QuerySet[Reorganisation]:
    """The plans of the user's tenant, for its administrators (nobody else)."""
    if not getattr(user, "is_authenticated", False) or user.tenant_id is None:
        return Reorganisation.objects.none()
    if not is_tenant_admin(user):
        return Reorganisation.objects.none()
    return Reorganisation.objects.filter(tenant_id=user.tenant_id).select_related(
        "created_by", "applied_by"
    )


def get_reorganisation_for_user(user: Any, public_id: Any) -> Reorganisation:
    plan = reorganisations_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if plan is None:
        raise Http404
    return plan


def plan_steps(plan: Reorganisation) -> list[tuple[ReorganisationStep, list[AdministrativeUnit]]]:
    """The plan's steps in order, each with its source units (two queries)."""
    steps = list(ReorganisationStep.objects.filter(plan=plan).order_by("position"))
    ids = {int(pk) for step in steps for pk in step.sources if str(pk).isdigit()}
    units = AdministrativeUnit.objects.filter(tenant_id=plan.tenant_id).in_bulk(ids)
    return [
        (step, [units[int(pk)] for pk in step.sources if str(pk).isdigit() and int(pk) in units])
        for step in steps
    ]


def get_step_for_user(user: Any, plan: Reorganisation, step_id: Any) -> ReorganisationStep:
    """A step of a plan the user already reached through :func:`get_reorganisation_for_user`."""
    if plan.tenant_id != getattr(user, "tenant_id", None):
        raise Http404
    try:
        return ReorganisationStep.objects.get(plan=plan, pk=int(step_id))
    except (ReorganisationStep.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def reassignments_for_user(user: Any, *, open_only: bool = True) -> QuerySet[RoleReassignment]:
    """Role assignments flagged by applied plans (split, abolished level) on units
    inside the user's administrator scope, unresolved ones only by default."""
    rows = scope_queryset(
        RoleReassignment.objects.select_related("user", "unit", "plan", "assignment"),
        user,
        roles=ADMIN_ROLES,
    )
    if open_only:
        rows = rows.filter(resolved_at__isnull=True)
    return rows.order_by("created_at", "pk")


def get_reassignment_for_user(user: Any, public_id: Any) -> RoleReassignment:
    row = (
        reassignments_for_user(user, open_only=False)
        .filter(public_id=parse_public_id(public_id))
        .first()
    )
    if row is None:
        raise Http404
    return row


def successor_choices(reassignment: RoleReassignment) -> QuerySet[AdministrativeUnit]:
    """Where a flagged role may go: the successors of the closed unit (the split's
    new units), or for an abolished unit the units its children became."""
    unit = reassignment.unit
    if reassignment.reason == ReassignmentReason.ABOLISHED:
        links = UnitSuccession.objects.filter(predecessor__parent=unit)
    else:
        links = UnitSuccession.objects.filter(predecessor=unit)
    return AdministrativeUnit.objects.filter(
        tenant_id=unit.tenant_id, pk__in=links.values("successor_id")
    ).order_by("path")


def predecessors_of(unit: AdministrativeUnit) -> QuerySet[AdministrativeUnit]:
    return AdministrativeUnit.objects.filter(
        tenant_id=unit.tenant_id, succession_out__successor=unit
    ).distinct()


def successors_of(unit: AdministrativeUnit) -> QuerySet[AdministrativeUnit]:
    return AdministrativeUnit.objects.filter(
        tenant_id=unit.tenant_id, succession_in__predecessor=unit
    ).distinct()


def successors_in_force(
    unit: AdministrativeUnit, *, on: dt.date | None = None
) -> list[AdministrativeUnit]:
    """The units in force ``on`` (today) that continue ``unit``: itself if it is
    still in force, else its successors, followed through later reforms (one
    query per generation)."""
    on = on or timezone.localdate()
    found: dict[int, AdministrativeUnit] = {}
    frontier = [unit]
    seen: set[int] = set()
    while frontier:
        next_ids: set[int] = set()
        for current in frontier:
            seen.add(current.pk)
            if current.is_valid_on(on):
                found[current.pk] = current
            elif current.valid_to is not None and current.valid_to < on:
                next_ids.add(current.pk)
        if not next_ids:
            break
        frontier = [
            u
            for u in AdministrativeUnit.objects.filter(
                tenant_id=unit.tenant_id, succession_in__predecessor_id__in=next_ids
            ).distinct()
            if u.pk not in seen
        ]
    return sorted(found.values(), key=lambda u: u.path)


def today_map(*, tenant: Any, on: dt.date | None = None) -> dict[int, int]:
    """Old unit id -> the unit in force ``on`` (today) that took over its subjects,
    following every applied plan's mapping (one query). Units never closed are
    absent: they map to themselves. Reports use it to show past years "mapped
    onto today's units"; for a split the default successor takes the old unit."""
    on = on or timezone.localdate()
    direct: dict[int, int] = {}
    rows = (
        ReorganisationMapping.objects.filter(
            plan__tenant=tenant,
            plan__status=ReorganisationStatus.APPLIED,
            plan__effective_on__lte=on,
        )
        .order_by("plan__effective_on", "plan_id")
        .values_list("old_unit_id", "new_unit_id")
    )
    for old, new in rows:
        direct[old] = new
    resolved: dict[int, int] = {}
    for old in direct:
        current, hops = old, 0
        while current in direct and hops <= len(direct):
            current = direct[current]
            hops += 1
        resolved[old] = current
    return resolved


def lineage_links(tenant: Any) -> dict[int, list[int]]:
    """Predecessor id -> successor ids of every succession of the tenant (one query)."""
    links: dict[int, list[int]] = defaultdict(list)
    for old, new in UnitSuccession.objects.filter(tenant=tenant).values_list(
        "predecessor_id", "successor_id"
    ):
        links[old].append(new)
    return dict(links)


def plans_for_reader(user: Any) -> QuerySet[Reorganisation]:
    """Plans the user may read: a tenant administrator's (the selector) and, read
    only, those of a steering viewer whose scope is the whole tenant (a grant at
    its top unit). Anyone else: 403."""
    if is_tenant_admin(user):
        return reorganisations_for_user(user)
    if is_read_only(user) and any(len(path_ids(g.path)) == 1 for g in user_grants(user)):
        return Reorganisation.objects.filter(tenant_id=user.tenant_id)
    raise PermissionDenied


def get_plan_for_reader(user: Any, public_id: Any) -> Reorganisation:
    plan = plans_for_reader(user).filter(public_id=parse_public_id(public_id)).first()
    if plan is None:
        raise Http404
    return plan

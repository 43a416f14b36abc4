"""Reads of plans, scoped through units/selectors.py.

A user sees the plans of the units in their subtrees **and** the plans of the
units above them that their own units implement (a ward official reads the
district's and the city's plans). Writing stays with the planners of the
issuing unit (campaigns.permissions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from campaigns.models import Phase, Plan, PlanSection, Target
from campaigns.permissions import PLANNERS
from units.levels import Level
from units.models import AdministrativeUnit, path_ids
from units.selectors import parse_public_id, scope_queryset, units_for_user, user_grants


def plans_for_user(user: Any) -> QuerySet[Plan]:
    """Plans of units in the user's subtrees, and of the ancestors of their units."""
    grants = user_grants(user)
    if not grants:
        return Plan.objects.none()
    above = {pk for grant in grants for pk in path_ids(grant.path)}
    in_subtree = scope_queryset(Plan.objects.all(), user, unit_field="issuing_unit")
    return Plan.objects.filter(
        Q(pk__in=in_subtree.values("pk"))
        | Q(
            tenant_id=user.tenant_id,
            issuing_unit__tenant_id=user.tenant_id,
            issuing_unit_id__in=above,
        )
    ).select_related("issuing_unit", "parent", "parent__issuing_unit")


def get_plan_for_user(user: Any, public_id: Any) -> Plan:
    plan = plans_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if plan is None:
        raise Http404
    return plan


def plan_sections(plan: Plan) -> QuerySet[PlanSection]:
    return plan.sections.order_by("position", "id")


def plan_phases(plan: Plan) -> QuerySet[Phase]:
    return plan.phases.select_related("source").order_by("start_year", "pk")


def plan_targets(plan: Plan) -> QuerySet[Target]:
    return plan.targets.select_related("unit", "source", "source__plan").order_by(
        "year", "title", "unit__path", "pk"
    )


def get_section(plan: Plan, section_id: Any) -> PlanSection:
    """A section of a plan already checked against the user's scope (404 otherwise)."""
    section = plan.sections.filter(pk=_int(section_id)).first()
    if section is None:
        raise Http404
    return section


def get_phase(plan: Plan, phase_id: Any) -> Phase:
    phase = plan.phases.select_related("source").filter(pk=_int(phase_id)).first()
    if phase is None:
        raise Http404
    return phase


def get_target(plan: Plan, target_id: Any) -> Target:
    target = plan.targets.select_related("unit", "source").filter(pk=_int(target_id)).first()
    if target is None:
        raise Http404
    return target


def _int(value: Any) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return 0
    return number if 0 < number < 2**63 else 0


# --- Effective targets ---------------------------------------------------------------


def effective_targets(
    *, unit: AdministrativeUnit, title: str | None = None, year: int | None = None
) -> list[Target]:
    """The target in force for ``unit`` per (title, year), in one query.

    Candidates are the targets of plans issued by the unit or an ancestor, set
    for the unit or an ancestor. The nearest wins: a target set for the unit
    itself beats one set for its district, which beats the city's (overrides
    beat inherited values); for the same unit, the plan of the nearer issuer
    (the one implementing the other) wins.
    """
    lineage = [*unit.ancestor_ids(), unit.pk]
    qs = Target.objects.filter(
        plan__tenant_id=unit.tenant_id,
        plan__issuing_unit_id__in=lineage,
        unit_id__in=lineage,
    ).select_related("unit", "plan", "plan__issuing_unit", "source")
    if title:
        qs = qs.filter(title=title)
    if year:
        qs = qs.filter(year=year)
    best: dict[tuple[str, int], Target] = {}
    for target in qs:
        key = (target.title, target.year)
        rank = (
            target.unit.depth,
            target.plan.issuing_unit.depth,
            target.plan.start_year,
            target.pk,
        )
        current = best.get(key)
        if current is None or rank > (
            current.unit.depth,
            current.plan.issuing_unit.depth,
            current.plan.start_year,
            current.pk,
        ):
            best[key] = target
    return [best[key] for key in sorted(best, key=lambda k: (k[1], k[0]))]


def effective_target(*, unit: AdministrativeUnit, title: str, year: int) -> Target | None:
    """The nearest target for ``unit`` walking up (see :func:`effective_targets`)."""
    found = effective_targets(unit=unit, title=title, year=year)
    return found[0] if found else None


# --- Child plans and who may derive ----------------------------------------------------


@dataclass(frozen=True)
class ChildStatus:
    unit: AdministrativeUnit
    plan: Plan | None


def child_plan_status(plan: Plan) -> list[ChildStatus]:
    """The units right under the issuing unit, each with its plan implementing
    ``plan`` or ``None`` (not yet), then derived plans of units further down."""
    children = list(
        AdministrativeUnit.objects.filter(parent=plan.issuing_unit, valid_to__isnull=True)
        .exclude(level=Level.NEIGHBOURHOOD)
        .order_by("sort_name")
    )
    derived = {p.issuing_unit_id: p for p in plan.children.select_related("issuing_unit")}
    rows = [ChildStatus(unit=u, plan=derived.pop(u.pk, None)) for u in children]
    rows += [
        ChildStatus(unit=p.issuing_unit, plan=p)
        for p in sorted(derived.values(), key=lambda p: p.issuing_unit.sort_name)
    ]
    return rows


def derive_units(user: Any, plan: Plan) -> QuerySet[AdministrativeUnit]:
    """Units where ``user`` may make the plan implementing ``plan``: units right
    under its issuing unit, or the user's own units under it, where the user is
    a planner and that have no such plan yet."""
    top = plan.issuing_unit
    own = [g.unit_id for g in user_grants(user) if g.role in PLANNERS]
    return (
        units_for_user(user, roles=PLANNERS)
        .filter(path__startswith=top.path)
        .exclude(pk=top.pk)
        .exclude(level=Level.NEIGHBOURHOOD)
        .filter(Q(parent_id=top.pk) | Q(pk__in=own))
        .exclude(pk__in=plan.children.values("issuing_unit_id"))
        .order_by("depth", "sort_name")
    )

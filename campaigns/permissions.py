"""Who may write what in campaigns (checked by every service).

Plans, targets, deadlines and events are written by the offices that issue
them: the tenant administrator, the reviewers (Phòng GD&ĐT, Sở GD&ĐT) and the
ward officials for their ward. Reviews of nominations and deadline extensions
are reviewers' work.
"""

from __future__ import annotations

from typing import Any

from recognition.exceptions import RoleNotAllowedError
from units.models import AdministrativeUnit
from units.roles import Role
from units.selectors import roles_at

PLANNERS = frozenset({Role.TENANT_ADMIN, Role.REVIEWER, Role.WARD_OFFICIAL})
REVIEWERS = frozenset({Role.TENANT_ADMIN, Role.REVIEWER})


def require_planner(actor: Any, unit: AdministrativeUnit) -> None:
    """The actor may write plans, targets, deadlines and events of ``unit``."""
    if actor is not None and not (roles_at(actor, unit) & PLANNERS):
        raise RoleNotAllowedError()


def require_reviewer(actor: Any, unit: AdministrativeUnit) -> None:
    if actor is not None and not (roles_at(actor, unit) & REVIEWERS):
        raise RoleNotAllowedError()


def can_plan(actor: Any, unit: AdministrativeUnit) -> bool:
    return bool(roles_at(actor, unit) & PLANNERS)

"""Roles (ARCHITECTURE.md, "Who uses it"). An assignment grants a role over a
unit's whole subtree and nothing else."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    NEIGHBOURHOOD_LEAD = "neighbourhood_lead", _("Neighbourhood lead")
    WARD_OFFICIAL = "ward_official", _("Ward official")
    REVIEWER = "reviewer", _("Reviewer")
    STEERING_VIEWER = "steering_viewer", _("Steering committee (read-only)")
    TENANT_ADMIN = "tenant_admin", _("Administrator")


#: Higher grants more. Nobody may grant a role ranked above their own.
ROLE_RANK: dict[str, int] = {
    Role.NEIGHBOURHOOD_LEAD: 10,
    Role.WARD_OFFICIAL: 20,
    Role.STEERING_VIEWER: 25,
    Role.REVIEWER: 30,
    Role.TENANT_ADMIN: 40,
}

#: Roles that may only read.
READ_ONLY_ROLES: frozenset[str] = frozenset({Role.STEERING_VIEWER})

#: Roles that manage users, units and role assignments in their subtree.
ADMIN_ROLES: frozenset[str] = frozenset({Role.TENANT_ADMIN})

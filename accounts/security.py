"""Writes and reads of a tenant's sign-in security (issue 10 §1): which roles
must use two-factor sign-in, and lifting a brute-force lock-out early."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.exceptions import AccountError
from accounts.models import User
from core.audit import audit_record
from units.models import PATH_SEGMENT_WIDTH, Tenant
from units.roles import ADMIN_ROLES, Role
from units.selectors import user_grants


def can_manage_tenant_security(user: Any) -> bool:
    """Administrators at the tenant's root unit set its sign-in policy."""
    return any(
        g.role in ADMIN_ROLES and len(g.path) == PATH_SEGMENT_WIDTH for g in user_grants(user)
    )


@transaction.atomic
def tenant_set_mfa_roles(*, actor: Any, tenant: Tenant, roles: Iterable[str]) -> Tenant:
    """Set the roles whose holders must sign in with an authenticator app.

    ``actor`` None is the system (demo seeding, commands)."""
    allowed = (
        actor is None
        or getattr(actor, "is_superuser", False)
        or (getattr(actor, "tenant_id", None) == tenant.pk and can_manage_tenant_security(actor))
    )
    if not allowed:
        raise AccountError(
            _("Only an administrator of the whole tenant may change its sign-in security."),
            code="cannot_manage_security",
        )
    valid = set(Role.values)
    chosen = sorted(set(roles))
    unknown = [role for role in chosen if role not in valid]
    if unknown:
        raise AccountError(
            _("Unknown role: %(roles)s.") % {"roles": ", ".join(unknown)}, code="unknown_role"
        )
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = sorted(locked.mfa_required_roles or [])
    if before != chosen:
        Tenant.objects.filter(pk=tenant.pk).update(mfa_required_roles=chosen)
        audit_record(
            actor=actor,
            action="tenant.mfa_roles",
            obj=locked,
            tenant=locked,
            before={"mfa_required_roles": before},
            after={"mfa_required_roles": chosen},
        )
    tenant.mfa_required_roles = chosen
    return tenant


def _attempts_of(user: User) -> Any:
    return AccessAttempt.objects.filter(username=user.username.lower())


def user_is_locked_out(user: User) -> bool:
    """Whether some address is locked out of the account right now."""
    limit: int = getattr(settings, "AXES_FAILURE_LIMIT", 5)
    attempts = _attempts_of(user).filter(failures_since_start__gte=limit)
    cooloff: dt.timedelta | None = getattr(settings, "AXES_COOLOFF_TIME", None)
    if cooloff:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cooloff)
    return attempts.exists()


@transaction.atomic
def user_unlock(*, actor: Any, user: User) -> int:
    """Lift every lock-out of the account before its cool-off ends. Allowed to
    superusers and to the administrators who manage the user."""
    from accounts.services import _may_manage

    if not (getattr(actor, "is_superuser", False) or _may_manage(actor, user)):
        raise AccountError(
            _("You cannot change this account: the user holds roles outside your area."),
            code="cannot_manage_user",
        )
    count = axes_reset(username=user.username.lower())
    audit_record(
        actor=actor,
        action="user.unlock",
        obj=user,
        tenant=user.tenant,
        after={"attempts_cleared": count},
    )
    return count

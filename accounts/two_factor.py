"""Who must sign in with two factors (issue 10 §1).

A tenant lists the roles whose holders must use an authenticator app
(``Tenant.mfa_required_roles``; new tenants: reviewers and administrators, who
approve recognitions and manage accounts). The personal data of millions of
households sits behind these accounts, and the Personal Data Protection Law
(91/2025/QH15) asks its controllers for protection measures proportionate to
that risk, which a password alone is not.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator

from units.selectors import user_grants


def mfa_required_roles_of(user: Any) -> frozenset[str]:
    """The roles the user's tenant requires two factors for (empty without a tenant)."""
    tenant = getattr(user, "tenant", None) if getattr(user, "tenant_id", None) else None
    if tenant is None:
        return frozenset()
    return frozenset(tenant.mfa_required_roles or ())


def mfa_required(user: Any) -> bool:
    """Whether the user holds a role that their tenant requires two factors for."""
    if not getattr(user, "is_authenticated", False):
        return False
    roles = mfa_required_roles_of(user)
    return bool(roles) and any(grant.role in roles for grant in user_grants(user))


def has_totp(user: Any) -> bool:
    """Whether the user has an authenticator app set up (allauth.mfa's TOTP)."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

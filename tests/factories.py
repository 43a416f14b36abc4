"""factory_boy factories. Writes go through the services, as in production."""

from __future__ import annotations

import itertools
from typing import Any

from accounts.models import User
from accounts.services import user_ensure
from units import services
from units.models import AdministrativeUnit, Tenant

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_tenant(
    name: str = "Tỉnh Thử",
    slug: str | None = None,
    code: str = "",
    mfa_roles: list[str] | None = None,
) -> Tenant:
    """A tenant; two-factor sign-in is off unless ``mfa_roles`` lists roles
    (production's default for new tenants is on: tests/accounts/test_two_factor.py)."""
    n = next(_seq)
    tenant = services.tenant_create(name=name, slug=slug or f"t{n}", code=code or f"{n:02d}")
    Tenant.objects.filter(pk=tenant.pk).update(mfa_required_roles=mfa_roles or [])
    tenant.mfa_required_roles = mfa_roles or []
    return tenant


def make_unit(
    tenant: Tenant,
    parent: AdministrativeUnit | None,
    kind: str,
    name: str | None = None,
    code: str | None = None,
    **kwargs: Any,
) -> AdministrativeUnit:
    n = next(_seq)
    return services.unit_create(
        actor=None,
        tenant=tenant,
        parent=parent,
        kind=kind,
        name=name or f"Đơn vị {n}",
        code=code or f"C{n:06d}",
        **kwargs,
    )


def make_user(tenant: Tenant | None, username: str | None = None, **kwargs: Any) -> User:
    n = next(_seq)
    username = username or f"user{n}"
    return user_ensure(
        tenant=tenant,
        username=username,
        email=kwargs.pop("email", f"{username}@example.vn"),
        full_name=kwargs.pop("full_name", f"Người dùng {n}"),
        password=kwargs.pop("password", PASSWORD),
    )


def grant(user: User, unit: AdministrativeUnit, role: str) -> User:
    services.role_assign(actor=None, user=user, unit=unit, role=role)
    return user

"""Writes on users and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.exceptions import AccountError, DuplicateUserError, TokenError
from accounts.models import ApiToken, User
from core.audit import audit_record
from core.text import nfc
from units.models import AdministrativeUnit
from units.roles import ROLE_RANK
from units.selectors import highest_rank_at, is_admin_at, is_tenant_admin
from units.services import role_assign

TOKEN_PREFIX = "xhht"  # noqa: S105 — a public marker, not a secret


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def password_set_url(*, user: User, base_url: str) -> str:
    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )
    return base_url.rstrip("/") + path


@transaction.atomic
def user_invite(
    *,
    actor: Any,
    username: str,
    email: str,
    full_name: str,
    position: str = "",
    unit: AdministrativeUnit,
    role: str,
    base_url: str,
) -> User:
    """Create a user in the actor's tenant with a first role and e-mail a link
    to choose a password. All or nothing: a refused role leaves no user."""
    username, email = nfc(username).lower(), nfc(email).lower()
    if User.objects.filter(username__iexact=username).exists() or (
        email and User.objects.filter(email__iexact=email).exists()
    ):
        raise DuplicateUserError()
    user = User(
        username=username,
        email=email,
        full_name=nfc(full_name),
        position=nfc(position),
        tenant_id=unit.tenant_id,
    )
    user.set_unusable_password()
    user.save()
    role_assign(actor=actor, user=user, unit=unit, role=role)
    audit_record(
        actor=actor,
        action="user.invite",
        obj=user,
        tenant=unit.tenant,
        unit=unit,
        after={"username": username, "email": email, "role": role},
    )
    link = password_set_url(user=user, base_url=base_url)
    if email:
        from accounts.tasks import send_invitation_email

        transaction.on_commit(lambda: send_invitation_email.delay(user.pk, link))
    return user


@transaction.atomic
def invitation_email_send(*, user_id: int, link: str) -> bool:
    """Send the invitation e-mail unless it was already sent for this user.

    Idempotent: the audit event ``user.invitation_sent`` marks delivery, and the
    user's row is locked while it is checked, so neither a retried nor two
    concurrent copies of the task send it twice. Returns whether it sent.
    """
    from core.models import AuditEvent

    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None or not user.email:
        return False
    marker = {
        "object_type": "accounts.user",
        "object_id": str(user.public_id),
        "action": "user.invitation_sent",
    }
    if AuditEvent.objects.filter(**marker).exists():
        return False
    unit = user.role_assignments.select_related("unit").first()
    context = {"user": user, "link": link, "unit": unit.unit if unit else None}
    send_mail(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
        + render_to_string("accounts/email/invite_subject.txt", context).strip(),
        message=render_to_string("accounts/email/invite_message.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
    audit_record(actor=None, action="user.invitation_sent", obj=user, tenant=user.tenant)
    return True


def _may_manage(actor: Any, user: User) -> bool:
    """Whether ``actor`` administers ``user``: same tenant, and admin over every
    unit where ``user`` holds a role with a rank not above the actor's there (a
    district admin may not lock out the city admin). A user with no role yet is
    managed by any admin of the tenant."""
    if user.tenant_id is None or user.tenant_id != getattr(actor, "tenant_id", None):
        return False
    assignments = list(user.role_assignments.select_related("unit"))
    if not assignments:
        return is_tenant_admin(actor)
    return all(
        is_admin_at(actor, a.unit) and ROLE_RANK[a.role] <= highest_rank_at(actor, a.unit)
        for a in assignments
    )


@transaction.atomic
def user_set_active(*, actor: Any, user: User, active: bool) -> User:
    """Enable or disable an account (a disabled user can neither sign in nor use tokens)."""
    if user.pk == actor.pk:
        raise AccountError(_("You cannot disable your own account."), code="cannot_deactivate_self")
    if not _may_manage(actor, user):
        raise AccountError(
            _("You cannot change this account: the user holds roles outside your area."),
            code="cannot_manage_user",
        )
    before = {"is_active": user.is_active}
    User.objects.filter(pk=user.pk).update(is_active=active)
    user.is_active = active
    audit_record(
        actor=actor,
        action="user.set_active",
        obj=user,
        tenant=user.tenant,
        before=before,
        after={"is_active": active},
    )
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal token; the raw secret is returned once and never stored."""
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=nfc(name) or "API", prefix=prefix, key_hash=hash_token(raw)
    )
    audit_record(
        actor=user,
        action="api_token.create",
        obj=token,
        tenant=user.tenant,
        after={"name": token.name, "prefix": prefix},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, user: User, token: ApiToken) -> ApiToken:
    if token.user_id != user.pk:
        raise TokenError()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, action="api_token.revoke", obj=token, tenant=user.tenant)
    return token


def api_token_authenticate(raw: str) -> User | None:
    """The active user owning the raw token, or ``None``."""
    if not raw or not raw.startswith(f"{TOKEN_PREFIX}_"):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def user_ensure(
    *, tenant: Any, username: str, email: str, full_name: str, password: str, position: str = ""
) -> User:
    """Create or refresh a user with a known password (demo data, tests, commands)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username)
    user.email, user.full_name, user.position = email.lower(), nfc(full_name), nfc(position)
    user.tenant = tenant
    user.is_active = True
    user.set_password(password)
    user.save()
    return user

"""User and role management for tenant admins; API tokens for everyone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import security, services
from accounts.forms import ApiTokenForm, InviteForm, RoleAssignForm, TenantSecurityForm
from accounts.selectors import api_tokens_of, get_api_token_of
from core.exceptions import ApplicationError
from core.http import AuthedRequest
from units import services as unit_services
from units.roles import ADMIN_ROLES, ROLE_RANK
from units.selectors import (
    assignments_for_user,
    get_user_for_user,
    is_tenant_admin,
    parse_public_id,
    units_for_user,
    user_grants,
    users_for_user,
)


def _require_tenant_admin(request: AuthedRequest) -> None:
    if not is_tenant_admin(request.user):
        raise PermissionDenied


def _max_rank(request: AuthedRequest) -> int:
    """The highest role the actor holds; the form offers nothing above it."""
    return max((ROLE_RANK[g.role] for g in user_grants(request.user)), default=0)


@login_required
def user_list(request: AuthedRequest) -> HttpResponse:
    _require_tenant_admin(request)
    q = request.GET.get("q", "").strip()
    users = (
        users_for_user(request.user).prefetch_related("role_assignments__unit").order_by("username")
    )
    if q:
        users = users.filter(username__icontains=q) | users.filter(full_name__icontains=q)
    return render(
        request,
        "accounts/user_list.html",
        {
            "users": users[:500],
            "q": q,
            "can_manage_security": security.can_manage_tenant_security(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_invite(request: AuthedRequest) -> HttpResponse:
    _require_tenant_admin(request)
    admin_units = units_for_user(request.user, roles=ADMIN_ROLES)
    form = InviteForm(request.POST or None, units=admin_units, max_rank=_max_rank(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_invite(
                actor=request.user,
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                position=form.cleaned_data["position"],
                unit=form.cleaned_data["unit_code"],
                role=form.cleaned_data["role"],
                base_url=request.build_absolute_uri("/"),
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(name)s was invited; an e-mail with a link to set a password was sent.")
                % {"name": user.display_name},
            )
            return redirect("accounts:user-detail", public_id=user.public_id)
    return render(request, "accounts/user_invite.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def user_detail(request: AuthedRequest, public_id: str) -> HttpResponse:
    _require_tenant_admin(request)
    target = get_user_for_user(request.user, public_id)
    admin_units = units_for_user(request.user, roles=ADMIN_ROLES)
    form = RoleAssignForm(request.POST or None, units=admin_units, max_rank=_max_rank(request))
    if request.method == "POST" and form.is_valid():
        try:
            unit_services.role_assign(
                actor=request.user,
                user=target,
                unit=form.cleaned_data["unit_code"],
                role=form.cleaned_data["role"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Role assigned."))
            return redirect("accounts:user-detail", public_id=target.public_id)
    assignments = assignments_for_user(request.user).filter(user=target).order_by("unit__path")
    return render(
        request,
        "accounts/user_detail.html",
        {
            "target": target,
            "assignments": assignments,
            "form": form,
            "locked_out": security.user_is_locked_out(target),
        },
    )


@login_required
@require_POST
def user_unlock(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Lift a brute-force lock-out before its cool-off ends."""
    _require_tenant_admin(request)
    target = get_user_for_user(request.user, public_id)
    try:
        security.user_unlock(actor=request.user, user=target)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Sign-in unlocked."))
    return redirect("accounts:user-detail", public_id=target.public_id)


@login_required
@require_http_methods(["GET", "POST"])
def tenant_security(request: AuthedRequest) -> HttpResponse:
    """The tenant's sign-in policy: which roles must use two-factor sign-in."""
    tenant = request.user.tenant
    if tenant is None or not security.can_manage_tenant_security(request.user):
        raise PermissionDenied
    form = TenantSecurityForm(
        request.POST or None, initial={"mfa_required_roles": tenant.mfa_required_roles}
    )
    if request.method == "POST" and form.is_valid():
        try:
            security.tenant_set_mfa_roles(
                actor=request.user, tenant=tenant, roles=form.cleaned_data["mfa_required_roles"]
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Sign-in security saved."))
            return redirect("accounts:tenant-security")
    return render(request, "accounts/tenant_security.html", {"form": form, "tenant": tenant})


@login_required
@require_POST
def role_revoke(request: AuthedRequest, public_id: str) -> HttpResponse:
    _require_tenant_admin(request)
    assignment = (
        assignments_for_user(request.user).filter(public_id=parse_public_id(public_id)).first()
    )
    if assignment is None:
        raise Http404
    try:
        unit_services.role_revoke(actor=request.user, assignment=assignment)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Role withdrawn."))
    return redirect("accounts:user-detail", public_id=assignment.user.public_id)


@login_required
@require_POST
def user_toggle_active(request: AuthedRequest, public_id: str) -> HttpResponse:
    _require_tenant_admin(request)
    target = get_user_for_user(request.user, public_id)
    try:
        services.user_set_active(actor=request.user, user=target, active=not target.is_active)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("accounts:user-detail", public_id=target.public_id)


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: AuthedRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        _token, new_secret = services.api_token_create(
            user=request.user, name=form.cleaned_data["name"]
        )
        form = ApiTokenForm()
    return render(
        request,
        "accounts/token_list.html",
        {"tokens": api_tokens_of(request.user), "form": form, "new_secret": new_secret},
    )


@login_required
@require_POST
def token_revoke(request: AuthedRequest, public_id: str) -> HttpResponse:
    token = get_api_token_of(request.user, public_id)
    services.api_token_revoke(user=request.user, token=token)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:token-list")

"""Navigation by role for the base layout."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from units.roles import Role
from units.selectors import has_any_role, is_read_only, is_tenant_admin, user_grants


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        {"url": reverse("core:home"), "label": _("Overview"), "name": "home"},
        {"url": reverse("units:browser"), "label": _("Administrative units"), "name": "units"},
        {
            "url": reverse("recognition:criteria-list"),
            "label": _("Criteria sets"),
            "name": "criteria",
        },
        {
            "url": reverse("recognition:household-list"),
            "label": _("Subjects"),
            "name": "subjects",
        },
        {
            "url": reverse("recognition:registration-list"),
            "label": _("Registrations"),
            "name": "registrations",
        },
        {
            "url": reverse("recognition:assessment-list"),
            "label": _("Self-assessments"),
            "name": "assessments",
        },
    ]
    if has_any_role(user, {Role.WARD_OFFICIAL, Role.TENANT_ADMIN}):
        items.append(
            {"url": reverse("recognition:dossier-list"), "label": _("Dossiers"), "name": "dossiers"}
        )
    if has_any_role(user, {Role.REVIEWER, Role.TENANT_ADMIN}):
        items.append(
            {"url": reverse("recognition:review-queue"), "label": _("Review"), "name": "review"}
        )
    if is_tenant_admin(user):
        items.append(
            {"url": reverse("accounts:user-list"), "label": _("Users and roles"), "name": "users"}
        )
    items.append(
        {"url": reverse("accounts:token-list"), "label": _("API tokens"), "name": "tokens"}
    )
    return {
        "nav_items": items,
        "nav_read_only": is_read_only(user),
        "nav_roles": sorted({g.role for g in user_grants(user)}),
    }

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

    def item(url_name: str, label: Any, name: str) -> dict[str, Any]:
        return {"url": reverse(url_name), "label": label, "name": name}

    # Daily work first; reference lists and administration in one "Catalogues" menu.
    items = [
        item("core:home", _("Overview"), "home"),
        item("reports:dashboard", _("Dashboard"), "dashboard"),
        item("recognition:registration-list", _("Registration"), "registrations"),
        item("recognition:assessment-list", _("Self-assessments"), "assessments"),
    ]
    if has_any_role(user, {Role.WARD_OFFICIAL, Role.TENANT_ADMIN}):
        items.append(item("recognition:dossier-list", _("Dossiers"), "dossiers"))
    if has_any_role(user, {Role.REVIEWER, Role.TENANT_ADMIN}):
        items.append(item("recognition:review-queue", _("Review"), "review"))
        items.append(item("recognition:decision-list", _("Recognition decisions"), "decisions"))
    campaigns = [
        item("campaigns:plan-list", _("Plans"), "plans"),
        item("campaigns:calendar", _("Deadlines calendar"), "calendar"),
        item("campaigns:event-list", _("Events"), "events"),
        item("campaigns:nomination-list", _("Award nominations"), "nominations"),
    ]
    items.append({"label": _("Emulation campaigns"), "name": "campaigns", "children": campaigns})
    catalogues = [
        item("units:browser", _("Administrative units"), "units"),
        item("recognition:household-list", _("Subjects"), "subjects"),
        item("recognition:criteria-list", _("Criteria sets"), "criteria"),
    ]
    if not is_read_only(user) and user_grants(user):
        catalogues.append(item("spreadsheets:index", _("Import & export"), "spreadsheets"))
    if is_tenant_admin(user):
        catalogues += [
            item("recognition:review-chain-list", _("Review chains"), "review-chains"),
            item("accounts:user-list", _("Users and roles"), "users"),
            item("units:reorganisation-list", _("Reorganisations"), "reorganisations"),
            item(
                "recognition:personal-data-access-log",
                _("Personal data access log"),
                "personal-data-access-log",
            ),
        ]
    items.append({"label": _("Catalogues"), "name": "catalogues", "children": catalogues})
    return {
        "nav_items": items,
        "nav_read_only": is_read_only(user),
        "nav_roles": sorted({g.role for g in user_grants(user)}),
    }

"""Django admin: superusers' data repair only, never the officials' UI.

Units and role assignments are read-only here; they change through the
services (the UI, commands), which validate and audit.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from units.models import (
    AdministrativeUnit,
    Reorganisation,
    RoleAssignment,
    RoleReassignment,
    Tenant,
    TenantLevel,
    UnitSuccession,
)
from units.roles import Role


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TenantLevelInline(admin.TabularInline):
    model = TenantLevel
    extra = 0


class TenantAdminForm(forms.ModelForm):
    # Two-factor sign-in per tenant (issue 10 §1): tick boxes instead of raw JSON.
    mfa_required_roles = forms.MultipleChoiceField(
        label=Tenant._meta.get_field("mfa_required_roles").verbose_name,
        help_text=Tenant._meta.get_field("mfa_required_roles").help_text,
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Tenant
        fields = ("name", "slug", "code", "is_active", "mfa_required_roles")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    form = TenantAdminForm
    list_display = ("name", "slug", "code", "is_active")
    inlines = [TenantLevelInline]


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "kind", "level", "tenant", "valid_from", "valid_to")
    list_filter = ("tenant", "level")
    search_fields = ("name", "code")


@admin.register(UnitSuccession)
class UnitSuccessionAdmin(ReadOnlyAdmin):
    list_display = ("predecessor", "successor", "kind", "effective_on")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "unit", "tenant", "created_at")
    list_filter = ("tenant", "role")
    search_fields = ("user__username", "unit__name", "unit__code")


@admin.register(Reorganisation)
class ReorganisationAdmin(ReadOnlyAdmin):
    list_display = ("name", "tenant", "effective_on", "status", "applied_at")
    list_filter = ("tenant", "status")


@admin.register(RoleReassignment)
class RoleReassignmentAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "unit", "reason", "plan", "resolved_at")
    list_filter = ("tenant", "reason")

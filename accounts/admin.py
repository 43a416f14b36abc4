"""Django admin for users and tokens. The admin has no sign-in form of its own:
its login page sends to the site's (allauth: password, lock-out after repeated
failures, then the authenticator code), so it cannot be used to skip them."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "email", "tenant", "is_active")
    list_filter = ("tenant", "is_active", "is_superuser")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("XHHT", {"fields": ("tenant", "full_name", "position", "phone")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


# allauth's guard: signed out → the site's sign-in page; signed in without staff
# rights → 403; the admin's own password form is never shown.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

from django.contrib import admin

from core.models import AuditEvent
from units.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "object_type", "object_id", "actor", "tenant")
    list_filter = ("action", "tenant")
    search_fields = ("object_id", "actor__username")

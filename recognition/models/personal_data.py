"""The access log of personal data (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15, issue 10 §2).

One row each time someone views a person's detail (page or API), exports a list
that carries personal data, exports a person's data on request, or erases it;
retention runs log what they anonymised. The row names the subject by kind and
public id, never by name or ID number, so the log itself adds no personal data
and an erased person stays erased in it.

Append-only like the audit trail: the ORM refuses updates and deletions, and on
PostgreSQL a trigger (migration ``recognition.0008``) refuses them in raw SQL.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.append_only import AppendOnlyModel, AppendOnlyQuerySet


class AccessAction(models.TextChoices):
    VIEW_DETAIL = "view_detail", _("Viewed the detail")
    EXPORT_LIST = "export_list", _("Exported a list")
    EXPORT_PERSON = "export_person", _("Exported the person's data")
    ERASE = "erase", _("Erased the person's data")
    RETENTION = "retention", _("Anonymised after the retention period")


class PersonalDataAccess(AppendOnlyModel):
    """Who read or exported whose personal data, when, where and which fields."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
    )
    action = models.CharField(_("action"), max_length=16, choices=AccessAction.choices)
    #: The person (household or citizen); empty for a list export.
    subject_kind = models.CharField(max_length=16, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    #: Which fields were shown or exported (model field names).
    fields = models.JSONField(_("fields"), default=list, blank=True)
    #: Whether full citizen ID numbers were shown or exported.
    identifiers = models.BooleanField(_("full ID numbers"), default=False)
    #: Rows of a list export.
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    #: Free detail: the export's kind and filters, the erasure's request reference.
    detail = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="pd_access_tenant_time_idx"),
            models.Index(fields=["tenant", "subject_id"], name="pd_access_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.subject_kind}:{self.subject_id}"

"""An import of one spreadsheet: uploaded, validated into a preview, then confirmed and applied.

The uploaded file lives in the configured storage (S3 in production) under an
opaque name, so the confirm step works whichever process serves it; it is
deleted once the import is applied, cancelled or expired.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Checking")
    READY = "ready", _("Ready to import")
    INVALID = "invalid", _("Has errors")
    APPLYING = "applying", _("Importing")
    APPLIED = "applied", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


#: Statuses after which the uploaded file is no longer needed.
FINISHED_STATUSES = frozenset({ImportStatus.APPLIED, ImportStatus.CANCELLED, ImportStatus.EXPIRED})


def import_file_path(instance: ImportRun, filename: str) -> str:
    """Opaque storage name outside the web root; the user's file name is kept in the row."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"imports/{instance.tenant_id}/{instance.public_id.hex}/source.{suffix[:8]}"


def import_report_path(instance: ImportRun, filename: str) -> str:
    return f"imports/{instance.tenant_id}/{instance.public_id.hex}/{filename}"


class ImportRun(models.Model):
    """One uploaded file of one kind (households, units, …) into one unit's subtree."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    #: The scope: every row must fall inside this unit's subtree.
    unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unit"),
    )
    kind = models.CharField(_("data type"), max_length=32)
    #: Kind-specific choices made at upload (e.g. the year and title of registrations).
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    file = models.FileField(upload_to=import_file_path, max_length=300, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    file_size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    #: The importer's language: the job writes its messages in it.
    language = models.CharField(max_length=8, default="vi")
    #: {"total", "new", "changed", "unchanged", "error"} after validation (and after applying).
    counts = models.JSONField(default=dict, blank=True)
    #: The first errors ({"row", "column", "message"}), for the preview screen;
    #: all of them are in ``report``.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    #: Samples of new and changed rows for the preview ({"row", "status", "key", "changes"}).
    samples = models.JSONField(default=list, blank=True)
    #: A whole-file problem (wrong format, headers…), shown instead of row errors.
    message = models.TextField(_("message"), blank=True)
    report = models.FileField(upload_to=import_report_path, max_length=300, blank=True)
    validate_job = models.ForeignKey(
        "core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    apply_job = models.ForeignKey(
        "core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    validated_at = models.DateTimeField(_("checked"), null=True, blank=True)
    applied_at = models.DateTimeField(_("imported"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status", "created_at"], name="import_status_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.status})"

    @property
    def is_busy(self) -> bool:
        return self.status in (
            ImportStatus.UPLOADED,
            ImportStatus.VALIDATING,
            ImportStatus.APPLYING,
        )

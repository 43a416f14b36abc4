"""Reports of the programme: the yearly results report and the phase reviews.

Wiring (reports/models.py, owned by the rollups): add
    from reports.report_models import Report, ReportKind, ReportOrigin, ReportStatus  # noqa: F401, E402
then ``manage.py makemigrations reports``.

A report belongs to one unit and one year (a phase review: the phase's end
year). While it is a draft its narrative sections are edited and it is built
(statistics read from the rollups, the PDF in the state format and the XLSX);
finalised, it is immutable and listed under its plan.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    YEARLY = "yearly", _("Yearly results report")
    INTERIM = "so_ket", _("Interim review (sơ kết)")
    FINAL = "tong_ket", _("Final review (tổng kết)")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    FINALISED = "finalised", _("Finalised")


class ReportOrigin(models.TextChoices):
    MANUAL = "manual", _("Created by an official")
    SCHEDULE = "schedule", _("Scheduled from the campaign's milestones")


class ReportView(models.TextChoices):
    """Across an administrative reorganisation, as the dashboard's view switch
    (issue 9 §3): the units as they were in the report's year, or the past
    figures mapped onto the units in force today."""

    THEN = "then", _("As the units were then")
    MAPPED = "mapped", _("Mapped onto today's units")


def report_file_path(instance: Report, filename: str) -> str:
    return f"reports/{instance.tenant_id}/{instance.public_id.hex}/{filename}"


class Report(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unit"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ReportKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    plan = models.ForeignKey(
        "campaigns.Plan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan"),
    )
    phase = models.ForeignKey(
        "campaigns.Phase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("phase"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    origin = models.CharField(
        max_length=12, choices=ReportOrigin.choices, default=ReportOrigin.MANUAL
    )
    view = models.CharField(
        _("units"),
        max_length=8,
        choices=ReportView.choices,
        default=ReportView.THEN,
        help_text=_(
            "Across an administrative reorganisation: the units as they were in the "
            "report's year, or their figures added to the units in force today."
        ),
    )
    #: Narrative sections: ``[{"heading": str, "body": str}, …]``, in order.
    sections = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    #: The statistics of the last successful build (what the files show).
    figures = models.JSONField(default=dict, blank=True)
    #: ``version`` at the last successful build; finalising needs it current.
    built_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    built_at = models.DateTimeField(_("built"), null=True, blank=True)
    pdf = models.FileField(upload_to=report_file_path, max_length=300, blank=True)
    xlsx = models.FileField(upload_to=report_file_path, max_length=300, blank=True)
    finalised_at = models.DateTimeField(_("finalised"), null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-year", "unit__path", "kind", "-created_at"]
        constraints = [
            # One finalised report per unit, kind and year (a review: per phase).
            models.UniqueConstraint(
                fields=["unit", "year"],
                condition=Q(status="finalised", kind="yearly"),
                name="report_one_finalised_yearly",
            ),
            models.UniqueConstraint(
                fields=["unit", "kind", "year", "phase"],
                condition=Q(status="finalised", phase__isnull=False),
                name="report_one_finalised_review",
            ),
            # The beat creates each scheduled report once (idempotent).
            models.UniqueConstraint(
                fields=["unit", "year", "plan"],
                condition=Q(origin="schedule", kind="yearly"),
                name="report_one_scheduled_yearly",
            ),
            models.UniqueConstraint(
                fields=["unit", "kind", "phase"],
                condition=Q(origin="schedule", phase__isnull=False),
                name="report_one_scheduled_review",
            ),
            models.CheckConstraint(
                condition=Q(kind="yearly") | Q(phase__isnull=False), name="report_review_has_phase"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "year", "kind"], name="report_year_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year}"

    @property
    def is_draft(self) -> bool:
        return self.status == ReportStatus.DRAFT

    @property
    def is_built(self) -> bool:
        return bool(self.pdf) and self.built_version == self.version

    def section_list(self) -> list[dict[str, Any]]:
        return [s for s in self.sections if isinstance(s, dict)]

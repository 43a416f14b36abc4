"""Criteria sets as versioned data: set -> criteria -> indicators.

A published set is immutable; editing makes a new version (``previous``) and
every assessment keeps the version it was scored under. Sets with
``tenant=None`` are the shipped national ones, visible to every tenant; a
tenant adapts one by cloning it into its own tenant.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from recognition.titles import Title
from units.levels import Level


class ScoringMethod(models.TextChoices):
    POINTS = "points", _("Points")
    LEVELS = "levels", _("Levels")


class SetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class CriteriaSet(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(
        "units.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for the shipped national sets, shared by every tenant."),
    )
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    scope_level = models.CharField(
        _("subject level"), max_length=16, choices=Level.choices, blank=True
    )
    code = models.CharField(_("code"), max_length=64)
    version = models.PositiveIntegerField(_("version"), default=1)
    previous = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_versions"
    )
    name = models.CharField(_("name"), max_length=300)
    legal_basis = models.TextField(_("legal basis"), help_text=_("One citation per line."))
    source_note = models.TextField(
        _("source note"),
        blank=True,
        help_text=_("Where the content comes from and what is still missing."),
    )
    year_from = models.PositiveSmallIntegerField(_("applies from year"))
    year_to = models.PositiveSmallIntegerField(_("applies to year"), null=True, blank=True)
    method = models.CharField(_("scoring method"), max_length=8, choices=ScoringMethod.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=SetStatus.choices, default=SetStatus.DRAFT
    )
    needs_completion = models.BooleanField(
        _("needs completion"),
        default=False,
        help_text=_(
            "Parts of the official text were not found; an administrator must complete "
            "the set before it can be published."
        ),
    )
    # Points method
    max_total = models.DecimalField(
        _("maximum total"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    pass_thresholds = models.JSONField(
        _("pass thresholds by area class"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"normal": 80, "disadvantaged": 70}'),
    )
    min_indicator_points = models.DecimalField(
        _("minimum points of every indicator"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
    )
    grade_bands = models.JSONField(
        _("grade bands"),
        default=list,
        blank=True,
        help_text=_('Highest first, e.g. [{"code": "tot", "label": "Tốt", "min": 85}]'),
    )
    # Levels method
    levels = models.JSONField(
        _("levels"),
        default=list,
        blank=True,
        help_text=_(
            'e.g. [{"number": 1, "label": "Mức độ 1"}, {"number": 2, "label": "Mức độ 2"}]'
        ),
    )
    # Rules of the circulars (TT 24/2023, TT 25/2023 Điều 5 khoản 4)
    validity_years = models.PositiveSmallIntegerField(
        _("recognition kept for (years after the year recognised)"), null=True, blank=True
    )
    upgrade_after_months = models.PositiveSmallIntegerField(
        _("months before a higher level may be sought"), null=True, blank=True
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    edit_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("criteria set")
        verbose_name_plural = _("criteria sets")
        ordering = ["title", "scope_level", "code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code", "version"], name="criteriaset_unique_version"
            ),
            models.UniqueConstraint(
                fields=["code", "version"],
                condition=models.Q(tenant__isnull=True),
                name="criteriaset_unique_shipped_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def is_published(self) -> bool:
        return self.status == SetStatus.PUBLISHED


class Criterion(models.Model):
    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("order"))
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    max_points = models.DecimalField(
        _("maximum points"), max_digits=6, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["criteria_set", "order"]
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "order"], name="criterion_unique_order")
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.name}"


class Indicator(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="indicators")
    order = models.PositiveSmallIntegerField(_("order"))
    code = models.CharField(_("code"), max_length=32)
    text = models.TextField(_("text"))
    guidance = models.TextField(_("guidance and evidence"), blank=True)
    max_points = models.DecimalField(
        _("maximum points"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    min_points = models.DecimalField(
        _("minimum points"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Optional: below this the subject fails whatever its total."),
    )
    requirements = models.JSONField(
        _("requirement per level"),
        default=dict,
        blank=True,
        help_text=_('Levels method: {"1": "…", "2": "…"}'),
    )
    evidence_required = models.BooleanField(_("evidence required"), default=False)
    needs_completion = models.BooleanField(_("text not found yet"), default=False)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["criterion__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["criterion", "order"], name="indicator_unique_order")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text[:60]}"

"""The yearly cycle: registration -> assessment (with evidence) -> dossier -> review.

Status fields change only through the transition services
(``recognition/transitions.py`` holds the declarative map; STYLE.md §3).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recognition.models.config import AreaClass
from recognition.titles import SubjectKind, Title


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Registration(models.Model):
    """A subject registers for a title in a year ("Giấy đăng ký … năm …", RULES.md §4.2).

    ``unit`` is where the subject lives (its scope); ``proposing_unit`` is the
    ward/commune that will put it in a dossier.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.AdministrativeUnit", on_delete=models.PROTECT, related_name="+")
    proposing_unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposing unit"),
    )
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    subject_kind = models.CharField(max_length=16, choices=SubjectKind.choices)
    household = models.ForeignKey(
        "recognition.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
    )
    clan = models.ForeignKey(
        "recognition.Clan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
    )
    organisation = models.ForeignKey(
        "recognition.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
    )
    citizen = models.ForeignKey(
        "recognition.Citizen",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
    )
    subject_unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="community_registrations",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.REGISTERED,
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["-year", "title"]
        constraints = [
            models.CheckConstraint(
                name="registration_one_subject",
                condition=(
                    Q(
                        subject_kind="household",
                        household__isnull=False,
                        clan__isnull=True,
                        organisation__isnull=True,
                        citizen__isnull=True,
                        subject_unit__isnull=True,
                    )
                    | Q(
                        subject_kind="clan",
                        household__isnull=True,
                        clan__isnull=False,
                        organisation__isnull=True,
                        citizen__isnull=True,
                        subject_unit__isnull=True,
                    )
                    | Q(
                        subject_kind="organisation",
                        household__isnull=True,
                        clan__isnull=True,
                        organisation__isnull=False,
                        citizen__isnull=True,
                        subject_unit__isnull=True,
                    )
                    | Q(
                        subject_kind="citizen",
                        household__isnull=True,
                        clan__isnull=True,
                        organisation__isnull=True,
                        citizen__isnull=False,
                        subject_unit__isnull=True,
                    )
                    | Q(
                        subject_kind="unit",
                        household__isnull=True,
                        clan__isnull=True,
                        organisation__isnull=True,
                        citizen__isnull=True,
                        subject_unit__isnull=False,
                    )
                ),
            ),
            models.UniqueConstraint(
                fields=["household", "title", "year"],
                condition=Q(household__isnull=False),
                name="registration_unique_household",
            ),
            models.UniqueConstraint(
                fields=["clan", "title", "year"],
                condition=Q(clan__isnull=False),
                name="registration_unique_clan",
            ),
            models.UniqueConstraint(
                fields=["organisation", "title", "year"],
                condition=Q(organisation__isnull=False),
                name="registration_unique_organisation",
            ),
            models.UniqueConstraint(
                fields=["citizen", "title", "year"],
                condition=Q(citizen__isnull=False),
                name="registration_unique_citizen",
            ),
            models.UniqueConstraint(
                fields=["subject_unit", "title", "year"],
                condition=Q(subject_unit__isnull=False),
                name="registration_unique_unit",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "year", "title"], name="registration_year_idx"),
            models.Index(
                fields=["proposing_unit", "year", "title"], name="registration_proposer_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_title_display()} {self.year}: {self.subject}"

    @property
    def subject(self) -> object:
        from recognition.titles import SUBJECT_FIELD

        return getattr(self, SUBJECT_FIELD[self.subject_kind])


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("Being assessed")
    READY = "ready", _("Self-assessed")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for correction")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    RECOGNISED = "recognised", _("Recognised")


class Assessment(models.Model):
    """One subject's assessment for one title and year, scored under one set version."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.AdministrativeUnit", on_delete=models.PROTECT, related_name="+")
    registration = models.OneToOneField(
        Registration, on_delete=models.PROTECT, related_name="assessment"
    )
    criteria_set = models.ForeignKey(
        "recognition.CriteriaSet", on_delete=models.PROTECT, related_name="assessments"
    )
    area_class = models.CharField(
        _("area class"), max_length=16, choices=AreaClass.choices, default=AreaClass.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT
    )
    dossier = models.ForeignKey(
        "recognition.Dossier", on_delete=models.PROTECT, null=True, blank=True, related_name="items"
    )
    # Self-assessment result (computed by recognition.scoring from the scores)
    self_total = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    self_level = models.PositiveSmallIntegerField(null=True, blank=True)
    self_grade = models.CharField(max_length=32, blank=True)
    self_passed = models.BooleanField(null=True)
    # Reviewer's result
    final_total = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    final_level = models.PositiveSmallIntegerField(null=True, blank=True)
    final_grade = models.CharField(max_length=32, blank=True)
    final_passed = models.BooleanField(null=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "status"], name="assessment_status_idx"),
            models.Index(fields=["unit", "status"], name="assessment_unit_status_idx"),
        ]

    def __str__(self) -> str:
        return str(self.registration)


class IndicatorScore(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey(
        "recognition.Indicator", on_delete=models.PROTECT, related_name="+"
    )
    self_points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    self_level = models.PositiveSmallIntegerField(null=True, blank=True)
    review_points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    review_level = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("indicator score")
        verbose_name_plural = _("indicator scores")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "indicator"], name="score_unique")
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.self_points}"


def evidence_path(instance: Evidence, filename: str) -> str:
    """Stored under an opaque name, outside the web root; served by a scoped view."""
    return f"evidence/{instance.tenant_id}/{instance.public_id.hex}"


class Evidence(models.Model):
    """A file (minh chứng) supporting one indicator of an assessment."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="evidence")
    indicator = models.ForeignKey(
        "recognition.Indicator", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    file = models.FileField(upload_to=evidence_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class DossierStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for correction")
    APPROVED = "approved", _("Reviewed")


class Dossier(models.Model):
    """Hồ sơ đề nghị công nhận: one per proposing unit, title (and level) and year."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    proposing_unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposing unit"),
    )
    reviewing_unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewing unit"),
    )
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    scope_level = models.CharField(max_length=16, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(
        _("status"), max_length=12, choices=DossierStatus.choices, default=DossierStatus.DRAFT
    )
    return_reason = models.TextField(_("reason for return"), blank=True)
    submission_count = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-year", "proposing_unit__sort_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposing_unit", "title", "scope_level", "year"],
                name="dossier_unique_per_unit_title_year",
            )
        ]
        indexes = [
            models.Index(fields=["reviewing_unit", "status"], name="dossier_reviewer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_title_display()} {self.year} — {self.proposing_unit}"


class DossierSubmission(models.Model):
    """What was submitted each time, so a resubmission shows what changed."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="submissions")
    number = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["dossier", "number"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "number"], name="submission_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.dossier} #{self.number}"

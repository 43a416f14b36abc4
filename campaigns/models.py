"""Emulation campaigns (phong trào thi đua) and their plans (kế hoạch).

The city issues a plan; each district issues its own plan implementing it
(Quận 11's 102/KH-UBND implements the city's 734/KH-UBND, seed 002), and the
wards follow. A plan runs over phases with an interim review (sơ kết) and a
final review (tổng kết), sets targets (chỉ tiêu) per title, year and unit, fixes
deadlines, holds events (the lifelong-learning week, 1–7 October, RULES.md §5)
and collects award nominations (khen thưởng, QĐ 1315/QĐ-TTg forms).

A plan derived from its parent inherits phases, targets and deadlines; it may
tighten them (a higher rate, an earlier date) but never loosen them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recognition.titles import Title


class Plan(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    issuing_unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issuing unit"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("implements the plan"),
    )
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    symbol = models.CharField(_("symbol"), max_length=32, default="KH-UBND")
    issued_on = models.DateField(_("date"), null=True, blank=True)
    place_name = models.CharField(_("place name"), max_length=100, blank=True)
    agency = models.CharField(_("issuing agency"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=500)
    start_year = models.PositiveSmallIntegerField(_("from year"))
    end_year = models.PositiveSmallIntegerField(_("to year"))
    legal_bases = models.TextField(_("legal bases"), blank=True)
    signer_title = models.CharField(_("signer's position"), max_length=200, blank=True)
    signer_name = models.CharField(_("signer's name"), max_length=200, blank=True)
    recipients = models.TextField(_("recipients"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-start_year", "issuing_unit__path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=models.F("start_year")), name="plan_period"
            ),
            models.UniqueConstraint(
                fields=["issuing_unit", "parent"],
                condition=Q(parent__isnull=False),
                name="plan_one_child_per_unit_and_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}".strip()

    @property
    def reference(self) -> str:
        """ "102/KH-UBND" (a number below 10 gets a leading zero, RULES.md §6.2)."""
        return f"{self.number:02d}/{self.symbol}" if self.number else ""


class PlanSection(models.Model):
    """A part of the plan's text (I. MỤC ĐÍCH, YÊU CẦU; II. CHỈ TIÊU; …)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField(default=0)
    heading = models.CharField(_("heading"), max_length=300)
    body = models.TextField(_("text"), blank=True)

    class Meta:
        ordering = ["plan", "position", "id"]

    def __str__(self) -> str:
        return self.heading


class ReviewKind(models.TextChoices):
    INTERIM = "so_ket", _("Interim review (sơ kết)")
    FINAL = "tong_ket", _("Final review (tổng kết)")


class Phase(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(_("name"), max_length=200)
    start_year = models.PositiveSmallIntegerField(_("from year"))
    end_year = models.PositiveSmallIntegerField(_("to year"))
    review_kind = models.CharField(_("review"), max_length=12, choices=ReviewKind.choices)
    review_due = models.DateField(_("review by"))
    #: The parent plan's phase this one derives from (tightening is checked against it).
    source = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["plan", "start_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=models.F("start_year")), name="phase_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_year}–{self.end_year})"


class TargetKind(models.TextChoices):
    RATE = "rate", _("Share of subjects (%)")
    COUNT = "count", _("Number of subjects")


class Target(models.Model):
    """Chỉ tiêu: e.g. 70% of households are "Gia đình học tập" by 2025 (QĐ 387/QĐ-TTg,
    RULES.md §5). ``unit`` is the unit it applies to (the plan's own unit, or a
    unit below it for a per-unit override)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    unit = models.ForeignKey("units.AdministrativeUnit", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("kind"), max_length=8, choices=TargetKind.choices)
    value = models.DecimalField(_("value"), max_digits=9, decimal_places=2)
    source = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["plan", "year", "title"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "unit", "title", "year"], name="target_unique"),
            models.CheckConstraint(
                condition=Q(value__gte=0) & (Q(kind="count") | Q(value__lte=100)),
                name="target_value_range",
            ),
        ]

    def __str__(self) -> str:
        suffix = "%" if self.kind == TargetKind.RATE else ""
        return f"{self.get_title_display()} {self.year}: {self.value}{suffix}"


class DeadlineKind(models.TextChoices):
    """What must be done by the date; the first four lock the matching forms."""

    REGISTRATION = "registration", _("Registration closes")
    ASSESSMENT = "assessment", _("Self-assessment deadline")
    DOSSIER = "dossier", _("Dossier deadline")
    DECISION = "decision", _("Recognition decisions by")
    REPORT = "report", _("Report deadline")


#: Deadline kinds that close a stage of the recognition cycle (FormLock stages).
LOCKING_KINDS: dict[str, str] = {
    DeadlineKind.REGISTRATION: "registration",
    DeadlineKind.ASSESSMENT: "assessment",
    DeadlineKind.DOSSIER: "dossier",
}


class Deadline(models.Model):
    """A date by which units at ``level`` under the plan's unit must act.

    E.g. wards report by 1 November and the district consolidates by 10
    November (seed 002); commune Cộng đồng học tập dossiers by 28 February and
    decisions by 31 March (RULES.md §2.5).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(_("kind"), max_length=16, choices=DeadlineKind.choices)
    title = models.CharField(_("title"), max_length=16, choices=Title.choices, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(
        _("units that must act"),
        max_length=16,
        help_text=_("The level of the units the deadline applies to, e.g. ward level."),
    )
    due_on = models.DateField(_("due on"))
    label = models.CharField(_("description"), max_length=300, blank=True)
    remind_days = models.PositiveSmallIntegerField(
        _("remind days before"), default=7, help_text=_("0: no reminder.")
    )
    source = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derived"
    )
    form_lock = models.OneToOneField(
        "recognition.FormLock",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deadline",
    )

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["due_on", "kind"]
        indexes = [models.Index(fields=["due_on"], name="deadline_due_idx")]

    def __str__(self) -> str:
        return self.label or f"{self.get_kind_display()} {self.due_on:%d/%m/%Y}"


class Reminder(models.Model):
    """One reminder sent for one deadline to one unit (idempotency: unique).

    ``kind`` is "before" (N days before the deadline) or a digest key such as
    "digest:2026-10-30".
    """

    deadline = models.ForeignKey(
        Deadline, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    unit = models.ForeignKey("units.AdministrativeUnit", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32)
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deadline", "unit", "kind"],
                condition=Q(deadline__isnull=False),
                name="reminder_once_per_deadline_unit",
            ),
            models.UniqueConstraint(
                fields=["user", "kind"],
                condition=Q(user__isnull=False),
                name="reminder_digest_once_per_user_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.unit_id}"


class EventKind(models.TextChoices):
    LIFELONG_WEEK = "lifelong_week", _("Lifelong-learning week")
    INTERIM_REVIEW = "so_ket", _("Interim review conference (sơ kết)")
    FINAL_REVIEW = "tong_ket", _("Final review conference (tổng kết)")
    OTHER = "other", _("Other event")


class Event(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organised by"),
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    name = models.CharField(_("name"), max_length=300)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    theme = models.CharField(_("theme"), max_length=300, blank=True)
    reports_due = models.DateField(_("reports due"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="event_dates"
            )
        ]

    def __str__(self) -> str:
        return self.name


class EventReport(models.Model):
    """What one unit held for an event (activities, participants, photos)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="reports")
    unit = models.ForeignKey("units.AdministrativeUnit", on_delete=models.PROTECT, related_name="+")
    activities = models.TextField(_("activities held"))
    participants = models.PositiveIntegerField(_("participants"), default=0)
    sessions = models.PositiveIntegerField(_("number of activities"), default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("event report")
        verbose_name_plural = _("event reports")
        constraints = [
            models.UniqueConstraint(fields=["event", "unit"], name="event_report_once_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.event} — {self.unit_id}"


def event_photo_path(instance: EventPhoto, filename: str) -> str:
    """Opaque name outside the web root; served by a scoped view."""
    return f"events/{instance.report.event.tenant_id}/{instance.public_id.hex}"


class EventPhoto(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(EventReport, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=event_photo_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class AwardForm(models.TextChoices):
    """Reward forms of the movement (QĐ 1315/QĐ-TTg, RULES.md §5; Quận 11 plan)."""

    PM_MERIT = "bk_ttg", _("Certificate of merit of the Prime Minister")
    PROVINCE_MERIT = "bk_tinh", _("Certificate of merit of the provincial People's Committee")
    DISTRICT_COMMENDATION = "gk_huyen", _("Commendation of the district People's Committee")
    COMMUNE_COMMENDATION = "gk_xa", _("Commendation of the commune People's Committee")


class NomineeKind(models.TextChoices):
    UNIT = "unit", _("Administrative unit")
    ORGANISATION = "organisation", _("Organisation")
    HOUSEHOLD = "household", _("Household")
    PERSON = "person", _("Person")


class NominationStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    REVIEWED = "reviewed", _("Reviewed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    AWARDED = "awarded", _("Awarded")


class Nomination(models.Model):
    """A proposal to award a collective or a person (đề nghị khen thưởng)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="nominations"
    )
    nominating_unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("nominated by"),
    )
    reviewing_unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    nominee_kind = models.CharField(_("nominee"), max_length=16, choices=NomineeKind.choices)
    nominee_unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    organisation = models.ForeignKey(
        "recognition.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    household = models.ForeignKey(
        "recognition.Household", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person_name = models.CharField(_("full name"), max_length=200, blank=True)
    person_position = models.CharField(_("position and workplace"), max_length=300, blank=True)
    award_form = models.CharField(_("proposed award"), max_length=16, choices=AwardForm.choices)
    achievements = models.TextField(_("achievements"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=NominationStatus.choices,
        default=NominationStatus.PROPOSED,
    )
    review_note = models.TextField(_("review note"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["-year", "-created_at"]
        indexes = [models.Index(fields=["reviewing_unit", "status"], name="nomination_review_idx")]

    def __str__(self) -> str:
        return f"{self.nominee_name} — {self.get_award_form_display()}"

    @property
    def nominee_name(self) -> str:
        if self.nominee_kind == NomineeKind.UNIT and self.nominee_unit_id:
            return self.nominee_unit.name  # type: ignore[union-attr]
        if self.nominee_kind == NomineeKind.ORGANISATION and self.organisation_id:
            return self.organisation.name  # type: ignore[union-attr]
        if self.nominee_kind == NomineeKind.HOUSEHOLD and self.household_id:
            return f"Hộ {self.household.head_name}"  # type: ignore[union-attr]
        return self.person_name

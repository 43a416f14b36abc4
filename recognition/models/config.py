"""Per-tenant configuration of who proposes, reviews and recognises each title.

Who signs family, clan and neighbourhood recognitions is organised by each
province (RULES.md §4.2, NOT FOUND nationally), and the 2025 reform removed the
district tier that reviewed commune dossiers (RULES.md §8, UNCERTAIN). So the
chain is data per tenant, title, scope and period, never code.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recognition.titles import Title
from units.levels import Level


class AreaClass(models.TextChoices):
    """QĐ 244/QĐ-KHVN: 80 points, or 70 in remote, especially disadvantaged and
    ethnic-minority areas (RULES.md §4.4)."""

    NORMAL = "normal", _("Normal area")
    DISADVANTAGED = "disadvantaged", _("Disadvantaged area")


class ReviewChain(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    scope_level = models.CharField(
        _("subject level"),
        max_length=16,
        choices=Level.choices,
        blank=True,
        help_text=_("For community titles: the level of the community (e.g. commune)."),
    )
    valid_from = models.DateField(_("valid from"), default=dt.date(1900, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    proposer_level = models.CharField(
        _("proposed by (level)"), max_length=16, choices=Level.choices
    )
    reviewer_level = models.CharField(
        _("reviewed by (level)"), max_length=16, choices=Level.choices
    )
    recogniser_level = models.CharField(
        _("recognised by (level)"), max_length=16, choices=Level.choices
    )
    recogniser_label = models.CharField(
        _("recognising authority"),
        max_length=200,
        help_text=_("As written in decisions, e.g. “Chủ tịch UBND phường”."),
    )
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("review chain")
        verbose_name_plural = _("review chains")
        ordering = ["tenant", "title", "scope_level", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="reviewchain_valid_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_title_display()} {self.scope_level}: {self.recogniser_label}"


class Stage(models.TextChoices):
    REGISTRATION = "registration", _("Registration")
    ASSESSMENT = "assessment", _("Self-assessment")
    DOSSIER = "dossier", _("Dossier submission")


class FormLock(models.Model):
    """After ``locks_at`` the forms of ``stage`` lock for the units under ``unit``.

    The campaign deadlines (e.g. commune CĐHT dossiers by 28 February, RULES.md
    §2.5) create these; a reviewer may extend one unit with a reason.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The lock applies to this unit and every unit under it."),
    )
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    locks_at = models.DateTimeField(_("locks at"))
    label = models.CharField(_("deadline"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("form lock")
        verbose_name_plural = _("form locks")
        indexes = [models.Index(fields=["tenant", "title", "year", "stage"], name="formlock_idx")]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.title} {self.year} @ {self.locks_at:%d/%m/%Y}"


class LockExtension(models.Model):
    lock = models.ForeignKey(FormLock, on_delete=models.CASCADE, related_name="extensions")
    unit = models.ForeignKey("units.AdministrativeUnit", on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField(_("extended until"))
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")

    def __str__(self) -> str:
        return f"{self.unit} → {self.until:%d/%m/%Y}"

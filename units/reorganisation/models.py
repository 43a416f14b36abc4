"""Reorganisation plans: dated merges, splits, renames, re-codes and moves of units.

Imported at the bottom of ``units/models.py`` so their migrations live in the
``units`` app. A plan never edits a unit in place: applying it closes the old
rows and creates successor rows linked by :class:`units.models.UnitSuccession`
(see :mod:`units.reorganisation`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from units.levels import Level
from units.models import AdministrativeUnit, RoleAssignment, Tenant


class ReorganisationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPLIED = "applied", _("Applied")
    CANCELLED = "cancelled", _("Cancelled")


class ReorganisationSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    IMPORT = "import", _("Imported mapping")


@dataclass(frozen=True)
class PlanTransition:
    sources: frozenset[str]
    target: str


#: The only status changes of a plan (STYLE.md §3).
REORGANISATION_TRANSITIONS: dict[str, PlanTransition] = {
    "apply": PlanTransition(frozenset({ReorganisationStatus.DRAFT}), ReorganisationStatus.APPLIED),
    "cancel": PlanTransition(
        frozenset({ReorganisationStatus.DRAFT}), ReorganisationStatus.CANCELLED
    ),
}


class Reorganisation(models.Model):
    """A plan of unit changes that all take effect on ``effective_on``."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="reorganisations")
    name = models.CharField(_("name"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    effective_on = models.DateField(_("effective on"))
    abolish_level = models.CharField(
        _("level abolished"),
        max_length=16,
        choices=Level.choices,
        blank=True,
        help_text=_(
            "A level that ends the day before the plan takes effect (e.g. the district "
            "level on 1 July 2025): every unit of that level must be closed by the plan."
        ),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ReorganisationStatus.choices,
        default=ReorganisationStatus.DRAFT,
    )
    source = models.CharField(
        _("source"),
        max_length=12,
        choices=ReorganisationSource.choices,
        default=ReorganisationSource.MANUAL,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    #: What apply did: counts of units closed/created, subjects and registrations
    #: moved, role assignments moved or flagged (see ``reorganisation_apply``).
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("reorganisation plan")
        verbose_name_plural = _("reorganisation plans")
        ordering = ["-effective_on", "-created_at"]
        indexes = [models.Index(fields=["tenant", "status"], name="reorg_tenant_status_idx")]

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    MERGE = "merge", _("Merge")
    SPLIT = "split", _("Split")
    RENAME = "rename", _("Rename")
    RECODE = "recode", _("Re-code")
    MOVE = "move", _("Move")


class ReorganisationStep(models.Model):
    """One operation of a plan.

    ``sources`` is the list of the primary keys of the units it closes (merge:
    several, every other kind: one). ``targets`` is the list of the units it
    creates, each ``{"code", "name", "kind", "parent", "neighbourhoods",
    "default"}``: ``parent`` is the primary key of a unit in force that the plan
    does not close, the code of another target of the same plan, or ``None``
    (the source's parent, or that parent's successor); for a split,
    ``neighbourhoods`` lists the source's children going to that target and the
    one ``default`` target receives the source's own subjects and every child
    not listed.
    """

    plan = models.ForeignKey(Reorganisation, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    kind = models.CharField(_("kind"), max_length=12, choices=StepKind.choices)
    sources = models.JSONField(default=list)
    targets = models.JSONField(default=list)

    class Meta:
        verbose_name = _("reorganisation step")
        verbose_name_plural = _("reorganisation steps")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="reorg_step_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} #{self.position} {self.kind}"


class ReorganisationMapping(models.Model):
    """Where an applied plan sent each unit it closed: the successor that took its
    subjects and open registrations (for a split, the default target; for a unit
    of an abolished level, its parent's successor). Written by apply, read by the
    "mapped onto today's units" reports."""

    plan = models.ForeignKey(Reorganisation, on_delete=models.CASCADE, related_name="mappings")
    old_unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    new_unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    #: The new unit continues the old one alone (rename, re-code, move, copy of a
    #: neighbourhood), so registrations of the old unit itself may follow it.
    exclusive = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("unit mapping")
        verbose_name_plural = _("unit mappings")
        constraints = [
            models.UniqueConstraint(fields=["plan", "old_unit"], name="reorg_mapping_unique_old")
        ]
        indexes = [models.Index(fields=["old_unit"], name="reorg_mapping_old_idx")]

    def __str__(self) -> str:
        return f"{self.old_unit_id} → {self.new_unit_id}"


class ReassignmentReason(models.TextChoices):
    SPLIT = "split", _("The unit was split into several units")
    ABOLISHED = "abolished", _("The unit's level was abolished")


class RoleReassignment(models.Model):
    """A role assignment on a unit a plan closed that could not follow one
    successor (split, abolished level): kept as it was and listed for the
    administrator to reassign, never silently lost."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Reorganisation, on_delete=models.CASCADE, related_name="reassignments")
    assignment = models.ForeignKey(
        RoleAssignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: Copied so the row still says whose role it was once it is resolved.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("role"), max_length=32)
    unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=16, choices=ReassignmentReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("role to reassign")
        verbose_name_plural = _("roles to reassign")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["tenant", "resolved_at"], name="reorg_reassign_open_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} @ {self.unit_id}"

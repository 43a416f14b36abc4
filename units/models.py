"""Tenants, the administrative-unit tree and role assignments.

The tree is a materialised path: ``path`` is the concatenation of fixed-width
segments, one per ancestor and the unit itself, so a subtree is a single
indexed ``path LIKE 'prefix%'`` query at any depth (ARCHITECTURE.md, Units).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from units.levels import KIND_PREFIX, Kind, Level
from units.roles import Role

PATH_SEGMENT_WIDTH = 8


def path_segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT_WIDTH}x}"


def path_ids(path: str) -> list[int]:
    """The primary keys along ``path``, root first."""
    width = PATH_SEGMENT_WIDTH
    return [int(path[i : i + width], 16) for i in range(0, len(path), width)]


def default_mfa_roles() -> list[str]:
    """Roles that must sign in with two factors in a new tenant (issue 10 §1):
    reviewers and administrators, who approve recognitions and manage users."""
    return [Role.REVIEWER.value, Role.TENANT_ADMIN.value]


class Tenant(models.Model):
    """One province-level organisation (e.g. TP Hồ Chí Minh)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    code = models.CharField(_("province code"), max_length=8, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    mfa_required_roles = models.JSONField(
        _("roles that must use two-factor sign-in"),
        default=default_mfa_roles,
        blank=True,
        help_text=_(
            "Users holding one of these roles in the tenant must set up an authenticator "
            "app and enter its code at every sign-in. Empty: two-factor sign-in is optional."
        ),
    )

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantLevel(models.Model):
    """A level in use by a tenant over a period.

    A tenant may run province -> district -> commune -> neighbourhood until
    30/06/2025 and province -> commune -> neighbourhood from 01/07/2025
    (RULES.md §7.1–7.2, §8): the district row then carries ``valid_to``.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="levels")
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    label = models.CharField(_("label"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"), default=dt.date(1900, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("level in use")
        verbose_name_plural = _("levels in use")
        ordering = ["tenant", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="tenantlevel_valid_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant}: {self.get_level_display()}"

    def covers(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


class AdministrativeUnit(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="units")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    path = models.CharField(max_length=255, db_index=False, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    search_name = models.CharField(max_length=200, editable=False, default="")
    sort_name = models.CharField(max_length=250, editable=False, default="")
    code = models.CharField(_("official code"), max_length=32)
    valid_from = models.DateField(_("valid from"), default=dt.date(1900, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_disadvantaged = models.BooleanField(
        _("disadvantaged area"),
        default=False,
        help_text=_(
            "Remote, especially disadvantaged or ethnic-minority area: lower pass "
            "thresholds apply to its subjects (QĐ 244/QĐ-KHVN)."
        ),
    )
    successors = models.ManyToManyField(
        "self",
        through="UnitSuccession",
        through_fields=("predecessor", "successor"),
        symmetrical=False,
        related_name="predecessors",
        blank=True,
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["path"]
        indexes = [
            models.Index(
                fields=["tenant", "path"],
                name="unit_tenant_path_idx",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["tenant", "code"], name="unit_tenant_code_idx"),
            models.Index(fields=["tenant", "search_name"], name="unit_tenant_search_idx"),
            models.Index(fields=["parent", "sort_name"], name="unit_parent_sort_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="unit_valid_period",
            ),
            models.UniqueConstraint(fields=["tenant", "path"], name="unit_unique_path"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("units:detail", kwargs={"public_id": self.public_id})

    @property
    def kind_prefix(self) -> str:
        return KIND_PREFIX.get(self.kind, "")

    def is_valid_on(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    @property
    def is_current(self) -> bool:
        from django.utils import timezone

        return self.is_valid_on(timezone.localdate())

    def ancestor_ids(self) -> list[int]:
        """Primary keys of the ancestors, root first (self excluded)."""
        return path_ids(self.path)[:-1]


class UnitSuccession(models.Model):
    """A lineage link: ``predecessor`` continues as ``successor`` from ``effective_on``.

    Written by the reorganisation operations (merge, split, re-level); kept so
    that recognitions stay attached to the unit they were made under.
    """

    class Kind(models.TextChoices):
        MERGE = "merge", _("Merge")
        SPLIT = "split", _("Split")
        RENAME = "rename", _("Rename")
        RECODE = "recode", _("Re-code")
        MOVE = "move", _("Move")

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    predecessor = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="succession_out"
    )
    successor = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="succession_in"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    effective_on = models.DateField(_("effective on"))
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("succession")
        verbose_name_plural = _("successions")
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor"], name="unit_succession_unique"
            ),
            models.CheckConstraint(
                condition=~Q(predecessor=models.F("successor")), name="unit_succession_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor}"


class RoleAssignment(models.Model):
    """``user`` holds ``role`` over ``unit`` and its whole subtree."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    unit = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="role_assignments",
        verbose_name=_("unit"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="role_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.unit}"


# The reorganisation plans live in their own package; imported here so that
# their migrations stay in the units app.
from units.reorganisation.models import (  # noqa: E402, F401
    Reorganisation,
    ReorganisationMapping,
    ReorganisationStep,
    RoleReassignment,
)

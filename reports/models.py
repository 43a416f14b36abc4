"""Rollups: the pre-aggregated counters every dashboard and report reads."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from recognition.titles import Title

# The periodic reports (yearly, sơ kết, tổng kết) live in their own module.
from reports.report_models import Report, ReportKind, ReportOrigin, ReportStatus  # noqa: F401


class Rollup(models.Model):
    """One row per unit × year × title (× scope level for "Cộng đồng học tập").

    A row counts everything in the unit's subtree: rows exist for the subject's
    own unit and for every ancestor, so a dashboard reads a unit's children
    rows directly. ``scope_level`` is blank except for the community title,
    where it is the level of the registered unit (neighbourhood, commune …).

    - ``registered``: registrations whose status is "registered";
    - ``assessed``: assessments whose status is not "draft";
    - ``approved``: assessments "approved" or "recognised";
    - ``recognised``: assessments "recognised";
    - ``eligible_base``: active subjects of the title's kind in the subtree
      (households for gia_dinh, clans for dong_ho, organisations for don_vi,
      citizens for cong_dan); for cong_dong the number of current units of the
      scope level in the subtree. Year-independent: the same value in every
      year's row.

    Kept current in the same transaction by ``reports.services`` (hooked into
    the registration, subject and transition services) and rebuilt from
    scratch by ``manage.py rebuild_rollups``.
    """

    tenant = models.ForeignKey("units.Tenant", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(
        "units.AdministrativeUnit", on_delete=models.CASCADE, related_name="rollups"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    scope_level = models.CharField(max_length=16, blank=True, default="")
    registered = models.PositiveIntegerField(default=0)
    assessed = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    recognised = models.PositiveIntegerField(default=0)
    eligible_base = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rollup")
        verbose_name_plural = _("rollups")
        ordering = ["unit", "year", "title", "scope_level"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year", "title", "scope_level"], name="rollup_unique_key"
            )
        ]
        indexes = [models.Index(fields=["tenant", "year", "title"], name="rollup_year_title_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.year} {self.title} {self.scope_level}".strip()


class FrozenBase(models.Model):
    """The eligible base of a unit on the day a reorganisation closed it.

    ``Rollup.eligible_base`` counts today's subjects, and a reorganisation moves
    a closed unit's households, clans, organisations and citizens to its
    successors, so counted today a closed ward would have no base at all and
    its past years would show no rate "as the units were then". Before it moves
    anything, ``reorganisation_apply`` keeps each closed unit's base here (one
    row per title and scope level it had rows for), and the rollup rebuild and
    the rollup hooks use it for that unit instead of a count of today's subjects
    (issue 9 §3: a year reads as the units were then).
    """

    tenant = models.ForeignKey("units.Tenant", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(
        "units.AdministrativeUnit", on_delete=models.CASCADE, related_name="frozen_bases"
    )
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    scope_level = models.CharField(max_length=16, blank=True, default="")
    eligible_base = models.PositiveBigIntegerField(default=0)
    frozen_on = models.DateField(_("closed on"))

    class Meta:
        verbose_name = _("eligible base at closing")
        verbose_name_plural = _("eligible bases at closing")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "title", "scope_level"], name="frozen_base_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.title} {self.scope_level} {self.eligible_base}".strip()

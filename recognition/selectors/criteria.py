"""Reads on criteria sets."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from recognition.models import CriteriaSet, SetStatus
from units.models import Tenant


def criteria_set_for(
    *, tenant: Tenant, title: str, scope_level: str, year: int
) -> CriteriaSet | None:
    """The published set an assessment of ``title`` in ``year`` is scored under.

    The tenant's own published set (a province's adaptation) wins over the
    shipped national one; the newest version wins among equals.
    """
    candidates: QuerySet[CriteriaSet] = CriteriaSet.objects.filter(
        Q(tenant=tenant) | Q(tenant__isnull=True),
        title=title,
        scope_level=scope_level,
        status=SetStatus.PUBLISHED,
        year_from__lte=year,
    ).filter(Q(year_to__isnull=True) | Q(year_to__gte=year))
    own = candidates.filter(tenant=tenant).order_by("-version", "-published_at").first()
    return own or candidates.filter(tenant__isnull=True).order_by("-version").first()

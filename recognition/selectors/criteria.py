"""Reads on criteria sets.

A user sees the shipped national sets (``tenant=None``) and the sets of their
own tenant; another tenant's set answers 404 (ARCHITECTURE.md, Tenancy).
Criteria sets belong to the whole tenant, not to a subtree: only a tenant
administrator at the tenant's root may change them, everyone else reads.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from core.models import AuditEvent
from core.text import fold
from recognition.models import Assessment, CriteriaSet, Criterion, Indicator, SetStatus
from units.models import PATH_SEGMENT_WIDTH, Tenant
from units.roles import ADMIN_ROLES
from units.selectors import parse_public_id, user_grants


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


# --- Rules of the circulars, read from the set ---------------------------------------


def recognition_kept_through(criteria_set: CriteriaSet, year_recognised: int) -> int | None:
    """The last year a recognition is kept: TT 25/2023 Điều 5 khoản 4, "bảo lưu
    trong thời hạn 3 năm (36 tháng) tiếp theo năm được công nhận" — recognised
    in 2024, kept through 2027 (RULES.md §2.2). ``None`` when the set says nothing."""
    if criteria_set.validity_years is None:
        return None
    return year_recognised + criteria_set.validity_years


def higher_level_allowed_from(criteria_set: CriteriaSet, decided_on: dt.date) -> dt.date | None:
    """The first day a higher level may be sought: "sau ít nhất 1 năm (12 tháng)
    kể từ ngày ra quyết định công nhận" (RULES.md §2.2). A day missing from the
    target month (29/02, 31/…) falls back to the month's last day."""
    months = criteria_set.upgrade_after_months
    if months is None:
        return None
    index = decided_on.month - 1 + months
    year, month = decided_on.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(decided_on.day, calendar.monthrange(year, month)[1]))


def assessment_period(year: int) -> tuple[dt.date, dt.date]:
    """The self-assessment covers 01/01 to 31/12 of the year assessed (TTHC
    1.005097, RULES.md §2.5)."""
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


# --- Who may do what ---------------------------------------------------------------


def can_manage_criteria(user: Any) -> bool:
    """A tenant administrator at the root of the tenant's tree (a district's
    administrator manages its units and users, not the province's criteria)."""
    return any(
        g.role in ADMIN_ROLES and len(g.path) == PATH_SEGMENT_WIDTH for g in user_grants(user)
    )


def require_criteria_admin(user: Any) -> None:
    """403 for everyone but the tenant's root administrators."""
    if not can_manage_criteria(user):
        raise PermissionDenied


# --- Visibility ------------------------------------------------------------------------


def criteria_sets_for_user(user: Any) -> QuerySet[CriteriaSet]:
    """The shipped sets and the user's tenant's sets (nothing for a user without a tenant)."""
    if not getattr(user, "is_authenticated", False) or user.tenant_id is None:
        return CriteriaSet.objects.none()
    return CriteriaSet.objects.filter(Q(tenant__isnull=True) | Q(tenant_id=user.tenant_id))


def get_criteria_set_for_user(user: Any, public_id: Any) -> CriteriaSet:
    """The set with ``public_id`` if the user may see it, else 404."""
    found = (
        criteria_sets_for_user(user)
        .select_related("previous", "published_by")
        .filter(public_id=parse_public_id(public_id))
        .first()
    )
    if found is None:
        raise Http404
    return found


def get_indicator_for_user(user: Any, public_id: Any) -> Indicator:
    """The indicator with ``public_id`` if its set is visible to the user, else 404."""
    found = (
        Indicator.objects.filter(
            criterion__criteria_set__in=criteria_sets_for_user(user),
            public_id=parse_public_id(public_id),
        )
        .select_related("criterion__criteria_set")
        .first()
    )
    if found is None:
        raise Http404
    return found


def get_criterion_of_set(criteria_set: CriteriaSet, order: Any) -> Criterion:
    """A criterion of a set already known to be visible, by its position (404 if none)."""
    try:
        number = int(str(order))
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    found = Criterion.objects.filter(criteria_set=criteria_set, order=number).first()
    if found is None:
        raise Http404
    return found


def search_criteria_sets(
    queryset: QuerySet[CriteriaSet],
    *,
    q: str = "",
    title: str = "",
    status: str = "",
    year: int | None = None,
) -> QuerySet[CriteriaSet]:
    """Filter an already-scoped queryset: ``q`` matches the name or code
    (accent- and case-insensitive on the name), ``year`` keeps the sets that
    apply in that year."""
    if q:
        term = q.strip()
        folded = fold(term)
        ids = [
            pk
            for pk, name in queryset.values_list("pk", "name")
            if folded in fold(name) or term.casefold() in name.casefold()
        ]
        queryset = queryset.filter(Q(pk__in=ids) | Q(code__icontains=term))
    if title:
        queryset = queryset.filter(title=title)
    if status:
        queryset = queryset.filter(status=status)
    if year is not None:
        queryset = queryset.filter(year_from__lte=year).filter(
            Q(year_to__isnull=True) | Q(year_to__gte=year)
        )
    return queryset


# --- Content ---------------------------------------------------------------------------


def criteria_with_indicators(criteria_set: CriteriaSet) -> list[Criterion]:
    """The set's criteria in order, each with its indicators prefetched in order."""
    return list(
        Criterion.objects.filter(criteria_set=criteria_set)
        .order_by("order")
        .prefetch_related(Prefetch("indicators", queryset=Indicator.objects.order_by("order")))
    )


def indicators_of(criteria_set: CriteriaSet) -> QuerySet[Indicator]:
    return Indicator.objects.filter(criterion__criteria_set=criteria_set).order_by(
        "criterion__order", "order"
    )


def versions_of(criteria_set: CriteriaSet) -> QuerySet[CriteriaSet]:
    """Every version of the same set (same owner and code), newest first."""
    owner = (
        Q(tenant__isnull=True)
        if criteria_set.tenant_id is None
        else Q(tenant_id=criteria_set.tenant_id)
    )
    return CriteriaSet.objects.filter(owner, code=criteria_set.code).order_by("-version")


def assessment_count(criteria_set: CriteriaSet) -> int:
    return Assessment.objects.filter(criteria_set=criteria_set).count()


def criteria_set_history(criteria_set: CriteriaSet, *, limit: int = 30) -> list[AuditEvent]:
    """The audit events of the set (its own and those of its criteria and indicators)."""
    return list(
        AuditEvent.objects.filter(
            object_type=criteria_set._meta.label_lower, object_id=str(criteria_set.public_id)
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )

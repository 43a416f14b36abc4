"""API of the recognition cycle: criteria sets (read-only).

The caller sees the shipped national sets and their own tenant's sets;
another tenant's set answers 404.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from core.api_pagination import PageNumberPagination
from recognition.models import CriteriaSet, ScoringMethod, SetStatus
from recognition.selectors.criteria import (
    criteria_sets_for_user,
    criteria_with_indicators,
    get_criteria_set_for_user,
    search_criteria_sets,
)
from recognition.titles import Title

router = Router(tags=["criteria"])


class CriteriaSetOut(Schema):
    public_id: uuid.UUID
    code: str
    version: int
    name: str
    title: Title
    scope_level: str
    method: ScoringMethod
    status: SetStatus
    shipped: bool
    needs_completion: bool
    year_from: int
    year_to: int | None
    legal_basis: list[str]
    max_total: Decimal | None
    pass_thresholds: dict[str, Any]
    min_indicator_points: Decimal | None
    grade_bands: list[dict[str, Any]]
    levels: list[dict[str, Any]]
    validity_years: int | None
    upgrade_after_months: int | None
    previous_id: uuid.UUID | None
    published_at: dt.datetime | None

    @staticmethod
    def resolve_shipped(obj: CriteriaSet) -> bool:
        return obj.tenant_id is None

    @staticmethod
    def resolve_legal_basis(obj: CriteriaSet) -> list[str]:
        return [line for line in obj.legal_basis.splitlines() if line.strip()]

    @staticmethod
    def resolve_previous_id(obj: CriteriaSet) -> uuid.UUID | None:
        return obj.previous.public_id if obj.previous_id and obj.previous else None


class IndicatorOut(Schema):
    public_id: uuid.UUID
    order: int
    code: str
    text: str
    guidance: str
    max_points: Decimal | None
    min_points: Decimal | None
    requirements: dict[str, str]
    evidence_required: bool
    needs_completion: bool


class CriterionOut(Schema):
    order: int
    code: str
    name: str
    description: str
    max_points: Decimal | None
    indicators: list[IndicatorOut]

    @staticmethod
    def resolve_indicators(obj: Any) -> list[Any]:
        return list(obj.indicators.all())


class CriteriaSetDetailOut(CriteriaSetOut):
    source_note: str
    criteria: list[CriterionOut]

    @staticmethod
    def resolve_criteria(obj: CriteriaSet) -> list[Any]:
        return criteria_with_indicators(obj)


class CriteriaSetFilter(Schema):
    q: str | None = None
    title: Title | None = None
    status: SetStatus | None = None
    year: int | None = None


@router.get(
    "", response=list[CriteriaSetOut], summary="Criteria sets: shipped and your organisation's"
)
@paginate(PageNumberPagination, page_size=50)
def list_criteria_sets(
    request: HttpRequest, filters: Query[CriteriaSetFilter]
) -> QuerySet[CriteriaSet]:
    return search_criteria_sets(
        criteria_sets_for_user(request.user).select_related("previous"),
        q=filters.q or "",
        title=filters.title or "",
        status=filters.status or "",
        year=filters.year,
    ).order_by("title", "scope_level", "code", "-version", "pk")


@router.get(
    "/{public_id}",
    response=CriteriaSetDetailOut,
    summary="One criteria set with its criteria and indicators",
)
def get_criteria_set(request: HttpRequest, public_id: str) -> CriteriaSet:
    return get_criteria_set_for_user(request.user, public_id)

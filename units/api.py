"""API: administrative units, scoped to the caller's subtrees."""

import datetime as dt
import uuid

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from core.api_pagination import PageNumberPagination
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import (
    children_of,
    get_unit_for_user,
    search_units,
    units_for_user,
    with_child_counts,
)

router = Router(tags=["units"])


class UnitOut(Schema):
    public_id: uuid.UUID
    name: str
    code: str
    kind: str
    level: Level
    depth: int
    parent_id: uuid.UUID | None
    valid_from: dt.date
    valid_to: dt.date | None
    child_count: int | None = None

    @staticmethod
    def resolve_parent_id(obj: AdministrativeUnit) -> uuid.UUID | None:
        return obj.parent.public_id if obj.parent_id and obj.parent else None

    @staticmethod
    def resolve_child_count(obj: AdministrativeUnit) -> int | None:
        return getattr(obj, "child_count", None)


class UnitFilter(Schema):
    parent: uuid.UUID | None = None
    level: Level | None = None
    code: str | None = None
    q: str | None = None
    current: bool = False


@router.get("", response=list[UnitOut], summary="Units in scope (filter, search, paginate)")
@paginate(PageNumberPagination, page_size=50)
def list_units(request: HttpRequest, filters: Query[UnitFilter]) -> QuerySet[AdministrativeUnit]:
    scoped = units_for_user(request.user)
    parent = get_unit_for_user(request.user, filters.parent) if filters.parent else None
    qs = search_units(
        scoped,
        q=filters.q or "",
        level=filters.level or "",
        code=filters.code or "",
        parent=parent,
        current_only=filters.current,
        on=timezone.localdate(),
    )
    return qs.select_related("parent").order_by("path")


@router.get("/{public_id}", response=UnitOut, summary="One unit")
def get_unit(request: HttpRequest, public_id: str) -> AdministrativeUnit:
    unit = get_unit_for_user(request.user, public_id)
    return (
        with_child_counts(AdministrativeUnit.objects.filter(pk=unit.pk))
        .select_related("parent")
        .get()
    )


@router.get("/{public_id}/children", response=list[UnitOut], summary="Direct children of a unit")
@paginate(PageNumberPagination, page_size=50)
def unit_children(request: HttpRequest, public_id: str) -> QuerySet[AdministrativeUnit]:
    unit = get_unit_for_user(request.user, public_id)
    return children_of(unit).select_related("parent")

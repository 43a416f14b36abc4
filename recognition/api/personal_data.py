"""The access log of personal data over the API (Luật 91/2025/QH15): a tenant
administrator reads the rows of their subtree, with the screen's filters; any
other user reads an empty list (no row is in the scope of their roles)."""

import datetime as dt
import uuid

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from core.api_pagination import PageNumberPagination
from recognition.models import AccessAction, PersonalDataAccess
from recognition.personal_data.selectors import access_log_rows, filter_access_log

router = Router(tags=["personal data"])


class AccessOut(Schema):
    public_id: uuid.UUID
    created_at: dt.datetime
    actor: str | None
    action: AccessAction
    subject_kind: str
    subject_id: str
    unit: str | None
    fields: list[str]
    identifiers: bool
    row_count: int | None
    request_id: str

    @staticmethod
    def resolve_actor(obj: PersonalDataAccess) -> str | None:
        return obj.actor.username if obj.actor else None

    @staticmethod
    def resolve_unit(obj: PersonalDataAccess) -> str | None:
        return obj.unit.code if obj.unit else None


class AccessFilter(Schema):
    person: str | None = None
    actor: str | None = None
    action: AccessAction | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@router.get(
    "/access-log",
    response=list[AccessOut],
    summary="Who viewed, exported or erased personal data (tenant administrators)",
)
@paginate(PageNumberPagination, page_size=50)
def list_access_log(
    request: HttpRequest, filters: Query[AccessFilter]
) -> QuerySet[PersonalDataAccess]:
    return filter_access_log(
        access_log_rows(request.user),
        user=request.user,
        person=(filters.person or "")[:200],
        actor=(filters.actor or "")[:150],
        action=filters.action or "",
        date_from=filters.date_from,
        date_to=filters.date_to,
    )

"""Writing the access log of personal data (Luật 91/2025/QH15, issue 10 §2).

Every view of a person's detail (page, edit form or API), every export of a
list carrying personal data, every export of a person's data on request and
every erasure appends a :class:`~recognition.models.PersonalDataAccess` row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recognition.models import AccessAction, Citizen, Household, PersonalDataAccess
from recognition.titles import SubjectKind

#: The personal fields of each person kind (what a detail view shows).
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    SubjectKind.HOUSEHOLD: ("code", "head_name", "address", "member_count"),
    SubjectKind.CITIZEN: ("full_name", "birth_year", "labour_group", "national_id"),
}

#: The models whose rows are about a private person.
PERSON_MODELS: dict[type[Any], str] = {
    Household: SubjectKind.HOUSEHOLD,
    Citizen: SubjectKind.CITIZEN,
}


def is_person(subject: Any) -> bool:
    return type(subject) in PERSON_MODELS


def request_id_of(request: Any) -> str:
    """The request id of the structured logs, else the proxy's X-Request-ID, else ""."""
    try:
        import structlog

        bound = structlog.contextvars.get_contextvars().get("request_id")
    except ImportError:  # pragma: no cover - structlog is a dependency
        bound = None
    if bound:
        return str(bound)[:64]
    if request is None:
        return ""
    return str(request.META.get("HTTP_X_REQUEST_ID", ""))[:64]


def access_log_record(
    *,
    actor: Any,
    action: str,
    tenant: Any,
    unit: Any = None,
    subject: Any = None,
    fields: Iterable[str] = (),
    identifiers: bool = False,
    row_count: int | None = None,
    detail: dict[str, Any] | None = None,
    request: Any = None,
) -> PersonalDataAccess:
    """Append one access row. ``subject`` is a household or citizen (or None for lists)."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return PersonalDataAccess.objects.create(
        tenant_id=getattr(tenant, "pk", tenant),
        actor=actor_obj,
        unit=unit if unit is not None else getattr(subject, "unit", None),
        action=action,
        subject_kind=PERSON_MODELS.get(type(subject), "") if subject is not None else "",
        subject_id=str(subject.public_id) if subject is not None else "",
        fields=list(fields),
        identifiers=identifiers,
        row_count=row_count,
        detail=detail or {},
        request_id=request_id_of(request),
    )


def log_detail_view(request: Any, subject: Any, *, show_id: bool, via: str = "page") -> None:
    """Log that ``request.user`` saw a person's detail (households and citizens only)."""
    kind = PERSON_MODELS.get(type(subject))
    if kind is None:
        return
    fields = [f for f in PERSONAL_FIELDS[kind] if f != "national_id" or subject.national_id]
    access_log_record(
        actor=request.user,
        action=AccessAction.VIEW_DETAIL,
        tenant=subject.tenant_id,
        subject=subject,
        fields=fields,
        identifiers=bool(show_id and kind == SubjectKind.CITIZEN and subject.national_id),
        detail={"via": via},
        request=request,
    )

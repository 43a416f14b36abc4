"""Reads of award nominations, scoped through units/selectors.py.

A nomination is seen by whoever sees its nominating unit: the nominator's own
officials and every unit above it, so the reviewing unit (always the
nominator or one of its ancestors) sees what it reviews.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from campaigns.models import Nomination
from core.models import AuditEvent
from units.selectors import parse_public_id, scope_queryset

RELATED = (
    "nominating_unit",
    "reviewing_unit",
    "nominee_unit",
    "organisation",
    "household",
    "plan",
    "created_by",
)


def nominations_for_user(user: Any) -> QuerySet[Nomination]:
    return scope_queryset(
        Nomination.objects.select_related(*RELATED), user, unit_field="nominating_unit"
    )


def get_nomination_for_user(user: Any, public_id: Any) -> Nomination:
    nomination = nominations_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if nomination is None:
        raise Http404
    return nomination


@dataclass
class TimelineEntry:
    event: AuditEvent
    action: str
    note: str


def nomination_timeline(nomination: Nomination) -> list[TimelineEntry]:
    """Every audit event on the nomination, oldest first (one query)."""
    events = (
        AuditEvent.objects.filter(
            tenant_id=nomination.tenant_id,
            object_type="campaigns.nomination",
            object_id=str(nomination.public_id),
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )
    return [
        TimelineEntry(
            event=e,
            action=e.action.split(".", 1)[-1],
            note=str((e.after or {}).get("note", "") or ""),
        )
        for e in events
    ]

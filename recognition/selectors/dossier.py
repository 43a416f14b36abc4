"""Reads on dossiers, their items, the reviewer's queue, timelines and review chains.

Every function that serves a request takes the user and scopes through
:mod:`units.selectors`: a dossier is visible to whoever sees its proposing
unit (its ward, and the reviewers above it, whose subtrees contain it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import CharField, Count, Exists, Func, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, Substr
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.models import AuditEvent
from core.text import fold
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Dossier,
    DossierStatus,
    Evidence,
    Indicator,
    ReviewChain,
)
from recognition.transitions import REVIEWER, WARD
from units.levels import Level
from units.selectors import parse_public_id, scope_queryset

A = AssessmentStatus
D = DossierStatus

#: Joins that name an assessment's subject without one query per row.
SUBJECT_RELATED: tuple[str, ...] = (
    "registration",
    "registration__household",
    "registration__clan",
    "registration__organisation",
    "registration__citizen",
    "registration__subject_unit",
)


def subject_label(assessment: Assessment) -> str:
    """The subject's name (household code and head, clan, citizen…)."""
    return str(assessment.registration.subject)


def missing_evidence_q() -> Exists:
    """True for an assessment with an evidence-required indicator that has no file."""
    files = Evidence.objects.filter(
        assessment_id=OuterRef(OuterRef("pk")), indicator=OuterRef("pk")
    )
    return Exists(
        Indicator.objects.filter(
            criterion__criteria_set_id=OuterRef("criteria_set_id"), evidence_required=True
        ).exclude(Exists(files))
    )


_DOSSIER_RELATED = ("proposing_unit", "reviewing_unit")


def scope_label(level: str) -> str:
    """The display name of a dossier's subject level ("" when it has none)."""
    return str(Level(level).label) if level in Level.values else ""


def dossiers_for_user(user: Any) -> QuerySet[Dossier]:
    """Dossiers whose proposing unit the user sees."""
    return scope_queryset(
        Dossier.objects.select_related(*_DOSSIER_RELATED), user, unit_field="proposing_unit"
    )


def get_dossier_for_user(user: Any, public_id: Any) -> Dossier:
    dossier = dossiers_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if dossier is None:
        raise Http404
    return dossier


def _with_item_counts(qs: QuerySet[Dossier]) -> QuerySet[Dossier]:
    return qs.annotate(
        item_count=Count("items"),
        submitted_count=Count("items", filter=Q(items__status=A.SUBMITTED)),
        approved_count=Count("items", filter=Q(items__status=A.APPROVED)),
        returned_count=Count("items", filter=Q(items__status=A.RETURNED)),
        rejected_count=Count("items", filter=Q(items__status=A.REJECTED)),
    )


def ward_dossiers(user: Any, *, year: int | None = None, title: str = "") -> QuerySet[Dossier]:
    """The dossiers of the units where the user prepares dossiers."""
    qs = scope_queryset(
        Dossier.objects.select_related(*_DOSSIER_RELATED),
        user,
        unit_field="proposing_unit",
        roles=WARD,
    )
    if year:
        qs = qs.filter(year=year)
    if title:
        qs = qs.filter(title=title)
    return _with_item_counts(qs).order_by("-year", "proposing_unit__sort_name", "title")


def review_dossiers(user: Any) -> QuerySet[Dossier]:
    """Dossiers sent to a unit the user reviews (at it or above it); drafts stay
    with their ward."""
    return scope_queryset(
        Dossier.objects.select_related(*_DOSSIER_RELATED),
        user,
        unit_field="reviewing_unit",
        roles=REVIEWER,
    ).exclude(status=D.DRAFT)


@dataclass(frozen=True)
class QueueFilters:
    status: str = D.SUBMITTED
    title: str = ""
    year: int | None = None
    q: str = ""


def review_queue(user: Any, filters: QueueFilters) -> QuerySet[Dossier]:
    """The reviewer's queue, oldest submission first, with item counts per status."""
    return _with_item_counts(_filtered_queue(user, filters)).order_by(
        "submitted_at", "proposing_unit__sort_name", "pk"
    )


def _filtered_queue(user: Any, filters: QueueFilters) -> QuerySet[Dossier]:
    qs = review_dossiers(user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.title:
        qs = qs.filter(title=filters.title)
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(
            Q(proposing_unit__search_name__contains=fold(term))
            | Q(proposing_unit__code__istartswith=term)
        )
    return qs


def queue_counts(user: Any, filters: QueueFilters) -> dict[str, int]:
    """Dossiers per status under the other filters (the queue's tabs)."""
    base = _filtered_queue(
        user, QueueFilters(status="", title=filters.title, year=filters.year, q=filters.q)
    )
    rows = base.order_by().values_list("status").annotate(n=Count("pk"))
    counts: dict[str, int] = {str(s): 0 for s in (D.SUBMITTED, D.RETURNED, D.APPROVED)}
    counts.update({str(status): n for status, n in rows.values_list("status", "n")})
    return counts


def dossier_items(dossier: Dossier) -> QuerySet[Assessment]:
    """The dossier's items with their subject, evidence count and missing-evidence
    flag, in a single query."""
    return (
        Assessment.objects.filter(dossier=dossier)
        .select_related(*SUBJECT_RELATED, "unit")
        .annotate(evidence_count=Count("evidence"), missing_evidence=missing_evidence_q())
        .order_by("unit__sort_name", "registration__pk")
    )


def dossier_item_page(dossier: Dossier, number: Any, per_page: int) -> Page:
    """One page of :func:`dossier_items`, fast for dossiers of 20,000 items: the
    page's ids come from a light ordered query, then only those rows are loaded
    with their subject and evidence counts (the aggregate never runs over the
    whole dossier)."""
    ids = (
        Assessment.objects.filter(dossier=dossier)
        .order_by("unit__sort_name", "registration__pk")
        .values_list("pk", flat=True)
    )
    page = Paginator(ids, per_page).get_page(number)
    wanted = list(page.object_list)
    rows = {a.pk: a for a in dossier_items(dossier).filter(pk__in=wanted).order_by()}
    page.object_list = [rows[pk] for pk in wanted if pk in rows]  # type: ignore[misc]
    return page


#: One item is fetched without joining the five subject tables: for a single row
#: PostgreSQL spends ~10 ms planning that join (the subject then loads by its key).
ITEM_RELATED: tuple[str, ...] = ("registration", "criteria_set", "unit")


def dossier_item(item: Assessment) -> Assessment:
    """``item`` reloaded as a row of :func:`dossier_items` (evidence count and
    missing-evidence flag), without the subject joins (``ITEM_RELATED``)."""
    return (
        Assessment.objects.filter(pk=item.pk, dossier__isnull=False)
        .select_related("registration", "unit")
        .annotate(evidence_count=Count("evidence"), missing_evidence=missing_evidence_q())
        .get()
    )


def get_item(dossier: Dossier, public_id: Any) -> Assessment:
    item = (
        Assessment.objects.filter(dossier=dossier, public_id=parse_public_id(public_id))
        .select_related(*ITEM_RELATED)
        .first()
    )
    if item is None:
        raise Http404
    return item


def items_for_reviewer(user: Any) -> QuerySet[Assessment]:
    """Assessments in dossiers the user reviews."""
    return Assessment.objects.filter(dossier__in=review_dossiers(user).values("pk"))


def get_review_item_for_user(user: Any, public_id: Any) -> Assessment:
    """An item the user may see through its dossier (404 otherwise)."""
    item = (
        Assessment.objects.filter(
            public_id=parse_public_id(public_id),
            dossier__in=dossiers_for_user(user).values("pk"),
        )
        .select_related(*ITEM_RELATED, "dossier")
        .first()
    )
    if item is None:
        raise Http404
    return item


# --- Timeline ----------------------------------------------------------------------

ACTION_LABELS: dict[str, Any] = {
    "dossier.create": gettext_lazy("Dossier created"),
    "dossier.add_items": gettext_lazy("Items added to the dossier"),
    "dossier.remove_items": gettext_lazy("Items removed from the dossier"),
    "dossier.submit": gettext_lazy("Dossier submitted for review"),
    "dossier.return": gettext_lazy("Dossier returned for correction"),
    "dossier.approve": gettext_lazy("Review finished"),
    "dossier.notified": gettext_lazy("E-mail sent"),
    "assessment.start": gettext_lazy("Self-assessment started"),
    "assessment.scores": gettext_lazy("Scores saved"),
    "assessment.copy_previous": gettext_lazy("Scores copied from last year"),
    "assessment.evidence_upload": gettext_lazy("Evidence file added"),
    "assessment.evidence_delete": gettext_lazy("Evidence file removed"),
    "assessment.submit": gettext_lazy("Submitted in the dossier"),
    "assessment.return": gettext_lazy("Returned for correction"),
    "assessment.approve": gettext_lazy("Approved"),
    "assessment.reject": gettext_lazy("Not approved"),
    "assessment.review_score": gettext_lazy("Scored by the reviewer"),
    "assessment.complete": gettext_lazy("Self-assessment completed"),
    "assessment.reopen": gettext_lazy("Self-assessment reopened"),
    "assessment.recognise": gettext_lazy("Recognised"),
}

NOTIFIED_EVENTS: dict[str, Any] = {
    "submitted": gettext_lazy("to the reviewers"),
    "returned": gettext_lazy("to the ward: dossier returned"),
    "reviewed": gettext_lazy("to the ward: review finished"),
}


@dataclass(frozen=True)
class TimelineEntry:
    when: dt.datetime
    actor: str
    subject: str
    label: str
    detail: str
    reason: str


def _public_id_text() -> Func:
    """An assessment's public id as audit events store it (canonical text form),
    computed in SQL: PostgreSQL casts its native UUID; SQLite keeps 32 hex digits,
    which are re-hyphenated."""
    text = Cast("public_id", output_field=CharField())
    if connection.vendor == "postgresql":
        return text
    dash = Value("-")
    return Concat(
        Substr(text, 1, 8),
        dash,
        Substr(text, 9, 4),
        dash,
        Substr(text, 13, 4),
        dash,
        Substr(text, 17, 4),
        dash,
        Substr(text, 21, 12),
        output_field=CharField(),
    )


def dossier_events(dossier: Dossier) -> QuerySet[AuditEvent]:
    """Audit events of the dossier and of its items, oldest first (one query with
    a subquery, whatever the number of items)."""
    item_ids = (
        Assessment.objects.filter(dossier=dossier)
        .annotate(event_id=_public_id_text())
        .values("event_id")
    )
    events = AuditEvent.objects.filter(tenant_id=dossier.tenant_id).order_by()
    own = events.filter(object_type="recognition.dossier", object_id=str(dossier.public_id))
    of_items = events.filter(object_type="recognition.assessment", object_id__in=item_ids)
    # A UNION of the two index lookups, not an OR: with the OR PostgreSQL reads
    # every assessment event of the tenant and filters them (10 ms at 40,000
    # events, growing with the audit log), or walks the time index backwards.
    return (
        AuditEvent.objects.filter(pk__in=own.values("pk").union(of_items.values("pk"), all=True))
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def _status_label(value: Any) -> str:
    for choices in (A, D):
        if value in choices.values:
            return str(choices(value).label)
    return str(value or "")


def _detail(event: AuditEvent) -> str:
    after = event.after or {}
    action = event.action
    if action in {"dossier.add_items", "dossier.remove_items"}:
        count = int(after.get("count", 0))
        return ngettext("%(count)s item", "%(count)s items", count) % {"count": count}
    if action == "dossier.submit":
        return _("submission %(number)s, %(count)s items sent") % {
            "number": after.get("submission", ""),
            "count": after.get("items", 0),
        }
    if action == "dossier.approve":
        return _("%(approved)s approved, %(rejected)s not approved") % {
            "approved": after.get("approved", 0),
            "rejected": after.get("rejected", 0),
        }
    if action == "dossier.notified":
        return _("%(whom)s (%(count)s recipients)") % {
            "whom": NOTIFIED_EVENTS.get(after.get("event", ""), ""),
            "count": after.get("recipients", 0),
        }
    if action == "dossier.create" and after.get("reviewing_unit"):
        return _("reviewing unit code %(code)s") % {"code": after["reviewing_unit"]}
    if action == "assessment.review_score":
        total = after.get("final_total")
        level = after.get("final_level")
        if total is not None:
            return _("final total %(total)s") % {"total": total}
        if level is not None:
            return _("final level %(level)s") % {"level": level}
    return ""


def timeline_entries(events: Iterable[AuditEvent]) -> list[TimelineEntry]:
    """Vietnamese lines for a page of audit events (item names in one query)."""
    events = list(events)
    item_ids = {e.object_id for e in events if e.object_type == "recognition.assessment"}
    labels = {
        str(a.public_id): subject_label(a)
        for a in Assessment.objects.filter(public_id__in=item_ids).select_related(*SUBJECT_RELATED)
    }
    out = []
    for e in events:
        label = ACTION_LABELS.get(e.action)
        if label is None:
            before = (e.before or {}).get("status")
            after = (e.after or {}).get("status")
            label = (
                f"{_status_label(before)} → {_status_label(after)}" if before or after else e.action
            )
        out.append(
            TimelineEntry(
                when=e.created_at,
                actor=e.actor.display_name if e.actor else _("System"),
                subject=labels.get(e.object_id, "")
                if e.object_type == "recognition.assessment"
                else "",
                label=str(label),
                detail=_detail(e),
                reason=str((e.after or {}).get("reason", "")),
            )
        )
    return out


# --- Review chains ----------------------------------------------------------------------


def review_chains_for_user(user: Any) -> QuerySet[ReviewChain]:
    """The review chains of the user's tenant."""
    if not getattr(user, "is_authenticated", False) or user.tenant_id is None:
        return ReviewChain.objects.none()
    return ReviewChain.objects.filter(tenant_id=user.tenant_id).order_by(
        "title", "scope_level", "valid_from"
    )


def get_chain_for_user(user: Any, public_id: Any) -> ReviewChain:
    chain = review_chains_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if chain is None:
        raise Http404
    return chain

"""Reads on self-assessments, their evidence and their timeline.

Every query starts from the user's scope (units.selectors.scope_queryset on the
assessment's unit, the subject's unit); outside it the answer is 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from core.models import AuditEvent
from core.text import fold
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Criterion,
    Evidence,
    Indicator,
    IndicatorScore,
    Registration,
    RegistrationStatus,
    ScoringMethod,
)
from recognition.models.config import AreaClass
from recognition.titles import SUBJECT_FIELD, SubjectKind
from units.models import AdministrativeUnit
from units.selectors import parse_public_id, scope_queryset

#: The list's "status" filter value for registrations without an assessment yet.
NOT_STARTED = "not_started"

SUBJECT_RELATIONS = ("household", "clan", "organisation", "citizen", "subject_unit")

#: What a single assessment is fetched with. The registration's subject is left
#: out on purpose: joining all five subject tables makes PostgreSQL plan an
#: 11-table join, about 12 ms per request (the query itself runs in under 1 ms),
#: while the one subject a registration has loads by its key in a fraction of a
#: millisecond when it is shown. Lists, where a join is planned once for many
#: rows, still join the subjects (``SUBJECT_RELATIONS``).
DETAIL_RELATED = ("tenant", "unit", "criteria_set", "registration__proposing_unit")


def assessments_for_user(user: Any) -> QuerySet[Assessment]:
    return scope_queryset(Assessment.objects.all(), user, unit_field="unit")


def get_assessment_for_user(user: Any, public_id: Any) -> Assessment:
    """The assessment with ``public_id`` inside the user's scope, else 404."""
    assessment = (
        assessments_for_user(user)
        .select_related(*DETAIL_RELATED)
        .filter(public_id=parse_public_id(public_id))
        .first()
    )
    if assessment is None:
        raise Http404
    return assessment


def get_registration_for_user(user: Any, public_id: Any) -> Registration:
    """A registration in scope (to start its assessment), else 404."""
    registration = (
        scope_queryset(Registration.objects.all(), user, unit_field="unit")
        .select_related("unit", "proposing_unit")  # the subject by its key (see DETAIL_RELATED)
        .filter(public_id=parse_public_id(public_id))
        .first()
    )
    if registration is None:
        raise Http404
    return registration


def get_evidence_for_user(user: Any, public_id: Any) -> Evidence:
    evidence = (
        scope_queryset(Evidence.objects.all(), user, unit_field="assessment__unit")
        .select_related("assessment", "indicator")
        .filter(public_id=parse_public_id(public_id))
        .first()
    )
    if evidence is None:
        raise Http404
    return evidence


def subject_label(registration: Registration) -> str:
    """How a subject is named in lists (a citizen's ID number never appears)."""
    subject = getattr(registration, SUBJECT_FIELD[registration.subject_kind])
    if subject is None:
        return ""
    if registration.subject_kind == SubjectKind.HOUSEHOLD:
        return f"{subject.code} — {subject.head_name}"
    if registration.subject_kind == SubjectKind.CITIZEN:
        return f"{subject.full_name} ({subject.birth_year})"
    return str(getattr(subject, "name", subject))


# --- The form ------------------------------------------------------------------------------


@dataclass
class IndicatorRow:
    indicator: Indicator
    score: IndicatorScore
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def value(self) -> Any:
        return (
            self.score.self_level if self.score.self_level is not None else self.score.self_points
        )


@dataclass
class CriterionRow:
    criterion: Criterion
    indicators: list[IndicatorRow] = field(default_factory=list)


def assessment_rows(assessment: Assessment) -> list[CriterionRow]:
    """Criteria, their indicators with the saved score and the evidence files
    (two queries, whatever the size of the set)."""
    scores = list(
        IndicatorScore.objects.filter(assessment=assessment)
        .select_related("indicator__criterion")
        .order_by("indicator__criterion__order", "indicator__order")
    )
    files: dict[int, list[Evidence]] = {}
    for ev in Evidence.objects.filter(assessment=assessment).order_by("uploaded_at", "pk"):
        files.setdefault(ev.indicator_id or 0, []).append(ev)
    rows: list[CriterionRow] = []
    for score in scores:
        criterion = score.indicator.criterion
        if not rows or rows[-1].criterion.pk != criterion.pk:
            rows.append(CriterionRow(criterion=criterion))
        rows[-1].indicators.append(
            IndicatorRow(
                indicator=score.indicator, score=score, evidence=files.get(score.indicator_id, [])
            )
        )
    return rows


def evidence_of_indicator(assessment: Assessment, indicator: Indicator) -> list[Evidence]:
    return list(
        Evidence.objects.filter(assessment=assessment, indicator=indicator).order_by(
            "uploaded_at", "pk"
        )
    )


# --- The list ------------------------------------------------------------------------------------


def assessment_list(
    user: Any,
    *,
    unit: AdministrativeUnit | None = None,
    title: str = "",
    year: int | None = None,
    status: str = "",
    q: str = "",
) -> QuerySet[Registration]:
    """Registrations in scope (filtered, in unit order) as a lean queryset: page
    it by primary key and load the page with :func:`registrations_page` (sorting
    20,000 narrow rows is cheap; sorting them joined to every subject is not)."""
    qs = scope_queryset(
        Registration.objects.filter(status=RegistrationStatus.REGISTERED), user, unit_field="unit"
    )
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if title:
        qs = qs.filter(title=title)
    if year:
        qs = qs.filter(year=year)
    if status == NOT_STARTED:
        qs = qs.filter(assessment__isnull=True)
    elif status:
        qs = qs.filter(assessment__status=status)
    if q.strip():
        term = fold(q)
        code = q.strip()
        qs = qs.filter(
            Q(household__code__istartswith=code)
            | Q(household__search_text__contains=term)
            | Q(clan__search_text__contains=term)
            | Q(organisation__search_text__contains=term)
            | Q(citizen__search_text__contains=term)
            | Q(subject_unit__search_name__contains=term)
        )
    return qs.order_by("unit__path", "pk")


def registrations_page(ids: list[int]) -> list[Registration]:
    """The registrations of one page, in the given order, with their unit,
    subject and assessment joined (one query, no N+1)."""
    by_id = Registration.objects.select_related("unit", "assessment", *SUBJECT_RELATIONS).in_bulk(
        ids
    )
    return [by_id[pk] for pk in ids if pk in by_id]


def latest_year(user: Any) -> int | None:
    """The most recent registration year in the user's scope."""
    return (
        scope_queryset(Registration.objects.all(), user, unit_field="unit")
        .order_by("-year")
        .values_list("year", flat=True)
        .first()
    )


# --- The timeline ------------------------------------------------------------------------------------

ACTION_LABELS: dict[str, Any] = {
    "assessment.start": _("Self-assessment started"),
    "assessment.scores": _("Scores saved"),
    "assessment.copy_previous": _("Scores copied from last year"),
    "assessment.evidence_upload": _("Evidence file added"),
    "assessment.evidence_delete": _("Evidence file removed"),
    "assessment.complete": _("Self-assessment completed"),
    "assessment.reopen": _("Self-assessment reopened"),
    "assessment.submit": _("Submitted in the dossier"),
    "assessment.return": _("Returned for correction"),
    "assessment.approve": _("Approved"),
    "assessment.reject": _("Not approved"),
    "assessment.review_score": _("Scored by the reviewer"),
    "assessment.recognise": _("Recognised"),
}

FIELD_LABELS: dict[str, Any] = {
    "status": _("Status"),
    "criteria_set": _("Criteria set"),
    "area_class": _("Area class"),
    "self_total": _("Total points"),
    "self_level": _("Level reached"),
    "self_grade": _("Grade"),
    "self_passed": _("Passed"),
    "final_total": _("Total points (review)"),
    "final_level": _("Level (review)"),
    "final_passed": _("Passed (review)"),
    "indicator": _("Indicator"),
    "file": _("File"),
    "size": _("Size (bytes)"),
    "sha256": _("SHA-256"),
    "from_year": _("Copied from year"),
    "reason": _("Reason"),
    "return_reason": _("Reason for return"),
}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class TimelineEntry:
    event: AuditEvent
    label: str
    changes: list[Change]


def _text(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if key == "status" and value in AssessmentStatus.values:
        return str(AssessmentStatus(value).label)
    if key == "area_class" and value in AreaClass.values:
        return str(AreaClass(value).label)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(k, v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(key, v) for v in value)
    text = str(value)
    if key.endswith("_total") or key == "scores":
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        # 20.00 -> "20", 25.50 -> "25,5" (Vietnamese decimal comma)
        text = f"{number.normalize():f}".replace(".", ",") if number.is_finite() else text
    return text


def describe_changes(event: AuditEvent) -> list[Change]:
    """before → after of one event, one line per field (one per indicator for scores)."""
    before = event.before or {}
    after = event.after or {}
    changes: list[Change] = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if key == "scores" and isinstance(old or new, dict):
            old, new = old or {}, new or {}
            for code in dict.fromkeys([*old, *new]):
                changes.append(
                    Change(
                        label=str(_("Indicator %(code)s") % {"code": code}),
                        before=_text("scores", old.get(code)) if code in old else "",
                        after=_text("scores", new.get(code)),
                    )
                )
            continue
        was = _text(key, old) if key in before else ""
        now = _text(key, new) if key in after else ""
        if now == "—" and was in ("", "—"):
            continue  # nothing to say (e.g. no level under a points set)
        changes.append(Change(label=str(FIELD_LABELS.get(key, key)), before=was, after=now))
    return changes


def assessment_timeline(assessment: Assessment) -> list[TimelineEntry]:
    """Every audit event on the assessment, oldest first (one query)."""
    events = (
        AuditEvent.objects.filter(
            tenant_id=assessment.tenant_id,
            object_type="recognition.assessment",
            object_id=str(assessment.public_id),
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )
    return [
        TimelineEntry(
            event=e,
            label=str(ACTION_LABELS.get(e.action, e.action)),
            changes=describe_changes(e),
        )
        for e in events
    ]


def is_levels(assessment: Assessment) -> bool:
    return assessment.criteria_set.method == ScoringMethod.LEVELS

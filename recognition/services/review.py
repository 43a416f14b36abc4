"""Review of a submitted dossier by the reviewing unit.

The reviewer (Phòng GD&ĐT, or the office the review chain names; RULES.md
§2.5, §4.2, §8) scores or confirms each item, approves it, returns it with a
reason or rejects it with a reason, may return the whole dossier, and finishes
the review. Approved items then await a recognition decision.

Every action locks the dossier row first, so two reviewers acting on the same
dossier at once are serialised: the second finds the new state and gets a
:class:`~recognition.exceptions.TransitionError` explaining that someone acted
first (the concurrency test on PostgreSQL holds this).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.text import nfc
from recognition.exceptions import (
    DossierError,
    DossierItemsError,
    ReasonRequiredError,
    ReviewNotFinishedError,
    RoleNotAllowedError,
    ScoreError,
    TransitionError,
)
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Dossier,
    DossierStatus,
    Indicator,
    IndicatorScore,
    ScoringMethod,
)
from recognition.scoring import rule_from_set, score
from recognition.selectors.dossier import SUBJECT_RELATED, subject_label
from recognition.transitions import (
    ASSESSMENT_TRANSITIONS,
    DOSSIER_TRANSITIONS,
    REVIEWER,
    apply_transition,
    apply_transition_many,
)

A = AssessmentStatus

#: Item decisions: action -> whether it needs a reason.
ITEM_ACTIONS: dict[str, bool] = {"approve": False, "return": True, "reject": True}


def _actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def lock_for_review(
    *, actor: Any, dossier: Dossier, expected_version: int | None = None
) -> Dossier:
    """Lock a SUBMITTED dossier for a reviewer action (role, state, version checked)."""
    return _lock_review(actor=actor, dossier_id=dossier.pk, expected_version=expected_version)


def _lock_review(*, actor: Any, dossier_id: int, expected_version: int | None = None) -> Dossier:
    locked = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("reviewing_unit", "proposing_unit", "tenant")
        .get(pk=dossier_id)
    )
    if actor is not None and not (_roles(actor, locked) & REVIEWER):
        raise RoleNotAllowedError()
    if locked.status != DossierStatus.SUBMITTED:
        raise TransitionError(
            TransitionError.default_message % {"status": locked.get_status_display()},
            current=locked.status,
        )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    return locked


def _roles(actor: Any, dossier: Dossier) -> set[str]:
    from units.selectors import roles_at

    return roles_at(actor, dossier.reviewing_unit)


def _reason(action: str, reason: str) -> str:
    text = nfc(reason)
    if ITEM_ACTIONS.get(action, True) and not text:
        raise ReasonRequiredError()
    return text


def _decide(
    *,
    actor: Any,
    dossier: Dossier,
    item: Assessment,
    action: str,
    reason: str,
    expected_version: int | None = None,
) -> Assessment:
    locked = Assessment.objects.select_for_update(of=("self",)).get(pk=item.pk)
    if locked.dossier_id != dossier.pk:
        raise DossierError(_("This assessment is not in this dossier."))
    changes: dict[str, Any] = {"reviewed_by": _actor_or_none(actor)}
    after: dict[str, Any] = {"dossier": str(dossier.public_id)}
    if action == "approve":
        changes["return_reason"] = ""
        if locked.final_total is None and locked.final_level is None:
            # Approval without a score of the reviewer's own confirms the self-assessment.
            changes.update(
                final_total=locked.self_total,
                final_level=locked.self_level,
                final_grade=locked.self_grade,
                final_passed=locked.self_passed,
            )
    else:
        changes["return_reason"] = reason
        after["reason"] = reason
    return apply_transition(
        obj=locked,
        transitions=ASSESSMENT_TRANSITIONS,
        action=action,
        actor=actor,
        role_unit=dossier.reviewing_unit,
        expected_version=expected_version,
        changes=changes,
        audit_after=after,
    )


def _item_action(
    *, action: str, actor: Any, item: Assessment, reason: str, expected_version: int | None
) -> Assessment:
    if item.dossier_id is None:
        raise DossierError(_("This assessment is not in a dossier."))
    text = _reason(action, reason)
    dossier = _lock_review(actor=actor, dossier_id=item.dossier_id)
    return _decide(
        actor=actor,
        dossier=dossier,
        item=item,
        action=action,
        reason=text,
        expected_version=expected_version,
    )


@transaction.atomic
def item_approve(
    *, actor: Any, item: Assessment, expected_version: int | None = None
) -> Assessment:
    """Approve one submitted item: it awaits the recognition decision."""
    return _item_action(
        action="approve", actor=actor, item=item, reason="", expected_version=expected_version
    )


@transaction.atomic
def item_return(
    *, actor: Any, item: Assessment, reason: str, expected_version: int | None = None
) -> Assessment:
    """Return one item to the ward with a reason (required); it becomes editable."""
    return _item_action(
        action="return", actor=actor, item=item, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def item_reject(
    *, actor: Any, item: Assessment, reason: str, expected_version: int | None = None
) -> Assessment:
    """Refuse one item with a reason (required)."""
    return _item_action(
        action="reject", actor=actor, item=item, reason=reason, expected_version=expected_version
    )


@transaction.atomic
def items_decide(
    *,
    actor: Any,
    dossier: Dossier,
    action: str,
    assessment_ids: Iterable[Any],
    reason: str = "",
) -> int:
    """The bulk version: apply ``action`` (approve/return/reject) to several items
    of ``dossier``; all or nothing. Returns how many items were decided."""
    from recognition.services.dossier import _parse_ids

    if action not in ITEM_ACTIONS:
        raise DossierError(_("Choose an action."))
    text = _reason(action, reason)
    locked = lock_for_review(actor=actor, dossier=dossier)
    wanted, bad = _parse_ids(assessment_ids)
    items = list(
        Assessment.objects.filter(dossier=locked, public_id__in=wanted)
        .select_related(*SUBJECT_RELATED)
        .order_by("pk")
    )
    problems: list[str] = []
    unknown = len(bad) + len(wanted - {a.public_id for a in items})
    if not wanted and not bad:
        problems.append(_("choose at least one item"))
    if unknown:
        problems.append(
            ngettext(
                "%(count)s item is not in this dossier",
                "%(count)s items are not in this dossier",
                unknown,
            )
            % {"count": unknown}
        )
    for a in items:
        if a.status != A.SUBMITTED:
            problems.append(
                _("%(subject)s is already “%(status)s”")
                % {"subject": subject_label(a), "status": a.get_status_display()}
            )
    if problems:
        raise DossierItemsError(problems)
    chosen = Assessment.objects.filter(pk__in=[a.pk for a in items])
    changes: dict[str, Any] = {"reviewed_by": _actor_or_none(actor)}
    after: dict[str, Any] = {"dossier": str(locked.public_id)}
    if action == "approve":
        changes["return_reason"] = ""
        # Approval without a score of the reviewer's own confirms the self-assessment.
        chosen.filter(final_total__isnull=True, final_level__isnull=True).update(
            final_total=F("self_total"),
            final_level=F("self_level"),
            final_grade=F("self_grade"),
            final_passed=F("self_passed"),
        )
    else:
        changes["return_reason"] = text
        after["reason"] = text
    return apply_transition_many(
        queryset=chosen,
        transitions=ASSESSMENT_TRANSITIONS,
        action=action,
        actor=actor,
        role_unit=locked.reviewing_unit,
        changes=changes,
        audit_after=after,
    )


def _parse_value(raw: Any, indicator: Indicator, method: str, max_level: int) -> Any:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if method == ScoringMethod.LEVELS:
        try:
            level = int(str(raw).strip())
        except ValueError:
            level = -1
        if not 0 <= level <= max_level:
            raise ScoreError(
                _("Level %(value)s is not one of 0–%(max)s for indicator %(code)s.")
                % {"value": raw, "max": max_level, "code": indicator.code}
            )
        return level
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        value = Decimal(-1)
    top = indicator.max_points if indicator.max_points is not None else Decimal(100)
    if not value.is_finite() or not Decimal(0) <= value <= top:
        raise ScoreError(
            ScoreError.default_message
            % {"value": raw, "max": top.normalize(), "code": indicator.code}
        )
    return value


@transaction.atomic
def item_confirm_score(
    *,
    actor: Any,
    item: Assessment,
    scores: Mapping[int, Any],
    expected_version: int | None = None,
) -> Assessment:
    """The reviewer's points (or achieved levels) per indicator, keyed by the
    indicator's primary key; an empty value keeps the ward's own score. The
    final result is computed by :mod:`recognition.scoring` from the reviewer's
    values where given and the self-assessment elsewhere."""
    if item.dossier_id is None:
        raise DossierError(_("This assessment is not in a dossier."))
    dossier = _lock_review(actor=actor, dossier_id=item.dossier_id)
    locked = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("criteria_set")
        .get(pk=item.pk)
    )
    if locked.dossier_id != dossier.pk or locked.status != A.SUBMITTED:
        raise TransitionError(
            TransitionError.default_message % {"status": locked.get_status_display()},
            current=locked.status,
        )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    criteria_set = locked.criteria_set
    indicators = {i.pk: i for i in Indicator.objects.filter(criterion__criteria_set=criteria_set)}
    unknown = set(scores) - set(indicators)
    if unknown:
        raise DossierError(_("Some indicators do not belong to this assessment's criteria."))
    levels = [int(lv["number"]) for lv in criteria_set.levels or []] or [1, 2]
    parsed = {
        pk: _parse_value(raw, indicators[pk], criteria_set.method, max(levels))
        for pk, raw in scores.items()
    }
    existing = {s.indicator_id: s for s in IndicatorScore.objects.filter(assessment=locked)}
    levels_method = criteria_set.method == ScoringMethod.LEVELS
    for pk, value in parsed.items():
        row = existing.get(pk) or IndicatorScore(assessment=locked, indicator_id=pk)
        if levels_method:
            row.review_level = value
        else:
            row.review_points = value
        row.save()
        existing[pk] = row
    values: dict[int, Any] = {}
    for pk in indicators:
        found = existing.get(pk)
        if found is None:
            values[pk] = None
        elif levels_method:
            values[pk] = found.review_level if found.review_level is not None else found.self_level
        else:
            values[pk] = (
                found.review_points if found.review_points is not None else found.self_points
            )
    result = score(rule_from_set(criteria_set), values, locked.area_class)
    Assessment.objects.filter(pk=locked.pk).update(
        final_total=result.total,
        final_level=result.level,
        final_grade=result.grade,
        final_passed=result.passed,
        reviewed_by=_actor_or_none(actor),
        version=F("version") + 1,
    )
    locked.refresh_from_db()
    audit_record(
        actor=actor,
        action="assessment.review_score",
        obj=locked,
        tenant=locked.tenant,
        unit=dossier.reviewing_unit,
        after={
            "scores": {
                indicators[pk].code: (None if v is None else str(v)) for pk, v in parsed.items()
            },
            "final_total": None if result.total is None else str(result.total),
            "final_level": result.level,
            "final_passed": result.passed,
        },
    )
    return locked


@transaction.atomic
def dossier_return(
    *,
    actor: Any,
    dossier: Dossier,
    reason: str,
    expected_version: int | None = None,
    base_url: str = "",
) -> Dossier:
    """Return the whole dossier with a reason: it and every item still awaiting a
    decision go back to the ward (RETURNED); decided items keep their decision."""
    from recognition.notifications import notify_dossier

    text = nfc(reason)
    if not text:
        raise ReasonRequiredError()
    locked = lock_for_review(actor=actor, dossier=dossier, expected_version=expected_version)
    returned = apply_transition_many(
        queryset=Assessment.objects.filter(dossier=locked, status=A.SUBMITTED),
        transitions=ASSESSMENT_TRANSITIONS,
        action="return",
        actor=actor,
        role_unit=locked.reviewing_unit,
        changes={"return_reason": text, "reviewed_by": _actor_or_none(actor)},
        audit_after={"reason": text, "dossier": str(locked.public_id)},
    )
    result = apply_transition(
        obj=locked,
        transitions=DOSSIER_TRANSITIONS,
        action="return",
        actor=actor,
        role_unit=locked.reviewing_unit,
        changes={"return_reason": text, "reviewed_at": timezone.now()},
        audit_after={"reason": text, "items_returned": returned},
    )
    notify_dossier(
        dossier=result,
        event="returned",
        key=f"returned:{result.submission_count}",
        base_url=base_url,
    )
    return result


@transaction.atomic
def dossier_finish(
    *,
    actor: Any,
    dossier: Dossier,
    expected_version: int | None = None,
    base_url: str = "",
) -> Dossier:
    """End the review once every item is decided.

    All items approved or rejected: the dossier is APPROVED (reviewed). Some
    items returned: the dossier goes back to the ward (RETURNED) so it can fix
    them and resubmit; approved and rejected items keep their decision.
    """
    from recognition.notifications import notify_dossier

    locked = lock_for_review(actor=actor, dossier=dossier, expected_version=expected_version)
    counts = Counter(Assessment.objects.filter(dossier=locked).values_list("status", flat=True))
    waiting = counts[A.SUBMITTED]
    if waiting:
        raise ReviewNotFinishedError(ReviewNotFinishedError.default_message % {"count": waiting})
    summary = {
        "approved": counts[A.APPROVED],
        "rejected": counts[A.REJECTED],
        "returned": counts[A.RETURNED],
    }
    if counts[A.RETURNED]:
        text = ngettext(
            "%(count)s item was returned: see the reason given for it, fix it and resubmit.",
            "%(count)s items were returned: see the reason given for each, fix them and resubmit.",
            counts[A.RETURNED],
        ) % {"count": counts[A.RETURNED]}
        result = apply_transition(
            obj=locked,
            transitions=DOSSIER_TRANSITIONS,
            action="return",
            actor=actor,
            role_unit=locked.reviewing_unit,
            changes={"return_reason": text, "reviewed_at": timezone.now()},
            audit_after={"reason": text, **summary},
        )
        event = "returned"
    else:
        result = apply_transition(
            obj=locked,
            transitions=DOSSIER_TRANSITIONS,
            action="approve",
            actor=actor,
            role_unit=locked.reviewing_unit,
            changes={"return_reason": "", "reviewed_at": timezone.now()},
            audit_after=summary,
        )
        event = "reviewed"
    notify_dossier(
        dossier=result, event=event, key=f"{event}:{result.submission_count}", base_url=base_url
    )
    return result

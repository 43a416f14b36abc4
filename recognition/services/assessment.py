"""The self-assessment (tự đánh giá): scores per indicator, the computed result,
completion and copying last year's scores.

Status changes go through :func:`recognition.transitions.apply_transition`
("complete", "reopen"); scores are plain atomic writes with an audit event,
allowed only while the assessment is editable (``EDITABLE_ASSESSMENT_STATES``)
and the deadline lock of the "assessment" stage is open for the proposing unit.

Rules of the circulars, all read from the criteria set (no title is special-
cased here):

* TT 25/2023 (RULES.md §2.5): the commune self-assessment covers 01/01–31/12 of
  the year assessed, so an assessment cannot start before that year begins;
* TT 25/2023 (RULES.md §2.2): a subject recognised at mức độ 1 may seek mức độ 2
  only ``upgrade_after_months`` (12) months after the level-1 decision, so a
  computed level 2 is capped at 1 until then;
* TT 25/2023 Điều 5 khoản 4 (RULES.md §2.2): the recognition is kept for
  ``validity_years`` (3) years after the year recognised.
"""

from __future__ import annotations

import calendar
import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition import scoring
from recognition.exceptions import (
    AssessmentIncompleteError,
    AssessmentNotEditableError,
    AssessmentYearNotStartedError,
    CopyPreviousError,
    NoCriteriaSetError,
    RegistrationError,
    RoleNotAllowedError,
    ScoreError,
    TransitionError,
)
from recognition.locks import check_open
from recognition.models import (
    Assessment,
    AssessmentStatus,
    CriteriaSet,
    Evidence,
    Indicator,
    IndicatorScore,
    Registration,
    RegistrationStatus,
    ScoringMethod,
    Stage,
)
from recognition.models.config import AreaClass
from recognition.selectors.criteria import criteria_set_for
from recognition.titles import SUBJECT_FIELD, SubjectKind
from recognition.transitions import (
    ASSESSMENT_TRANSITIONS,
    EDITABLE_ASSESSMENT_STATES,
    WARD_AND_NEIGHBOURHOOD,
    apply_transition,
)
from units.models import AdministrativeUnit
from units.selectors import public_id_or_none, roles_at

TWO_PLACES = Decimal("0.01")

# --- Rules of the circulars ---------------------------------------------------------


def assessment_period(year: int) -> tuple[dt.date, dt.date]:
    """TT 25/2023 (RULES.md §2.5): the data cover 01/01 to 31/12 of the year assessed."""
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def recognition_valid_until(year: int, criteria_set: CriteriaSet) -> dt.date | None:
    """TT 25/2023 Điều 5 khoản 4: "Kết quả công nhận được bảo lưu trong thời hạn
    3 năm (36 tháng) tiếp theo năm được công nhận" — 31/12 of ``year`` +
    ``validity_years``; ``None`` when the set keeps no validity."""
    if not criteria_set.validity_years:
        return None
    return dt.date(year + criteria_set.validity_years, 12, 31)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` ahead (31/01 + 1 month = 28 or 29/02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class UpgradeCheck:
    """Whether the subject may be assessed above level 1 on a given day."""

    allowed: bool
    level1_decided_on: dt.date | None = None
    earliest: dt.date | None = None


def _same_subject(registration: Registration) -> dict[str, Any]:
    name = SUBJECT_FIELD[registration.subject_kind]
    return {f"{name}_id": getattr(registration, f"{name}_id")}


def decision_date(assessment: Assessment) -> dt.date:
    """When the assessment was recognised: the date of the issued decision
    whose annex holds it (recognition happens only through a decision). Older
    data recognised before decisions existed falls back to the time of its
    "assessment.recognise" audit event."""
    from recognition.models import DecisionItem, DecisionStatus

    issued_on = (
        DecisionItem.objects.filter(assessment=assessment, decision__status=DecisionStatus.ISSUED)
        .order_by("-decision__issued_on")
        .values_list("decision__issued_on", flat=True)
        .first()
    )
    if issued_on is not None:
        return issued_on
    event = (
        AuditEvent.objects.filter(
            object_type="recognition.assessment",
            object_id=str(assessment.public_id),
            action="assessment.recognise",
        )
        .order_by("-created_at")
        .first()
    )
    moment = event.created_at if event is not None else assessment.updated_at
    return timezone.localdate(moment)


def upgrade_allowed(
    *, registration: Registration, criteria_set: CriteriaSet, on: dt.date
) -> UpgradeCheck:
    """TT 25/2023 (RULES.md §2.2): a subject recognised at mức độ 1 may seek
    mức độ 2 only ``upgrade_after_months`` months after the level-1 decision.

    Looks at the subject's latest recognised assessment of the same title in an
    earlier year; if it was recognised at level 1, a higher level is allowed
    from the decision date plus the set's ``upgrade_after_months``.
    """
    months = criteria_set.upgrade_after_months
    if not months:
        return UpgradeCheck(allowed=True)
    previous = (
        Assessment.objects.filter(
            registration__title=registration.title,
            registration__year__lt=registration.year,
            registration__tenant_id=registration.tenant_id,
            status=AssessmentStatus.RECOGNISED,
            **{f"registration__{k}": v for k, v in _same_subject(registration).items()},
        )
        .order_by("-registration__year")
        .first()
    )
    if previous is None or previous.final_level != 1:
        return UpgradeCheck(allowed=True)
    decided = decision_date(previous)
    earliest = add_months(decided, months)
    return UpgradeCheck(allowed=on >= earliest, level1_decided_on=decided, earliest=earliest)


# --- Computing the result -----------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentResult:
    """The scoring result, with the level capped by the upgrade rule."""

    method: str
    total: Decimal | None
    level: int | None
    grade: str
    passed: bool | None
    complete: bool
    missing: tuple[str, ...] = ()
    below_minimum: tuple[str, ...] = ()
    threshold: Decimal | None = None
    uncapped_level: int | None = None
    cap_note: str = ""

    def as_audit(self) -> dict[str, Any]:
        return {
            "self_total": None if self.total is None else str(self.total),
            "self_level": self.level,
            "self_grade": self.grade,
            "self_passed": self.passed,
        }


def compute_result(
    assessment: Assessment, values: Mapping[int, Any], *, on: dt.date | None = None
) -> AssessmentResult:
    """Score ``values`` (indicator pk -> points or level) under the assessment's
    set; nothing is saved (the live preview uses this too)."""
    criteria_set = assessment.criteria_set
    rule = scoring.rule_from_set(criteria_set)
    result = scoring.score(rule, dict(values), assessment.area_class)
    level = result.level
    cap_note = ""
    if criteria_set.method == ScoringMethod.LEVELS and level is not None and level >= 2:
        check = upgrade_allowed(
            registration=assessment.registration,
            criteria_set=criteria_set,
            on=on or timezone.localdate(),
        )
        if not check.allowed and check.level1_decided_on and check.earliest:
            cap_note = _(
                "Recognised at level 1 on %(decided)s: level 2 may be sought only "
                "%(months)s months after that decision, from %(earliest)s (TT 25/2023). "
                "The result is kept at level 1."
            ) % {
                "decided": date_format(check.level1_decided_on, "d/m/Y"),
                "months": criteria_set.upgrade_after_months,
                "earliest": date_format(check.earliest, "d/m/Y"),
            }
            level = 1
    return AssessmentResult(
        method=criteria_set.method,
        total=result.total,
        level=level,
        grade=result.grade,
        passed=result.passed,
        complete=result.complete,
        missing=result.missing,
        below_minimum=result.below_minimum,
        threshold=scoring.threshold_for(rule, assessment.area_class),
        uncapped_level=result.level,
        cap_note=cap_note,
    )


def score_value(score: IndicatorScore, method: str) -> Any:
    return score.self_level if method == ScoringMethod.LEVELS else score.self_points


def saved_values(assessment: Assessment) -> dict[int, Any]:
    """Indicator pk -> the saved self-score."""
    method = assessment.criteria_set.method
    field_name = "self_level" if method == ScoringMethod.LEVELS else "self_points"
    return dict(assessment.scores.values_list("indicator_id", field_name))


# --- Parsing score values ---------------------------------------------------------------------


def max_level(criteria_set: CriteriaSet) -> int:
    numbers = [int(lv["number"]) for lv in criteria_set.levels or [] if "number" in lv]
    return max(numbers, default=2)


def _format_decimal(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


def parse_score(indicator: Indicator, raw: Any, *, method: str, top_level: int) -> Any:
    """One value as entered (text, number or ``None``): the points as a
    2-place ``Decimal``, the level as an ``int``, ``None`` for "not scored".
    Raises :class:`ScoreError` with a message naming the indicator."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ScoreError(
            _("Indicator %(code)s: “%(value)s” is not a number.")
            % {"code": indicator.code, "value": raw}
        )
    text = raw.strip().replace(" ", "").replace(",", ".") if isinstance(raw, str) else str(raw)
    if method == ScoringMethod.LEVELS:
        if not text.isdigit() or int(text) > top_level:
            raise ScoreError(
                _("Indicator %(code)s: choose a level from 0 to %(max)s.")
                % {"code": indicator.code, "max": top_level}
            )
        return int(text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ScoreError(
            _("Indicator %(code)s: “%(value)s” is not a number.")
            % {"code": indicator.code, "value": raw}
        )
    maximum = indicator.max_points
    if value < 0 or (maximum is not None and value > maximum):
        raise ScoreError(
            _("Indicator %(code)s: %(value)s is outside the range 0–%(max)s.")
            % {
                "code": indicator.code,
                "value": _format_decimal(value),
                "max": _format_decimal(maximum) if maximum is not None else "…",
            }
        )
    if value != value.quantize(TWO_PLACES):
        raise ScoreError(
            _("Indicator %(code)s: use at most 2 decimal places.") % {"code": indicator.code}
        )
    return value.quantize(TWO_PLACES)


def parse_scores(
    assessment: Assessment,
    values: Mapping[str, Any],
    indicators: Mapping[str, Indicator],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse every value; returns (parsed by indicator public id, errors by id)."""
    method = assessment.criteria_set.method
    top = max_level(assessment.criteria_set)
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, raw in values.items():
        indicator = indicators.get(str(key))
        if indicator is None:
            errors[str(key)] = _("Unknown indicator: %(id)s.") % {"id": key}
            continue
        try:
            parsed[str(key)] = parse_score(indicator, raw, method=method, top_level=top)
        except ScoreError as exc:
            errors[str(key)] = str(exc)
    return parsed, errors


# --- Guards ---------------------------------------------------------------------------------------


def require_ward_role(actor: Any, unit: AdministrativeUnit) -> None:
    """Scores and evidence are entered by the ward (or the neighbourhood lead of
    the subject's neighbourhood, or an administrator)."""
    if actor is not None and not (roles_at(actor, unit) & WARD_AND_NEIGHBOURHOOD):
        raise RoleNotAllowedError()


def check_deadline(assessment: Assessment) -> None:
    registration = assessment.registration
    check_open(
        unit=registration.proposing_unit,
        title=registration.title,
        year=registration.year,
        stage=Stage.ASSESSMENT,
    )


def lock_for_edit(
    *, actor: Any, assessment: Assessment, expected_version: int | None = None
) -> Assessment:
    """The assessment row locked for an edit of scores or evidence, or raise:
    wrong role (403), not editable (409), stale version (409), deadline (409)."""
    locked = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("registration__proposing_unit", "criteria_set", "unit")
        .get(pk=assessment.pk)
    )
    require_ward_role(actor, locked.unit)
    if locked.status not in EDITABLE_ASSESSMENT_STATES:
        raise AssessmentNotEditableError(
            AssessmentNotEditableError.default_message % {"status": locked.get_status_display()},
            current=locked.status,
        )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    check_deadline(locked)
    return locked


def _indicators_of(criteria_set: CriteriaSet) -> list[Indicator]:
    return list(
        Indicator.objects.filter(criterion__criteria_set=criteria_set)
        .select_related("criterion")
        .order_by("criterion__order", "order")
    )


def _nfc_text(value: Any) -> str:
    """Notes keep their line breaks; only the form and the ends are normalised."""
    return unicodedata.normalize("NFC", str(value or "")).strip()


def _save_result(
    assessment: Assessment, result: AssessmentResult, *, actor: Any, bump: bool = True
) -> None:
    fields: dict[str, Any] = {
        "self_total": result.total,
        "self_level": result.level,
        "self_grade": result.grade,
        "self_passed": result.passed,
        "assessed_by": actor if getattr(actor, "is_authenticated", False) else None,
        "updated_at": timezone.now(),
    }
    if bump:
        fields["version"] = F("version") + 1
    Assessment.objects.filter(pk=assessment.pk).update(**fields)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


# --- Start ------------------------------------------------------------------------------------------


def subject_unit_of(registration: Registration) -> AdministrativeUnit:
    """The unit the subject belongs to (the community itself for community titles)."""
    if registration.subject_kind == SubjectKind.UNIT and registration.subject_unit is not None:
        return registration.subject_unit
    return registration.unit


def scope_levels(registration: Registration) -> list[str]:
    """Which ``scope_level`` of criteria sets to look for, best first.

    A community is assessed at its own level (TT 25/2023: commune, district,
    province). Other subjects use the set without a level, unless a set is
    published for the level of the unit that manages them (e.g. Đơn vị học
    tập of a district under TT 24/2023).
    """
    level = subject_unit_of(registration).level
    if registration.subject_kind == SubjectKind.UNIT:
        return [level]
    return [level, ""]


def area_class_for(unit: AdministrativeUnit) -> str:
    """ "disadvantaged" when the unit or any ancestor is marked so (QĐ 244/QĐ-KHVN)."""
    ids = [*unit.ancestor_ids(), unit.pk]
    disadvantaged = AdministrativeUnit.objects.filter(pk__in=ids, is_disadvantaged=True).exists()
    return AreaClass.DISADVANTAGED if disadvantaged else AreaClass.NORMAL


@transaction.atomic
def assessment_start(
    *, actor: Any, registration: Registration, today: dt.date | None = None
) -> Assessment:
    """Open the self-assessment of a registration (one per registration; starting
    it again returns the existing one).

    Picks the published criteria set in force for the title, subject level and
    year; the assessment keeps that version for good. Creates one empty score
    row per indicator.
    """
    reg = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("unit", "proposing_unit", "subject_unit", "tenant")
        .get(pk=registration.pk)
    )
    require_ward_role(actor, reg.unit)
    existing = Assessment.objects.filter(registration=reg).first()
    if existing is not None:
        return existing
    if reg.status != RegistrationStatus.REGISTERED:
        raise RegistrationError(
            _("This registration was withdrawn: register the subject again to assess it.")
        )
    today = today or timezone.localdate()
    if reg.year > today.year:
        raise AssessmentYearNotStartedError(
            AssessmentYearNotStartedError.default_message % {"year": reg.year}
        )
    check_open(unit=reg.proposing_unit, title=reg.title, year=reg.year, stage=Stage.ASSESSMENT)
    criteria_set = None
    for level in scope_levels(reg):
        criteria_set = criteria_set_for(
            tenant=reg.tenant, title=reg.title, scope_level=level, year=reg.year
        )
        if criteria_set is not None:
            break
    if criteria_set is None:
        raise NoCriteriaSetError(
            NoCriteriaSetError.default_message
            % {"title": reg.get_title_display(), "year": reg.year}
        )
    assessment = Assessment.objects.create(
        tenant=reg.tenant,
        unit=reg.unit,
        registration=reg,
        criteria_set=criteria_set,
        area_class=area_class_for(subject_unit_of(reg)),
        assessed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    IndicatorScore.objects.bulk_create(
        [
            IndicatorScore(assessment=assessment, indicator=indicator)
            for indicator in _indicators_of(criteria_set)
        ]
    )
    audit_record(
        actor=actor,
        action="assessment.start",
        obj=assessment,
        tenant=reg.tenant,
        unit=reg.unit,
        after={
            "status": assessment.status,
            "criteria_set": f"{criteria_set.code} v{criteria_set.version}",
            "area_class": assessment.area_class,
        },
    )
    return assessment


# --- Scores -------------------------------------------------------------------------------------------


@transaction.atomic
def assessment_save_scores(
    *,
    actor: Any,
    assessment: Assessment,
    expected_version: int,
    values: Mapping[str, Any],
    notes: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
) -> Assessment:
    """Save self-scores (indicator public id -> points or level; empty clears)
    and notes, all or nothing.

    Every value is checked first (points 0 ≤ v ≤ max with at most 2 decimals;
    levels 0..the set's highest level); one bad value refuses the whole save
    with a :class:`ScoreError` naming each indicator (``errors`` maps indicator
    public ids to messages) and leaves the saved scores as they were. Then the
    result is recomputed and the version bumped (a stale ``expected_version``
    raises :class:`ConcurrentEditError`).
    """
    locked = lock_for_edit(actor=actor, assessment=assessment, expected_version=expected_version)
    method = locked.criteria_set.method
    scores = list(locked.scores.select_related("indicator"))
    by_id = {str(s.indicator.public_id): s for s in scores}
    indicators = {key: s.indicator for key, s in by_id.items()}
    parsed, errors = parse_scores(locked, values, indicators)
    note_values: dict[str, str] = {}
    for key, raw in (notes or {}).items():
        if str(key) not in by_id:
            errors.setdefault(str(key), _("Unknown indicator: %(id)s.") % {"id": key})
        else:
            note_values[str(key)] = _nfc_text(raw)[:2000]
    if errors:
        ordered = [errors[k] for k in [*by_id, *errors] if k in errors]
        raise ScoreError(" ".join(dict.fromkeys(ordered)), errors=errors)
    score_field = "self_level" if method == ScoringMethod.LEVELS else "self_points"
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    changed: list[IndicatorScore] = []
    for key, score in by_id.items():
        dirty = False
        if key in parsed and getattr(score, score_field) != parsed[key]:
            before[score.indicator.code] = _plain(getattr(score, score_field))
            after[score.indicator.code] = _plain(parsed[key])
            setattr(score, score_field, parsed[key])
            dirty = True
        if key in note_values and score.note != note_values[key]:
            dirty = True
            score.note = note_values[key]
            after.setdefault(f"{score.indicator.code} ({_('note')})", score.note[:200])
        if dirty:
            changed.append(score)
    if not changed:
        return locked
    IndicatorScore.objects.bulk_update(changed, [score_field, "note"])
    old_result = {
        "self_total": _plain(locked.self_total),
        "self_level": locked.self_level,
        "self_passed": locked.self_passed,
    }
    values_by_pk = {s.indicator_id: getattr(s, score_field) for s in scores}
    result = compute_result(locked, values_by_pk, on=today)
    _save_result(locked, result, actor=actor)
    audit_record(
        actor=actor,
        action="assessment.scores",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.unit,
        before={"scores": before, **old_result},
        after={"scores": after, **result.as_audit()},
    )
    locked.refresh_from_db()
    return locked


# --- Completion -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completeness:
    unscored: list[str] = field(default_factory=list)
    missing_evidence: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unscored and not self.missing_evidence

    def message(self) -> str:
        parts = []
        if self.unscored:
            parts.append(
                _("indicators without a score: %(codes)s") % {"codes": ", ".join(self.unscored)}
            )
        if self.missing_evidence:
            parts.append(
                _("indicators that need an evidence file: %(codes)s")
                % {"codes": ", ".join(self.missing_evidence)}
            )
        return "; ".join(parts)


def completeness(assessment: Assessment) -> Completeness:
    """What still stops the assessment from being complete (two queries)."""
    method = assessment.criteria_set.method
    scores = list(
        assessment.scores.select_related("indicator__criterion").order_by(
            "indicator__criterion__order", "indicator__order"
        )
    )
    with_evidence = set(
        Evidence.objects.filter(assessment=assessment).values_list("indicator_id", flat=True)
    )
    return Completeness(
        unscored=[s.indicator.code for s in scores if score_value(s, method) is None],
        missing_evidence=[
            s.indicator.code
            for s in scores
            if s.indicator.evidence_required and s.indicator_id not in with_evidence
        ],
    )


def _lock_for_transition(
    *, actor: Any, assessment: Assessment, action: str, expected_version: int | None
) -> Assessment:
    locked = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("registration__proposing_unit", "criteria_set", "unit")
        .get(pk=assessment.pk)
    )
    require_ward_role(actor, locked.unit)
    if locked.status not in ASSESSMENT_TRANSITIONS[action].sources:
        raise TransitionError(
            TransitionError.default_message % {"status": locked.get_status_display()},
            current=locked.status,
        )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    check_deadline(locked)
    return locked


@transaction.atomic
def assessment_complete(
    *,
    actor: Any,
    assessment: Assessment,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> Assessment:
    """DRAFT/RETURNED → READY: every indicator scored and every indicator that
    requires evidence has a file; otherwise :class:`AssessmentIncompleteError`
    lists them and nothing changes."""
    locked = _lock_for_transition(
        actor=actor, assessment=assessment, action="complete", expected_version=expected_version
    )
    gaps = completeness(locked)
    if not gaps.ok:
        raise AssessmentIncompleteError(
            AssessmentIncompleteError.default_message % {"problems": gaps.message()},
            unscored=gaps.unscored,
            missing_evidence=gaps.missing_evidence,
        )
    result = compute_result(locked, saved_values(locked), on=today)
    changes = {
        "self_total": result.total,
        "self_level": result.level,
        "self_grade": result.grade,
        "self_passed": result.passed,
        "return_reason": "",
    }
    return apply_transition(
        obj=locked,
        transitions=ASSESSMENT_TRANSITIONS,
        action="complete",
        actor=actor,
        role_unit=locked.unit,
        expected_version=expected_version,
        changes=changes,
        audit_after=result.as_audit(),
    )


@transaction.atomic
def assessment_reopen(
    *, actor: Any, assessment: Assessment, expected_version: int | None = None
) -> Assessment:
    """READY → DRAFT, to change scores or evidence before the dossier is submitted."""
    locked = _lock_for_transition(
        actor=actor, assessment=assessment, action="reopen", expected_version=expected_version
    )
    return apply_transition(
        obj=locked,
        transitions=ASSESSMENT_TRANSITIONS,
        action="reopen",
        actor=actor,
        role_unit=locked.unit,
        expected_version=expected_version,
    )


# --- Copy from last year -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyReport:
    source: Assessment
    copied: list[str]
    skipped: list[tuple[str, str]]  # (indicator code, why)

    def message(self) -> str:
        text = _("Copied %(n)s scores from %(year)s.") % {
            "n": len(self.copied),
            "year": self.source.registration.year,
        }
        if self.skipped:
            text += " " + _("Not copied: %(list)s.") % {
                "list": "; ".join(f"{code} ({why})" for code, why in self.skipped)
            }
        return text


def previous_assessment(assessment: Assessment) -> Assessment | None:
    """The same subject's assessment for the same title in the year before."""
    registration = assessment.registration
    return (
        Assessment.objects.filter(
            tenant_id=assessment.tenant_id,
            registration__title=registration.title,
            registration__year=registration.year - 1,
            **{f"registration__{k}": v for k, v in _same_subject(registration).items()},
        )
        .select_related("criteria_set", "registration")
        .first()
    )


@transaction.atomic
def assessment_copy_previous(
    *,
    actor: Any,
    assessment: Assessment,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> CopyReport:
    """Copy last year's self-scores of the same subject and title into the
    indicators that are still unscored, matching indicators by code (the same
    set version, or a new version keeping the codes).

    Scores already entered this year are kept. The report lists what could not
    be copied and why (not in last year's set, not scored last year, outside
    this year's range).
    """
    locked = lock_for_edit(actor=actor, assessment=assessment, expected_version=expected_version)
    source = previous_assessment(locked)
    year = locked.registration.year - 1
    if source is None:
        raise CopyPreviousError(
            _("There is no assessment of %(year)s for this subject and title to copy from.")
            % {"year": year}
        )
    method = locked.criteria_set.method
    if source.criteria_set.method != method:
        raise CopyPreviousError(
            _(
                "Last year's assessment was scored by another method (%(old)s): "
                "its scores cannot be copied."
            )
            % {"old": source.criteria_set.get_method_display()}
        )
    old = {
        s.indicator.code: score_value(s, method) for s in source.scores.select_related("indicator")
    }
    top = max_level(locked.criteria_set)
    scores = list(
        locked.scores.select_related("indicator").order_by(
            "indicator__criterion__order", "indicator__order"
        )
    )
    score_field = "self_level" if method == ScoringMethod.LEVELS else "self_points"
    copied: list[str] = []
    skipped: list[tuple[str, str]] = []
    changed: list[IndicatorScore] = []
    for score in scores:
        code = score.indicator.code
        if getattr(score, score_field) is not None:
            skipped.append((code, _("already scored this year, kept")))
        elif code not in old:
            skipped.append((code, _("not in last year's criteria")))
        elif old[code] is None:
            skipped.append((code, _("not scored last year")))
        else:
            try:
                value = parse_score(score.indicator, old[code], method=method, top_level=top)
            except ScoreError:
                skipped.append((code, _("outside this year's range")))
                continue
            setattr(score, score_field, value)
            changed.append(score)
            copied.append(code)
    if not copied:
        raise CopyPreviousError(
            _("Nothing could be copied from %(year)s: %(list)s.")
            % {"year": year, "list": "; ".join(f"{c} ({why})" for c, why in skipped)}
        )
    IndicatorScore.objects.bulk_update(changed, [score_field])
    result = compute_result(
        locked, {s.indicator_id: getattr(s, score_field) for s in scores}, on=today
    )
    _save_result(locked, result, actor=actor)
    audit_record(
        actor=actor,
        action="assessment.copy_previous",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.unit,
        before={"scores": {code: None for code in copied}},
        after={
            "scores": {s.indicator.code: _plain(getattr(s, score_field)) for s in changed},
            "from_year": year,
            **result.as_audit(),
        },
    )
    return CopyReport(source=source, copied=copied, skipped=skipped)


def indicator_by_public_id(assessment: Assessment, public_id: Any) -> Indicator | None:
    """An indicator of the assessment's set, or ``None`` (malformed ids included)."""
    value = public_id_or_none(public_id)
    if value is None:
        return None
    return (
        Indicator.objects.filter(
            criterion__criteria_set_id=assessment.criteria_set_id, public_id=value
        )
        .select_related("criterion")
        .first()
    )

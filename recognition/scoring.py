"""Scoring, both methods data-driven (no title is special-cased in code).

Points (QĐ 244/QĐ-KHVN, QĐ 448/QĐ-KHVN, TT 22/2020): the total of the
indicator points; the subject passes when the total reaches the set's
threshold for its area class (≥ 80, or ≥ 70 in disadvantaged areas for
Công dân học tập) and no indicator is below its minimum (QĐ 244: "không có
chỉ số nào đạt điểm dưới 5"); optional grade bands name the result (TT 22/2020:
Tốt ≥ 85, Khá ≥ 70, Trung bình ≥ 50, otherwise Không đạt).

Levels (TT 24/2023, TT 25/2023): each indicator states a requirement per level
(mức độ 1, mức độ 2); an indicator without its own requirement at a level is
held to its requirement at the highest lower level. The subject reaches the
highest level whose requirements all hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class IndicatorRule:
    """What scoring needs of one indicator."""

    key: Any
    code: str
    max_points: Decimal | None = None
    min_points: Decimal | None = None
    requirement_levels: frozenset[int] = frozenset()


@dataclass(frozen=True)
class SetRule:
    """What scoring needs of one criteria set."""

    method: str
    indicators: Sequence[IndicatorRule]
    pass_thresholds: Mapping[str, Any] = field(default_factory=dict)
    min_indicator_points: Decimal | None = None
    grade_bands: Sequence[Mapping[str, Any]] = ()
    levels: Sequence[int] = (1, 2)


@dataclass(frozen=True)
class Result:
    total: Decimal | None
    passed: bool | None
    level: int | None
    grade: str
    complete: bool
    below_minimum: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


def _dec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def threshold_for(rule: SetRule, area_class: str) -> Decimal | None:
    """The pass threshold for an area class (falls back to ``normal``)."""
    value = rule.pass_thresholds.get(area_class, rule.pass_thresholds.get("normal"))
    return _dec(value)


def grade_for(rule: SetRule, total: Decimal) -> str:
    """The code of the highest band whose minimum the total reaches ("" below
    every band: TT 22/2020 calls that "Không đạt")."""
    for band in sorted(rule.grade_bands, key=lambda b: Decimal(str(b["min"])), reverse=True):
        if total >= Decimal(str(band["min"])):
            return str(band.get("code") or band.get("label") or "")
    return ""


def score_points(
    rule: SetRule, points: Mapping[Any, Decimal | None], area_class: str = "normal"
) -> Result:
    """Total, pass/fail and grade for the points method.

    Unscored indicators count as missing: the result is then incomplete, not
    passed and without a grade. An indicator below its own minimum (or, when
    it has none, the set's) fails the subject whatever its total, and leaves
    it without a grade.
    """
    missing = tuple(i.code for i in rule.indicators if points.get(i.key) is None)
    total = sum(
        (Decimal(points[i.key] or 0) for i in rule.indicators if points.get(i.key) is not None),
        Decimal(0),
    )
    below: list[str] = []
    for indicator in rule.indicators:
        value = points.get(indicator.key)
        if value is None:
            continue
        minimum = (
            indicator.min_points if indicator.min_points is not None else rule.min_indicator_points
        )
        if minimum is not None and Decimal(value) < minimum:
            below.append(indicator.code)
    threshold = threshold_for(rule, area_class)
    complete = not missing
    passed: bool | None
    if not complete or below:
        passed = False
    elif threshold is None:
        passed = None  # the set has no threshold yet (draft): no verdict
    else:
        passed = total >= threshold
    return Result(
        total=total,
        passed=passed,
        level=None,
        grade=grade_for(rule, total) if complete and not below else "",
        complete=complete,
        below_minimum=tuple(below),
        missing=missing,
    )


def required_level(indicator: IndicatorRule, level: int) -> int | None:
    """The requirement an indicator is held to at ``level`` (None: nothing asked)."""
    lower = [n for n in indicator.requirement_levels if n <= level]
    return max(lower) if lower else None


def reach_level(rule: SetRule, achieved: Mapping[Any, int | None]) -> Result:
    """The highest level whose requirements all hold (0 when level 1 fails)."""
    missing = tuple(i.code for i in rule.indicators if achieved.get(i.key) is None)
    reached = 0
    for level in sorted(rule.levels):
        ok = True
        for indicator in rule.indicators:
            need = required_level(indicator, level)
            if need is None:
                continue
            got = achieved.get(indicator.key)
            if got is None or got < need:
                ok = False
                break
        if not ok:
            break
        reached = level
    return Result(
        total=None,
        passed=reached >= 1 and not missing,
        level=reached if not missing else 0,
        grade="",
        complete=not missing,
        missing=missing,
    )


def requirement_levels(requirements: Mapping[str, Any] | None) -> frozenset[int]:
    """The levels at which an indicator states a requirement: keys that are
    level numbers with a non-blank text (a blank level-2 text asks nothing)."""
    levels: set[int] = set()
    for key, text in (requirements or {}).items():
        if str(key).isdigit() and str(text or "").strip():
            levels.add(int(key))
    return frozenset(levels)


def rule_from_set(criteria_set: Any) -> SetRule:
    """Build the scoring rule of a :class:`~recognition.models.CriteriaSet`."""
    from recognition.models import Indicator

    indicators = [
        IndicatorRule(
            key=ind.pk,
            code=ind.code,
            max_points=ind.max_points,
            min_points=ind.min_points,
            requirement_levels=requirement_levels(ind.requirements),
        )
        for ind in Indicator.objects.filter(criterion__criteria_set=criteria_set).order_by(
            "criterion__order", "order"
        )
    ]
    return SetRule(
        method=criteria_set.method,
        indicators=indicators,
        pass_thresholds=criteria_set.pass_thresholds or {},
        min_indicator_points=criteria_set.min_indicator_points,
        grade_bands=criteria_set.grade_bands or [],
        levels=tuple(int(lv["number"]) for lv in criteria_set.levels or []) or (1, 2),
    )


def _level(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def score(rule: SetRule, values: Mapping[Any, Any], area_class: str = "normal") -> Result:
    """Dispatch on the set's method: ``values`` are points or achieved levels
    (``None`` or ``""`` for an indicator not scored yet)."""
    if rule.method == "levels":
        return reach_level(rule, {k: _level(v) for k, v in values.items()})
    return score_points(rule, {k: _dec(v) for k, v in values.items()}, area_class)

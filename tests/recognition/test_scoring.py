"""Scoring, both methods: property-based tests (hypothesis) and the rules of
the circulars as examples.

Points: QĐ 244/QĐ-KHVN — ≥ 80, or ≥ 70 in disadvantaged areas, no indicator
below 5 (RULES.md §4.4); TT 22/2020 bands Tốt 85 / Khá 70 / Trung bình 50
(§3.3). Levels: TT 25/2023 — the highest level whose requirements all hold;
an indicator without its own level-2 requirement is held to level 1 (§2.3).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from recognition.scoring import (
    IndicatorRule,
    Result,
    SetRule,
    grade_for,
    reach_level,
    required_level,
    requirement_levels,
    rule_from_set,
    score,
    score_points,
    threshold_for,
)

HALF = Decimal("0.5")

# --- Strategies ------------------------------------------------------------------------


def _halves(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    """Point values in steps of 0.5 between ``low`` and ``high``."""
    return st.integers(int(low * 2), int(high * 2)).map(lambda n: Decimal(n) / 2)


@st.composite
def points_rules(draw: Any, *, with_bands: bool = False) -> SetRule:
    count = draw(st.integers(1, 8))
    indicators = []
    for n in range(count):
        maximum = Decimal(draw(st.integers(1, 30)))
        own_min = draw(st.none() | _halves(Decimal(0), maximum))
        indicators.append(
            IndicatorRule(key=n, code=f"I{n}", max_points=maximum, min_points=own_min)
        )
    total = sum((i.max_points or Decimal(0) for i in indicators), Decimal(0))
    normal = draw(_halves(Decimal(0), total))
    thresholds: dict[str, Any] = {"normal": normal}
    if draw(st.booleans()):
        thresholds["disadvantaged"] = draw(_halves(Decimal(0), normal))
    bands: list[dict[str, Any]] = []
    if with_bands:
        minima = draw(st.lists(st.integers(0, int(total)), min_size=1, max_size=4, unique=True))
        bands = [{"code": f"b{m}", "label": f"Hạng {m}", "min": m} for m in minima]
    return SetRule(
        method="points",
        indicators=indicators,
        pass_thresholds=thresholds,
        min_indicator_points=draw(st.none() | _halves(Decimal(0), Decimal(5))),
        grade_bands=bands,
    )


@st.composite
def points_and_values(
    draw: Any, *, with_bands: bool = False, complete: bool = True
) -> tuple[SetRule, dict[int, Decimal | None]]:
    rule = draw(points_rules(with_bands=with_bands))
    values: dict[int, Decimal | None] = {}
    for indicator in rule.indicators:
        value = draw(_halves(Decimal(0), indicator.max_points or Decimal(0)))
        values[indicator.key] = value if complete or draw(st.booleans()) else None
    return rule, values


@st.composite
def level_rules(draw: Any) -> SetRule:
    top = draw(st.integers(1, 3))
    levels = tuple(range(1, top + 1))
    indicators = []
    for n in range(draw(st.integers(1, 8))):
        stated = draw(st.sets(st.sampled_from(levels), max_size=top))
        indicators.append(IndicatorRule(key=n, code=f"I{n}", requirement_levels=frozenset(stated)))
    return SetRule(method="levels", indicators=indicators, levels=levels)


@st.composite
def levels_and_values(draw: Any) -> tuple[SetRule, dict[int, int | None]]:
    rule = draw(level_rules())
    top = max(rule.levels)
    values = {i.key: draw(st.integers(0, top)) for i in rule.indicators}
    return rule, values


def _rank(rule: SetRule, grade: str) -> int:
    """Position of a grade among the bands, lowest first (0 = no band)."""
    ordered = sorted(rule.grade_bands, key=lambda b: Decimal(str(b["min"])))
    codes = [str(b["code"]) for b in ordered]
    return codes.index(grade) + 1 if grade in codes else 0


def _verdict(result: Result) -> int:
    return {False: 0, None: 1, True: 2}[result.passed]


# --- Points: properties ------------------------------------------------------------------


@given(points_and_values(complete=False))
def test_total_is_the_sum_of_the_scored_indicators(case: Any) -> None:
    rule, values = case
    result = score_points(rule, values)
    assert result.total == sum((v for v in values.values() if v is not None), Decimal(0))


@given(points_and_values(with_bands=True, complete=False))
def test_missing_indicators_never_pass_and_get_no_grade(case: Any) -> None:
    rule, values = case
    assume(any(v is None for v in values.values()))
    for area in ("normal", "disadvantaged"):
        result = score_points(rule, values, area)
        assert result.passed is False
        assert result.complete is False
        assert result.grade == ""
        assert set(result.missing) == {i.code for i in rule.indicators if values[i.key] is None}


@given(points_and_values())
def test_threshold_depends_on_the_area_class(case: Any) -> None:
    rule, values = case
    for area in ("normal", "disadvantaged"):
        result = score_points(rule, values, area)
        expected = Decimal(str(rule.pass_thresholds.get(area, rule.pass_thresholds["normal"])))
        assert threshold_for(rule, area) == expected
        if not result.below_minimum:
            assert result.passed is (result.total >= expected)


@given(points_and_values())
def test_passing_in_a_normal_area_means_passing_in_a_disadvantaged_one(case: Any) -> None:
    """The disadvantaged threshold is never above the normal one (QĐ 244: 70 ≤ 80)."""
    rule, values = case
    if score_points(rule, values, "normal").passed:
        assert score_points(rule, values, "disadvantaged").passed


@given(points_and_values())
def test_an_indicators_own_minimum_overrides_the_sets(case: Any) -> None:
    rule, values = case
    result = score_points(rule, values)
    expected = []
    for indicator in rule.indicators:
        minimum = (
            indicator.min_points if indicator.min_points is not None else rule.min_indicator_points
        )
        if minimum is not None and values[indicator.key] < minimum:
            expected.append(indicator.code)
    assert list(result.below_minimum) == expected
    if expected:
        assert result.passed is False
        assert result.grade == ""


@given(points_and_values(with_bands=True))
def test_the_grade_is_the_highest_band_reached(case: Any) -> None:
    rule, values = case
    result = score_points(rule, values)
    assume(not result.below_minimum)
    reached = [b for b in rule.grade_bands if result.total >= Decimal(str(b["min"]))]
    if reached:
        best = max(reached, key=lambda b: Decimal(str(b["min"])))
        assert result.grade == best["code"]
    else:
        assert result.grade == ""


@given(points_rules(with_bands=True), st.data())
def test_grade_bands_are_monotonic_in_the_total(rule: SetRule, data: Any) -> None:
    total = sum((i.max_points or Decimal(0) for i in rule.indicators), Decimal(0))
    low = data.draw(_halves(Decimal(0), total))
    high = data.draw(_halves(low, total))
    assert _rank(rule, grade_for(rule, low)) <= _rank(rule, grade_for(rule, high))


@given(points_and_values(with_bands=True), st.data())
def test_raising_one_indicator_never_lowers_the_result(case: Any, data: Any) -> None:
    rule, values = case
    indicator = data.draw(st.sampled_from(list(rule.indicators)))
    current = values[indicator.key]
    raised = dict(values)
    raised[indicator.key] = data.draw(_halves(current, indicator.max_points))
    area = data.draw(st.sampled_from(["normal", "disadvantaged"]))
    before, after = score_points(rule, values, area), score_points(rule, raised, area)
    assert after.total >= before.total
    assert _verdict(after) >= _verdict(before)
    assert _rank(rule, after.grade) >= _rank(rule, before.grade)
    assert set(after.below_minimum) <= set(before.below_minimum)


@given(points_and_values(complete=False), st.data())
def test_scoring_a_missing_indicator_never_lowers_the_result(case: Any, data: Any) -> None:
    rule, values = case
    missing = [i for i in rule.indicators if values[i.key] is None]
    assume(missing)
    indicator = data.draw(st.sampled_from(missing))
    filled = dict(values)
    filled[indicator.key] = data.draw(_halves(Decimal(0), indicator.max_points))
    assert _verdict(score_points(rule, filled)) >= _verdict(score_points(rule, values))


@given(points_and_values())
def test_score_dispatches_points_and_accepts_text_values(case: Any) -> None:
    rule, values = case
    as_text = {k: (None if v is None else str(v)) for k, v in values.items()}
    assert score(rule, as_text) == score_points(rule, values)


# --- Points: the circulars as examples -------------------------------------------------------


def _qd244() -> SetRule:
    return SetRule(
        method="points",
        indicators=[
            IndicatorRule(key=n, code=f"CS{n + 1}", max_points=Decimal(10)) for n in range(10)
        ],
        pass_thresholds={"normal": 80, "disadvantaged": 70},
        min_indicator_points=Decimal(5),
    )


def _values(points: list[Any]) -> dict[int, Any]:
    return dict(enumerate(points))


def test_qd244_eighty_points_pass_seventy_only_in_disadvantaged_areas() -> None:
    rule = _qd244()
    eighty = _values([8] * 10)
    seventy_five = _values([8] * 5 + [7] * 5)
    assert score(rule, eighty, "normal").passed is True
    assert score(rule, seventy_five, "normal").passed is False
    assert score(rule, seventy_five, "disadvantaged").passed is True
    assert score(rule, _values([7] * 10), "disadvantaged").passed is True
    assert score(rule, _values([7] * 9 + [6]), "disadvantaged").passed is False


def test_qd244_no_indicator_below_five_whatever_the_total() -> None:
    rule = _qd244()
    result = score(rule, _values([10] * 9 + [4]), "normal")
    assert result.total == 94
    assert result.passed is False
    assert result.below_minimum == ("CS10",)
    assert score(rule, _values([10] * 9 + [5]), "normal").passed is True


def test_qd244_a_missing_indicator_fails_even_above_the_threshold() -> None:
    rule = _qd244()
    result = score(rule, _values([10] * 9 + [None]), "normal")
    assert result.total == 90 and result.passed is False
    assert result.complete is False and result.missing == ("CS10",)
    assert score(rule, _values([10] * 9 + [""]), "normal").missing == ("CS10",)


def test_tt22_bands_and_not_achieved_below_fifty() -> None:
    rule = SetRule(
        method="points",
        indicators=[IndicatorRule(key=0, code="1", max_points=Decimal(100))],
        pass_thresholds={"normal": 50},
        grade_bands=[
            {"code": "tot", "label": "Tốt", "min": 85},
            {"code": "kha", "label": "Khá", "min": 70},
            {"code": "trung_binh", "label": "Trung bình", "min": 50},
        ],
    )
    cases = {"100": "tot", "85": "tot", "84.99": "kha", "70": "kha", "69.5": "trung_binh"}
    for points, grade in cases.items():
        result = score(rule, {0: points})
        assert (result.grade, result.passed) == (grade, True), points
    below = score(rule, {0: "49.5"})
    assert (below.grade, below.passed) == ("", False)


def test_no_threshold_gives_no_verdict_but_a_minimum_still_fails() -> None:
    rule = SetRule(
        method="points",
        indicators=[
            IndicatorRule(key=0, code="1.1", max_points=Decimal(10), min_points=Decimal(3))
        ],
    )
    assert score(rule, {0: 9}).passed is None
    assert score(rule, {0: 2}).passed is False


# --- Levels: properties ------------------------------------------------------------------------


def _reference_level(rule: SetRule, values: dict[int, int | None]) -> int:
    """The highest level L such that every level up to L holds, written plainly."""

    def holds(level: int) -> bool:
        for indicator in rule.indicators:
            stated = [n for n in indicator.requirement_levels if n <= level]
            if stated and (values[indicator.key] or 0) < max(stated):
                return False
        return True

    reached = 0
    for level in sorted(rule.levels):
        if not holds(level):
            break
        reached = level
    return reached


@given(levels_and_values())
def test_the_level_is_the_highest_whose_requirements_all_hold(case: Any) -> None:
    rule, values = case
    result = reach_level(rule, values)
    assert result.level == _reference_level(rule, values)
    assert result.level in {0, *rule.levels}
    assert result.passed is (result.level >= 1)


@given(levels_and_values())
def test_a_reached_level_holds_at_every_lower_level(case: Any) -> None:
    rule, values = case
    reached = reach_level(rule, values).level or 0
    for level in range(1, reached + 1):
        for indicator in rule.indicators:
            need = required_level(indicator, level)
            if need is not None:
                assert (values[indicator.key] or 0) >= need


@given(level_rules(), st.data())
def test_an_indicator_without_a_higher_requirement_is_held_to_its_lower_one(
    rule: SetRule, data: Any
) -> None:
    """TT 25/2023: only criteria 4 and 5 are stricter at level 2; the others keep
    their level-1 requirement, which they must still meet at level 2."""
    assume(len(rule.levels) >= 2)
    only_one = IndicatorRule(key="x", code="X", requirement_levels=frozenset({1}))
    extended = SetRule(method="levels", indicators=[*rule.indicators, only_one], levels=rule.levels)
    top = max(rule.levels)
    everything = {i.key: top for i in rule.indicators}
    assert reach_level(extended, {**everything, "x": 1}).level == top
    assert reach_level(extended, {**everything, "x": 0}).level == 0
    for level in rule.levels:
        assert required_level(only_one, level) == 1


@given(levels_and_values(), st.data())
def test_missing_indicators_never_reach_a_level(case: Any, data: Any) -> None:
    rule, values = case
    gone = data.draw(st.sampled_from(list(rule.indicators)))
    result = reach_level(rule, {**values, gone.key: None})
    assert result.level == 0 and result.passed is False and result.complete is False
    assert gone.code in result.missing


@given(levels_and_values(), st.data())
def test_raising_one_indicator_never_lowers_the_level(case: Any, data: Any) -> None:
    rule, values = case
    indicator = data.draw(st.sampled_from(list(rule.indicators)))
    raised = {**values, indicator.key: data.draw(st.integers(values[indicator.key] or 0, 3))}
    assert (reach_level(rule, raised).level or 0) >= (reach_level(rule, values).level or 0)


@given(level_rules())
def test_meeting_the_top_level_everywhere_reaches_the_top_level(rule: SetRule) -> None:
    top = max(rule.levels)
    assert reach_level(rule, {i.key: top for i in rule.indicators}).level == top


@settings(max_examples=50)
@given(levels_and_values())
def test_score_dispatches_levels_and_accepts_text_values(case: Any) -> None:
    rule, values = case
    as_text = {k: str(v) for k, v in values.items()}
    assert score(rule, as_text) == reach_level(rule, values)


def test_tt25_two_levels_example() -> None:
    """Level 1 needs every indicator's level-1 requirement; level 2 the stricter
    requirement where there is one."""
    rule = SetRule(
        method="levels",
        indicators=[
            IndicatorRule(key="1.1", code="1.1", requirement_levels=frozenset({1})),
            IndicatorRule(key="4.1", code="4.1", requirement_levels=frozenset({1, 2})),
        ],
        levels=(1, 2),
    )
    assert score(rule, {"1.1": 1, "4.1": 2}).level == 2
    assert score(rule, {"1.1": 1, "4.1": 1}).level == 1
    assert score(rule, {"1.1": 0, "4.1": 2}).level == 0
    assert score(rule, {"1.1": 1, "4.1": ""}).level == 0


def test_requirement_levels_ignore_blank_texts_and_other_keys() -> None:
    assert requirement_levels({"1": "Có kế hoạch", "2": "  ", "x": "?"}) == frozenset({1})
    assert requirement_levels(None) == frozenset()


# --- Building the rule from a set ------------------------------------------------------------


@pytest.mark.django_db
def test_rule_from_set_reads_the_set_in_order() -> None:
    from tests.recognition.conftest import make_levels_set, make_points_set

    points = rule_from_set(make_points_set())
    assert [i.code for i in points.indicators] == ["1.1", "2.1", "2.2"]
    assert points.pass_thresholds == {"normal": 80, "disadvantaged": 70}
    assert points.min_indicator_points == 5
    levels = rule_from_set(make_levels_set())
    assert levels.levels == (1, 2)
    assert [i.requirement_levels for i in levels.indicators] == [
        frozenset({1}),
        frozenset({1, 2}),
    ]

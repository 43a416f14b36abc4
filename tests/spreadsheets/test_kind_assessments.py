"""Self-assessment results through the import engine: columns from the criteria set,
scores checked as the form checks them, locked assessments, scope, all or nothing,
round trip."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from recognition.models import (
    Assessment,
    AssessmentStatus,
    Household,
    IndicatorScore,
    Registration,
)
from recognition.titles import SubjectKind, Title
from reports.models import Rollup
from reports.services import rollups_rebuild
from spreadsheets.engine import run_import
from spreadsheets.exceptions import FileRejected
from spreadsheets.kinds.assessments import AssessmentKind
from spreadsheets.kinds.base import ImportContext
from spreadsheets.kinds.subjects import HouseholdKind
from tests.recognition.assessment_support import save, start
from tests.recognition.conftest import make_household, make_points_set, register_household
from tests.spreadsheets.support import import_file, xlsx_bytes

pytestmark = pytest.mark.django_db

YEAR = 2025
OPTIONS = {"title": Title.FAMILY, "year": YEAR}
KEY_HEADERS = [
    "Mã hộ / Mã đơn vị / Số CCCD",
    "Tên (dòng họ, cơ quan, công dân)",
    "Năm sinh",
    "Mã đơn vị quản lý",
]
HEADERS = [
    *KEY_HEADERS,
    "1.1 Trẻ em đến trường",
    "2.1 Người lớn biết chữ",
    "2.2 Người lớn học thêm",
]


@pytest.fixture
def world(cast):
    points_set = make_points_set()
    households = [make_household(cast) for _ in range(3)]
    registrations = [register_household(cast, h) for h in households]
    other = make_household(cast, unit=cast.other_neighbourhood)
    register_household(cast, other)
    started = start(cast, registrations[0])
    save(cast, started, {"1.1": 30, "2.1": 20, "2.2": 25})
    return {
        "set": points_set,
        "households": households,
        "registrations": registrations,
        "other": other,
        "started": Assessment.objects.get(pk=started.pk),
    }


def row(household, *scores):
    return [household.code, "", None, "", *scores]


def run(cast, rows, *, apply=False, user=None, unit=None, options=OPTIONS):
    content = xlsx_bytes(HEADERS, rows)
    return import_file(
        "assessments",
        user or cast.ward_official,
        unit or cast.ward,
        content,
        apply=apply,
        options=options,
    )


def scores_of(household):
    assessment = Assessment.objects.get(registration__household=household)
    return {s.indicator.code: s.self_points for s in assessment.scores.select_related("indicator")}


def rollups():
    return sorted(Rollup.objects.values_list("unit_id", "year", "title", "registered", "assessed"))


def test_the_columns_come_from_the_criteria_set_in_force(cast, world):
    ctx = ImportContext(
        tenant=cast.tenant, unit=cast.ward, actor=cast.ward_official, options=OPTIONS
    )
    kind = AssessmentKind(ctx=ctx)
    assert [c.header for c in kind.columns()] == HEADERS
    # On the class (no options yet) only the key columns; other kinds are untouched.
    assert [c.header for c in AssessmentKind.columns()] == KEY_HEADERS
    assert [c.attribute for c in HouseholdKind.columns()] == [
        "code",
        "head_name",
        "address",
        "member_count",
        "unit",
    ]
    # A header may be the indicator's code alone.
    content = xlsx_bytes(
        [*KEY_HEADERS, "1.1", "2.1", "2.2"], [row(world["households"][1], 35, 25, 25)]
    )
    outcome = import_file("assessments", cast.ward_official, cast.ward, content, options=OPTIONS)
    assert outcome.new == 1 and not outcome.error_count


def test_missing_options_or_criteria_refuse_the_file(cast, world):
    with pytest.raises(FileRejected):
        run(cast, [row(world["households"][0], 1, 1, 1)], options={})
    with pytest.raises(FileRejected) as excinfo:
        run(cast, [row(world["households"][0], 1, 1, 1)], options={**OPTIONS, "year": 2019})
    assert "2019" in str(excinfo.value)


def test_new_changed_and_unchanged_rows_are_previewed_then_written(cast, world):
    first, second, third = world["households"]
    data = [row(first, 30, 20, 25), row(second, 35, 25, 25), row(third, 40, None, None)]
    preview = run(cast, data)
    assert preview.errors == []
    assert preview.counts == {"total": 3, "new": 2, "changed": 0, "unchanged": 1, "error": 0}
    assert Assessment.objects.count() == 1

    data[0][4] = 32
    rollups_rebuild()  # the fixture's registrations were made without the services
    before = rollups()
    applied = run(cast, data, apply=True)
    assert (applied.new, applied.changed, applied.unchanged) == (2, 1, 0)
    assert applied.samples[0]["changes"] == {
        f"indicator_{_indicator_pk(world, '1.1')}": ["30.00", "32.00"]
    }

    started = Assessment.objects.get(pk=world["started"].pk)
    assert scores_of(first) == {"1.1": Decimal(32), "2.1": Decimal(20), "2.2": Decimal(25)}
    assert started.self_total == Decimal(77) and started.self_passed is False
    assert started.version == world["started"].version + 1

    created = Assessment.objects.get(registration__household=second)
    assert created.status == AssessmentStatus.DRAFT
    assert created.criteria_set == world["set"]
    assert created.assessed_by == cast.ward_official
    assert created.self_total == Decimal(85) and created.self_passed is True
    partial = Assessment.objects.get(registration__household=third)
    assert scores_of(third) == {"1.1": Decimal(40), "2.1": None, "2.2": None}
    assert partial.self_passed is False  # incomplete: not passed
    assert IndicatorScore.objects.filter(assessment=partial).count() == 3
    # Draft assessments are not counted: the rollups stay as they were, and as rebuilt.
    assert rollups() == before
    rollups_rebuild()
    assert rollups() == before


def _indicator_pk(world, code):
    return world["set"].criteria.get(indicators__code=code).indicators.get(code=code).pk


def test_reimporting_the_same_file_changes_nothing(cast, world):
    data = [row(h, 30, 20, 25) for h in world["households"]]
    run(cast, data, apply=True)
    versions = dict(Assessment.objects.values_list("pk", "version"))
    again = run(cast, data, apply=True)
    assert again.counts == {"total": 3, "new": 0, "changed": 0, "unchanged": 3, "error": 0}
    assert dict(Assessment.objects.values_list("pk", "version")) == versions


def test_export_imports_back_unchanged(cast, world):
    first, second, third = world["households"]
    run(cast, [row(second, 12.5, 7.25, 30), row(third, 1, None, 0)], apply=True)
    ctx = ImportContext(
        tenant=cast.tenant, unit=cast.ward, actor=cast.ward_official, options=OPTIONS
    )
    kind = AssessmentKind(ctx=ctx)
    exported = list(kind.export_rows(kind.export_queryset(cast.ward_official, cast.ward)))
    assert len(exported) == 3
    assert [r[0] for r in exported] == [first.code, second.code, third.code]
    assert exported[1][1] == second.head_name and exported[1][3] == cast.neighbourhood.code
    content = xlsx_bytes([c.header for c in kind.columns()], exported)
    outcome = run_import(
        kind=AssessmentKind(ctx=ctx),
        file=io.BytesIO(content),
        filename="x.xlsx",
        ctx=ctx,
        apply=False,
    )
    assert outcome.errors == []
    assert outcome.counts == {"total": 3, "new": 0, "changed": 0, "unchanged": 3, "error": 0}


def test_a_row_for_another_ward_is_an_error_and_nothing_is_written(cast, world):
    data = [row(h, 30, 20, 25) for h in world["households"][1:]]
    data.append(row(world["other"], 30, 20, 25))
    outcome = run(cast, data, apply=True)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert (error.row, error.column) == (4, "Mã hộ / Mã đơn vị / Số CCCD")
    assert cast.ward.name in error.message
    # Nothing of what lies outside the importer's area is named.
    assert cast.other_neighbourhood.name not in error.message
    assert world["other"].head_name not in error.message
    assert Assessment.objects.count() == 1


def test_unknown_or_unregistered_subjects_are_errors(cast, world):
    unregistered = make_household(cast)
    data = [row(unregistered, 1, 1, 1), ["KHONG-CO", "", None, "", 1, 1, 1]]
    outcome = run(cast, data)
    by_row = {e.row: e for e in outcome.errors}
    assert set(by_row) == {2, 3}
    assert by_row[2].column == "Mã hộ / Mã đơn vị / Số CCCD"
    assert unregistered.head_name in by_row[2].message and str(YEAR) in by_row[2].message
    assert "KHONG-CO" in by_row[3].message


def test_a_registration_for_another_title_is_not_this_files(cast, world):
    household = world["households"][1]
    Registration.objects.filter(household=household).update(title=Title.CLAN)
    outcome = run(cast, [row(household, 1, 1, 1)])
    assert outcome.error_count == 1
    assert outcome.errors[0].column == "Mã hộ / Mã đơn vị / Số CCCD"


def test_a_score_above_the_maximum_names_the_indicator_column(cast, world):
    outcome = run(cast, [row(world["households"][1], 41, 20, 20.125)], apply=True)
    assert outcome.error_count == 2
    first, second = outcome.errors
    assert (first.row, first.column) == (2, "1.1 Trẻ em đến trường (E)")
    assert "1.1" in first.message and "41" in first.message and "40" in first.message
    assert second.column == "2.2 Người lớn học thêm (G)"
    assert Assessment.objects.count() == 1


def test_a_submitted_assessment_is_locked(cast, world):
    first = world["households"][0]
    Assessment.objects.filter(pk=world["started"].pk).update(status=AssessmentStatus.SUBMITTED)
    same = run(cast, [row(first, 30, 20, 25)])
    assert same.counts["unchanged"] == 1 and not same.error_count  # nothing to change: fine
    outcome = run(cast, [row(first, 31, 20, 25)], apply=True)
    assert outcome.error_count == 1
    error = outcome.errors[0]
    assert error.row == 2 and error.column == "Mã hộ / Mã đơn vị / Số CCCD"
    assert str(AssessmentStatus.SUBMITTED.label) in error.message
    assert scores_of(first)["1.1"] == Decimal(30)


def test_a_returned_assessment_can_be_corrected(cast, world):
    first = world["households"][0]
    Assessment.objects.filter(pk=world["started"].pk).update(status=AssessmentStatus.RETURNED)
    outcome = run(cast, [row(first, 40, 30, 30)], apply=True)
    assert outcome.changed == 1 and not outcome.error_count
    assessment = Assessment.objects.get(pk=world["started"].pk)
    assert assessment.status == AssessmentStatus.RETURNED
    assert assessment.self_total == Decimal(100) and assessment.self_passed is True


def test_one_bad_row_at_the_end_writes_nothing(cast, world):
    households = Household.objects.bulk_create(
        Household(tenant=cast.tenant, unit=cast.neighbourhood, code=f"BULK-{i:05d}", head_name="A")
        for i in range(2100)
    )
    Registration.objects.bulk_create(
        Registration(
            tenant=cast.tenant,
            unit=cast.neighbourhood,
            proposing_unit=cast.ward,
            title=Title.FAMILY,
            year=YEAR,
            subject_kind=SubjectKind.HOUSEHOLD,
            household=h,
        )
        for h in households
    )
    data = [row(h, 30, 20, 25) for h in households]
    data.append(row(world["households"][1], 30, 20, 99))
    outcome = run(cast, data, apply=True)
    assert outcome.error_count == 1 and outcome.errors[0].row == 2102
    assert outcome.new == 2100
    assert Assessment.objects.count() == 1
    assert IndicatorScore.objects.count() == 3


def test_community_levels_are_checked_and_scored(cast, world):
    from tests.recognition.conftest import make_levels_set

    make_levels_set()
    Registration.objects.create(
        tenant=cast.tenant,
        unit=cast.ward,
        proposing_unit=cast.ward,
        title=Title.COMMUNITY,
        year=YEAR,
        subject_kind=SubjectKind.UNIT,
        subject_unit=cast.ward,
    )
    options = {"title": Title.COMMUNITY, "year": YEAR, "scope_level": "commune"}
    headers = [*KEY_HEADERS, "1.1 Tuyên truyền", "1.2 Phổ cập giáo dục"]
    with pytest.raises(FileRejected):
        import_file(
            "assessments",
            cast.ward_official,
            cast.ward,
            xlsx_bytes(headers, [[cast.ward.code, "", None, "", 1, 2]]),
            options={"title": Title.COMMUNITY, "year": YEAR},
        )
    bad = import_file(
        "assessments",
        cast.ward_official,
        cast.ward,
        xlsx_bytes(headers, [[cast.ward.code, "", None, "", 1, 3]]),
        options=options,
    )
    assert bad.error_count == 1 and bad.errors[0].column == "1.2 Phổ cập giáo dục (F)"
    assert "1.2" in bad.errors[0].message and "2" in bad.errors[0].message
    good = import_file(
        "assessments",
        cast.ward_official,
        cast.ward,
        xlsx_bytes(headers, [[cast.ward.code, cast.ward.name, None, cast.ward.code, 1, 2]]),
        apply=True,
        options=options,
    )
    assert good.new == 1 and not good.error_count
    assessment = Assessment.objects.get(registration__subject_unit=cast.ward)
    assert (assessment.self_level, assessment.self_passed) == (2, True)
    assert sorted(assessment.scores.values_list("self_level", flat=True)) == [1, 2]

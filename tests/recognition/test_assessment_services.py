"""The self-assessment services: start, scores, completion, copy from last year,
the circulars' rules, and every refused path (nothing saved is lost)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.exceptions import (
    AssessmentIncompleteError,
    AssessmentNotEditableError,
    AssessmentYearNotStartedError,
    CopyPreviousError,
    DeadlineLockedError,
    NoCriteriaSetError,
    RegistrationError,
    RoleNotAllowedError,
    ScoreError,
    TransitionError,
)
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Criterion,
    FormLock,
    Indicator,
    IndicatorScore,
    LockExtension,
    Registration,
    RegistrationStatus,
    SetStatus,
)
from recognition.services import assessment as services
from recognition.services.evidence import evidence_upload
from tests.factories import grant, make_user
from tests.recognition.assessment_support import (
    PDF,
    ids_by_code,
    register_community,
    save,
    start,
    upload,
)
from tests.recognition.conftest import make_points_set, register_household
from units.models import AdministrativeUnit
from units.roles import Role

pytestmark = pytest.mark.django_db


def events(assessment: Assessment, action: str | None = None) -> list[AuditEvent]:
    qs = AuditEvent.objects.filter(object_id=str(assessment.public_id))
    if action:
        qs = qs.filter(action=action)
    return list(qs.order_by("created_at", "id"))


def scores_of(assessment: Assessment) -> dict[str, Decimal | int | None]:
    rows = IndicatorScore.objects.filter(assessment=assessment).select_related("indicator")
    return {
        s.indicator.code: s.self_level if s.self_level is not None else s.self_points for s in rows
    }


# --- start ------------------------------------------------------------------------------


def test_start_creates_one_score_row_per_indicator_under_the_published_set(cycle):
    a = start(cycle.cast, cycle.registration)
    assert a.criteria_set == cycle.points_set
    assert a.status == AssessmentStatus.DRAFT
    assert a.area_class == "normal"
    assert a.unit == cycle.household.unit
    assert sorted(scores_of(a)) == ["1.1", "2.1", "2.2"]
    assert all(v is None for v in scores_of(a).values())
    [event] = events(a, "assessment.start")
    assert event.actor == cycle.cast.ward_official
    assert event.after["criteria_set"] == "TEST-GDHT v1"


def test_start_is_idempotent(cycle):
    first = start(cycle.cast, cycle.registration)
    again = start(cycle.cast, cycle.registration)
    assert again.pk == first.pk
    assert Assessment.objects.count() == 1
    assert len(events(first)) == 1


def test_start_marks_a_disadvantaged_area_from_any_ancestor(cycle):
    AdministrativeUnit.objects.filter(pk=cycle.cast.district.pk).update(is_disadvantaged=True)
    assert start(cycle.cast, cycle.registration).area_class == "disadvantaged"


def test_start_for_a_community_uses_the_levels_set_of_its_level(cycle):
    a = start(cycle.cast, register_community(cycle.cast))
    assert a.criteria_set == cycle.levels_set


def test_start_without_a_published_set_is_refused_clearly(cycle):
    type(cycle.points_set).objects.filter(pk=cycle.points_set.pk).update(status=SetStatus.DRAFT)
    with pytest.raises(NoCriteriaSetError) as exc:
        start(cycle.cast, cycle.registration)
    assert "2025" in str(exc.value)
    assert not Assessment.objects.exists()


def test_start_before_the_year_begins_is_refused(cycle):
    """TT 25/2023: the self-assessment covers 01/01–31/12 of the year assessed."""
    with pytest.raises(AssessmentYearNotStartedError) as exc:
        services.assessment_start(
            actor=cycle.cast.ward_official,
            registration=cycle.registration,
            today=dt.date(2024, 12, 31),
        )
    assert "01/01/2025" in str(exc.value) and "31/12/2025" in str(exc.value)
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("who", ["reviewer", "viewer", "other_tenant_official"])
def test_start_by_a_role_that_does_not_assess_is_refused(cycle, who):
    with pytest.raises(RoleNotAllowedError):
        start(cycle.cast, cycle.registration, actor=getattr(cycle.cast, who))
    assert not Assessment.objects.exists()


def test_start_of_a_withdrawn_registration_is_refused(cycle):
    Registration.objects.filter(pk=cycle.registration.pk).update(
        status=RegistrationStatus.WITHDRAWN
    )
    with pytest.raises(RegistrationError):
        start(cycle.cast, cycle.registration)


def lock(cast, unit=None, minutes_ago: int = 5, title: str = "gia_dinh") -> FormLock:
    return FormLock.objects.create(
        tenant=cast.tenant,
        unit=unit or cast.district,
        title=title,
        year=2025,
        stage="assessment",
        locks_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        label="31/10",
    )


def test_start_after_the_deadline_lock_is_refused(cycle):
    lock(cycle.cast)
    with pytest.raises(DeadlineLockedError):
        start(cycle.cast, cycle.registration)


def test_a_neighbourhood_lead_assesses_households_of_their_neighbourhood(cycle):
    lead = grant(
        make_user(cycle.cast.tenant, "kp1"), cycle.cast.neighbourhood, Role.NEIGHBOURHOOD_LEAD
    )
    a = start(cycle.cast, cycle.registration, actor=lead)
    save(cycle.cast, a, {"1.1": 40}, actor=lead)
    with pytest.raises(RoleNotAllowedError):
        start(cycle.cast, cycle.other_registration, actor=lead)


# --- scores -------------------------------------------------------------------------------------


def test_save_scores_computes_the_result_bumps_the_version_and_audits(cycle):
    a = start(cycle.cast, cycle.registration)
    a = save(cycle.cast, a, {"1.1": "40", "2.1": "30", "2.2": "10,5"})
    assert a.version == 2
    assert a.self_total == Decimal("80.50")
    assert a.self_passed is True
    assert scores_of(a)["2.2"] == Decimal("10.50")
    [event] = events(a, "assessment.scores")
    assert event.before["scores"] == {"1.1": None, "2.1": None, "2.2": None}
    assert event.after["scores"] == {"1.1": "40.00", "2.1": "30.00", "2.2": "10.50"}
    assert event.after["self_passed"] is True


def test_a_total_below_the_pass_mark_or_an_indicator_below_its_minimum_fails(cycle):
    a = start(cycle.cast, cycle.registration)
    assert save(cycle.cast, a, {"1.1": 40, "2.1": 30, "2.2": 9}).self_passed is False
    a = save(cycle.cast, a, {"1.1": 40, "2.1": 4, "2.2": 30})
    assert a.self_total == Decimal(74) and a.self_passed is False


def test_the_disadvantaged_pass_mark_applies(cycle):
    AdministrativeUnit.objects.filter(pk=cycle.cast.ward.pk).update(is_disadvantaged=True)
    a = start(cycle.cast, cycle.registration)
    assert save(cycle.cast, a, {"1.1": 40, "2.1": 20, "2.2": 15}).self_passed is True


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("41", "0–40"),
        ("-1", "0–40"),
        ("abc", "abc"),
        ("12.345", "2"),
        ("NaN", "NaN"),
        (True, "True"),
    ],
)
def test_a_bad_value_is_refused_naming_the_indicator_and_nothing_is_saved(cycle, value, fragment):
    a = start(cycle.cast, cycle.registration)
    a = save(cycle.cast, a, {"1.1": 30, "2.1": 20, "2.2": 20})
    before = (scores_of(a), a.self_total, a.version)
    ids = ids_by_code(a)
    with pytest.raises(ScoreError) as exc:
        services.assessment_save_scores(
            actor=cycle.cast.ward_official,
            assessment=a,
            expected_version=a.version,
            # One good value beside the bad one: all or nothing.
            values={ids["2.2"]: "25", ids["1.1"]: value},
        )
    assert "1.1" in str(exc.value) and fragment in str(exc.value)
    assert "Chỉ số 1.1" in str(exc.value)  # Vietnamese
    assert set(exc.value.params["errors"]) == {ids["1.1"]}
    a.refresh_from_db()
    assert (scores_of(a), a.self_total, a.version) == before


def test_levels_accept_0_to_the_highest_level_only(cycle):
    a = start(cycle.cast, register_community(cycle.cast))
    ids = ids_by_code(a)
    with pytest.raises(ScoreError) as exc:
        save(cycle.cast, a, {"1.1": 3})
    assert "0" in str(exc.value) and "2" in str(exc.value)
    with pytest.raises(ScoreError):
        save(cycle.cast, a, {"1.1": "1.5"})
    a = save(cycle.cast, a, {"1.1": "1", "1.2": 2})
    assert a.self_level == 2 and a.self_passed is True
    a = save(cycle.cast, a, {"1.2": 0})
    assert a.self_level == 0 and a.self_passed is False
    assert set(ids) == {"1.1", "1.2"}


def test_an_unknown_indicator_is_refused(cycle):
    a = start(cycle.cast, cycle.registration)
    other = Indicator.objects.filter(criterion__criteria_set=cycle.levels_set).first()
    with pytest.raises(ScoreError):
        services.assessment_save_scores(
            actor=cycle.cast.ward_official,
            assessment=a,
            expected_version=a.version,
            values={str(other.public_id): 1},
        )


def test_a_stale_version_is_a_conflict_and_keeps_the_other_save(cycle):
    a = start(cycle.cast, cycle.registration)
    stale = a.version
    save(cycle.cast, a, {"1.1": 30})
    with pytest.raises(ConcurrentEditError):
        services.assessment_save_scores(
            actor=cycle.cast.ward_official,
            assessment=a,
            expected_version=stale,
            values={ids_by_code(a)["1.1"]: "10"},
        )
    assert scores_of(a)["1.1"] == Decimal(30)


def test_notes_are_saved_in_nfc(cycle):
    a = start(cycle.cast, cycle.registration)
    nfd = "Có bằng khen".replace("ó", "o\u0301")
    services.assessment_save_scores(
        actor=cycle.cast.ward_official,
        assessment=a,
        expected_version=a.version,
        values={},
        notes={ids_by_code(a)["1.1"]: f"  {nfd}\nDòng 2 "},
    )
    assert IndicatorScore.objects.get(assessment=a, indicator__code="1.1").note == (
        "Có bằng khen\nDòng 2"
    )


def test_scores_of_a_completed_or_submitted_assessment_cannot_change(cycle):
    a = start(cycle.cast, cycle.registration)
    for status in (AssessmentStatus.READY, AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED):
        Assessment.objects.filter(pk=a.pk).update(status=status)
        a.refresh_from_db()
        with pytest.raises(AssessmentNotEditableError):
            save(cycle.cast, a, {"1.1": 10})
    assert scores_of(a)["1.1"] is None


def test_a_reviewer_cannot_enter_self_scores(cycle):
    a = start(cycle.cast, cycle.registration)
    with pytest.raises(RoleNotAllowedError):
        save(cycle.cast, a, {"1.1": 10}, actor=cycle.cast.reviewer)


def test_scores_lock_after_the_deadline_and_an_extension_reopens_them(cycle):
    a = start(cycle.cast, cycle.registration)
    save(cycle.cast, a, {"1.1": 20})
    form_lock = lock(cycle.cast)
    with pytest.raises(DeadlineLockedError):
        save(cycle.cast, a, {"1.1": 30})
    assert scores_of(a)["1.1"] == Decimal(20)
    LockExtension.objects.create(
        lock=form_lock,
        unit=cycle.cast.ward,
        until=timezone.now() + dt.timedelta(days=2),
        reason="Bổ sung minh chứng",
    )
    assert save(cycle.cast, a, {"1.1": 30}).self_total == Decimal(30)


def test_a_lock_on_another_title_or_ward_does_not_apply(cycle):
    a = start(cycle.cast, cycle.registration)
    lock(cycle.cast, title="cong_dan")
    lock(cycle.cast, unit=cycle.cast.other_ward)
    assert save(cycle.cast, a, {"1.1": 30}).self_total == Decimal(30)


# --- complete / reopen ---------------------------------------------------------------------------


def test_complete_lists_unscored_indicators_and_missing_evidence(cycle):
    a = start(cycle.cast, cycle.registration)
    a = save(cycle.cast, a, {"1.1": 40})
    with pytest.raises(AssessmentIncompleteError) as exc:
        services.assessment_complete(actor=cycle.cast.ward_official, assessment=a)
    assert exc.value.params["unscored"] == ["2.1", "2.2"]
    assert exc.value.params["missing_evidence"] == ["2.1"]
    assert "2.1, 2.2" in str(exc.value)
    a = save(cycle.cast, a, {"2.1": 30, "2.2": 20})
    with pytest.raises(AssessmentIncompleteError) as exc:
        services.assessment_complete(actor=cycle.cast.ward_official, assessment=a)
    assert exc.value.params["unscored"] == []
    assert exc.value.params["missing_evidence"] == ["2.1"]
    a.refresh_from_db()
    assert a.status == AssessmentStatus.DRAFT


def _complete_ready(cycle) -> Assessment:
    a = start(cycle.cast, cycle.registration)
    a = save(cycle.cast, a, {"1.1": 40, "2.1": 30, "2.2": 20})
    evidence_upload(
        actor=cycle.cast.ward_official,
        assessment=a,
        indicator_public_id=ids_by_code(a)["2.1"],
        file=upload("giay-khen.pdf", PDF),
    )
    return services.assessment_complete(
        actor=cycle.cast.ward_official, assessment=a, expected_version=a.version
    )


def test_complete_and_reopen(cycle, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    a = _complete_ready(cycle)
    assert a.status == AssessmentStatus.READY
    assert a.self_total == Decimal(90) and a.self_passed is True
    assert events(a, "assessment.complete")[0].after["status"] == "ready"
    with pytest.raises(TransitionError):
        services.assessment_complete(actor=cycle.cast.ward_official, assessment=a)
    with pytest.raises(RoleNotAllowedError):
        services.assessment_reopen(actor=cycle.cast.reviewer, assessment=a)
    a = services.assessment_reopen(actor=cycle.cast.ward_official, assessment=a)
    assert a.status == AssessmentStatus.DRAFT
    with pytest.raises(TransitionError):
        services.assessment_reopen(actor=cycle.cast.ward_official, assessment=a)


def test_complete_with_a_stale_version_or_after_the_deadline_changes_nothing(
    cycle, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    a = start(cycle.cast, cycle.registration)
    a = save(cycle.cast, a, {"1.1": 40, "2.1": 30, "2.2": 20})
    evidence_upload(
        actor=cycle.cast.ward_official,
        assessment=a,
        indicator_public_id=ids_by_code(a)["2.1"],
        file=upload("a.pdf", PDF),
    )
    with pytest.raises(ConcurrentEditError):
        services.assessment_complete(
            actor=cycle.cast.ward_official, assessment=a, expected_version=a.version - 1
        )
    lock(cycle.cast)
    with pytest.raises(DeadlineLockedError):
        services.assessment_complete(actor=cycle.cast.ward_official, assessment=a)
    a.refresh_from_db()
    assert a.status == AssessmentStatus.DRAFT


def test_complete_by_a_reviewer_is_refused(cycle):
    a = start(cycle.cast, cycle.registration)
    with pytest.raises(RoleNotAllowedError):
        services.assessment_complete(actor=cycle.cast.reviewer, assessment=a)


def test_a_returned_assessment_is_editable_and_completes_again(cycle, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    a = _complete_ready(cycle)
    Assessment.objects.filter(pk=a.pk).update(
        status=AssessmentStatus.RETURNED, return_reason="Thiếu minh chứng"
    )
    a.refresh_from_db()
    a = save(cycle.cast, a, {"2.2": 25})
    a = services.assessment_complete(actor=cycle.cast.ward_official, assessment=a)
    assert a.status == AssessmentStatus.READY and a.return_reason == ""


# --- copy from last year ----------------------------------------------------------------------------


def _last_year(cycle, values: dict[str, object]) -> Assessment:
    reg = register_household(cycle.cast, cycle.household, year=2024)
    old = start(cycle.cast, reg)
    return save(cycle.cast, old, values)


def test_copy_previous_fills_unscored_indicators_and_keeps_this_years_scores(cycle):
    _last_year(cycle, {"1.1": 35, "2.1": 25})
    a = start(cycle.cast, cycle.registration)
    a = save(cycle.cast, a, {"1.1": 40})
    report = services.assessment_copy_previous(actor=cycle.cast.ward_official, assessment=a)
    assert report.copied == ["2.1"]
    assert dict(report.skipped).keys() == {"1.1", "2.2"}
    assert "2.2" in report.message() and "2024" in report.message()
    assert scores_of(a) == {"1.1": Decimal(40), "2.1": Decimal(25), "2.2": None}
    a.refresh_from_db()
    assert a.self_total == Decimal(65)
    assert events(a, "assessment.copy_previous")[0].after["from_year"] == 2024


def test_copy_previous_matches_indicators_by_code_across_set_versions(cycle):
    _last_year(cycle, {"1.1": 35, "2.1": 25, "2.2": 20})
    # A new version of the set keeps 1.1 and 2.1 but replaces 2.2 by 2.3.
    new = make_points_set(code="TEST-GDHT-2")
    type(new).objects.filter(pk=new.pk).update(version=2, year_from=2025)
    Indicator.objects.filter(criterion__criteria_set=new, code="2.2").update(code="2.3")
    a = start(cycle.cast, cycle.registration)
    assert a.criteria_set == new
    report = services.assessment_copy_previous(actor=cycle.cast.ward_official, assessment=a)
    assert report.copied == ["1.1", "2.1"]
    assert [code for code, _why in report.skipped] == ["2.3"]


def test_copy_previous_without_last_year_or_across_methods_is_refused(cycle):
    a = start(cycle.cast, cycle.registration)
    with pytest.raises(CopyPreviousError) as exc:
        services.assessment_copy_previous(actor=cycle.cast.ward_official, assessment=a)
    assert "2024" in str(exc.value)
    old = _last_year(cycle, {})
    with pytest.raises(CopyPreviousError):  # nothing scored last year
        services.assessment_copy_previous(actor=cycle.cast.ward_official, assessment=a)
    Assessment.objects.filter(pk=old.pk).update(criteria_set=cycle.levels_set)
    with pytest.raises(CopyPreviousError):
        services.assessment_copy_previous(actor=cycle.cast.ward_official, assessment=a)
    assert all(v is None for v in scores_of(a).values())


def test_copy_previous_needs_an_editable_assessment_and_the_ward_role(cycle):
    _last_year(cycle, {"1.1": 35})
    a = start(cycle.cast, cycle.registration)
    with pytest.raises(RoleNotAllowedError):
        services.assessment_copy_previous(actor=cycle.cast.viewer, assessment=a)
    Assessment.objects.filter(pk=a.pk).update(status=AssessmentStatus.SUBMITTED)
    with pytest.raises(AssessmentNotEditableError):
        services.assessment_copy_previous(actor=cycle.cast.ward_official, assessment=a)


# --- rules of TT 25/2023 ------------------------------------------------------------------------------


def test_period_and_validity():
    assert services.assessment_period(2025) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_recognition_valid_until_reads_the_set(cycle):
    assert services.recognition_valid_until(2025, cycle.levels_set) == dt.date(2028, 12, 31)
    assert services.recognition_valid_until(2025, cycle.points_set) is None


def test_add_months():
    assert services.add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert services.add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert services.add_months(dt.date(2025, 3, 15), 12) == dt.date(2026, 3, 15)
    assert services.add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)


def _recognised_at_level_1(cycle, decided: dt.datetime) -> Assessment:
    reg = register_community(cycle.cast, year=2024)
    old = start(cycle.cast, reg)
    Assessment.objects.filter(pk=old.pk).update(status=AssessmentStatus.RECOGNISED, final_level=1)
    with mock.patch("django.utils.timezone.now", return_value=decided):  # append-only log
        AuditEvent.objects.create(
            tenant=cycle.cast.tenant,
            action="assessment.recognise",
            object_type="recognition.assessment",
            object_id=str(old.public_id),
        )
    return old


def test_level_2_is_capped_until_12_months_after_the_level_1_decision(cycle):
    decided = dt.datetime(2025, 3, 20, 9, 0, tzinfo=dt.UTC)
    _recognised_at_level_1(cycle, decided)
    a = start(cycle.cast, register_community(cycle.cast, year=2025))
    values = {ind.pk: 2 for ind in Indicator.objects.filter(criterion__criteria_set=a.criteria_set)}
    early = services.compute_result(a, values, on=dt.date(2026, 3, 19))
    assert early.uncapped_level == 2 and early.level == 1
    assert "20/03/2025" in early.cap_note and "20/03/2026" in early.cap_note
    late = services.compute_result(a, values, on=dt.date(2026, 3, 20))
    assert late.level == 2 and late.cap_note == ""
    check = services.upgrade_allowed(
        registration=a.registration, criteria_set=a.criteria_set, on=dt.date(2026, 1, 1)
    )
    assert not check.allowed and check.earliest == dt.date(2026, 3, 20)


def test_the_saved_level_is_capped_with_the_rule(cycle):
    _recognised_at_level_1(cycle, timezone.now() - dt.timedelta(days=30))
    a = start(cycle.cast, register_community(cycle.cast, year=2025))
    a = save(cycle.cast, a, {"1.1": 2, "1.2": 2})
    assert a.self_level == 1


def test_no_cap_without_a_level_1_recognition_or_without_the_rule(cycle):
    a = start(cycle.cast, register_community(cycle.cast, year=2025))
    check = services.upgrade_allowed(
        registration=a.registration, criteria_set=a.criteria_set, on=dt.date(2025, 6, 1)
    )
    assert check.allowed
    type(cycle.levels_set).objects.filter(pk=cycle.levels_set.pk).update(upgrade_after_months=None)
    _recognised_at_level_1(cycle, timezone.now())
    a.criteria_set.refresh_from_db()
    assert services.upgrade_allowed(
        registration=a.registration, criteria_set=a.criteria_set, on=dt.date(2025, 6, 1)
    ).allowed


def test_the_set_keeps_its_version_for_good(cycle):
    a = start(cycle.cast, cycle.registration)
    # A later criterion added to a new set does not appear in this assessment.
    new = make_points_set(code="TEST-GDHT-NEW")
    Criterion.objects.create(criteria_set=new, order=3, code="TC3", name="Khác")
    a.refresh_from_db()
    assert a.criteria_set == cycle.points_set

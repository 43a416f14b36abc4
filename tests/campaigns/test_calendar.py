"""The calendar of a unit: done / due / late per deadline, counts and late units
for the levels below (campaigns/selectors/deadlines.py, campaigns:calendar)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import DeadlineKind
from campaigns.selectors.deadlines import DONE, DUE, LATE, calendar_for_unit, deadline_met
from campaigns.services import deadlines as services
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Decision,
    DecisionStatus,
    Dossier,
    DossierStatus,
)
from recognition.titles import Title
from tests.campaigns.test_deadlines_services import make_plan
from tests.conftest import Cast
from tests.factories import make_unit
from tests.recognition.conftest import (
    cycle,  # noqa: F401 (fixture)
    make_household,
    register_household,
)
from units.levels import Level

YEAR = 2025
DUE_ON = dt.date(2025, 11, 1)


def _deadline(plan, **overrides):
    data = {
        "kind": DeadlineKind.DOSSIER,
        "title": Title.FAMILY,
        "year": YEAR,
        "level": Level.COMMUNE,
        "due_on": DUE_ON,
        "label": "",
        "remind_days": 7,
    }
    data.update(overrides)
    return services.deadline_save(actor=None, plan=plan, data=data)


def _submitted(cast: Cast, ward, at: dt.datetime) -> Dossier:
    return Dossier.objects.create(
        tenant=cast.tenant,
        proposing_unit=ward,
        reviewing_unit=cast.district,
        title=Title.FAMILY,
        year=YEAR,
        status=DossierStatus.SUBMITTED,
        submitted_at=at,
        submission_count=1,
    )


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=services.local_tz())


@pytest.fixture
def wards(cast: Cast):
    return (
        cast.ward,
        make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27187"),
        make_unit(cast.tenant, cast.district, "phuong", "Phường Cầu Kho", "27190"),
    )


def test_own_status_done_due_late_and_done_late(cast: Cast, wards) -> None:
    ward, on_time, late_one = wards
    deadline = _deadline(make_plan(cast.district))
    _submitted(cast, on_time, _local(DUE_ON, 23))
    _submitted(cast, late_one, _local(DUE_ON + dt.timedelta(days=1), 0))
    assert deadline_met(deadline, ward) is None
    assert deadline_met(deadline, on_time).late is False  # type: ignore[union-attr]
    assert deadline_met(deadline, late_one).late is True  # type: ignore[union-attr]

    before = calendar_for_unit(unit=ward, year=2025, today=dt.date(2025, 10, 29))
    assert [(r.scope, r.status, r.days_left) for r in before] == [("own", DUE, 3)]
    after = calendar_for_unit(unit=ward, year=2025, today=dt.date(2025, 11, 2))
    assert [(r.scope, r.status) for r in after] == [("own", LATE)]
    (done,) = calendar_for_unit(unit=on_time, year=2025, today=dt.date(2025, 11, 2))
    assert (done.status, done.done_late) == (DONE, False)
    (done_late,) = calendar_for_unit(unit=late_one, year=2025, today=dt.date(2025, 11, 2))
    assert (done_late.status, done_late.done_late) == (DONE, True)
    # Another year's calendar does not list it.
    assert calendar_for_unit(unit=ward, year=2026, today=dt.date(2025, 11, 2)) == []


def test_a_running_extension_shows_the_unit_as_due(cast: Cast, wards) -> None:
    ward = wards[0]
    deadline = _deadline(
        make_plan(cast.district),
        due_on=timezone.localdate() - dt.timedelta(2),
        year=timezone.localdate().year - 1,
    )
    services.extension_grant(
        actor=None,
        deadline=deadline,
        unit=ward,
        until=timezone.localdate() + dt.timedelta(days=4),
        reason="Gia hạn",
    )
    (row,) = calendar_for_unit(
        unit=ward, year=timezone.localdate().year, today=timezone.localdate()
    )
    assert row.status == DUE
    assert row.extended_until is not None
    assert row.days_left == 4


def test_the_district_sees_counts_and_late_units_below_it(cast: Cast, wards) -> None:
    ward, on_time, late_one = wards
    city_plan = make_plan(cast.city)
    _deadline(
        city_plan, kind=DeadlineKind.REPORT, level=Level.DISTRICT, due_on=dt.date(2025, 11, 10)
    )
    _deadline(make_plan(cast.district, parent=city_plan))
    _submitted(cast, on_time, _local(DUE_ON, 9))
    rows = calendar_for_unit(unit=cast.district, year=2025, today=dt.date(2025, 11, 5))
    by_kind = {r.deadline.kind: r for r in rows}
    below = by_kind[DeadlineKind.DOSSIER]
    assert below.scope == "below"
    assert (below.total, below.done, below.late, below.pending) == (3, 1, 2, 0)
    assert {u.pk for u in below.late_units} == {ward.pk, late_one.pk}
    assert below.status == LATE
    own = by_kind[DeadlineKind.REPORT]
    # A report deadline is due or late by its date only (no periodic report model yet).
    assert (own.scope, own.status, own.days_left) == ("own", DUE, 5)
    # The city sees the district's report deadline as a count of districts.
    city_rows = calendar_for_unit(unit=cast.city, year=2025, today=dt.date(2025, 11, 11))
    (report,) = [r for r in city_rows if r.deadline.kind == DeadlineKind.REPORT]
    assert (report.total, report.late) == (2, 2)


def test_a_derived_deadline_replaces_its_parent_in_the_wards_calendar(cast: Cast) -> None:
    city_plan = make_plan(cast.city)
    parent = _deadline(city_plan, due_on=dt.date(2025, 11, 5))
    child = _deadline(make_plan(cast.district, parent=city_plan))
    rows = calendar_for_unit(unit=cast.ward, year=2025, today=dt.date(2025, 10, 1))
    assert [r.deadline for r in rows] == [child]
    other = calendar_for_unit(unit=cast.other_ward, year=2025, today=dt.date(2025, 10, 1))
    assert [r.deadline for r in other] == [parent]


def test_registration_assessment_and_decision_deadlines(cycle) -> None:  # noqa: F811 (the fixture)
    cast = cycle.cast
    plan = make_plan(cast.district)
    registration = _deadline(plan, kind=DeadlineKind.REGISTRATION, due_on=dt.date(2025, 3, 1))
    assessment = _deadline(plan, kind=DeadlineKind.ASSESSMENT, due_on=dt.date(2025, 9, 1))
    decision = _deadline(
        plan, kind=DeadlineKind.DECISION, level=Level.DISTRICT, due_on=dt.date(2025, 12, 31)
    )
    # The cycle fixture registered a household of the ward.
    assert deadline_met(registration, cast.ward) is not None
    assert deadline_met(registration, cast.other_ward) is not None  # its own household
    assert deadline_met(assessment, cast.ward) is None
    row = Assessment.objects.create(
        tenant=cast.tenant,
        unit=cycle.registration.unit,
        registration=cycle.registration,
        criteria_set=cycle.points_set,
        status=AssessmentStatus.DRAFT,
    )
    assert deadline_met(assessment, cast.ward) is None
    second = register_household(cast, make_household(cast))
    Assessment.objects.create(
        tenant=cast.tenant,
        unit=second.unit,
        registration=second,
        criteria_set=cycle.points_set,
        status=AssessmentStatus.READY,
    )
    assert deadline_met(assessment, cast.ward) is None  # one is still a draft
    Assessment.objects.filter(pk=row.pk).update(status=AssessmentStatus.READY)
    assert deadline_met(assessment, cast.ward) is not None
    assert deadline_met(decision, cast.district) is None
    Decision.objects.create(
        tenant=cast.tenant,
        issuing_unit=cast.district,
        title=Title.FAMILY,
        year=YEAR,
        agency="ỦY BAN NHÂN DÂN QUẬN MỘT",
        symbol="QĐ-UBND",
        status=DecisionStatus.ISSUED,
        number=1,
        number_year=YEAR,
        issued_on=dt.date(2025, 12, 20),
    )
    met = deadline_met(decision, cast.district)
    assert met is not None and met.late is False


# --- The screen ------------------------------------------------------------------------


def test_the_calendar_page_groups_by_month_and_says_the_status_in_words(
    cast: Cast, wards, login
) -> None:
    today = timezone.localdate()
    plan = make_plan(cast.district, start=today.year - 1, end=today.year + 1)
    _deadline(plan, year=today.year, due_on=today + dt.timedelta(days=3))
    response = login(cast.ward_official).get(reverse("campaigns:calendar"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="calendar-month"' in html
    assert 'data-status="due"' in html
    assert f'value="{today.year}"' in html  # the year is not localised ("2.026")
    district = login(cast.reviewer).get(
        reverse("campaigns:calendar"), {"unit": str(cast.district.public_id), "year": today.year}
    )
    assert district.status_code == 200
    assert 'data-scope="below"' in district.content.decode()
    assert 'data-testid="calendar-counts"' in district.content.decode()


def test_the_calendar_of_a_unit_outside_the_scope_is_404(cast: Cast, login) -> None:
    client = login(cast.ward_official)
    for unit in (cast.other_ward, cast.other_tenant_ward):
        response = client.get(reverse("campaigns:calendar"), {"unit": str(unit.public_id)})
        assert response.status_code == 404
    assert client.get(reverse("campaigns:calendar"), {"unit": "nope"}).status_code == 404
    assert client.get(reverse("campaigns:calendar"), {"year": "abc"}).status_code == 200

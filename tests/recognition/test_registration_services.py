"""Registration services: single, bulk, withdrawal, deadline lock, roles and scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEvent
from recognition.exceptions import (
    DeadlineLockedError,
    DuplicateRegistrationError,
    RegistrationClosedError,
    RegistrationError,
    RoleNotAllowedError,
    TransitionError,
)
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Household,
    LockExtension,
    Registration,
    RegistrationStatus,
)
from recognition.selectors import registration as sel
from recognition.selectors.subjects import community_units_for_user, households_for_user
from recognition.services import registration as services
from recognition.services import subjects as subject_services
from recognition.titles import SubjectKind, Title
from tests.conftest import Cast
from tests.factories import make_unit
from tests.recognition.conftest import make_points_set
from tests.recognition.test_subjects_helpers import (
    YEAR,
    citizen,
    clan,
    household,
    lead,
    lock_registration,
    organisation,
    other_official,
    state,
    vi,
)
from units.models import AdministrativeUnit

# --- Single registration -----------------------------------------------------------


def test_register_a_household_in_its_ward(cast: Cast) -> None:
    h = household(cast)
    r = services.registration_create(
        actor=cast.ward_official, title=Title.FAMILY, year=YEAR, subject=h
    )
    assert r.household == h and r.subject_kind == SubjectKind.HOUSEHOLD
    assert r.unit == cast.neighbourhood and r.proposing_unit == cast.ward
    assert r.status == RegistrationStatus.REGISTERED and r.registered_by == cast.ward_official
    assert r.tenant == cast.tenant
    event = AuditEvent.objects.get(action="registration.create")
    assert event.unit == cast.ward and event.object_id == str(r.public_id)
    assert event.after["title"] == Title.FAMILY and event.after["proposing_unit"] == "27184"
    assert sel.registration_scope_level(r) == ""


def test_each_kind_of_subject_and_its_proposing_unit(cast: Cast) -> None:
    actor = cast.admin
    c = services.registration_create(actor=actor, title=Title.CLAN, year=YEAR, subject=clan(cast))
    assert c.proposing_unit == cast.ward and c.unit == cast.ward
    school = organisation(cast)
    o = services.registration_create(
        actor=actor, title=Title.ORGANISATION, year=YEAR, subject=school
    )
    assert o.proposing_unit == cast.ward
    agency = subject_services.organisation_create(
        actor=None, unit=cast.district, name="Phòng GD&ĐT", kind="agency"
    )
    d = services.registration_create(
        actor=actor, title=Title.ORGANISATION, year=YEAR, subject=agency
    )
    assert d.proposing_unit == cast.district  # a district-level unit (TT 24/2023) proposes itself
    person = citizen(cast)
    p = services.registration_create(actor=actor, title=Title.CITIZEN, year=YEAR, subject=person)
    assert p.proposing_unit == cast.ward and p.unit == cast.neighbourhood


def test_community_registers_a_unit(cast: Cast) -> None:
    kp = services.registration_create(
        actor=cast.ward_official, title=Title.COMMUNITY, year=YEAR, subject=cast.neighbourhood
    )
    assert kp.subject_unit == cast.neighbourhood and kp.proposing_unit == cast.ward
    assert kp.subject_kind == SubjectKind.UNIT and kp.unit == cast.neighbourhood
    assert sel.registration_scope_level(kp) == "neighbourhood"
    ward = services.registration_create(
        actor=cast.ward_official, title=Title.COMMUNITY, year=YEAR, subject=cast.ward
    )
    assert ward.proposing_unit == cast.ward  # the ward's own community registration
    assert sel.registration_scope_level(ward) == "commune"


def test_the_title_must_fit_the_subject(cast: Cast) -> None:
    h = household(cast)
    before = state()
    for title, subject in (
        (Title.CITIZEN, h),
        (Title.COMMUNITY, h),
        (Title.FAMILY, cast.neighbourhood),
        (Title.CLAN, citizen(cast)),
    ):
        with pytest.raises(RegistrationError) as exc:
            services.registration_create(actor=cast.admin, title=title, year=YEAR, subject=subject)
        assert exc.value.code == "title_subject_mismatch"
        assert "Danh hiệu" in vi(exc.value.message)
    with pytest.raises(RegistrationError):
        services.registration_create(actor=cast.admin, title="nobel", year=YEAR, subject=h)
    assert state()[4] == before[4]


def test_year_must_be_plausible(cast: Cast) -> None:
    h = household(cast)
    for year in (2000, timezone.localdate().year + 2):
        with pytest.raises(RegistrationError) as exc:
            services.registration_create(actor=cast.admin, title=Title.FAMILY, year=year, subject=h)
        assert exc.value.code == "invalid_year"
        vi(exc.value.message)
    services.registration_create(
        actor=cast.admin, title=Title.FAMILY, year=timezone.localdate().year + 1, subject=h
    )


def test_duplicate_single_registration_is_refused(cast: Cast) -> None:
    h = household(cast)
    services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=h)
    before = state()
    with pytest.raises(DuplicateRegistrationError) as exc:
        services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=h)
    assert exc.value.http_status == 409
    assert h.code in vi(exc.value.message)
    assert state() == before
    # Another year is another registration.
    services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR - 1, subject=h)


def test_inactive_subject_and_unit_out_of_force(cast: Cast) -> None:
    h = household(cast)
    subject_services.subject_set_active(actor=None, subject=h, active=False, expected_version=1)
    h.refresh_from_db()
    with pytest.raises(RegistrationError) as exc:
        services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=h)
    assert exc.value.code == "inactive_subject"
    vi(exc.value.message)
    young = make_unit(
        cast.tenant,
        cast.ward,
        "khu_pho",
        "Khu phố mới",
        "27184-KP50",
        valid_from=dt.date(2026, 1, 1),
    )
    with pytest.raises(RegistrationError) as exc:
        services.registration_create(
            actor=cast.admin, title=Title.COMMUNITY, year=2025, subject=young
        )
    assert exc.value.code == "unit_not_in_force"


def test_roles_and_scope_for_registration(cast: Cast) -> None:
    h = household(cast)
    the_lead = lead(cast)
    official = other_official(cast)
    before = state()
    for actor in (cast.reviewer, cast.viewer, official, cast.other_tenant_official):
        with pytest.raises(RoleNotAllowedError):
            services.registration_create(actor=actor, title=Title.FAMILY, year=YEAR, subject=h)
    assert state() == before
    r = services.registration_create(actor=the_lead, title=Title.FAMILY, year=YEAR, subject=h)
    with pytest.raises(RoleNotAllowedError):
        services.registration_withdraw(actor=cast.reviewer, registration=r)
    # The lead cannot register the ward's own community.
    with pytest.raises(RoleNotAllowedError):
        services.registration_create(
            actor=the_lead, title=Title.COMMUNITY, year=YEAR, subject=cast.ward
        )


# --- Deadline lock ------------------------------------------------------------------------


def test_registration_after_the_deadline_is_refused(cast: Cast) -> None:
    h = household(cast)
    r = services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR - 1, subject=h)
    lock = lock_registration(cast.district, Title.FAMILY)  # a district deadline covers its wards
    lock_registration(cast.district, Title.FAMILY, year=YEAR - 1)
    before = state()
    with pytest.raises(DeadlineLockedError) as exc:
        services.registration_create(
            actor=cast.ward_official, title=Title.FAMILY, year=YEAR, subject=h
        )
    assert vi(exc.value.message) == "Đã quá hạn: biểu mẫu này đã bị khóa."
    with pytest.raises(DeadlineLockedError):
        services.registration_bulk_create(
            actor=cast.ward_official,
            title=Title.FAMILY,
            year=YEAR,
            subjects=households_for_user(cast.ward_official),
        )
    with pytest.raises(DeadlineLockedError):
        services.registration_withdraw(actor=cast.ward_official, registration=r)
    assert state() == before
    # Other titles, and other districts, are still open.
    services.registration_create(
        actor=cast.ward_official, title=Title.COMMUNITY, year=YEAR, subject=cast.neighbourhood
    )
    services.registration_create(
        actor=cast.admin,
        title=Title.FAMILY,
        year=YEAR,
        subject=household(cast, cast.other_neighbourhood, code="OTHER-1"),
    )
    # An extension granted to the ward reopens it.
    LockExtension.objects.create(
        lock=lock,
        unit=cast.ward,
        until=timezone.now() + dt.timedelta(days=3),
        reason="Bão lụt",
        granted_by=cast.reviewer,
    )
    services.registration_create(actor=cast.ward_official, title=Title.FAMILY, year=YEAR, subject=h)


# --- Withdrawal ------------------------------------------------------------------------------


def _assessment(registration: Registration, status: str) -> Assessment:
    return Assessment.objects.create(
        tenant=registration.tenant,
        unit=registration.unit,
        registration=registration,
        criteria_set=make_points_set(code=f"T-{registration.pk}"),
        status=status,
    )


def test_withdraw_and_reinstate(cast: Cast) -> None:
    h = household(cast)
    r = services.registration_create(
        actor=cast.ward_official, title=Title.FAMILY, year=YEAR, subject=h
    )
    w = services.registration_withdraw(actor=cast.ward_official, registration=r)
    assert w.status == RegistrationStatus.WITHDRAWN
    event = AuditEvent.objects.get(action="registration.withdraw")
    assert event.before == {"status": "registered"} and event.after == {"status": "withdrawn"}
    before = state()
    with pytest.raises(TransitionError) as exc:
        services.registration_withdraw(actor=cast.ward_official, registration=r)
    assert "Đã rút" in vi(exc.value.message)
    assert state() == before
    again = services.registration_create(
        actor=cast.ward_official, title=Title.FAMILY, year=YEAR, subject=h
    )
    assert again.pk == r.pk and again.status == RegistrationStatus.REGISTERED
    assert AuditEvent.objects.filter(action="registration.reinstate").count() == 1


@pytest.mark.parametrize("status", [AssessmentStatus.DRAFT, AssessmentStatus.READY])
def test_withdraw_while_the_assessment_is_the_wards_own(cast: Cast, status: str) -> None:
    r = services.registration_create(
        actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=household(cast)
    )
    _assessment(r, status)
    assert services.registration_withdraw(actor=cast.ward_official, registration=r).status == (
        RegistrationStatus.WITHDRAWN
    )


@pytest.mark.parametrize(
    "status",
    [
        AssessmentStatus.SUBMITTED,
        AssessmentStatus.RETURNED,
        AssessmentStatus.APPROVED,
        AssessmentStatus.RECOGNISED,
    ],
)
def test_no_withdrawal_once_submitted(cast: Cast, status: str) -> None:
    r = services.registration_create(
        actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=household(cast)
    )
    _assessment(r, status)
    before = state()
    with pytest.raises(RegistrationClosedError) as exc:
        services.registration_withdraw(actor=cast.ward_official, registration=r)
    assert exc.value.http_status == 409
    assert "không thể rút" in vi(exc.value.message)
    assert state() == before


# --- Bulk ----------------------------------------------------------------------------------------


def _households(cast: Cast, unit: AdministrativeUnit, n: int, prefix: str) -> list[Household]:
    rows = [
        Household(
            tenant=cast.tenant,
            unit=unit,
            code=f"{prefix}-{i:05d}",
            head_name=f"Chủ hộ {i}",
            member_count=3,
            search_text=f"{prefix.lower()}-{i:05d} chu ho {i}",
        )
        for i in range(n)
    ]
    return Household.objects.bulk_create(rows)


def test_bulk_registers_a_ward_and_reports_duplicates(cast: Cast) -> None:
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    first = _households(cast, cast.neighbourhood, 20, "A")
    second = _households(cast, kp2, 10, "B")
    _households(cast, cast.other_neighbourhood, 5, "C")  # another ward: not in the list
    services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=first[0])
    services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=first[1])
    withdrawn = services.registration_create(
        actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=second[0]
    )
    services.registration_withdraw(actor=cast.admin, registration=withdrawn)
    for h in (first[2], first[3]):
        subject_services.subject_set_active(actor=None, subject=h, active=False, expected_version=1)
    events_before = AuditEvent.objects.count()

    subjects = households_for_user(cast.ward_official)  # active and inactive, whole ward
    result = services.registration_bulk_create(
        actor=cast.ward_official, title=Title.FAMILY, year=YEAR, subjects=subjects
    )
    assert result.created == 30 - 2 - 1 - 2
    assert result.reinstated == 1 and result.already_registered == 2 and result.not_eligible == 2
    assert result.proposing_units == ("27184",)
    regs = Registration.objects.filter(title=Title.FAMILY, year=YEAR, status="registered")
    assert regs.count() == 28
    assert set(regs.values_list("proposing_unit", flat=True)) == {cast.ward.pk}
    assert regs.filter(household__unit=kp2).count() == 10
    assert not regs.filter(household__unit=cast.other_neighbourhood).exists()
    # One summary event, on the ward.
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.get(action="registration.bulk_create")
    assert event.unit == cast.ward and event.actor == cast.ward_official
    assert event.after["created"] == 25 and event.after["already_registered"] == 2
    # Running it again registers nothing and reports every one as a duplicate.
    again = services.registration_bulk_create(
        actor=cast.ward_official, title=Title.FAMILY, year=YEAR, subjects=subjects
    )
    assert again.registered == 0 and again.already_registered == 28
    assert AuditEvent.objects.count() == events_before + 1


def test_bulk_over_two_wards_summarises_on_the_common_ancestor(cast: Cast) -> None:
    _households(cast, cast.neighbourhood, 3, "A")
    _households(cast, cast.other_neighbourhood, 4, "B")
    result = services.registration_bulk_create(
        actor=cast.admin,
        title=Title.FAMILY,
        year=YEAR,
        subjects=households_for_user(cast.admin),
    )
    assert result.created == 7 and result.proposing_units == ("27184", "27247")
    assert AuditEvent.objects.get(action="registration.bulk_create").unit == cast.city


def test_bulk_refuses_subjects_outside_the_actors_writing_area(cast: Cast) -> None:
    _households(cast, cast.neighbourhood, 3, "A")
    _households(cast, cast.other_neighbourhood, 3, "B")
    before = state()
    with pytest.raises(RoleNotAllowedError):
        services.registration_bulk_create(
            actor=cast.ward_official,
            title=Title.FAMILY,
            year=YEAR,
            subjects=Household.objects.all(),
        )
    for actor in (cast.reviewer, cast.viewer):
        with pytest.raises(RoleNotAllowedError):
            services.registration_bulk_create(
                actor=actor, title=Title.FAMILY, year=YEAR, subjects=households_for_user(actor)
            )
        with pytest.raises(RoleNotAllowedError):  # even when nothing matches
            services.registration_bulk_create(
                actor=actor, title=Title.FAMILY, year=YEAR, subjects=Household.objects.none()
            )
    assert state() == before


def test_bulk_title_must_fit_and_lock_refuses_everything(cast: Cast) -> None:
    _households(cast, cast.neighbourhood, 3, "A")
    _households(cast, cast.other_neighbourhood, 3, "B")
    with pytest.raises(RegistrationError):
        services.registration_bulk_create(
            actor=cast.admin,
            title=Title.CITIZEN,
            year=YEAR,
            subjects=households_for_user(cast.admin),
        )
    lock_registration(cast.other_ward, Title.FAMILY)
    before = state()
    with pytest.raises(DeadlineLockedError):
        services.registration_bulk_create(
            actor=cast.admin,
            title=Title.FAMILY,
            year=YEAR,
            subjects=households_for_user(cast.admin),
        )
    assert state() == before


def test_bulk_community_registration(cast: Cast) -> None:
    make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    units = community_units_for_user(cast.ward_official, level="neighbourhood", year=YEAR)
    result = services.registration_bulk_create(
        actor=cast.ward_official, title=Title.COMMUNITY, year=YEAR, subjects=units
    )
    assert result.created == 2
    assert set(
        Registration.objects.filter(title=Title.COMMUNITY).values_list("proposing_unit", flat=True)
    ) == {cast.ward.pk}


def test_bulk_is_a_constant_number_of_queries(cast: Cast) -> None:
    """No query per subject: only the batched INSERTs grow with the number of rows."""
    _households(cast, cast.neighbourhood, 2500, "A")
    subjects = households_for_user(cast.ward_official)
    with CaptureQueriesContext(connection) as queries:
        result = services.registration_bulk_create(
            actor=cast.ward_official, title=Title.FAMILY, year=YEAR, subjects=subjects
        )
    assert result.created == 2500
    others = [
        q["sql"]
        for q in queries
        if not q["sql"].startswith('INSERT INTO "recognition_registration"')
    ]
    # A constant: the lookups, the locks, the audit row, and the rollup rows of the
    # unit and its ancestors (created here, on the first registration of the year).
    assert len(others) <= 20, others


# --- The registration screen's selector ------------------------------------------------------------


def test_candidates_and_counts(cast: Cast) -> None:
    hs = _households(cast, cast.neighbourhood, 6, "A")
    _households(cast, cast.other_neighbourhood, 4, "B")
    services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=hs[0])
    w = services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR, subject=hs[1])
    services.registration_withdraw(actor=cast.admin, registration=w)
    services.registration_create(actor=cast.admin, title=Title.FAMILY, year=YEAR - 1, subject=hs[2])

    kwargs = {"title": Title.FAMILY, "year": YEAR}
    mine = sel.registration_candidates(cast.ward_official, **kwargs)
    counts = sel.candidate_counts(mine, **kwargs)
    assert (counts.total, counts.registered, counts.not_registered) == (6, 1, 5)
    rows = {h.code: (h.registration_status, h.registration_id) for h in mine}
    assert rows["A-00000"][0] == "registered" and rows["A-00001"][0] == "withdrawn"
    assert rows["A-00002"] == (None, None)
    assert str(rows["A-00000"][1]) == str(
        Registration.objects.get(household=hs[0], year=YEAR).public_id
    )
    states = {
        "registered": 1,
        "not_registered": 5,
        "withdrawn": 1,
        "": 6,
    }
    for state_value, n in states.items():
        assert (
            sel.registration_candidates(cast.ward_official, state=state_value, **kwargs).count()
            == n
        )
    everyone = sel.registration_candidates(cast.admin, **kwargs)
    assert sel.candidate_counts(everyone, **kwargs).total == 10
    narrowed = sel.registration_candidates(cast.admin, unit=cast.other_ward, q="b-0000", **kwargs)
    assert narrowed.count() == 4
    assert sel.unregistered(everyone, **kwargs).count() == 9
    community = sel.registration_candidates(
        cast.ward_official, title=Title.COMMUNITY, year=YEAR, level="commune"
    )
    assert list(community) == [cast.ward]

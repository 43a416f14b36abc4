"""Nomination services: the nominee inside the nominator's scope (else refused,
nothing saved), the reviewing unit by award form, review → approve / reject
through the transition map with role checks, and the whole award path:
propose → review → approve → award decision issued → nominations awarded, the
PDF annex listing each nominee with their award."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from campaigns.models import AwardForm, Nomination, NominationStatus, NomineeKind
from campaigns.services import nominations as services
from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.exceptions import RoleNotAllowedError, TransitionError
from recognition.models import DecisionKind, DecisionStatus, Organisation
from recognition.services import decision as decision_services
from tests.recognition.conftest import make_household
from tests.recognition.decision_support import SIGNER_NAME, SIGNER_TITLE, issue, pdf_text, read_file

N = NominationStatus
YEAR = 2025


def _organisation(unit, name: str = "Trường Tiểu học Bến Nghé") -> Organisation:
    return Organisation.objects.create(
        tenant=unit.tenant, unit=unit, name=name, kind=Organisation.Kind.SCHOOL
    )


def _propose(cast, **kwargs) -> Nomination:
    values = {
        "actor": cast.ward_official,
        "nominating_unit": cast.ward,
        "year": YEAR,
        "nominee_kind": NomineeKind.PERSON,
        "award_form": AwardForm.DISTRICT_COMMENDATION,
        "achievements": "Tổ chức 12 buổi đọc sách\nVận động 300 hộ tham gia",
        "person_name": "Trần Thị Bích",
        "person_position": "Chủ tịch Hội Khuyến học phường",
    }
    values.update(kwargs)
    return services.nomination_create(**values)


def test_reviewing_unit_follows_the_award_form(cast) -> None:
    assert (
        services.reviewing_unit_for(cast.neighbourhood, AwardForm.COMMUNE_COMMENDATION) == cast.ward
    )
    assert services.reviewing_unit_for(cast.ward, AwardForm.COMMUNE_COMMENDATION) == cast.ward
    assert services.reviewing_unit_for(cast.ward, AwardForm.DISTRICT_COMMENDATION) == cast.district
    assert services.reviewing_unit_for(cast.ward, AwardForm.PROVINCE_MERIT) == cast.city
    assert services.reviewing_unit_for(cast.ward, AwardForm.PM_MERIT) == cast.city
    with pytest.raises(services.NominationError):
        services.reviewing_unit_for(cast.district, AwardForm.COMMUNE_COMMENDATION)


def test_after_the_reform_a_district_commendation_goes_to_the_province(cast) -> None:
    from units.models import AdministrativeUnit

    AdministrativeUnit.objects.filter(pk=cast.district.pk).update(
        valid_to=timezone.localdate() - dt.timedelta(days=1)
    )
    ward = AdministrativeUnit.objects.get(pk=cast.ward.pk)
    assert services.reviewing_unit_for(ward, AwardForm.DISTRICT_COMMENDATION) == cast.city


def test_propose_each_kind_of_nominee_in_scope(cast) -> None:
    person = _propose(cast)
    assert person.status == N.PROPOSED
    assert person.reviewing_unit == cast.district
    assert person.nominee_name == "Trần Thị Bích"
    assert person.achievements == "Tổ chức 12 buổi đọc sách\nVận động 300 hộ tham gia"
    household = make_household(cast)
    by_household = _propose(cast, nominee_kind=NomineeKind.HOUSEHOLD, household=household)
    assert by_household.nominee_name == f"Hộ {household.head_name}"
    assert by_household.person_position == ""
    school = _propose(
        cast, nominee_kind=NomineeKind.ORGANISATION, organisation=_organisation(cast.ward)
    )
    assert school.organisation is not None
    unit = _propose(
        cast,
        nominee_kind=NomineeKind.UNIT,
        nominee_unit=cast.neighbourhood,
        award_form=AwardForm.COMMUNE_COMMENDATION,
    )
    assert unit.reviewing_unit == cast.ward
    assert AuditEvent.objects.filter(action="nomination.create").count() == 4


def test_a_nominee_outside_the_nominators_scope_is_refused_and_nothing_saved(cast) -> None:
    before = (Nomination.objects.count(), AuditEvent.objects.count())
    other_household = make_household(cast, unit=cast.other_neighbourhood)
    for kwargs in (
        {"nominee_kind": NomineeKind.UNIT, "nominee_unit": cast.other_ward},
        {"nominee_kind": NomineeKind.UNIT, "nominee_unit": cast.district},
        {"nominee_kind": NomineeKind.UNIT, "nominee_unit": cast.other_tenant_ward},
        {"nominee_kind": NomineeKind.HOUSEHOLD, "household": other_household},
        {"nominee_kind": NomineeKind.ORGANISATION, "organisation": _organisation(cast.other_ward)},
    ):
        with pytest.raises(services.OutOfScopeError) as refused:
            _propose(cast, **kwargs)
        assert refused.value.code == "nominee_out_of_scope"
    assert (Nomination.objects.count(), AuditEvent.objects.count()) == before


def test_propose_refuses_bad_input_and_wrong_roles(cast) -> None:
    with pytest.raises(services.NominationError):
        _propose(cast, achievements="  ")
    with pytest.raises(services.NominationError):
        _propose(cast, person_name="")
    with pytest.raises(services.NominationError):
        _propose(cast, award_form="huan_chuong")
    with pytest.raises(RoleNotAllowedError):
        _propose(cast, actor=cast.viewer)
    with pytest.raises(RoleNotAllowedError):
        _propose(cast, nominating_unit=cast.other_ward)
    _propose(cast)
    with pytest.raises(services.NominationError):
        _propose(cast)  # the same person, award and year again
    assert Nomination.objects.count() == 1


def test_update_only_while_proposed_with_version(cast) -> None:
    nomination = _propose(cast)
    updated = services.nomination_update(
        actor=cast.ward_official,
        nomination=nomination,
        data={"award_form": AwardForm.PROVINCE_MERIT},
        expected_version=1,
    )
    assert updated.reviewing_unit == cast.city and updated.version == 2
    with pytest.raises(ConcurrentEditError):
        services.nomination_update(
            actor=cast.ward_official, nomination=nomination, data={}, expected_version=1
        )
    with pytest.raises(services.OutOfScopeError):
        services.nomination_update(
            actor=cast.ward_official,
            nomination=nomination,
            data={"nominee_kind": NomineeKind.UNIT, "nominee_unit": cast.other_ward},
        )
    services.nomination_review(actor=cast.admin, nomination=updated)
    with pytest.raises(services.NominationError):
        services.nomination_update(
            actor=cast.ward_official, nomination=nomination, data={"person_name": "Khác"}
        )
    nomination.refresh_from_db()
    assert nomination.person_name == "Trần Thị Bích"


def test_workflow_roles_and_reject_needs_a_note(cast) -> None:
    nomination = _propose(cast)
    with pytest.raises(RoleNotAllowedError):
        services.nomination_review(actor=cast.ward_official, nomination=nomination)
    with pytest.raises(RoleNotAllowedError):
        services.nomination_review(actor=cast.viewer, nomination=nomination)
    reviewed = services.nomination_review(
        actor=cast.reviewer, nomination=nomination, note="Hồ sơ đầy đủ", expected_version=1
    )
    assert reviewed.status == N.REVIEWED and reviewed.review_note == "Hồ sơ đầy đủ"
    with pytest.raises(RoleNotAllowedError):
        services.nomination_approve(actor=cast.ward_official, nomination=reviewed)
    with pytest.raises(TransitionError):
        services.nomination_review(actor=cast.reviewer, nomination=reviewed)
    with pytest.raises(services.NominationError):
        services.nomination_reject(actor=cast.reviewer, nomination=reviewed, note=" ")
    reviewed.refresh_from_db()
    assert reviewed.status == N.REVIEWED
    rejected = services.nomination_reject(
        actor=cast.reviewer, nomination=reviewed, note="Thành tích chưa tiêu biểu"
    )
    assert rejected.status == N.REJECTED
    actions = list(
        AuditEvent.objects.filter(object_id=str(nomination.public_id))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["nomination.create", "nomination.review", "nomination.reject"]


def test_approve_many_all_or_nothing(cast) -> None:
    first = services.nomination_review(actor=cast.reviewer, nomination=_propose(cast))
    second = _propose(cast, person_name="Lê Văn Cường")
    with pytest.raises(TransitionError):
        services.nomination_approve_many(
            actor=cast.reviewer,
            reviewing_unit=cast.district,
            public_ids=[first.public_id, second.public_id],
        )
    first.refresh_from_db()
    assert first.status == N.REVIEWED
    services.nomination_review(actor=cast.reviewer, nomination=second)
    count = services.nomination_approve_many(
        actor=cast.reviewer,
        reviewing_unit=cast.district,
        public_ids=[first.public_id, second.public_id],
    )
    assert count == 2
    assert set(Nomination.objects.values_list("status", flat=True)) == {N.APPROVED}


def _approved(cast, **kwargs) -> Nomination:
    nomination = _propose(cast, **kwargs)
    nomination = services.nomination_review(actor=cast.reviewer, nomination=nomination)
    return services.nomination_approve(actor=cast.reviewer, nomination=nomination)


def test_the_award_path_from_proposal_to_issued_decision(cast) -> None:
    person = _approved(cast)
    school = _approved(
        cast,
        nominee_kind=NomineeKind.ORGANISATION,
        organisation=_organisation(cast.ward),
        award_form=AwardForm.DISTRICT_COMMENDATION,
    )
    pending = _propose(cast, person_name="Phạm Văn Dũng")  # not approved: left out
    with pytest.raises(RoleNotAllowedError):
        services.award_decision_start(
            actor=cast.ward_official, reviewing_unit=cast.district, year=YEAR
        )
    decision = services.award_decision_start(
        actor=cast.reviewer, reviewing_unit=cast.district, year=YEAR
    )
    assert decision.kind == DecisionKind.AWARD and decision.status == DecisionStatus.DRAFT
    assert decision.item_count == 2
    with pytest.raises(services.NominationError):
        services.award_decision_start(actor=cast.reviewer, reviewing_unit=cast.district, year=YEAR)
    decision = decision_services.decision_update(
        actor=cast.reviewer,
        decision=decision,
        expected_version=decision.version,
        data={
            "signer_name": SIGNER_NAME,
            "signer_title": SIGNER_TITLE,
            "issued_on": timezone.localdate(),
        },
    )
    job = issue(decision, cast.reviewer)
    assert job.status == "done", job.message
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.ISSUED
    for nomination in (person, school):
        nomination.refresh_from_db()
        assert nomination.status == N.AWARDED
    pending.refresh_from_db()
    assert pending.status == N.PROPOSED
    assert AuditEvent.objects.filter(
        action="nomination.award", object_id=str(person.public_id)
    ).exists()
    text = " ".join(pdf_text(read_file(decision.pdf)).split())
    assert "Trần Thị Bích" in text
    assert "Trường Tiểu học Bến Nghé" in text
    with translation.override("vi"):
        award = str(AwardForm.DISTRICT_COMMENDATION.label)
    assert text.count(award) == 2
    assert "Hình thức khen thưởng" in text

"""Dossier services: open, add and remove items, progress, submit (deadline lock,
refusals), the submission snapshot, e-mails after commit and the diff after a
resubmission."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.exceptions import (
    DeadlineLockedError,
    DossierError,
    DossierIncompleteError,
    DossierItemsError,
    NoReviewingUnitError,
    RoleNotAllowedError,
    TransitionError,
)
from recognition.models import (
    AssessmentStatus,
    Dossier,
    DossierStatus,
    DossierSubmission,
    FormLock,
    IndicatorScore,
    LockExtension,
    RegistrationStatus,
    ReviewChain,
)
from recognition.services import dossier as services
from recognition.services import review as review_services
from recognition.titles import Title
from tests.factories import grant, make_user
from tests.recognition.conftest import YEAR
from tests.recognition.dossier_factories import (
    add_evidence,
    indicators_of,
    make_assessment,
    ready_households,
    submitted_dossier,
    ward_dossier,
)
from units.models import AdministrativeUnit
from units.roles import Role

A = AssessmentStatus


def _state(dossier: Dossier) -> tuple:
    dossier.refresh_from_db()
    return (
        dossier.status,
        dossier.version,
        dossier.submission_count,
        sorted(dossier.items.values_list("pk", "status", "version")),
        DossierSubmission.objects.filter(dossier=dossier).count(),
    )


# --- dossier_for --------------------------------------------------------------------


def test_dossier_for_creates_once_and_routes_to_the_district(cycle) -> None:
    cast = cycle.cast
    dossier = ward_dossier(cast)
    assert dossier.status == DossierStatus.DRAFT
    assert dossier.reviewing_unit == cast.district
    assert dossier.proposing_unit == cast.ward
    again = ward_dossier(cast)
    assert again.pk == dossier.pk
    assert AuditEvent.objects.filter(action="dossier.create").count() == 1


def test_dossier_for_follows_the_review_chain(cycle) -> None:
    cast = cycle.cast
    ReviewChain.objects.create(
        tenant=cast.tenant,
        title=Title.FAMILY,
        scope_level="",
        proposer_level="commune",
        reviewer_level="province",
        recogniser_level="commune",
        recogniser_label="Chủ tịch UBND phường",
    )
    assert ward_dossier(cast).reviewing_unit == cast.city


def test_dossier_for_refuses_without_a_reviewing_unit(cycle) -> None:
    cast = cycle.cast
    ReviewChain.objects.create(
        tenant=cast.tenant,
        title=Title.FAMILY,
        proposer_level="commune",
        reviewer_level="district",
        recogniser_level="commune",
        recogniser_label="Chủ tịch UBND phường",
    )
    # The district is gone after the reform, but the chain still names districts.
    AdministrativeUnit.objects.filter(pk=cast.district.pk).update(valid_to=dt.date(2025, 6, 30))
    with pytest.raises(NoReviewingUnitError) as exc:
        services.dossier_for(
            actor=cast.ward_official,
            proposing_unit=cast.ward,
            title=Title.FAMILY,
            year=YEAR,
            on=dt.date(2025, 8, 1),
        )
    assert cast.ward.name in str(exc.value)
    assert not Dossier.objects.exists()


def test_dossier_for_refuses_wrong_role_and_neighbourhoods(cycle) -> None:
    cast = cycle.cast
    with pytest.raises(RoleNotAllowedError):
        services.dossier_for(
            actor=cast.reviewer, proposing_unit=cast.ward, title=Title.FAMILY, year=YEAR
        )
    with pytest.raises(RoleNotAllowedError):
        services.dossier_for(
            actor=cast.viewer, proposing_unit=cast.ward, title=Title.FAMILY, year=YEAR
        )
    with pytest.raises(RoleNotAllowedError):
        services.dossier_for(
            actor=cast.ward_official, proposing_unit=cast.other_ward, title=Title.FAMILY, year=YEAR
        )
    with pytest.raises(DossierError):
        services.dossier_for(
            actor=cast.ward_official,
            proposing_unit=cast.neighbourhood,
            title=Title.FAMILY,
            year=YEAR,
        )
    with pytest.raises(DossierError):
        services.dossier_for(
            actor=cast.ward_official, proposing_unit=cast.ward, title="nope", year=YEAR
        )
    with pytest.raises(DossierError):
        services.dossier_for(
            actor=cast.ward_official, proposing_unit=cast.ward, title=Title.FAMILY, year=1990
        )
    assert not Dossier.objects.exists()


# --- items ---------------------------------------------------------------------------


def test_add_ready_takes_only_ready_items_of_the_unit_title_and_year(cycle) -> None:
    cast = cycle.cast
    ready = ready_households(cast, cycle.points_set, 3)
    draft = make_assessment(cycle.registration, cycle.points_set, status=A.DRAFT)
    other_ward = make_assessment(cycle.other_registration, cycle.points_set)
    last_year = ready_households(cast, cycle.points_set, 1, year=YEAR - 1)[0]
    dossier = ward_dossier(cast)
    assert services.dossier_add_ready(actor=cast.ward_official, dossier=dossier) == 3
    assert set(dossier.items.values_list("pk", flat=True)) == {a.pk for a in ready}
    for a in (draft, other_ward, last_year):
        a.refresh_from_db()
        assert a.dossier_id is None
    # Nothing left: adding again adds nothing and writes no audit row.
    events = AuditEvent.objects.count()
    assert services.dossier_add_ready(actor=cast.ward_official, dossier=dossier) == 0
    assert AuditEvent.objects.count() == events


def test_add_items_is_all_or_nothing_with_reasons(cycle) -> None:
    cast = cycle.cast
    ready = ready_households(cast, cycle.points_set, 2)
    draft = make_assessment(cycle.registration, cycle.points_set, status=A.DRAFT)
    other_ward = make_assessment(cycle.other_registration, cycle.points_set)
    dossier = ward_dossier(cast)
    with pytest.raises(DossierItemsError) as exc:
        services.dossier_add_items(
            actor=cast.ward_official,
            dossier=dossier,
            assessment_ids=[ready[0].public_id, draft.public_id, other_ward.public_id, "x"],
        )
    problems = exc.value.problems
    assert any(str(cycle.household) in p for p in problems)
    assert any("2" in p for p in problems)  # the other ward's id and the malformed one
    assert not dossier.items.exists()
    added = services.dossier_add_items(
        actor=cast.ward_official, dossier=dossier, assessment_ids=[a.public_id for a in ready]
    )
    assert added == 2


def test_an_item_belongs_to_one_dossier(cycle) -> None:
    cast = cycle.cast
    item = ready_households(cast, cycle.points_set, 1)[0]
    dossier = ward_dossier(cast)
    services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    other = services.dossier_for(
        actor=cast.ward_official,
        proposing_unit=cast.ward,
        title=Title.FAMILY,
        year=YEAR,
        scope_level="commune",
    )
    # A set of another level does not match this dossier at all.
    with pytest.raises(DossierItemsError):
        services.dossier_add_items(
            actor=cast.ward_official, dossier=other, assessment_ids=[item.public_id]
        )


def test_remove_items(cycle) -> None:
    cast = cycle.cast
    items = ready_households(cast, cycle.points_set, 2)
    dossier = ward_dossier(cast)
    services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    assert (
        services.dossier_remove_items(
            actor=cast.ward_official, dossier=dossier, assessment_ids=[items[0].public_id]
        )
        == 1
    )
    items[0].refresh_from_db()
    assert items[0].dossier_id is None and items[0].status == A.READY
    with pytest.raises(DossierItemsError):
        services.dossier_remove_items(
            actor=cast.ward_official, dossier=dossier, assessment_ids=[items[0].public_id]
        )
    assert AuditEvent.objects.filter(action="dossier.remove_items").count() == 1


def test_items_cannot_change_once_submitted_or_by_a_reviewer(cycle) -> None:
    cast = cycle.cast
    dossier, items = submitted_dossier(cast, cycle.points_set, 2)
    extra = ready_households(cast, cycle.points_set, 1)[0]
    before = _state(dossier)
    with pytest.raises(TransitionError):
        services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    with pytest.raises(TransitionError):
        services.dossier_remove_items(
            actor=cast.ward_official, dossier=dossier, assessment_ids=[items[0].public_id]
        )
    draft = ward_dossier(cast, ward=cast.other_ward, actor=cast.admin)
    with pytest.raises(RoleNotAllowedError):
        services.dossier_add_ready(actor=cast.reviewer, dossier=draft)
    with pytest.raises(RoleNotAllowedError):
        services.dossier_add_items(
            actor=cast.ward_official, dossier=draft, assessment_ids=[extra.public_id]
        )
    assert _state(dossier) == before


def test_decided_items_stay_in_a_returned_dossier(cycle) -> None:
    cast = cycle.cast
    dossier, items = submitted_dossier(cast, cycle.points_set, 2)
    review_services.item_approve(actor=cast.reviewer, item=items[0])
    review_services.item_return(actor=cast.reviewer, item=items[1], reason="Thiếu minh chứng")
    review_services.dossier_finish(actor=cast.reviewer, dossier=dossier)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RETURNED
    with pytest.raises(DossierItemsError) as exc:
        services.dossier_remove_items(
            actor=cast.ward_official, dossier=dossier, assessment_ids=[items[0].public_id]
        )
    assert str(A.APPROVED.label) in str(exc.value)
    assert str(items[0].registration.subject) in str(exc.value)
    # The returned one may be taken out.
    services.dossier_remove_items(
        actor=cast.ward_official, dossier=dossier, assessment_ids=[items[1].public_id]
    )


# --- progress ------------------------------------------------------------------------


def test_progress_counts(cycle) -> None:
    cast = cycle.cast
    ready_households(cast, cycle.points_set, 3)  # pass, with evidence
    ready_households(cast, cycle.points_set, 1, points=(40, 30, 2))  # below the minimum
    ready_households(cast, cycle.points_set, 1, evidence=False)  # missing evidence
    make_assessment(cycle.registration, cycle.points_set, status=A.DRAFT)
    # Withdrawn registrations do not count.
    withdrawn = ready_households(cast, cycle.points_set, 1)[0]
    withdrawn.registration.status = RegistrationStatus.WITHDRAWN
    withdrawn.registration.save()
    dossier = ward_dossier(cast)
    services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    progress = services.dossier_progress(dossier)
    assert progress.registered == 6
    assert progress.assessed == 5
    assert progress.passing == 4
    assert progress.missing_evidence == 1
    assert progress.in_dossier == 5
    assert progress.returned == 0
    assert progress.ready_to_add == 0
    assert progress.assessed_pct == 83


# --- submit -----------------------------------------------------------------------------


def test_submit_locks_items_snapshots_and_audits(cycle) -> None:
    cast = cycle.cast
    dossier, items = submitted_dossier(cast, cycle.points_set, 2)
    assert dossier.status == DossierStatus.SUBMITTED
    assert dossier.submission_count == 1
    assert dossier.submitted_at is not None
    assert all(i.status == A.SUBMITTED for i in items)
    submission = DossierSubmission.objects.get(dossier=dossier)
    assert submission.number == 1
    assert submission.submitted_by == cast.ward_official
    snap = submission.snapshot["items"][str(items[0].public_id)]
    assert snap["self_total"] == "90.00"
    assert snap["self_passed"] is True
    assert {v["code"] for v in snap["scores"].values()} == {"1.1", "2.1", "2.2"}
    assert len(snap["evidence"]) == 1 and len(snap["evidence"][0]["sha256"]) == 64
    assert AuditEvent.objects.filter(action="dossier.submit").count() == 1
    assert AuditEvent.objects.filter(action="assessment.submit").count() == 2


def test_submit_refuses_an_empty_dossier_or_unready_items(cycle) -> None:
    cast = cycle.cast
    dossier = ward_dossier(cast)
    with pytest.raises(DossierIncompleteError) as exc:
        services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    assert exc.value.problems
    ready_households(cast, cycle.points_set, 1)
    services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    # The ward reopens one item after adding it: the dossier cannot go.
    item = dossier.items.get()
    Dossier.objects.filter(pk=dossier.pk)  # no-op, keeps the query count honest
    type(item).objects.filter(pk=item.pk).update(status=A.DRAFT)
    before = _state(dossier)
    with pytest.raises(DossierIncompleteError) as exc:
        services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    assert str(item.registration.subject) in exc.value.problems[0]
    assert _state(dossier) == before


def test_submit_refuses_wrong_role_wrong_state_and_stale_version(cycle) -> None:
    cast = cycle.cast
    ready_households(cast, cycle.points_set, 1)
    dossier = ward_dossier(cast)
    services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    before = _state(dossier)
    with pytest.raises(RoleNotAllowedError):
        services.dossier_submit(actor=cast.reviewer, dossier=dossier)
    with pytest.raises(RoleNotAllowedError):
        services.dossier_submit(actor=cast.viewer, dossier=dossier)
    with pytest.raises(ConcurrentEditError):
        services.dossier_submit(
            actor=cast.ward_official, dossier=dossier, expected_version=dossier.version + 5
        )
    assert _state(dossier) == before
    # The page showed the dossier before someone else added an item: refused.
    shown = dossier.version
    ready_households(cast, cycle.points_set, 1)
    services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    with pytest.raises(ConcurrentEditError):
        services.dossier_submit(actor=cast.ward_official, dossier=dossier, expected_version=shown)
    dossier.refresh_from_db()
    services.dossier_submit(
        actor=cast.ward_official, dossier=dossier, expected_version=dossier.version
    )
    with pytest.raises(TransitionError):
        services.dossier_submit(actor=cast.ward_official, dossier=dossier)


def test_submit_after_the_deadline_lock_is_refused_and_changes_nothing(cycle) -> None:
    cast = cycle.cast
    ready_households(cast, cycle.points_set, 2)
    dossier = ward_dossier(cast)
    services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    lock = FormLock.objects.create(
        tenant=cast.tenant,
        unit=cast.district,
        title=Title.FAMILY,
        year=YEAR,
        stage="dossier",
        locks_at=timezone.now() - dt.timedelta(hours=1),
    )
    before = _state(dossier)
    events = AuditEvent.objects.count()
    with pytest.raises(DeadlineLockedError):
        services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    with pytest.raises(DeadlineLockedError):
        services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    assert _state(dossier) == before
    assert AuditEvent.objects.count() == events
    assert mail.outbox == []
    # An extension for the ward reopens it.
    LockExtension.objects.create(
        lock=lock,
        unit=cast.ward,
        until=timezone.now() + dt.timedelta(days=1),
        reason="Bổ sung hồ sơ",
    )
    assert services.dossier_submit(actor=cast.ward_official, dossier=dossier).status == (
        DossierStatus.SUBMITTED
    )


def test_reviewers_are_emailed_once_after_commit(cycle, django_capture_on_commit_callbacks) -> None:
    cast = cycle.cast
    # A second reviewer above the district, and one of another district who must not hear.
    city_reviewer = grant(make_user(cast.tenant, "city.reviewer"), cast.city, Role.REVIEWER)
    grant(make_user(cast.tenant, "other.reviewer"), cast.other_district, Role.REVIEWER)
    ready_households(cast, cycle.points_set, 2)
    dossier = ward_dossier(cast)
    services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.dossier_submit(
            actor=cast.ward_official, dossier=dossier, base_url="https://xhht.example.vn/"
        )
    assert mail.outbox == [], "nothing is sent before the commit"
    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.reviewer.email, city_reviewer.email]
    )
    message = mail.outbox[0]
    assert cast.ward.name in message.subject
    assert "Hồ sơ" in message.subject or "hồ sơ" in message.subject
    assert f"https://xhht.example.vn/recognition/review/{dossier.public_id}/" in message.body
    # The task is idempotent: running it again sends nothing more.
    callbacks[0]()
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action="dossier.notified").count() == 1


def test_a_refused_submit_sends_no_email(cycle, django_capture_on_commit_callbacks) -> None:
    cast = cycle.cast
    dossier = ward_dossier(cast)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DossierIncompleteError),
    ):
        services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    assert callbacks == []
    assert mail.outbox == []


# --- resubmission diff ----------------------------------------------------------------


def test_changes_after_resubmission(cycle) -> None:
    cast = cycle.cast
    dossier, items = submitted_dossier(cast, cycle.points_set, 3)
    assert services.dossier_changes(dossier) is None
    kept, fixed, dropped = items
    review_services.item_approve(actor=cast.reviewer, item=kept)
    review_services.item_return(actor=cast.reviewer, item=fixed, reason="Điểm 2.2 chưa đúng")
    review_services.item_return(actor=cast.reviewer, item=dropped, reason="Không đủ điều kiện")
    review_services.dossier_finish(actor=cast.reviewer, dossier=dossier)
    # The ward fixes one item (score and files), drops another, adds a new one.
    indicators = indicators_of(cycle.points_set)
    IndicatorScore.objects.filter(assessment=fixed, indicator=indicators[2]).update(self_points=30)
    fixed.evidence.all().delete()
    add_evidence(fixed, indicators[1], name="anh-hoat-dong.jpg")
    type(fixed).objects.filter(pk=fixed.pk).update(status=A.READY, self_total=95)
    services.dossier_remove_items(
        actor=cast.ward_official, dossier=dossier, assessment_ids=[dropped.public_id]
    )
    new = ready_households(cast, cycle.points_set, 1)[0]
    services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    dossier = services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    assert dossier.submission_count == 2
    changes = services.dossier_changes(dossier)
    assert changes is not None
    assert (changes.previous, changes.current) == (1, 2)
    by_id = {c.public_id: c for c in changes.items}
    assert by_id[str(new.public_id)].kind == "added"
    assert by_id[str(dropped.public_id)].kind == "removed"
    change = by_id[str(fixed.public_id)]
    assert change.kind == "changed"
    assert [(s.code, s.before, s.after) for s in change.scores] == [("2.2", "25", "30")]
    assert change.evidence_added == ["2.1: anh-hoat-dong.jpg"]
    assert change.evidence_removed == ["2.1: bien-ban.pdf"]
    assert (change.total_before, change.total_after) == ("90", "95")
    assert str(kept.public_id) not in by_id  # approved and unchanged
    # Only the fixed and the new item went to the reviewer again.
    fixed.refresh_from_db()
    kept.refresh_from_db()
    assert fixed.status == A.SUBMITTED and fixed.return_reason == ""
    assert kept.status == A.APPROVED


def test_resubmission_needs_the_returned_items_fixed(cycle) -> None:
    cast = cycle.cast
    dossier, items = submitted_dossier(cast, cycle.points_set, 1)
    review_services.dossier_return(actor=cast.reviewer, dossier=dossier, reason="Bổ sung")
    with pytest.raises(DossierIncompleteError) as exc:
        services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    assert str(items[0].registration.subject) in exc.value.problems[0]

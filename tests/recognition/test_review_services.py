"""Review services: per-item and bulk decisions, the reviewer's scores, returning
the whole dossier, finishing the review, e-mails to the ward, and the review
chain configuration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.exceptions import (
    DossierError,
    DossierItemsError,
    ReasonRequiredError,
    ReviewChainError,
    ReviewNotFinishedError,
    RoleNotAllowedError,
    ScoreError,
    TransitionError,
)
from recognition.models import (
    Assessment,
    AssessmentStatus,
    DossierStatus,
    IndicatorScore,
    ReviewChain,
)
from recognition.services import chain as chain_services
from recognition.services import review as services
from recognition.services.chain import reviewing_unit_for
from recognition.titles import Title
from tests.factories import grant, make_unit, make_user
from tests.recognition.conftest import YEAR, register_household
from tests.recognition.dossier_factories import (
    indicators_of,
    make_assessment,
    submitted_dossier,
)
from units import services as unit_services
from units.roles import Role

A = AssessmentStatus


def _items_state(dossier) -> list:
    return sorted(
        Assessment.objects.filter(dossier=dossier).values_list(
            "pk", "status", "version", "return_reason", "final_total"
        )
    )


# --- item decisions ------------------------------------------------------------------


def test_item_approve_return_reject(cycle) -> None:
    cast = cycle.cast
    dossier, (a, b, c) = submitted_dossier(cast, cycle.points_set, 3)
    approved = services.item_approve(actor=cast.reviewer, item=a)
    assert approved.status == A.APPROVED
    assert approved.reviewed_by == cast.reviewer
    # Approval without the reviewer's own score confirms the ward's.
    assert approved.final_total == Decimal("90.00") and approved.final_passed is True
    returned = services.item_return(actor=cast.reviewer, item=b, reason="  Thiếu  biên bản ")
    assert returned.status == A.RETURNED
    assert returned.return_reason == "Thiếu biên bản"
    rejected = services.item_reject(actor=cast.reviewer, item=c, reason="Không cư trú")
    assert rejected.status == A.REJECTED and rejected.return_reason == "Không cư trú"
    events = AuditEvent.objects.filter(action__in=["assessment.return", "assessment.reject"])
    assert {e.after["reason"] for e in events} == {"Thiếu biên bản", "Không cư trú"}
    assert all(e.unit_id == cast.district.pk for e in events)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED  # until the review is finished


def test_item_decisions_need_a_reason_the_right_role_and_state(cycle) -> None:
    cast = cycle.cast
    dossier, (a, b) = submitted_dossier(cast, cycle.points_set, 2)
    before = _items_state(dossier)
    with pytest.raises(ReasonRequiredError):
        services.item_return(actor=cast.reviewer, item=a, reason="   ")
    with pytest.raises(ReasonRequiredError):
        services.item_reject(actor=cast.reviewer, item=a, reason="")
    with pytest.raises(RoleNotAllowedError):
        services.item_approve(actor=cast.ward_official, item=a)
    with pytest.raises(RoleNotAllowedError):
        services.item_approve(actor=cast.viewer, item=a)
    other_reviewer = grant(
        make_user(cast.tenant, "q2.reviewer"), cast.other_district, Role.REVIEWER
    )
    with pytest.raises(RoleNotAllowedError):
        services.item_approve(actor=other_reviewer, item=a)
    with pytest.raises(ConcurrentEditError):
        services.item_approve(actor=cast.reviewer, item=a, expected_version=a.version + 3)
    assert _items_state(dossier) == before
    services.item_approve(actor=cast.reviewer, item=a)
    with pytest.raises(TransitionError) as exc:
        services.item_reject(actor=cast.reviewer, item=a, reason="Đổi ý")
    assert str(A.APPROVED.label) in str(exc.value)
    # A tenant admin above the district may review too.
    services.item_approve(actor=cast.admin, item=b)


def test_items_outside_a_submitted_dossier_cannot_be_decided(cycle) -> None:
    cast = cycle.cast
    loose = make_assessment(cycle.registration, cycle.points_set)
    with pytest.raises(DossierError):
        services.item_approve(actor=cast.reviewer, item=loose)
    dossier, (a,) = submitted_dossier(cast, cycle.points_set, 1)
    services.dossier_return(actor=cast.reviewer, dossier=dossier, reason="Bổ sung hồ sơ")
    a.refresh_from_db()
    with pytest.raises(TransitionError):
        services.item_approve(actor=cast.reviewer, item=a)


def test_bulk_decisions_are_all_or_nothing(cycle) -> None:
    cast = cycle.cast
    dossier, items = submitted_dossier(cast, cycle.points_set, 4)
    services.item_approve(actor=cast.reviewer, item=items[0])
    before = _items_state(dossier)
    with pytest.raises(DossierItemsError) as exc:
        services.items_decide(
            actor=cast.reviewer,
            dossier=dossier,
            action="return",
            assessment_ids=[i.public_id for i in items],
            reason="Thiếu chữ ký",
        )
    assert str(items[0].registration.subject) in str(exc.value)
    assert _items_state(dossier) == before
    with pytest.raises(ReasonRequiredError):
        services.items_decide(
            actor=cast.reviewer,
            dossier=dossier,
            action="reject",
            assessment_ids=[items[1].public_id],
        )
    with pytest.raises(DossierItemsError):
        services.items_decide(
            actor=cast.reviewer, dossier=dossier, action="approve", assessment_ids=[]
        )
    with pytest.raises(DossierError):
        services.items_decide(
            actor=cast.reviewer, dossier=dossier, action="delete", assessment_ids=[]
        )
    with pytest.raises(RoleNotAllowedError):
        services.items_decide(
            actor=cast.ward_official,
            dossier=dossier,
            action="approve",
            assessment_ids=[items[1].public_id],
        )
    assert _items_state(dossier) == before
    count = services.items_decide(
        actor=cast.reviewer,
        dossier=dossier,
        action="approve",
        assessment_ids=[i.public_id for i in items[1:]],
    )
    assert count == 3
    assert set(Assessment.objects.filter(dossier=dossier).values_list("status", flat=True)) == {
        A.APPROVED
    }


# --- the reviewer's own scores ------------------------------------------------------------


def test_confirm_score_computes_the_final_result(cycle) -> None:
    cast = cycle.cast
    _dossier, (item,) = submitted_dossier(cast, cycle.points_set, 1)
    _i1, i2, i3 = indicators_of(cycle.points_set)
    scored = services.item_confirm_score(
        actor=cast.reviewer, item=item, scores={i2.pk: "10", i3.pk: ""}
    )
    # 40 (own) + 10 (reviewer) + 25 (own) = 75 < 80: does not pass.
    assert scored.final_total == Decimal("75.00")
    assert scored.final_passed is False
    row = IndicatorScore.objects.get(assessment=item, indicator=i2)
    assert row.review_points == Decimal(10) and row.self_points == Decimal(25)
    assert AuditEvent.objects.get(action="assessment.review_score").after["scores"] == {
        "2.1": "10",
        "2.2": None,
    }
    # Approving afterwards keeps the reviewer's result.
    approved = services.item_approve(actor=cast.reviewer, item=scored)
    assert approved.final_total == Decimal("75.00")


def test_confirm_score_refuses_values_out_of_range(cycle) -> None:
    cast = cycle.cast
    dossier, (item,) = submitted_dossier(cast, cycle.points_set, 1)
    i1 = indicators_of(cycle.points_set)[0]
    before = _items_state(dossier)
    for bad in ("41", "-1", "abc", "NaN"):
        with pytest.raises(ScoreError) as exc:
            services.item_confirm_score(actor=cast.reviewer, item=item, scores={i1.pk: bad})
        assert "1.1" in str(exc.value)
    other = indicators_of(cycle.levels_set)[0]
    with pytest.raises(DossierError):
        services.item_confirm_score(actor=cast.reviewer, item=item, scores={other.pk: "1"})
    with pytest.raises(RoleNotAllowedError):
        services.item_confirm_score(actor=cast.ward_official, item=item, scores={i1.pk: "30"})
    assert _items_state(dossier) == before
    assert not IndicatorScore.objects.filter(review_points__isnull=False).exists()


def test_confirm_score_on_a_levels_set(cycle) -> None:
    cast = cycle.cast
    registration = register_household(cast, cycle.household, year=YEAR - 1)
    item = make_assessment(registration, cycle.levels_set, points=())
    for indicator in indicators_of(cycle.levels_set):
        IndicatorScore.objects.create(assessment=item, indicator=indicator, self_level=2)
    cycle.levels_set.scope_level = ""
    cycle.levels_set.save()
    from recognition.services import dossier as dossier_services

    dossier = dossier_services.dossier_for(
        actor=cast.ward_official, proposing_unit=cast.ward, title=Title.FAMILY, year=YEAR - 1
    )
    dossier_services.dossier_add_ready(actor=cast.ward_official, dossier=dossier)
    dossier_services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    item.refresh_from_db()
    _i1, i2 = indicators_of(cycle.levels_set)
    scored = services.item_confirm_score(actor=cast.reviewer, item=item, scores={i2.pk: 1})
    assert scored.final_level == 1 and scored.final_passed is True
    with pytest.raises(ScoreError):
        services.item_confirm_score(actor=cast.reviewer, item=item, scores={i2.pk: 3})


# --- the whole dossier ------------------------------------------------------------------


def test_dossier_return_returns_every_undecided_item(
    cycle, django_capture_on_commit_callbacks
) -> None:
    cast = cycle.cast
    dossier, (a, b, c) = submitted_dossier(cast, cycle.points_set, 3)
    services.item_approve(actor=cast.reviewer, item=a)
    with pytest.raises(ReasonRequiredError):
        services.dossier_return(actor=cast.reviewer, dossier=dossier, reason=" ")
    with pytest.raises(RoleNotAllowedError):
        services.dossier_return(actor=cast.ward_official, dossier=dossier, reason="x")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.dossier_return(
            actor=cast.reviewer, dossier=dossier, reason="Thiếu biên bản họp xét"
        )
    assert result.status == DossierStatus.RETURNED
    assert result.return_reason == "Thiếu biên bản họp xét"
    statuses = dict(Assessment.objects.filter(dossier=dossier).values_list("pk", "status"))
    assert statuses == {a.pk: A.APPROVED, b.pk: A.RETURNED, c.pk: A.RETURNED}
    assert AuditEvent.objects.filter(action="dossier.return").count() == 1
    # The ward official hears about it, with the reasons; the reviewer does not.
    assert [m.to for m in mail.outbox] == [[cast.ward_official.email]]
    body = mail.outbox[0].body
    assert "Thiếu biên bản họp xét" in body
    assert str(b.registration.subject) in body
    with pytest.raises(TransitionError):
        services.dossier_return(actor=cast.reviewer, dossier=result, reason="lần nữa")


def test_finish_needs_every_item_decided(cycle) -> None:
    cast = cycle.cast
    dossier, (a, _b) = submitted_dossier(cast, cycle.points_set, 2)
    services.item_approve(actor=cast.reviewer, item=a)
    with pytest.raises(ReviewNotFinishedError) as exc:
        services.dossier_finish(actor=cast.reviewer, dossier=dossier)
    assert "1" in str(exc.value)
    with pytest.raises(RoleNotAllowedError):
        services.dossier_finish(actor=cast.ward_official, dossier=dossier)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED


def test_finish_approves_when_all_decided(cycle, django_capture_on_commit_callbacks) -> None:
    cast = cycle.cast
    dossier, (a, b) = submitted_dossier(cast, cycle.points_set, 2)
    services.item_approve(actor=cast.reviewer, item=a)
    services.item_reject(actor=cast.reviewer, item=b, reason="Không đủ điểm")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.dossier_finish(
            actor=cast.reviewer, dossier=dossier, expected_version=dossier.version
        )
    assert result.status == DossierStatus.APPROVED
    assert result.reviewed_at is not None
    event = AuditEvent.objects.get(action="dossier.approve")
    assert event.after["approved"] == 1 and event.after["rejected"] == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [cast.ward_official.email]
    assert "Không đủ điểm" in mail.outbox[0].body
    with pytest.raises(TransitionError):
        services.dossier_finish(actor=cast.reviewer, dossier=result)


def test_finish_with_returned_items_sends_the_dossier_back(cycle) -> None:
    cast = cycle.cast
    dossier, (a, b) = submitted_dossier(cast, cycle.points_set, 2)
    services.item_approve(actor=cast.reviewer, item=a)
    services.item_return(actor=cast.reviewer, item=b, reason="Sai số thành viên")
    result = services.dossier_finish(actor=cast.reviewer, dossier=dossier)
    assert result.status == DossierStatus.RETURNED
    assert "1" in result.return_reason
    assert AuditEvent.objects.filter(action="dossier.return").count() == 1
    assert not AuditEvent.objects.filter(action="dossier.approve").exists()


# --- review chains -----------------------------------------------------------------------


def test_default_chains_for_a_tenant_that_keeps_districts(cast) -> None:
    created = chain_services.ensure_default_chains(cast.tenant)
    assert created == len(chain_services.DEFAULT_CHAINS)
    assert chain_services.ensure_default_chains(cast.tenant) == 0
    commune = ReviewChain.objects.get(
        tenant=cast.tenant, title=Title.COMMUNITY, scope_level="commune"
    )
    assert commune.reviewer_level == "district"
    assert commune.recogniser_label == "Trưởng Phòng Giáo dục và Đào tạo"
    assert commune.valid_to is None
    family = ReviewChain.objects.get(tenant=cast.tenant, title=Title.FAMILY)
    assert family.recogniser_label == "Chủ tịch UBND phường/xã"
    assert "RULES.md §4.2" in family.legal_basis
    on = dt.date(2025, 9, 1)
    assert (
        reviewing_unit_for(proposing_unit=cast.ward, title=Title.FAMILY, scope_level="", on=on)
        == cast.district
    )


def test_default_chains_after_the_reform(cast) -> None:
    unit_services.tenant_set_level_period(
        tenant=cast.tenant,
        level="district",
        valid_from=dt.date(1900, 1, 1),
        valid_to=dt.date(2025, 6, 30),
    )
    created = chain_services.ensure_default_chains(cast.tenant)
    assert created == 2 * len(chain_services.DEFAULT_CHAINS)
    before, after = ReviewChain.objects.filter(
        tenant=cast.tenant, title=Title.COMMUNITY, scope_level="commune"
    ).order_by("valid_from")
    assert before.valid_to == dt.date(2025, 6, 30) and before.reviewer_level == "district"
    assert after.valid_from == dt.date(2025, 7, 1) and after.reviewer_level == "province"
    assert after.recogniser_label == ""  # left for the administrator (RULES.md §8)
    on_before, on_after = dt.date(2025, 3, 1), dt.date(2025, 9, 1)
    kwargs = {"proposing_unit": cast.ward, "title": Title.COMMUNITY, "scope_level": "commune"}
    assert reviewing_unit_for(on=on_before, **kwargs) == cast.district
    assert reviewing_unit_for(on=on_after, **kwargs) == cast.city


def test_review_chain_create_and_end(cast) -> None:
    chain = chain_services.review_chain_create(
        actor=cast.admin,
        tenant=cast.tenant,
        title=Title.CITIZEN,
        scope_level="",
        valid_from=dt.date(2023, 1, 1),
        valid_to=None,
        proposer_level="commune",
        reviewer_level="district",
        recogniser_level="commune",
        recogniser_label="  Chủ tịch  UBND phường ",
        legal_basis="QĐ 244/QĐ-KHVN",
    )
    assert chain.recogniser_label == "Chủ tịch UBND phường"
    overlap = {
        "actor": cast.admin,
        "tenant": cast.tenant,
        "title": Title.CITIZEN,
        "scope_level": "",
        "valid_from": dt.date(2025, 7, 1),
        "valid_to": None,
        "proposer_level": "commune",
        "reviewer_level": "province",
        "recogniser_level": "commune",
        "recogniser_label": "Chủ tịch UBND phường",
    }
    with pytest.raises(ReviewChainError) as exc:
        chain_services.review_chain_create(**overlap)
    assert "01/01/2023" in str(exc.value)
    with pytest.raises(ReviewChainError):
        chain_services.review_chain_end(actor=cast.admin, chain=chain, valid_to=dt.date(2022, 1, 1))
    chain_services.review_chain_end(actor=cast.admin, chain=chain, valid_to=dt.date(2025, 6, 30))
    with pytest.raises(ReviewChainError):
        chain_services.review_chain_end(actor=cast.admin, chain=chain, valid_to=dt.date(2026, 1, 1))
    assert chain_services.review_chain_create(**overlap).valid_from == dt.date(2025, 7, 1)
    bad_levels = {**overlap, "valid_from": dt.date(2030, 1, 1), "reviewer_level": "commune"}
    with pytest.raises(ReviewChainError):
        chain_services.review_chain_create(**bad_levels)
    assert AuditEvent.objects.filter(action="review_chain.create").count() == 2
    assert AuditEvent.objects.filter(action="review_chain.end").count() == 1


def test_only_a_tenant_wide_admin_changes_chains(cast) -> None:
    district_admin = grant(make_user(cast.tenant, "q1.admin"), cast.district, Role.TENANT_ADMIN)
    args = {
        "tenant": cast.tenant,
        "title": Title.CLAN,
        "scope_level": "",
        "valid_from": dt.date(2024, 1, 1),
        "valid_to": None,
        "proposer_level": "commune",
        "reviewer_level": "district",
        "recogniser_level": "commune",
        "recogniser_label": "Chủ tịch UBND xã",
    }
    for actor in (district_admin, cast.reviewer, cast.viewer, cast.other_tenant_official):
        with pytest.raises(RoleNotAllowedError):
            chain_services.review_chain_create(actor=actor, **args)
    assert not ReviewChain.objects.exists()


def test_reviewing_unit_skips_units_not_in_force(cast) -> None:
    later_ward = make_unit(cast.tenant, cast.district, "phuong", "Phường Mới", "27999")
    assert (
        reviewing_unit_for(
            proposing_unit=later_ward, title=Title.FAMILY, scope_level="", on=dt.date(2025, 1, 1)
        )
        == cast.district
    )

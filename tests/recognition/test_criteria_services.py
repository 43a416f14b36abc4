"""Criteria sets: shipped data, create, clone, new version, draft edits,
publish validation, retire, and an assessment keeping its version."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.exceptions import (
    CriteriaCodeTakenError,
    CriteriaDraftExistsError,
    CriteriaSetError,
    CriteriaSetReadOnlyError,
    IncompleteSetError,
    PublishedSetImmutableError,
    RoleNotAllowedError,
    TransitionError,
)
from recognition.models import Assessment, CriteriaSet, Criterion, Indicator, SetStatus
from recognition.scoring import rule_from_set, score
from recognition.selectors.criteria import (
    assessment_period,
    can_manage_criteria,
    criteria_set_for,
    criteria_sets_for_user,
    higher_level_allowed_from,
    recognition_kept_through,
)
from recognition.services import criteria as services
from recognition.shipped import load_shipped_criteria, shipped_definitions
from recognition.titles import Title
from tests.conftest import Cast
from tests.factories import grant, make_user
from units.roles import Role

# --- Helpers ------------------------------------------------------------------------


def _points_fields(**extra: Any) -> dict[str, Any]:
    return {
        "code": "GDHT-HCM",
        "title": Title.FAMILY,
        "name": "Tiêu chí Gia đình học tập của Thành phố",
        "legal_basis": "Kế hoạch số 1/KH-UBND\nQuyết định số 448/QĐ-KHVN",
        "year_from": 2025,
        "method": "points",
        "max_total": 20,
        "pass_thresholds": {"normal": 15},
        **extra,
    }


def _draft(cast: Cast, **extra: Any) -> CriteriaSet:
    """A complete two-indicator draft of the cast's tenant, ready to publish."""
    cs = services.criteria_set_create(
        actor=cast.admin, tenant=cast.tenant, fields=_points_fields(**extra)
    )
    criterion = services.criterion_add(
        actor=cast.admin,
        criteria_set=cs,
        expected_version=cs.edit_version,
        fields={"code": "TC1", "name": "Học tập của trẻ em"},
    )
    cs.refresh_from_db()
    for code in ("1.1", "1.2"):
        services.indicator_add(
            actor=cast.admin,
            criterion=criterion,
            expected_version=_v(cs),
            fields={"code": code, "text": f"Chỉ số {code}", "max_points": "10"},
        )
    cs.refresh_from_db()
    return cs


def _v(cs: CriteriaSet) -> int:
    cs.refresh_from_db()
    return cs.edit_version


def _content(cs: CriteriaSet) -> list[tuple[Any, ...]]:
    return list(
        Indicator.objects.filter(criterion__criteria_set=cs)
        .order_by("criterion__order", "order")
        .values_list(
            "criterion__code", "criterion__name", "code", "text", "max_points", "requirements"
        )
    )


def _audits() -> int:
    return AuditEvent.objects.count()


# --- Shipped sets --------------------------------------------------------------------------


@pytest.mark.django_db
def test_shipped_sets_load_once_and_cite_their_sources() -> None:
    counts = load_shipped_criteria()
    assert counts == {"created": 4, "existing": 0}
    events = _audits()
    assert load_shipped_criteria() == {"created": 0, "existing": 4}
    call_command("load_criteria_sets", verbosity=0)
    assert _audits() == events
    shipped = CriteriaSet.objects.filter(tenant__isnull=True)
    assert shipped.count() == 4
    for cs in shipped:
        assert cs.status == SetStatus.DRAFT
        assert cs.needs_completion, cs.code
        assert "RULES.md §" in cs.source_note
        assert "CHƯA TÌM THẤY (NOT FOUND)" in cs.source_note
        assert cs.legal_basis.strip()
        assert services.publish_problems(cs), cs.code
    assert {d["code"] for d in shipped_definitions()} == set(shipped.values_list("code", flat=True))


@pytest.mark.django_db
def test_shipped_qd244_citizen_set() -> None:
    load_shipped_criteria()
    cs = CriteriaSet.objects.get(tenant__isnull=True, code="QD244-CDHT")
    assert cs.title == Title.CITIZEN and cs.method == "points"
    assert cs.max_total == 100
    assert cs.pass_thresholds == {"normal": 80, "disadvantaged": 70}
    assert cs.min_indicator_points == 5
    assert "244/QĐ-KHVN ngày 28/7/2022" in cs.legal_basis
    criteria = list(cs.criteria.order_by("order"))
    assert [c.name for c in criteria] == [
        "Năng lực tự học và học tập suốt đời",
        "Năng lực sử dụng những công cụ học tập, làm việc",
        "Năng lực xây dựng và thực hiện các mối quan hệ xã hội",
    ]
    indicators = list(Indicator.objects.filter(criterion__criteria_set=cs))
    assert len(indicators) == 10
    assert all(i.needs_completion and i.max_points is None for i in indicators)
    assert Indicator.objects.get(criterion__criteria_set=cs, code="CS1").text.startswith(
        "Chỉ số 1 (năng lực tự học và học tập suốt đời)"
    )


@pytest.mark.django_db
def test_shipped_tt25_commune_set() -> None:
    load_shipped_criteria()
    cs = CriteriaSet.objects.get(tenant__isnull=True, code="TT25-CDHT-XA")
    assert (cs.title, cs.scope_level, cs.method) == (Title.COMMUNITY, "commune", "levels")
    assert cs.levels == [{"number": 1, "label": "Mức độ 1"}, {"number": 2, "label": "Mức độ 2"}]
    assert (cs.validity_years, cs.upgrade_after_months, cs.year_from) == (3, 12, 2024)
    assert "Điều 5 khoản 4" in cs.legal_basis
    criteria = list(cs.criteria.order_by("order"))
    assert [c.code for c in criteria] == ["TC1", "TC2", "TC3", "TC4", "TC5"]
    assert criteria[0].name == "Sự lãnh đạo, chỉ đạo của cấp ủy Đảng, chính quyền cấp xã"
    assert criteria[3].name == "Kết quả phổ cập giáo dục, xóa mù chữ"
    for criterion in criteria[:2]:
        items = list(criterion.indicators.order_by("order"))
        assert len(items) == 3
        for item in items:
            assert item.requirements["1"] and not item.needs_completion
            assert "bản dịch tiếng Anh" in item.guidance
    for criterion in criteria[2:]:
        assert all(i.needs_completion for i in criterion.indicators.all())


@pytest.mark.django_db
def test_shipped_qd448_family_set_has_only_what_was_seen() -> None:
    load_shipped_criteria()
    cs = CriteriaSet.objects.get(tenant__isnull=True, code="QD448-GDHT")
    assert (cs.year_from, cs.year_to) == (2016, 2020)
    assert cs.pass_thresholds == {}
    assert "2021–2030" in cs.source_note
    tc1, tc2, tc3, tc4 = cs.criteria.order_by("order")
    assert tc1.max_points == 30 and tc2.max_points == 30
    assert tc3.max_points is None and tc4.max_points is None
    assert [i.max_points for i in tc1.indicators.order_by("order")] == [10, 10, 10]
    assert not any(i.needs_completion for i in tc1.indicators.all())
    first, second, third = tc2.indicators.order_by("order")
    assert first.max_points == 10 and not first.needs_completion
    assert second.needs_completion and third.needs_completion
    assert "Điểm tối đa" not in second.text
    problems = services.publish_problems(cs)
    assert any("ngưỡng" in p.lower() or "threshold" in p.lower() for p in problems)


@pytest.mark.django_db
def test_shipped_tt22_unit_set_bands() -> None:
    load_shipped_criteria()
    cs = CriteriaSet.objects.get(tenant__isnull=True, code="TT22-DVHT")
    assert (cs.year_from, cs.year_to, cs.max_total) == (2020, 2023, 100)
    assert [(b["label"], b["min"]) for b in cs.grade_bands] == [
        ("Tốt", 85),
        ("Khá", 70),
        ("Trung bình", 50),
    ]
    assert [c.max_points for c in cs.criteria.order_by("order")] == [30, 30, 40]
    known = Indicator.objects.filter(criterion__criteria_set=cs, needs_completion=False)
    assert sum(i.max_points for i in known) == 85  # 30 + 30 + 25 seen; 15 points not found


# --- Who may write -----------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_root_administrator_writes(cast: Cast) -> None:
    district_admin = grant(make_user(cast.tenant, "qtv.quan"), cast.district, Role.TENANT_ADMIN)
    assert can_manage_criteria(cast.admin)
    for user in (cast.ward_official, cast.viewer, cast.reviewer, district_admin):
        assert not can_manage_criteria(user)
        before = _audits()
        with pytest.raises(RoleNotAllowedError):
            services.criteria_set_create(actor=user, tenant=cast.tenant, fields=_points_fields())
        assert _audits() == before
    with pytest.raises(RoleNotAllowedError):
        services.criteria_set_create(
            actor=cast.admin, tenant=cast.other_tenant, fields=_points_fields()
        )
    assert not CriteriaSet.objects.exists()


@pytest.mark.django_db
def test_sets_visible_to_a_user_are_shipped_and_own(cast: Cast) -> None:
    load_shipped_criteria()
    own = _draft(cast)
    other = services.criteria_set_import(
        tenant=cast.other_tenant,
        data={**_points_fields(code="KHAC"), "criteria": []},
    )
    visible = set(criteria_sets_for_user(cast.ward_official))
    assert own in visible and other not in visible
    assert len(visible) == 5


# --- Create, clone, edit -------------------------------------------------------------------


@pytest.mark.django_db
def test_create_refuses_bad_input_with_a_clear_message_and_changes_nothing(cast: Cast) -> None:
    cases = [
        ({"name": ""}, "name"),
        ({"legal_basis": "  "}, "legal"),
        ({"year_to": 2020}, "year"),
        ({"method": "stars"}, "method"),
        ({"pass_thresholds": {"normal": -1}}, "zero"),
        ({"pass_thresholds": {"mountain": 70}}, "area"),
        ({"grade_bands": [{"label": "Tốt", "min": 85}, {"label": "Tốt", "min": 70}]}, "same"),
        ({"levels": [{"number": 1, "label": "A"}, {"number": 3, "label": "C"}]}, "gaps"),
    ]
    for extra, _hint in cases:
        before = _audits()
        with pytest.raises(CriteriaSetError) as error:
            services.criteria_set_create(
                actor=cast.admin, tenant=cast.tenant, fields=_points_fields(**extra)
            )
        assert str(error.value)
        assert _audits() == before
    assert not CriteriaSet.objects.exists()


@pytest.mark.django_db
def test_create_normalises_text_and_refuses_a_taken_code(cast: Cast) -> None:
    cs = services.criteria_set_create(
        actor=cast.admin,
        tenant=cast.tenant,
        fields=_points_fields(
            name="Tie\u0302u chi\u0301  mới", legal_basis="  Dòng một \n\n\n Dòng hai  "
        ),
    )
    assert cs.name == "Tiêu chí mới"
    assert cs.legal_basis == "Dòng một\n\nDòng hai"
    assert cs.status == SetStatus.DRAFT and cs.version == 1 and cs.tenant == cast.tenant
    assert AuditEvent.objects.filter(action="criteria_set.create", object_id=str(cs.public_id))
    with pytest.raises(CriteriaCodeTakenError):
        services.criteria_set_create(actor=cast.admin, tenant=cast.tenant, fields=_points_fields())


@pytest.mark.django_db
def test_clone_copies_a_shipped_set_into_the_tenant(cast: Cast) -> None:
    load_shipped_criteria()
    shipped = CriteriaSet.objects.get(tenant__isnull=True, code="TT25-CDHT-XA")
    shipped_content = _content(shipped)
    copy = services.criteria_set_clone(
        actor=cast.admin, source=shipped, tenant=cast.tenant, code="TT25-HCM", name=""
    )
    assert (copy.tenant, copy.code, copy.version, copy.status) == (
        cast.tenant,
        "TT25-HCM",
        1,
        SetStatus.DRAFT,
    )
    assert copy.previous is None and copy.name == shipped.name
    assert copy.needs_completion and copy.levels == shipped.levels
    assert copy.validity_years == 3 and copy.upgrade_after_months == 12
    assert _content(copy) == shipped_content
    assert not set(
        Indicator.objects.filter(criterion__criteria_set=copy).values_list("public_id", flat=True)
    ) & set(
        Indicator.objects.filter(criterion__criteria_set=shipped).values_list(
            "public_id", flat=True
        )
    )
    assert "TT25-CDHT-XA" in copy.source_note.splitlines()[0]
    assert shipped.source_note in copy.source_note
    shipped.refresh_from_db()
    assert _content(shipped) == shipped_content and shipped.status == SetStatus.DRAFT
    assert AuditEvent.objects.filter(action="criteria_set.clone", object_id=str(copy.public_id))
    with pytest.raises(CriteriaCodeTakenError):
        services.criteria_set_clone(
            actor=cast.admin, source=shipped, tenant=cast.tenant, code="TT25-HCM"
        )


@pytest.mark.django_db
def test_clone_refuses_another_tenants_set_and_non_admins(cast: Cast) -> None:
    other = services.criteria_set_import(
        tenant=cast.other_tenant, data={**_points_fields(code="KHAC"), "criteria": []}
    )
    with pytest.raises(RoleNotAllowedError):
        services.criteria_set_clone(actor=cast.admin, source=other, tenant=cast.tenant, code="COPY")
    own = _draft(cast)
    with pytest.raises(RoleNotAllowedError):
        services.criteria_set_clone(
            actor=cast.ward_official, source=own, tenant=cast.tenant, code="COPY"
        )
    assert not CriteriaSet.objects.filter(code="COPY").exists()


@pytest.mark.django_db
def test_shipped_sets_cannot_be_edited_published_or_versioned(cast: Cast) -> None:
    load_shipped_criteria()
    shipped = CriteriaSet.objects.get(tenant__isnull=True, code="QD244-CDHT")
    indicator = Indicator.objects.filter(criterion__criteria_set=shipped).first()
    before, content = _audits(), _content(shipped)
    attempts = [
        lambda: services.criteria_set_update(
            actor=cast.admin,
            criteria_set=shipped,
            expected_version=shipped.edit_version,
            fields={"name": "Đổi"},
        ),
        lambda: services.indicator_update(
            actor=cast.admin,
            indicator=indicator,
            expected_version=shipped.edit_version,
            fields={"code": "CS1", "text": "Bịa ra", "max_points": 10},
        ),
        lambda: services.criteria_set_publish(
            actor=cast.admin, criteria_set=shipped, expected_version=shipped.edit_version
        ),
        lambda: services.criteria_set_new_version(actor=cast.admin, criteria_set=shipped),
        lambda: services.criteria_set_retire(
            actor=cast.admin, criteria_set=shipped, expected_version=shipped.edit_version
        ),
    ]
    for attempt in attempts:
        with pytest.raises(CriteriaSetReadOnlyError):
            attempt()
    with pytest.raises(RoleNotAllowedError):
        services.criteria_set_new_version(actor=cast.viewer, criteria_set=shipped)
    assert _audits() == before and _content(shipped) == content


@pytest.mark.django_db
def test_draft_edits_bump_the_version_and_a_stale_form_changes_nothing(cast: Cast) -> None:
    cs = _draft(cast)
    version = cs.edit_version
    updated = services.criteria_set_update(
        actor=cast.admin,
        criteria_set=cs,
        expected_version=version,
        fields={"name": "Tên mới", "pass_thresholds": {"normal": 16, "disadvantaged": 12}},
    )
    assert updated.name == "Tên mới" and updated.edit_version == version + 1
    assert updated.pass_thresholds == {"normal": 16, "disadvantaged": 12}
    assert updated.code == "GDHT-HCM" and updated.title == Title.FAMILY
    before = _audits()
    with pytest.raises(ConcurrentEditError):
        services.criteria_set_update(
            actor=cast.admin, criteria_set=cs, expected_version=version, fields={"name": "Cũ"}
        )
    with pytest.raises(ConcurrentEditError):
        services.criterion_add(
            actor=cast.admin,
            criteria_set=cs,
            expected_version=version,
            fields={"code": "TC2", "name": "Muộn"},
        )
    cs.refresh_from_db()
    assert cs.name == "Tên mới" and _audits() == before
    assert cs.criteria.count() == 1
    with pytest.raises(CriteriaSetError):
        services.criteria_set_update(
            actor=cast.admin, criteria_set=cs, expected_version=_v(cs), fields={"code": "X"}
        )


@pytest.mark.django_db
def test_criteria_and_indicators_add_edit_move_remove(cast: Cast) -> None:
    cs = _draft(cast)
    first = cs.criteria.get()
    second = services.criterion_add(
        actor=cast.admin,
        criteria_set=cs,
        expected_version=_v(cs),
        fields={"code": "TC2", "name": "Học tập của người lớn", "max_points": "10"},
    )
    assert second.order == 2
    services.criterion_move(actor=cast.admin, criterion=second, expected_version=_v(cs), up=True)
    assert list(cs.criteria.order_by("order").values_list("code", flat=True)) == ["TC2", "TC1"]
    second.refresh_from_db()
    unchanged = services.criterion_move(
        actor=cast.admin, criterion=second, expected_version=_v(cs), up=True
    )
    assert unchanged.order == 1
    services.criterion_update(
        actor=cast.admin,
        criterion=first,
        expected_version=_v(cs),
        fields={"code": "TC1", "name": "Trẻ em", "description": "Mô tả", "max_points": "20"},
    )
    first.refresh_from_db()
    assert (first.name, first.description, first.max_points) == ("Trẻ em", "Mô tả", 20)
    one, two = first.indicators.order_by("order")
    services.indicator_move(actor=cast.admin, indicator=two, expected_version=_v(cs), up=True)
    assert list(first.indicators.order_by("order").values_list("code", flat=True)) == [
        "1.2",
        "1.1",
    ]
    services.indicator_update(
        actor=cast.admin,
        indicator=one,
        expected_version=_v(cs),
        fields={
            "code": "1.1",
            "text": "Mới",
            "max_points": "10",
            "min_points": "2,5".replace(",", "."),
            "evidence_required": True,
        },
    )
    one.refresh_from_db()
    assert one.text == "Mới" and one.min_points == Decimal("2.5") and one.evidence_required
    with pytest.raises(CriteriaSetError):
        services.indicator_update(
            actor=cast.admin,
            indicator=one,
            expected_version=_v(cs),
            fields={"code": "1.1", "text": "X", "max_points": "3", "min_points": "4"},
        )
    services.indicator_remove(actor=cast.admin, indicator=two, expected_version=_v(cs))
    assert list(first.indicators.values_list("code", "order")) == [("1.1", 1)]
    services.criterion_remove(actor=cast.admin, criterion=second, expected_version=_v(cs))
    assert list(cs.criteria.values_list("code", "order")) == [("TC1", 1)]
    actions = set(
        AuditEvent.objects.filter(object_id=str(cs.public_id)).values_list("action", flat=True)
    )
    assert {
        "criteria_set.create",
        "criterion.add",
        "criterion.move",
        "criterion.update",
        "criterion.remove",
        "indicator.add",
        "indicator.move",
        "indicator.update",
        "indicator.remove",
    } <= actions


# --- Publishing -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_publish_lists_every_problem_and_changes_nothing(cast: Cast) -> None:
    cs = _draft(cast, max_total=30, needs_completion=True, pass_thresholds={})
    criterion = cs.criteria.get()
    services.indicator_add(
        actor=cast.admin,
        criterion=criterion,
        expected_version=_v(cs),
        fields={"code": "1.3", "text": "Chưa có điểm", "needs_completion": True},
    )
    services.criterion_add(
        actor=cast.admin,
        criteria_set=cs,
        expected_version=_v(cs),
        fields={"code": "TC2", "name": "Trống"},
    )
    before = _audits()
    with pytest.raises(IncompleteSetError) as error:
        services.criteria_set_publish(actor=cast.admin, criteria_set=cs, expected_version=_v(cs))
    problems = error.value.params["problems"]
    assert len(problems) == 5
    text = " ".join(problems)
    for code in ("1.3", "TC2"):
        assert code in text
    cs.refresh_from_db()
    assert cs.status == SetStatus.DRAFT and cs.published_at is None and _audits() == before


@pytest.mark.django_db
def test_points_problems(cast: Cast) -> None:
    cs = _draft(cast, max_total=25, min_indicator_points=12)
    indicator = Indicator.objects.filter(criterion__criteria_set=cs).first()
    services.indicator_update(
        actor=cast.admin,
        indicator=indicator,
        expected_version=_v(cs),
        fields={"code": "1.1", "text": "x", "max_points": "10", "min_points": "10"},
    )
    services.criterion_update(
        actor=cast.admin,
        criterion=cs.criteria.get(),
        expected_version=_v(cs),
        fields={"code": "TC1", "name": "Trẻ em", "max_points": "30"},
    )
    services.criteria_set_update(
        actor=cast.admin,
        criteria_set=cs,
        expected_version=_v(cs),
        fields={"pass_thresholds": {"normal": 15, "disadvantaged": 40}},
    )
    cs.refresh_from_db()
    problems = services.publish_problems(cs)
    # 1.2 has no own minimum and the set's 12 is above its 10; TC1 sums 20 not 30;
    # the set sums 20 not 25; the disadvantaged threshold 40 is above 25.
    assert len(problems) == 4, problems
    assert any("1.2" in p for p in problems)
    assert any("TC1" in p for p in problems)


@pytest.mark.django_db
def test_levels_problems(cast: Cast) -> None:
    cs = services.criteria_set_create(
        actor=cast.admin,
        tenant=cast.tenant,
        fields={
            **_points_fields(code="CDHT-XA"),
            "method": "levels",
            "scope_level": "commune",
            "title": Title.COMMUNITY,
        },
    )
    assert cs.levels == [{"number": 1, "label": "Mức độ 1"}, {"number": 2, "label": "Mức độ 2"}]
    criterion = services.criterion_add(
        actor=cast.admin,
        criteria_set=cs,
        expected_version=_v(cs),
        fields={"code": "TC1", "name": "A"},
    )
    services.indicator_add(
        actor=cast.admin,
        criterion=criterion,
        expected_version=_v(cs),
        fields={"code": "1.1", "text": "Chỉ mức 2", "requirements": {"2": "Cao", "3": "Rất cao"}},
    )
    cs.refresh_from_db()
    problems = services.publish_problems(cs)
    assert len(problems) == 2 and all("1.1" in p for p in problems)
    indicator = criterion.indicators.get()
    services.indicator_update(
        actor=cast.admin,
        indicator=indicator,
        expected_version=_v(cs),
        fields={"code": "1.1", "text": "Đủ", "requirements": {"1": "Có kế hoạch", "2": ""}},
    )
    published = services.criteria_set_publish(
        actor=cast.admin, criteria_set=cs, expected_version=_v(cs)
    )
    assert published.status == SetStatus.PUBLISHED
    assert (
        criteria_set_for(
            tenant=cast.tenant, title=Title.COMMUNITY, scope_level="commune", year=2025
        )
        == published
    )


@pytest.mark.django_db
def test_completing_a_cloned_qd244_set_lets_it_be_published_and_used(cast: Cast) -> None:
    load_shipped_criteria()
    shipped = CriteriaSet.objects.get(tenant__isnull=True, code="QD244-CDHT")
    cs = services.criteria_set_clone(
        actor=cast.admin, source=shipped, tenant=cast.tenant, code="CDHT-HCM"
    )
    for indicator in Indicator.objects.filter(criterion__criteria_set=cs):
        services.indicator_update(
            actor=cast.admin,
            indicator=indicator,
            expected_version=_v(cs),
            fields={"code": indicator.code, "text": f"Nội dung {indicator.code}", "max_points": 10},
        )
    with pytest.raises(IncompleteSetError) as error:
        services.criteria_set_publish(actor=cast.admin, criteria_set=cs, expected_version=_v(cs))
    assert len(error.value.params["problems"]) == 1  # the set's own mark
    services.criteria_set_update(
        actor=cast.admin,
        criteria_set=cs,
        expected_version=_v(cs),
        fields={"needs_completion": False},
    )
    published = services.criteria_set_publish(
        actor=cast.admin, criteria_set=cs, expected_version=_v(cs)
    )
    assert published.published_by == cast.admin and published.published_at is not None
    assert criteria_set_for(tenant=cast.tenant, title=Title.CITIZEN, scope_level="", year=2025) == (
        published
    )
    assert (
        criteria_set_for(tenant=cast.other_tenant, title=Title.CITIZEN, scope_level="", year=2025)
        is None
    )
    rule = rule_from_set(published)
    keys = [i.key for i in rule.indicators]
    assert score(rule, dict.fromkeys(keys, 7), "disadvantaged").passed is True
    assert score(rule, dict.fromkeys(keys, 7), "normal").passed is False


@pytest.mark.django_db
def test_published_sets_are_immutable(cast: Cast) -> None:
    cs = _draft(cast)
    cs = services.criteria_set_publish(actor=cast.admin, criteria_set=cs, expected_version=_v(cs))
    criterion = cs.criteria.get()
    indicator = criterion.indicators.first()
    before, content = _audits(), _content(cs)
    version = cs.edit_version
    attempts = [
        lambda: services.criteria_set_update(
            actor=cast.admin, criteria_set=cs, expected_version=version, fields={"name": "Đổi"}
        ),
        lambda: services.criterion_add(
            actor=cast.admin,
            criteria_set=cs,
            expected_version=version,
            fields={"code": "TC2", "name": "Thêm"},
        ),
        lambda: services.criterion_update(
            actor=cast.admin,
            criterion=criterion,
            expected_version=version,
            fields={"code": "TC1", "name": "Đổi"},
        ),
        lambda: services.criterion_remove(
            actor=cast.admin, criterion=criterion, expected_version=version
        ),
        lambda: services.criterion_move(
            actor=cast.admin, criterion=criterion, expected_version=version, up=False
        ),
        lambda: services.indicator_add(
            actor=cast.admin,
            criterion=criterion,
            expected_version=version,
            fields={"code": "1.3", "text": "Thêm", "max_points": 1},
        ),
        lambda: services.indicator_update(
            actor=cast.admin,
            indicator=indicator,
            expected_version=version,
            fields={"code": "1.1", "text": "Đổi", "max_points": 1},
        ),
        lambda: services.indicator_remove(
            actor=cast.admin, indicator=indicator, expected_version=version
        ),
        lambda: services.indicator_move(
            actor=cast.admin, indicator=indicator, expected_version=version, up=False
        ),
    ]
    for attempt in attempts:
        with pytest.raises(PublishedSetImmutableError):
            attempt()
    with pytest.raises(TransitionError):
        services.criteria_set_publish(actor=cast.admin, criteria_set=cs, expected_version=version)
    cs.refresh_from_db()
    assert _content(cs) == content and cs.edit_version == version and _audits() == before


# --- Versions ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_version_is_a_draft_copy_and_only_one_draft_at_a_time(cast: Cast) -> None:
    v1 = _draft(cast)
    with pytest.raises(CriteriaSetError):
        services.criteria_set_new_version(actor=cast.admin, criteria_set=v1)
    v1 = services.criteria_set_publish(actor=cast.admin, criteria_set=v1, expected_version=_v(v1))
    v2 = services.criteria_set_new_version(actor=cast.admin, criteria_set=v1)
    assert (v2.code, v2.version, v2.previous, v2.status) == (
        v1.code,
        2,
        v1,
        SetStatus.DRAFT,
    )
    assert _content(v2) == _content(v1)
    with pytest.raises(CriteriaDraftExistsError):
        services.criteria_set_new_version(actor=cast.admin, criteria_set=v1)
    with pytest.raises(RoleNotAllowedError):
        services.criteria_set_new_version(actor=cast.ward_official, criteria_set=v1)


@pytest.mark.django_db
def test_an_assessment_keeps_the_version_it_was_scored_under(cycle: Any) -> None:
    cast = cycle.cast
    v1 = _draft(cast, year_from=2020)
    v1 = services.criteria_set_publish(actor=cast.admin, criteria_set=v1, expected_version=_v(v1))
    assert criteria_set_for(tenant=cast.tenant, title=Title.FAMILY, scope_level="", year=2025) == v1
    assessment = Assessment.objects.create(
        tenant=cast.tenant,
        unit=cycle.household.unit,
        registration=cycle.registration,
        criteria_set=v1,
    )
    content_v1 = _content(v1)
    v2 = services.criteria_set_new_version(actor=cast.admin, criteria_set=v1)
    indicator = Indicator.objects.filter(criterion__criteria_set=v2).first()
    services.indicator_update(
        actor=cast.admin,
        indicator=indicator,
        expected_version=_v(v2),
        fields={"code": "1.1", "text": "Nội dung mới năm 2026", "max_points": "10"},
    )
    v2 = services.criteria_set_publish(actor=cast.admin, criteria_set=v2, expected_version=_v(v2))
    assessment.refresh_from_db()
    v1.refresh_from_db()
    assert assessment.criteria_set == v1
    assert v1.status == SetStatus.PUBLISHED and v1.version == 1
    assert _content(v1) == content_v1
    assert _content(v2) != content_v1
    assert criteria_set_for(tenant=cast.tenant, title=Title.FAMILY, scope_level="", year=2025) == v2
    # Retiring the old version keeps the assessment's link and content.
    services.criteria_set_retire(actor=cast.admin, criteria_set=v1, expected_version=_v(v1))
    assessment.refresh_from_db()
    assert assessment.criteria_set == v1 and _content(v1) == content_v1


@pytest.mark.django_db
def test_retire_stops_the_set_being_used(cast: Cast) -> None:
    cs = _draft(cast)
    cs = services.criteria_set_publish(actor=cast.admin, criteria_set=cs, expected_version=_v(cs))
    with pytest.raises(ConcurrentEditError):
        services.criteria_set_retire(actor=cast.admin, criteria_set=cs, expected_version=0)
    with pytest.raises(RoleNotAllowedError):
        services.criteria_set_retire(actor=cast.viewer, criteria_set=cs, expected_version=_v(cs))
    retired = services.criteria_set_retire(
        actor=cast.admin, criteria_set=cs, expected_version=_v(cs)
    )
    assert retired.status == SetStatus.RETIRED
    assert (
        criteria_set_for(tenant=cast.tenant, title=Title.FAMILY, scope_level="", year=2025) is None
    )
    with pytest.raises(TransitionError):
        services.criteria_set_retire(actor=cast.admin, criteria_set=cs, expected_version=_v(cs))
    events = AuditEvent.objects.filter(object_id=str(cs.public_id), action="criteria_set.retire")
    assert events.count() == 1
    assert events.get().before == {"status": "published"}


@pytest.mark.django_db
def test_tenant_set_wins_over_the_shipped_one(cast: Cast) -> None:
    shipped = services.criteria_set_import(
        tenant=None,
        data={
            **_points_fields(code="NATIONAL"),
            "status": "published",
            "criteria": [
                {
                    "code": "TC1",
                    "name": "A",
                    "indicators": [
                        {"code": "1.1", "text": "a", "max_points": 10},
                        {"code": "1.2", "text": "b", "max_points": 10},
                    ],
                }
            ],
        },
    )
    assert shipped.status == SetStatus.PUBLISHED
    assert (
        criteria_set_for(tenant=cast.tenant, title=Title.FAMILY, scope_level="", year=2025)
        == shipped
    )
    own = _draft(cast)
    own = services.criteria_set_publish(
        actor=cast.admin, criteria_set=own, expected_version=_v(own)
    )
    assert (
        criteria_set_for(tenant=cast.tenant, title=Title.FAMILY, scope_level="", year=2025) == own
    )
    assert (
        criteria_set_for(tenant=cast.other_tenant, title=Title.FAMILY, scope_level="", year=2025)
        == shipped
    )
    assert Criterion.objects.filter(criteria_set=shipped).count() == 1


# --- Rules of the circulars read from the set ----------------------------------------------


@pytest.mark.django_db
def test_tt25_validity_upgrade_and_assessment_period() -> None:
    load_shipped_criteria()
    tt25 = CriteriaSet.objects.get(tenant__isnull=True, code="TT25-CDHT-XA")
    assert recognition_kept_through(tt25, 2024) == 2027
    assert higher_level_allowed_from(tt25, dt.date(2025, 3, 15)) == dt.date(2026, 3, 15)
    assert higher_level_allowed_from(tt25, dt.date(2024, 2, 29)) == dt.date(2025, 2, 28)
    assert assessment_period(2025) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    qd448 = CriteriaSet.objects.get(tenant__isnull=True, code="QD448-GDHT")
    assert recognition_kept_through(qd448, 2019) is None
    assert higher_level_allowed_from(qd448, dt.date(2025, 3, 15)) is None

"""Plans: the header, sections, phases, targets, deriving a child plan in one
step, and the tightening rule (tighten, never loosen) with nothing saved on a
refusal."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

import pytest

from campaigns.exceptions import CampaignError, LoosenedError
from campaigns.models import Deadline, DeadlineKind, Phase, Plan, PlanSection, Target
from campaigns.selectors.plans import effective_target, effective_targets
from campaigns.services import plans as services
from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.exceptions import RoleNotAllowedError
from recognition.titles import Title
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

CITY_TITLE = (
    "Tổ chức thực hiện Phong trào thi đua “Cả nước thi đua xây dựng xã hội học tập, "
    "đẩy mạnh học tập suốt đời giai đoạn 2023 - 2030” trên địa bàn Thành phố Thử Nghiệm"
)


def city_plan(cast: Cast) -> Plan:
    """The city's 734/KH-UBND (2023–2030): two sections, two phases, a 70 %
    "Gia đình học tập" target for 2025, a 65 % clan target, an override of 80 %
    for the other district, and a report deadline."""
    plan = services.plan_create(
        actor=cast.admin,
        issuing_unit=cast.city,
        title=CITY_TITLE,
        start_year=2023,
        end_year=2030,
        number=734,
        issued_on=dt.date(2024, 2, 15),
    )
    services.section_add(
        actor=cast.admin, plan=plan, heading="MỤC ĐÍCH, YÊU CẦU", body="1. Mục đích\nTuyên truyền."
    )
    services.section_add(actor=cast.admin, plan=plan, heading="NỘI DUNG", body="Các nội dung.")
    services.phase_save(
        actor=cast.admin,
        plan=plan,
        data={
            "name": "Giai đoạn 1",
            "start_year": 2023,
            "end_year": 2025,
            "review_kind": "so_ket",
            "review_due": dt.date(2025, 12, 15),
        },
    )
    services.phase_save(
        actor=cast.admin,
        plan=plan,
        data={
            "name": "Giai đoạn 2",
            "start_year": 2026,
            "end_year": 2030,
            "review_kind": "tong_ket",
            "review_due": dt.date(2030, 12, 15),
        },
    )
    for unit, title, value in (
        (cast.city, Title.FAMILY, 70),
        (cast.city, Title.CLAN, 65),
        (cast.other_district, Title.FAMILY, 80),
    ):
        services.target_save(
            actor=cast.admin,
            plan=plan,
            unit=unit,
            title=title,
            year=2025,
            kind="rate",
            value=value,
        )
    Deadline.objects.create(
        plan=plan,
        kind=DeadlineKind.REPORT,
        year=2025,
        level="commune",
        due_on=dt.date(2025, 11, 1),
        label="Các phường báo cáo kết quả",
    )
    return plan


def derived(cast: Cast) -> Plan:
    return services.plan_derive(
        actor=cast.reviewer, parent=city_plan(cast), issuing_unit=cast.district
    )


def _state() -> tuple:
    return (
        list(Plan.objects.order_by("pk").values_list("pk", "title", "version")),
        list(PlanSection.objects.order_by("pk").values_list("pk", "heading", "position")),
        list(Phase.objects.order_by("pk").values_list("pk", "review_due", "start_year")),
        list(Target.objects.order_by("pk").values_list("pk", "value", "unit_id")),
        AuditEvent.objects.count(),
    )


# --- Plans and sections ----------------------------------------------------------------


def test_create_defaults_agency_and_place_from_the_unit(cast: Cast) -> None:
    plan = services.plan_create(
        actor=cast.reviewer,
        issuing_unit=cast.district,
        title="Ke\u0302\u0301 hoạch thử",  # decomposed: stored NFC
        start_year=2024,
        end_year=2026,
    )
    assert plan.agency == "ỦY BAN NHÂN DÂN QUẬN MỘT"
    assert plan.place_name == "Quận Một"
    assert plan.title == unicodedata.normalize("NFC", "Kế hoạch thử")
    assert plan.symbol == "KH-UBND" and plan.reference == ""
    assert AuditEvent.objects.filter(action="plan.create").count() == 1


def test_create_refuses_bad_input_and_other_roles(cast: Cast) -> None:
    with pytest.raises(CampaignError):
        services.plan_create(
            actor=cast.admin, issuing_unit=cast.city, title="X", start_year=2030, end_year=2023
        )
    with pytest.raises(CampaignError):
        services.plan_create(
            actor=cast.admin,
            issuing_unit=cast.city,
            title="X",
            start_year=2023,
            end_year=2030,
            symbol="KH UBND",
        )
    with pytest.raises(RoleNotAllowedError):
        services.plan_create(
            actor=cast.viewer, issuing_unit=cast.city, title="X", start_year=2023, end_year=2030
        )
    with pytest.raises(RoleNotAllowedError):
        services.plan_create(
            actor=cast.reviewer, issuing_unit=cast.city, title="X", start_year=2023, end_year=2030
        )
    assert not Plan.objects.exists()


def test_update_checks_the_version_and_the_period(cast: Cast) -> None:
    plan = city_plan(cast)
    updated = services.plan_update(
        actor=cast.admin,
        plan=plan,
        expected_version=plan.version,
        data={"signer_name": "Phan Văn Mãi", "legal_bases": "Căn cứ A\n\n  Căn cứ B  "},
    )
    assert updated.version == plan.version + 1
    assert updated.legal_bases == "Căn cứ A\nCăn cứ B"
    with pytest.raises(ConcurrentEditError):
        services.plan_update(
            actor=cast.admin, plan=plan, expected_version=plan.version, data={"title": "Y"}
        )
    before = _state()
    # A phase of 2023–2025 would fall outside 2026–2030.
    with pytest.raises(CampaignError):
        services.plan_update(
            actor=cast.admin,
            plan=updated,
            expected_version=updated.version,
            data={"start_year": 2026},
        )
    assert _state() == before


def test_sections_are_ordered_moved_and_deleted(cast: Cast) -> None:
    plan = city_plan(cast)
    third = services.section_add(actor=cast.admin, plan=plan, heading="TỔ CHỨC THỰC HIỆN")
    assert third.position == 2
    services.section_move(actor=cast.admin, section=third, offset=-2)
    assert list(plan.sections.values_list("heading", flat=True)) == [
        "TỔ CHỨC THỰC HIỆN",
        "MỤC ĐÍCH, YÊU CẦU",
        "NỘI DUNG",
    ]
    services.section_update(
        actor=cast.admin, section=third, heading="TỔ CHỨC", body="Dòng 1\n\n\nDòng 2\n"
    )
    third.refresh_from_db()
    assert third.body == "Dòng 1\n\nDòng 2"
    services.section_delete(actor=cast.admin, section=third)
    assert list(plan.sections.values_list("position", flat=True)) == [0, 1]
    with pytest.raises(CampaignError):
        services.section_add(actor=cast.admin, plan=plan, heading="  ")


# --- Phases and targets ----------------------------------------------------------------


def test_a_phase_outside_the_period_is_refused_and_nothing_saved(cast: Cast) -> None:
    plan = city_plan(cast)
    before = _state()
    bad = [
        {"start_year": 2022, "end_year": 2025, "review_due": dt.date(2025, 12, 1)},
        {"start_year": 2026, "end_year": 2031, "review_due": dt.date(2031, 12, 1)},
        # The review must fall inside the phase or in the year right after it.
        {"start_year": 2023, "end_year": 2025, "review_due": dt.date(2027, 1, 10)},
        {"start_year": 2023, "end_year": 2025, "review_due": dt.date(2022, 1, 10)},
    ]
    for values in bad:
        with pytest.raises(CampaignError):
            services.phase_save(
                actor=cast.admin,
                plan=plan,
                data={"name": "Sai", "review_kind": "so_ket", **values},
            )
    assert _state() == before
    ok = services.phase_save(
        actor=cast.admin,
        plan=plan,
        data={
            "name": "Tổng kết sớm",
            "start_year": 2023,
            "end_year": 2025,
            "review_kind": "so_ket",
            "review_due": dt.date(2026, 3, 1),
        },
    )
    assert ok.pk


def test_a_target_above_100_percent_or_outside_is_refused(cast: Cast) -> None:
    plan = city_plan(cast)
    before = _state()
    cases = [
        {"unit": cast.city, "year": 2025, "kind": "rate", "value": "100.5"},
        {"unit": cast.city, "year": 2025, "kind": "rate", "value": "-1"},
        {"unit": cast.city, "year": 2025, "kind": "count", "value": "2.5"},
        {"unit": cast.city, "year": 2031, "kind": "rate", "value": "50"},
        {"unit": cast.other_tenant_ward, "year": 2025, "kind": "rate", "value": "50"},
        {"unit": cast.city, "year": 2025, "kind": "rate", "value": "abc"},
        # The same unit, title and year twice.
        {"unit": cast.city, "year": 2025, "kind": "rate", "value": "75"},
    ]
    for values in cases:
        with pytest.raises(CampaignError):
            services.target_save(actor=cast.admin, plan=plan, title=Title.FAMILY, **values)
    assert _state() == before
    count = services.target_save(
        actor=cast.admin,
        plan=plan,
        unit=cast.city,
        title=Title.CITIZEN,
        year=2030,
        kind="count",
        value="1200",
    )
    assert count.value == Decimal(1200)
    assert services.format_value(count.value, count.kind) == "1.200"
    assert services.format_value(Decimal("72.50"), "rate") == "72,5%"


# --- Deriving --------------------------------------------------------------------------


def test_derive_copies_everything_in_one_step(cast: Cast) -> None:
    parent = city_plan(cast)
    child = services.plan_derive(actor=cast.reviewer, parent=parent, issuing_unit=cast.district)
    assert child.parent == parent and child.issuing_unit == cast.district
    assert child.title.endswith("trên địa bàn Quận Một")
    assert "Thành phố Thử Nghiệm trên địa bàn" not in child.title
    assert (child.start_year, child.end_year) == (2023, 2030)
    assert child.legal_bases.startswith(
        "Thực hiện Kế hoạch số 734/KH-UBND ngày 15 tháng 02 năm 2024 của "
        "Ủy ban nhân dân thành phố Thử Nghiệm;"
    )
    assert child.agency == "ỦY BAN NHÂN DÂN QUẬN MỘT"
    assert list(child.sections.values_list("heading", "body")) == list(
        parent.sections.values_list("heading", "body")
    )
    phases = list(child.phases.order_by("start_year"))
    assert [(p.name, p.review_due, p.source.plan_id) for p in phases] == [
        ("Giai đoạn 1", dt.date(2025, 12, 15), parent.pk),
        ("Giai đoạn 2", dt.date(2030, 12, 15), parent.pk),
    ]
    # The city's targets for the city apply to the district (the override set
    # for the other district does not).
    targets = {(t.title, t.unit_id): t for t in child.targets.select_related("source")}
    assert set(targets) == {(Title.FAMILY, cast.district.pk), (Title.CLAN, cast.district.pk)}
    assert targets[(Title.FAMILY, cast.district.pk)].value == 70
    assert targets[(Title.FAMILY, cast.district.pk)].source.unit == cast.city
    deadline = child.deadlines.get()
    assert deadline.source == parent.deadlines.get()
    assert (deadline.due_on, deadline.level, deadline.label) == (
        dt.date(2025, 11, 1),
        "commune",
        "Các phường báo cáo kết quả",
    )
    assert AuditEvent.objects.filter(action="plan.derive").count() == 1


def test_derive_takes_the_parent_override_for_the_unit(cast: Cast) -> None:
    parent = city_plan(cast)
    other = services.plan_derive(actor=cast.admin, parent=parent, issuing_unit=cast.other_district)
    family = other.targets.get(title=Title.FAMILY)
    assert family.value == 80 and family.unit == cast.other_district
    assert family.source.unit == cast.other_district


def test_derive_refuses_twice_outside_the_subtree_and_other_roles(cast: Cast) -> None:
    parent = city_plan(cast)
    services.plan_derive(actor=cast.reviewer, parent=parent, issuing_unit=cast.district)
    before = _state()
    with pytest.raises(CampaignError, match="Quận Một"):
        services.plan_derive(actor=cast.reviewer, parent=parent, issuing_unit=cast.district)
    with pytest.raises(CampaignError):  # the issuing unit itself
        services.plan_derive(actor=cast.admin, parent=parent, issuing_unit=cast.city)
    with pytest.raises(CampaignError):  # another tenant
        services.plan_derive(actor=cast.admin, parent=parent, issuing_unit=cast.other_tenant_ward)
    with pytest.raises(RoleNotAllowedError):  # not a planner of the other district
        services.plan_derive(actor=cast.reviewer, parent=parent, issuing_unit=cast.other_district)
    with pytest.raises(RoleNotAllowedError):
        services.plan_derive(actor=cast.viewer, parent=parent, issuing_unit=cast.other_district)
    assert _state() == before


def test_a_ward_derives_from_the_district_plan(cast: Cast) -> None:
    district_plan = derived(cast)
    ward_plan = services.plan_derive(
        actor=cast.ward_official, parent=district_plan, issuing_unit=cast.ward
    )
    assert ward_plan.title.endswith("trên địa bàn Phường Bến Nghé")
    assert "Quận Một trên địa bàn" not in ward_plan.title
    assert ward_plan.targets.get(title=Title.FAMILY).source.plan == district_plan


# --- Tightening ------------------------------------------------------------------------


def test_an_inherited_target_may_be_raised_not_lowered(cast: Cast) -> None:
    child = derived(cast)
    target = child.targets.get(title=Title.FAMILY)
    before = _state()
    with pytest.raises(LoosenedError) as refused:
        services.target_save(
            actor=cast.reviewer,
            plan=child,
            unit=cast.district,
            title=Title.FAMILY,
            year=2025,
            kind="rate",
            value=60,
            target=target,
        )
    assert "70%" in str(refused.value)
    with pytest.raises(LoosenedError):  # nor turned into a count
        services.target_save(
            actor=cast.reviewer,
            plan=child,
            unit=cast.district,
            title=Title.FAMILY,
            year=2025,
            kind="count",
            value=90,
            target=target,
        )
    with pytest.raises(LoosenedError):  # nor dropped
        services.target_delete(actor=cast.reviewer, target=target)
    assert _state() == before
    raised = services.target_save(
        actor=cast.reviewer,
        plan=child,
        unit=cast.district,
        title=Title.FAMILY,
        year=2025,
        kind="rate",
        value=75,
        target=target,
    )
    assert raised.value == 75 and raised.source_id == target.source_id


def test_a_new_target_in_a_derived_plan_respects_the_parent(cast: Cast) -> None:
    child = derived(cast)
    # A ward override in the district plan may not go below the city's 70 %.
    with pytest.raises(LoosenedError):
        services.target_save(
            actor=cast.reviewer,
            plan=child,
            unit=cast.ward,
            title=Title.FAMILY,
            year=2025,
            kind="rate",
            value=69,
        )
    ward_target = services.target_save(
        actor=cast.reviewer,
        plan=child,
        unit=cast.ward,
        title=Title.FAMILY,
        year=2025,
        kind="rate",
        value=72,
    )
    assert ward_target.source.unit == cast.city
    # A title and year the parent does not set: free.
    free = services.target_save(
        actor=cast.reviewer,
        plan=child,
        unit=cast.district,
        title=Title.ORGANISATION,
        year=2026,
        kind="rate",
        value=10,
    )
    assert free.source is None
    services.target_delete(actor=cast.reviewer, target=free)


def test_a_parent_raising_its_target_raises_the_looser_children(cast: Cast) -> None:
    child = derived(cast)
    ward_plan = services.plan_derive(actor=cast.ward_official, parent=child, issuing_unit=cast.ward)
    parent_target = Target.objects.get(plan=child.parent, unit=cast.city, title=Title.FAMILY)
    services.target_save(
        actor=cast.admin,
        plan=child.parent,
        unit=cast.city,
        title=Title.FAMILY,
        year=2025,
        kind="rate",
        value=78,
        target=parent_target,
    )
    assert child.targets.get(title=Title.FAMILY).value == 78
    assert ward_plan.targets.get(title=Title.FAMILY).value == 78


def test_an_inherited_review_may_come_earlier_not_later(cast: Cast) -> None:
    child = derived(cast)
    phase = child.phases.get(name="Giai đoạn 1")
    data = {"name": "Giai đoạn 1", "start_year": 2023, "end_year": 2025, "review_kind": "so_ket"}
    before = _state()
    with pytest.raises(LoosenedError, match="15/12/2025"):
        services.phase_save(
            actor=cast.reviewer,
            plan=child,
            phase=phase,
            data={**data, "review_due": dt.date(2025, 12, 20)},
        )
    with pytest.raises(LoosenedError):
        services.phase_delete(actor=cast.reviewer, phase=phase)
    assert _state() == before
    earlier = services.phase_save(
        actor=cast.reviewer,
        plan=child,
        phase=phase,
        data={**data, "review_due": dt.date(2025, 9, 30)},
    )
    assert earlier.review_due == dt.date(2025, 9, 30)
    # The city bringing its review forward brings the district's with it.
    services.phase_save(
        actor=cast.admin,
        plan=child.parent,
        phase=phase.source,
        data={**data, "review_due": dt.date(2025, 8, 31)},
    )
    earlier.refresh_from_db()
    assert earlier.review_due == dt.date(2025, 8, 31)


# --- Effective targets -----------------------------------------------------------------


def test_effective_target_prefers_the_nearest(cast: Cast, django_assert_max_num_queries) -> None:
    child = derived(cast)
    target = child.targets.get(title=Title.FAMILY)
    services.target_save(
        actor=cast.reviewer,
        plan=child,
        unit=cast.district,
        title=Title.FAMILY,
        year=2025,
        kind="rate",
        value=75,
        target=target,
    )
    services.target_save(
        actor=cast.reviewer,
        plan=child,
        unit=cast.ward,
        title=Title.FAMILY,
        year=2025,
        kind="rate",
        value=90,
    )
    with django_assert_max_num_queries(1):
        ward = effective_target(unit=cast.ward, title=Title.FAMILY, year=2025)
    assert ward is not None and ward.value == 90
    assert effective_target(unit=cast.district, title=Title.FAMILY, year=2025).value == 75
    # The other ward of the district: the district's own value.
    assert effective_target(unit=cast.neighbourhood, title=Title.FAMILY, year=2025).value == 90
    # The other district: the city's override for it.
    assert effective_target(unit=cast.other_ward, title=Title.FAMILY, year=2025).value == 80
    assert effective_target(unit=cast.city, title=Title.FAMILY, year=2025).value == 70
    assert effective_target(unit=cast.ward, title=Title.FAMILY, year=2024) is None
    assert effective_target(unit=cast.other_tenant_ward, title=Title.FAMILY, year=2025) is None
    by_title = {t.title: t.value for t in effective_targets(unit=cast.ward, year=2025)}
    assert by_title == {Title.FAMILY: 90, Title.CLAN: 65}


def test_derived_deadlines_get_their_form_lock(cast: Cast) -> None:
    """The deadlines service owns FormLocks: derive asks it for each copied deadline."""
    import importlib

    deadlines = importlib.import_module("campaigns.services.deadlines")
    if not hasattr(deadlines, "deadline_sync_lock"):
        pytest.skip("campaigns.services.deadlines has no deadline_sync_lock yet")
    parent = city_plan(cast)
    Deadline.objects.create(
        plan=parent,
        kind=DeadlineKind.DOSSIER,
        title=Title.COMMUNITY,
        year=2025,
        level="commune",
        due_on=dt.date(2026, 2, 28),
    )
    child = services.plan_derive(actor=cast.reviewer, parent=parent, issuing_unit=cast.district)
    dossier = child.deadlines.get(kind=DeadlineKind.DOSSIER)
    assert dossier.form_lock is not None
    assert dossier.form_lock.unit == cast.district and dossier.form_lock.stage == "dossier"
    assert child.deadlines.get(kind=DeadlineKind.REPORT).form_lock is None

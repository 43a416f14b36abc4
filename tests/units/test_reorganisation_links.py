"""Applying a plan to what is tied to a closed unit besides its subjects: the
community registrations of the unit itself, form locks, issuer profiles and the
rows of running campaigns (targets, events, plans). Merge and split each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.models import Event, EventKind, Plan, Target, TargetKind
from core.models import AuditEvent
from recognition.models import (
    AssessmentStatus,
    FormLock,
    IssuerProfile,
    LockExtension,
    Registration,
    RegistrationStatus,
    Stage,
)
from recognition.titles import SubjectKind, Title
from tests.conftest import Cast, client_for
from tests.factories import make_unit
from tests.recognition.conftest import make_points_set
from tests.recognition.dossier_factories import make_assessment
from tests.units.test_reorganisation_support import EFFECTIVE, fresh
from units.models import AdministrativeUnit
from units.reorganisation import links as links_module
from units.reorganisation import services as reorg

NEW = {"code": "27190", "name": "Phường Sài Gòn", "kind": "phuong"}


def _ward_b(cast: Cast) -> AdministrativeUnit:
    return make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27190")


def _community(cast: Cast, unit: AdministrativeUnit, year: int = 2025) -> Registration:
    return Registration.objects.create(
        tenant=cast.tenant,
        unit=unit,
        proposing_unit=unit,
        title=Title.COMMUNITY,
        year=year,
        subject_kind=SubjectKind.UNIT,
        subject_unit=unit,
    )


def _merge_plan(cast: Cast, ward_b: AdministrativeUnit, **kwargs):
    plan = reorg.reorganisation_create(
        actor=cast.admin,
        name="NQ 1685 sắp xếp phường",
        effective_on=EFFECTIVE,
        legal_basis="Nghị quyết 1685/NQ-UBTVQH15",
        **kwargs,
    )
    reorg.step_add(
        actor=cast.admin, plan=plan, kind="merge", sources=[cast.ward, ward_b], targets=[NEW]
    )
    return plan


def _split_plan(cast: Cast):
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    plan = reorg.reorganisation_create(
        actor=cast.admin, name="Chia tách phường Bến Nghé", effective_on=EFFECTIVE
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="split",
        sources=[cast.ward],
        targets=[
            reorg.TargetInput(code="27184", name="Phường Bến Nghé", kind="phuong", default=True),
            reorg.TargetInput(
                code="27185", name="Phường Bến Thành", kind="phuong", neighbourhoods=[kp2]
            ),
        ],
    )
    return plan


def _apply(cast: Cast, plan):
    plan.refresh_from_db()
    return reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)


def _new(code: str) -> AdministrativeUnit:
    return AdministrativeUnit.objects.get(code=code, valid_to__isnull=True, level="commune")


# --- Community registrations of the unit itself ------------------------------------------


def test_merge_keeps_the_furthest_open_community_registration_and_withdraws_the_other(
    cast: Cast,
) -> None:
    ward_b = _ward_b(cast)
    community_set = make_points_set(code="TEST-CDHT", title=Title.COMMUNITY)
    draft_a = _community(cast, cast.ward)
    make_assessment(draft_a, community_set, status=AssessmentStatus.DRAFT)
    ready_b = _community(cast, ward_b)
    assessment_b = make_assessment(ready_b, community_set, status=AssessmentStatus.READY)
    decided = _community(cast, cast.ward, year=2024)
    make_assessment(decided, community_set, status=AssessmentStatus.RECOGNISED)
    plan = _merge_plan(cast, ward_b)

    with translation.override("en"):
        preview = reorg.reorganisation_preview(plan=plan)
    assert preview.can_apply, preview.conflicts
    assert preview.counts["community_moved"] == 1
    assert preview.counts["community_withdrawn"] == 1
    assert preview.counts["registrations_kept"] == 1  # the 2024 recognition stays
    assert preview.steps[0].counts["community_withdrawn"] == 1
    [notice] = [n for n in preview.notices if n.code == "community_duplicate"]
    assert notice.unit_code == "27184"
    assert "the one of Phường Đa Kao is kept" in notice.message

    applied = _apply(cast, plan)
    new = _new("27190")
    kept = fresh(ready_b)
    assert (kept.subject_unit_id, kept.unit_id, kept.proposing_unit_id) == (new.pk,) * 3
    assert kept.status == RegistrationStatus.REGISTERED
    assert fresh(assessment_b).unit_id == new.pk
    withdrawn = fresh(draft_a)
    assert withdrawn.status == RegistrationStatus.WITHDRAWN
    assert withdrawn.subject_unit_id == cast.ward.pk
    event = AuditEvent.objects.get(action="registration.withdraw", object_id=str(draft_a.public_id))
    assert event.after["reason"] == "merged"
    assert event.after["plan_name"] == "NQ 1685 sắp xếp phường"
    assert event.after["kept"] == str(ready_b.public_id)
    # History stays: the 2024 recognition is still the old ward's.
    old = fresh(decided)
    assert (old.subject_unit_id, old.status) == (cast.ward.pk, RegistrationStatus.REGISTERED)
    assert applied.result["community_moved"] == 1
    assert applied.result["community_withdrawn"] == 1
    assert Registration.objects.filter(subject_unit=new).count() == 1


def test_merge_tie_keeps_the_registration_of_the_unit_whose_code_is_reused(cast: Cast) -> None:
    ward_b = _ward_b(cast)
    of_a = _community(cast, cast.ward)
    of_b = _community(cast, ward_b)  # 27190: the code the new ward reuses
    _apply(cast, _merge_plan(cast, ward_b))
    assert fresh(of_b).subject_unit_id == _new("27190").pk
    assert fresh(of_a).status == RegistrationStatus.WITHDRAWN


def test_split_sends_the_community_registration_to_the_default_unit_flagged(cast: Cast) -> None:
    registration = _community(cast, cast.ward)
    plan = _split_plan(cast)
    with translation.override("en"):
        preview = reorg.reorganisation_preview(plan=plan)
    assert preview.counts["community_moved"] == 1
    [notice] = [n for n in preview.notices if n.code == "community_split"]
    assert "Phường Bến Nghé (the default new unit)" in notice.message
    _apply(cast, plan)
    assert fresh(registration).subject_unit_id == _new("27184").pk


def test_abolished_level_withdraws_the_district_community_registration(cast: Cast) -> None:
    of_district = _community(cast, cast.district)
    district_lock = _lock(cast, cast.district, dt.date(2025, 9, 1))
    city_plan = Plan.objects.create(
        tenant=cast.tenant,
        issuing_unit=cast.city,
        number=734,
        title="Kế hoạch của thành phố",
        start_year=2023,
        end_year=2030,
    )
    _target(city_plan, cast.district, 2026, TargetKind.RATE, "70")
    plan = reorg.reorganisation_create(
        actor=cast.admin, name="Bỏ cấp huyện", effective_on=EFFECTIVE, abolish_level="district"
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, cast.other_ward],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    preview = reorg.reorganisation_preview(plan=plan)
    assert [n.code for n in preview.notices if n.unit_code == "771"] == [
        "community_abolished",
        "target_abolished",
    ]
    _apply(cast, plan)
    row = fresh(of_district)
    assert (row.status, row.subject_unit_id) == (RegistrationStatus.WITHDRAWN, cast.district.pk)
    # The district's deadline still binds the communes that continue its wards.
    [copy] = FormLock.objects.filter(unit=_new("27184"))
    assert copy.locks_at == district_lock.locks_at
    assert not Target.objects.filter(plan=city_plan, unit=_new("27184")).exists()


# --- Form locks ----------------------------------------------------------------------------


def _lock(cast: Cast, unit: AdministrativeUnit, day: dt.date, year: int = 2025) -> FormLock:
    return FormLock.objects.create(
        tenant=cast.tenant,
        unit=unit,
        title=Title.COMMUNITY,
        year=year,
        stage=Stage.DOSSIER,
        locks_at=timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59))),
        label="Hồ sơ CĐHT cấp xã",
    )


def test_merge_gives_the_successor_one_lock_with_the_latest_deadline(cast: Cast) -> None:
    ward_b = _ward_b(cast)
    early = _lock(cast, cast.ward, dt.date(2025, 9, 1))
    late = _lock(cast, ward_b, dt.date(2025, 10, 1))
    LockExtension.objects.create(
        lock=early,
        unit=cast.neighbourhood,
        until=timezone.make_aware(dt.datetime.combine(dt.date(2025, 11, 1), dt.time())),
        reason="Khu phố 1 bị ngập",
    )
    past = _lock(cast, cast.ward, dt.date(2024, 2, 28), year=2024)
    plan = _merge_plan(cast, ward_b)
    assert reorg.reorganisation_preview(plan=plan).counts["form_locks"] == 1

    applied = _apply(cast, plan)
    new = _new("27190")
    [copy] = FormLock.objects.filter(unit=new)
    assert (copy.year, copy.stage, copy.locks_at) == (2025, Stage.DOSSIER, late.locks_at)
    [ext] = copy.extensions.all()
    assert ext.unit.parent_id == new.pk and ext.unit.code == "27184-KP01"
    assert ext.reason == "Khu phố 1 bị ngập"
    # The old locks stay as they applied; the 2024 one is not copied.
    assert fresh(early).unit_id == cast.ward.pk and fresh(past).unit_id == cast.ward.pk
    assert not FormLock.objects.filter(unit=new, year=2024).exists()
    assert applied.result["form_locks"] == 1


def test_split_copies_the_lock_to_every_new_unit(cast: Cast) -> None:
    _lock(cast, cast.ward, dt.date(2025, 9, 1))
    _apply(cast, _split_plan(cast))
    assert FormLock.objects.filter(unit=_new("27184"), year=2025).count() == 1
    assert FormLock.objects.filter(unit=_new("27185"), year=2025).count() == 1


# --- Issuer profiles -------------------------------------------------------------------------


def _profile(cast: Cast, unit: AdministrativeUnit, signer: str) -> IssuerProfile:
    upper = unit.name.upper()
    return IssuerProfile.objects.create(
        tenant=cast.tenant,
        unit=unit,
        agency=f"ỦY BAN NHÂN DÂN {upper}",
        authority=f"ỦY BAN NHÂN DÂN {upper}",
        place_name=unit.name,
        signer_name=signer,
        symbol="QĐ-UBND",
    )


def test_merge_copies_no_profile_and_warns_the_successor_has_none(cast: Cast) -> None:
    ward_b = _ward_b(cast)
    _profile(cast, cast.ward, "Nguyễn Văn A")
    plan = _merge_plan(cast, ward_b)
    with translation.override("en"):
        preview = reorg.reorganisation_preview(plan=plan)
    [notice] = [n for n in preview.notices if n.code == "issuer_profile_missing"]
    assert notice.unit_code == "27190"
    assert "Phường Sài Gòn will have no decision signer profile" in notice.message
    assert preview.counts["issuer_profiles"] == 0
    _apply(cast, plan)
    assert not IssuerProfile.objects.filter(unit=_new("27190")).exists()
    assert IssuerProfile.objects.filter(unit=cast.ward).exists()


def test_rename_copies_the_profile_under_the_new_name(cast: Cast) -> None:
    old = _profile(cast, cast.ward, "Nguyễn Văn A")
    plan = reorg.reorganisation_create(actor=cast.admin, name="Đổi tên", effective_on=EFFECTIVE)
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[cast.ward],
        targets=[NEW | {"code": ""}],
    )
    assert reorg.reorganisation_preview(plan=plan).counts["issuer_profiles"] == 1
    _apply(cast, plan)
    copy = IssuerProfile.objects.get(unit=_new("27184"))
    assert copy.agency == "ỦY BAN NHÂN DÂN PHƯỜNG SÀI GÒN"
    assert (copy.place_name, copy.signer_name, copy.symbol) == (
        "Phường Sài Gòn",
        "Nguyễn Văn A",
        "QĐ-UBND",
    )
    assert fresh(old).agency == "ỦY BAN NHÂN DÂN PHƯỜNG BẾN NGHÉ"
    assert AuditEvent.objects.filter(action="issuer_profile.copy").count() == 1


# --- Running campaigns --------------------------------------------------------------------------


def _campaign(cast: Cast, *, end_year: int = 2030) -> Plan:
    return Plan.objects.create(
        tenant=cast.tenant,
        issuing_unit=cast.district,
        number=102,
        title="Kế hoạch xây dựng xã hội học tập",
        start_year=2023,
        end_year=end_year,
    )


def _target(plan: Plan, unit: AdministrativeUnit, year: int, kind: str, value: str) -> Target:
    return Target.objects.create(
        plan=plan, unit=unit, title=Title.FAMILY, year=year, kind=kind, value=Decimal(value)
    )


def test_merge_sums_count_targets_takes_the_highest_rate_and_keeps_the_past(cast: Cast) -> None:
    ward_b = _ward_b(cast)
    campaign = _campaign(cast)
    _target(campaign, cast.ward, 2026, TargetKind.COUNT, "120")
    _target(campaign, ward_b, 2026, TargetKind.COUNT, "80")
    _target(campaign, cast.ward, 2025, TargetKind.RATE, "70")
    _target(campaign, ward_b, 2025, TargetKind.RATE, "75")
    past = _target(campaign, cast.ward, 2024, TargetKind.RATE, "65")
    finished = _campaign(cast, end_year=2024)
    _target(finished, cast.ward, 2025, TargetKind.RATE, "60")
    plan = _merge_plan(cast, ward_b)
    assert reorg.reorganisation_preview(plan=plan).counts["targets"] == 2

    _apply(cast, plan)
    new = _new("27190")
    carried = {(t.year, t.kind, t.value) for t in Target.objects.filter(plan=campaign, unit=new)}
    assert carried == {(2026, "count", Decimal("200.00")), (2025, "rate", Decimal("75.00"))}
    assert fresh(past).unit_id == cast.ward.pk
    assert Target.objects.filter(plan=campaign, unit=cast.ward).count() == 3
    assert not Target.objects.filter(plan=finished, unit=new).exists()
    assert AuditEvent.objects.filter(action="target.carry").count() == 2


def test_split_copies_rate_targets_and_flags_count_targets(cast: Cast) -> None:
    campaign = _campaign(cast)
    _target(campaign, cast.ward, 2025, TargetKind.RATE, "70")
    _target(campaign, cast.ward, 2026, TargetKind.COUNT, "90")
    plan = _split_plan(cast)
    with translation.override("en"):
        preview = reorg.reorganisation_preview(plan=plan)
    [notice] = [n for n in preview.notices if n.code == "target_split_count"]
    assert "goes whole to Phường Bến Nghé" in notice.message
    _apply(cast, plan)
    a, b = _new("27184"), _new("27185")
    assert set(Target.objects.filter(unit=a).values_list("year", "kind")) == {
        (2025, "rate"),
        (2026, "count"),
    }
    assert list(Target.objects.filter(unit=b).values_list("year", "kind", "value")) == [
        (2025, "rate", Decimal("70.00"))
    ]


def test_future_events_follow_the_successor_and_running_plans_of_a_closed_issuer_are_flagged(
    cast: Cast,
) -> None:
    ward_b = _ward_b(cast)

    def event(unit: AdministrativeUnit, starts: dt.date) -> Event:
        return Event.objects.create(
            tenant=cast.tenant,
            unit=unit,
            kind=EventKind.LIFELONG_WEEK,
            name=f"Tuần lễ học tập suốt đời {starts.year}",
            starts_on=starts,
            ends_on=starts + dt.timedelta(days=6),
        )

    future = event(ward_b, dt.date(2025, 10, 1))
    held = event(ward_b, dt.date(2024, 10, 1))
    ward_plan = Plan.objects.create(
        tenant=cast.tenant,
        issuing_unit=ward_b,
        number=5,
        title="Kế hoạch của phường",
        start_year=2023,
        end_year=2030,
    )
    own_target = _target(ward_plan, ward_b, 2026, TargetKind.RATE, "80")
    plan = _merge_plan(cast, ward_b)
    preview = reorg.reorganisation_preview(plan=plan)
    assert preview.counts["events"] == 1
    assert [n.unit_code for n in preview.notices if n.code == "plan_issuer_closed"] == ["27190"]
    _apply(cast, plan)
    assert fresh(future).unit_id == _new("27190").pk
    assert fresh(held).unit_id == ward_b.pk
    # The ward's own plan stays its document: its targets are not carried.
    assert preview.counts["targets"] == 0
    assert list(Target.objects.filter(plan=ward_plan)) == [own_target]


# --- Shown before applying: the preview page and the API ------------------------------------


def test_preview_page_and_api_list_the_carried_rows_and_notices(cast: Cast) -> None:
    ward_b = _ward_b(cast)
    _community(cast, cast.ward)
    _community(cast, ward_b)
    _lock(cast, cast.ward, dt.date(2025, 9, 1))
    plan = _merge_plan(cast, ward_b)
    admin = client_for(cast.admin)
    page = admin.get(reverse("units:reorganisation-preview", args=[plan.public_id]))
    assert page.status_code == 200
    html = page.content.decode()
    notices = html.split('data-testid="notices"', 1)[1].split("</table>", 1)[0]
    assert notices.count("<tr>") == 2  # the header and the one notice
    assert "<td>27184</td>" in notices and "Phường Sài Gòn" in notices
    body = admin.get(f"/api/v1/reorganisations/{plan.public_id}/preview").json()
    assert body["counts"]["community_moved"] == 1
    assert body["counts"]["community_withdrawn"] == 1
    assert body["counts"]["form_locks"] == 1
    assert [n["code"] for n in body["notices"]] == ["community_duplicate"]
    # Another tenant's official never sees the plan.
    other = client_for(cast.other_tenant_official)
    assert other.get(f"/api/v1/reorganisations/{plan.public_id}/preview").status_code in (403, 404)


# --- Bulk writes ---------------------------------------------------------------------------------


def _apply_queries(cast: Cast, wards: int) -> int:
    """Merge ``wards`` wards, each with an open community registration, a form lock
    and a campaign target, into one: the queries of apply."""
    district = make_unit(cast.tenant, cast.city, "quan", f"Quận {wards}", f"9{wards:02d}")
    campaign = _campaign(cast)
    sources = []
    for i in range(wards):
        ward = make_unit(cast.tenant, district, "phuong", f"Phường {i}", f"{wards}{i:03d}")
        _community(cast, ward)
        _lock(cast, ward, dt.date(2025, 9, 1 + i))
        _target(campaign, ward, 2026, TargetKind.COUNT, "10")
        sources.append(ward)
    plan = reorg.reorganisation_create(
        actor=cast.admin, name=f"Sáp nhập {wards}", effective_on=EFFECTIVE
    )
    code = f"{wards}999"
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=sources,
        targets=[{"code": code, "name": "Phường Mới", "kind": "phuong"}],
    )
    plan.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        applied = reorg.reorganisation_apply(
            actor=cast.admin, plan=plan, expected_version=plan.version
        )
    assert applied.result["community_moved"] == 1
    assert applied.result["community_withdrawn"] == wards - 1
    assert applied.result["form_locks"] == 1 and applied.result["targets"] == 1
    new = _new(code)
    assert Target.objects.get(unit=new).value == Decimal(10 * wards)
    return len(queries)


def test_carrying_runs_the_same_number_of_queries_for_2_and_8_wards(cast: Cast) -> None:
    assert _apply_queries(cast, 2) == _apply_queries(cast, 8)


def test_split_warns_both_new_units_lack_a_profile_and_the_default_one_takes_the_event(
    cast: Cast,
) -> None:
    _profile(cast, cast.ward, "Nguyễn Văn A")
    week = Event.objects.create(
        tenant=cast.tenant,
        unit=cast.ward,
        kind=EventKind.LIFELONG_WEEK,
        name="Tuần lễ học tập suốt đời 2025",
        starts_on=dt.date(2025, 10, 1),
        ends_on=dt.date(2025, 10, 7),
    )
    plan = _split_plan(cast)
    preview = reorg.reorganisation_preview(plan=plan)
    assert sorted(n.unit_code for n in preview.notices if n.code == "issuer_profile_missing") == [
        "27184",
        "27185",
    ]
    assert [n.unit_code for n in preview.notices if n.code == "event_split"] == ["27184"]
    _apply(cast, plan)
    assert fresh(week).unit_id == _new("27184").pk
    assert not IssuerProfile.objects.filter(unit__in=[_new("27184"), _new("27185")]).exists()
    assert AuditEvent.objects.filter(action="event.move", object_id=str(week.public_id)).exists()


def test_a_large_plan_reads_the_tenant_once_with_the_same_layout(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    ward_b = _ward_b(cast)
    _lock(cast, cast.ward, dt.date(2025, 9, 1))
    _lock(cast, cast.other_ward, dt.date(2025, 9, 1))  # not closed: never copied
    _profile(cast, ward_b, "Trần Thị B")
    campaign = _campaign(cast)
    _target(campaign, cast.ward, 2026, TargetKind.COUNT, "5")
    _target(campaign, cast.other_ward, 2026, TargetKind.COUNT, "7")
    Event.objects.create(
        tenant=cast.tenant,
        unit=ward_b,
        kind=EventKind.OTHER,
        name="Hội thi",
        starts_on=dt.date(2025, 8, 1),
        ends_on=dt.date(2025, 8, 1),
    )
    plan = _merge_plan(cast, ward_b)
    small = reorg.reorganisation_preview(plan=plan)
    monkeypatch.setattr(links_module, "CHUNK", 1)  # every plan is now "large"
    large = reorg.reorganisation_preview(plan=plan)
    assert small.counts == large.counts
    assert [n.as_dict() for n in small.notices] == [n.as_dict() for n in large.notices]
    assert (small.counts["form_locks"], small.counts["targets"], small.counts["events"]) == (
        1,
        1,
        1,
    )
    assert [n.code for n in small.notices] == ["issuer_profile_missing"]

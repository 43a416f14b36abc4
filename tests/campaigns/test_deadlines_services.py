"""Deadline services: validation, tightening against the parent plan, the
form locks they keep in step, extensions (campaigns/services/deadlines.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from campaigns.exceptions import CampaignError, LoosenedError
from campaigns.models import Deadline, DeadlineKind, Plan
from campaigns.services import deadlines as services
from core.models import AuditEvent
from recognition.exceptions import RoleNotAllowedError
from recognition.models import FormLock, LockExtension
from recognition.titles import Title
from tests.conftest import Cast
from units.levels import Level

YEAR = 2025


def make_plan(unit: Any, *, parent: Plan | None = None, start: int = 2023, end: int = 2030) -> Plan:
    """A plan row (plans have their own services; these tests need only the row)."""
    return Plan.objects.create(
        tenant=unit.tenant,
        issuing_unit=unit,
        parent=parent,
        title=f"Kế hoạch xây dựng xã hội học tập — {unit.name}",
        start_year=start,
        end_year=end,
    )


def deadline_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": DeadlineKind.DOSSIER,
        "title": Title.FAMILY,
        "year": YEAR,
        "level": Level.COMMUNE,
        "due_on": dt.date(2025, 11, 5),
        "label": "Các phường nộp hồ sơ",
        "remind_days": 7,
    }
    data.update(overrides)
    return data


def add_deadline(plan: Plan, actor: Any = None, **overrides: Any) -> Deadline:
    return services.deadline_save(actor=actor, plan=plan, data=deadline_data(**overrides))


def _state() -> tuple[Any, ...]:
    return (
        list(Deadline.objects.order_by("pk").values_list("pk", "due_on", "source_id", "kind")),
        list(FormLock.objects.order_by("pk").values_list("pk", "locks_at")),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def plans(cast: Cast) -> tuple[Plan, Plan]:
    city = make_plan(cast.city)
    district = make_plan(cast.district, parent=city)
    return city, district


def test_a_deadline_is_saved_audited_and_locks_its_stage(cast: Cast, plans) -> None:
    city, _district = plans
    deadline = add_deadline(city, cast.admin)
    assert deadline.source is None
    lock = deadline.form_lock
    assert lock is not None
    assert (lock.unit, lock.title, lock.year, lock.stage) == (
        cast.city,
        Title.FAMILY,
        YEAR,
        "dossier",
    )
    # The end of 05/11/2025 in Asia/Ho_Chi_Minh: 00:00 on 06/11 local = 17:00 UTC on 05/11.
    assert lock.locks_at == dt.datetime(2025, 11, 5, 17, 0, tzinfo=dt.UTC)
    event = AuditEvent.objects.get(action="deadline.create", object_id=str(deadline.public_id))
    assert event.actor == cast.admin
    assert event.after["due_on"] == "2025-11-05"


def test_a_report_deadline_or_one_for_every_title_locks_nothing(cast: Cast, plans) -> None:
    city, _district = plans
    report = add_deadline(city, kind=DeadlineKind.REPORT, level=Level.DISTRICT)
    every = add_deadline(city, title="")
    assert report.form_lock is None and every.form_lock is None
    assert not FormLock.objects.exists()


def test_changing_the_kind_to_a_non_locking_one_deletes_the_lock(cast: Cast, plans) -> None:
    city, _district = plans
    deadline = add_deadline(city)
    lock_id = deadline.form_lock_id
    services.deadline_save(
        actor=cast.admin,
        plan=city,
        data=deadline_data(kind=DeadlineKind.DECISION),
        deadline=deadline,
    )
    deadline.refresh_from_db()
    assert deadline.form_lock_id is None
    assert not FormLock.objects.filter(pk=lock_id).exists()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"year": 2031}, "invalid_deadline"),
        ({"year": 2022}, "invalid_deadline"),
        ({"kind": "whatever"}, "invalid_deadline"),
        ({"title": "nope"}, "invalid_deadline"),
        ({"level": "galaxy"}, "invalid_deadline"),
        ({"due_on": dt.date(2027, 1, 1)}, "invalid_deadline"),
        ({"due_on": None}, "invalid_deadline"),
        ({"remind_days": -1}, "invalid_deadline"),
        ({"remind_days": "many"}, "invalid_deadline"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(cast: Cast, plans, overrides, code) -> None:
    city, _district = plans
    before = _state()
    with pytest.raises(CampaignError) as info:
        add_deadline(city, cast.admin, **overrides)
    assert info.value.code == code
    assert _state() == before


def test_a_district_plan_cannot_set_a_deadline_for_the_province(cast: Cast, plans) -> None:
    _city, district = plans
    with pytest.raises(CampaignError):
        add_deadline(district, cast.reviewer, level=Level.PROVINCE)


def test_a_second_deadline_of_the_same_kind_title_year_and_level_is_refused(
    cast: Cast, plans
) -> None:
    city, _district = plans
    add_deadline(city)
    before = _state()
    with pytest.raises(CampaignError) as info:
        add_deadline(city, due_on=dt.date(2025, 10, 1))
    assert info.value.code == "deadline_exists"
    assert _state() == before


def test_only_planners_of_the_plan_unit_write_its_deadlines(cast: Cast, plans) -> None:
    city, district = plans
    with pytest.raises(RoleNotAllowedError):
        add_deadline(district, cast.ward_official)
    with pytest.raises(RoleNotAllowedError):
        add_deadline(city, cast.reviewer)
    with pytest.raises(RoleNotAllowedError):
        add_deadline(city, cast.viewer)
    assert not Deadline.objects.exists()
    assert add_deadline(district, cast.reviewer).plan == district


# --- Tightening ---------------------------------------------------------------------


def test_a_child_deadline_later_than_its_parents_is_refused(cast: Cast, plans) -> None:
    city, district = plans
    add_deadline(city, cast.admin)
    before = _state()
    with pytest.raises(LoosenedError) as info:
        add_deadline(district, cast.reviewer, due_on=dt.date(2025, 11, 10))
    assert "05/11/2025" in str(info.value)
    assert "10/11/2025" in str(info.value)
    assert _state() == before


def test_a_child_may_set_an_earlier_date_and_points_at_the_parents_deadline(
    cast: Cast, plans
) -> None:
    city, district = plans
    parent = add_deadline(city, cast.admin)
    child = add_deadline(district, cast.reviewer, due_on=dt.date(2025, 11, 1))
    assert child.source == parent
    assert child.form_lock.unit == cast.district
    # Same date is fine too (tightening is "not later").
    same = add_deadline(
        district, cast.reviewer, kind=DeadlineKind.ASSESSMENT, due_on=dt.date(2025, 10, 1)
    )
    assert same.source is None


def test_a_parent_deadline_for_every_title_bounds_each_title(cast: Cast, plans) -> None:
    city, district = plans
    parent = add_deadline(city, title="", due_on=dt.date(2025, 11, 5))
    with pytest.raises(LoosenedError):
        add_deadline(district, title=Title.CLAN, due_on=dt.date(2025, 11, 6))
    child = add_deadline(district, title=Title.CLAN, due_on=dt.date(2025, 11, 5))
    assert child.source == parent


def test_editing_a_child_deadline_later_than_its_parents_is_refused(cast: Cast, plans) -> None:
    city, district = plans
    add_deadline(city)
    child = add_deadline(district, due_on=dt.date(2025, 11, 1))
    before = _state()
    with pytest.raises(LoosenedError):
        services.deadline_save(
            actor=cast.reviewer,
            plan=district,
            data=deadline_data(due_on=dt.date(2025, 11, 20)),
            deadline=child,
        )
    assert _state() == before


def test_moving_a_parent_deadline_earlier_moves_later_children_in_the_same_transaction(
    cast: Cast, plans
) -> None:
    city, district = plans
    ward_plan = make_plan(cast.ward, parent=district)
    parent = add_deadline(city, due_on=dt.date(2025, 11, 5))
    child = add_deadline(district, due_on=dt.date(2025, 11, 3))
    grandchild = add_deadline(ward_plan, due_on=dt.date(2025, 11, 2))
    early_child = add_deadline(
        make_plan(cast.other_district, parent=city), due_on=dt.date(2025, 10, 20)
    )
    services.deadline_save(
        actor=cast.admin,
        plan=city,
        data=deadline_data(due_on=dt.date(2025, 10, 31)),
        deadline=parent,
    )
    for d in (child, grandchild, early_child):
        d.refresh_from_db()
    assert child.due_on == dt.date(2025, 10, 31)
    assert grandchild.due_on == dt.date(2025, 10, 31)
    assert early_child.due_on == dt.date(2025, 10, 20)
    # The moved children's locks moved with them.
    assert child.form_lock.locks_at == services.end_of_day(dt.date(2025, 10, 31))
    assert grandchild.form_lock.locks_at == services.end_of_day(dt.date(2025, 10, 31))
    tightened = AuditEvent.objects.filter(action="deadline.tighten")
    assert {e.object_id for e in tightened} == {str(child.public_id), str(grandchild.public_id)}
    assert all(e.actor == cast.admin for e in tightened)
    # Moving the parent later again leaves the children where they are.
    services.deadline_save(
        actor=cast.admin,
        plan=city,
        data=deadline_data(due_on=dt.date(2025, 11, 15)),
        deadline=parent,
    )
    child.refresh_from_db()
    assert child.due_on == dt.date(2025, 10, 31)


def test_deleting_a_deadline_deletes_its_lock_and_unbinds_derived_ones(cast: Cast, plans) -> None:
    city, district = plans
    parent = add_deadline(city)
    child = add_deadline(district, due_on=dt.date(2025, 11, 1))
    lock_id = parent.form_lock_id
    services.deadline_delete(actor=cast.admin, deadline=parent)
    assert not FormLock.objects.filter(pk=lock_id).exists()
    child.refresh_from_db()
    assert child.source is None
    assert AuditEvent.objects.filter(action="deadline.delete").count() == 1
    with pytest.raises(RoleNotAllowedError):
        services.deadline_delete(actor=cast.ward_official, deadline=child)


# --- Extensions ------------------------------------------------------------------------


def test_an_extension_is_granted_by_a_reviewer_with_a_reason_and_audited(cast: Cast, plans) -> None:
    _city, district = plans
    deadline = add_deadline(district)
    extension = services.extension_grant(
        actor=cast.reviewer,
        deadline=deadline,
        unit=cast.ward,
        until=dt.date(2025, 11, 12),
        reason="Phường bổ sung minh chứng\n\n  do ngập lụt ",
    )
    assert extension.lock == deadline.form_lock
    assert extension.until == services.end_of_day(dt.date(2025, 11, 12))
    assert extension.reason == "Phường bổ sung minh chứng\ndo ngập lụt"
    event = AuditEvent.objects.get(action="deadline.extend")
    assert event.unit == cast.ward
    assert event.actor == cast.reviewer


@pytest.mark.parametrize(
    ("unit_name", "until", "reason", "code"),
    [
        ("other_ward", dt.date(2025, 11, 12), "Lý do", "invalid_extension"),
        ("ward", dt.date(2025, 11, 5), "Lý do", "invalid_extension"),
        ("ward", dt.date(2025, 11, 12), "   ", "invalid_extension"),
    ],
)
def test_bad_extensions_are_refused(cast: Cast, plans, unit_name, until, reason, code) -> None:
    _city, district = plans
    deadline = add_deadline(district)
    before = (LockExtension.objects.count(), AuditEvent.objects.count())
    with pytest.raises(CampaignError) as info:
        services.extension_grant(
            actor=cast.reviewer,
            deadline=deadline,
            unit=getattr(cast, unit_name),
            until=until,
            reason=reason,
        )
    assert info.value.code == code
    assert (LockExtension.objects.count(), AuditEvent.objects.count()) == before


def test_extensions_need_a_reviewer_and_a_locking_deadline(cast: Cast, plans) -> None:
    _city, district = plans
    deadline = add_deadline(district)
    for actor in (cast.ward_official, cast.viewer):
        with pytest.raises(RoleNotAllowedError):
            services.extension_grant(
                actor=actor,
                deadline=deadline,
                unit=cast.ward,
                until=dt.date(2025, 11, 12),
                reason="Lý do",
            )
    report = add_deadline(district, kind=DeadlineKind.REPORT)
    with pytest.raises(CampaignError) as info:
        services.extension_grant(
            actor=cast.reviewer,
            deadline=report,
            unit=cast.ward,
            until=dt.date(2025, 11, 12),
            reason="Lý do",
        )
    assert info.value.code == "nothing_to_extend"


def test_an_extension_cannot_run_past_the_parent_plans_deadline(cast: Cast, plans) -> None:
    city, district = plans
    add_deadline(city, due_on=dt.date(2025, 11, 5))
    child = add_deadline(district, due_on=dt.date(2025, 11, 1))
    with pytest.raises(CampaignError) as info:
        services.extension_grant(
            actor=cast.reviewer,
            deadline=child,
            unit=cast.ward,
            until=dt.date(2025, 11, 8),
            reason="Lý do",
        )
    assert info.value.code == "extension_past_parent"
    assert "05/11/2025" in str(info.value)
    ok = services.extension_grant(
        actor=cast.reviewer,
        deadline=child,
        unit=cast.ward,
        until=dt.date(2025, 11, 5),
        reason="Lý do",
    )
    assert ok.pk


def test_revoking_an_extension_ends_it_now_and_is_audited(cast: Cast, plans) -> None:
    _city, district = plans
    deadline = add_deadline(district, due_on=dt.date(2026, 1, 10))
    extension = services.extension_grant(
        actor=cast.reviewer,
        deadline=deadline,
        unit=cast.ward,
        until=dt.date(2026, 12, 31),
        reason="Lý do",
    )
    services.extension_revoke(actor=cast.reviewer, deadline=deadline, extension_id=extension.pk)
    extension.refresh_from_db()
    assert extension.until <= timezone.now()
    assert AuditEvent.objects.filter(action="deadline.extension_revoke").count() == 1
    with pytest.raises(CampaignError):
        services.extension_revoke(actor=cast.reviewer, deadline=deadline, extension_id=extension.pk)
    other = add_deadline(district, kind=DeadlineKind.ASSESSMENT, due_on=dt.date(2025, 10, 1))
    with pytest.raises(CampaignError):
        services.extension_revoke(actor=cast.reviewer, deadline=other, extension_id=extension.pk)


def test_a_deadline_in_another_district_is_no_business_of_this_reviewer(cast: Cast) -> None:
    other_plan = make_plan(cast.other_district)
    deadline = add_deadline(other_plan)
    with pytest.raises(RoleNotAllowedError):
        services.extension_grant(
            actor=cast.reviewer,
            deadline=deadline,
            unit=cast.other_ward,
            until=dt.date(2025, 11, 12),
            reason="Lý do",
        )

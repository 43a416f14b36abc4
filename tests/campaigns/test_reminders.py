"""Reminders before a deadline and the reviewers' daily digest: sent once, to
the right people, never twice (campaigns/services/reminders.py), including when
the real Celery beat schedule from the settings fires twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from celery.beat import Scheduler
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from campaigns.models import Deadline, DeadlineKind, Reminder
from campaigns.services import deadlines as deadline_services
from campaigns.services import reminders as services
from config.celery import app
from recognition.models import Dossier, DossierStatus
from recognition.titles import Title
from tests.campaigns.test_deadlines_services import make_plan
from tests.conftest import Cast
from tests.factories import grant, make_unit, make_user
from units.levels import Level
from units.roles import Role

YEAR = 2026


class World:
    def __init__(self, cast: Cast) -> None:
        self.cast = cast
        self.today = timezone.localdate()
        self.plan = make_plan(cast.district, start=2025, end=2030)
        # Two more wards of the district, each with its own official.
        self.ward2 = make_unit(cast.tenant, cast.district, "phuong", "Phường Đa Kao", "27187")
        self.ward3 = make_unit(cast.tenant, cast.district, "phuong", "Phường Cầu Kho", "27190")
        self.official2 = grant(make_user(cast.tenant, "dakao"), self.ward2, Role.WARD_OFFICIAL)
        self.official3 = grant(make_user(cast.tenant, "caukho"), self.ward3, Role.WARD_OFFICIAL)

    def deadline(self, *, days: int, remind: int = 7, **overrides: Any) -> Deadline:
        data = {
            "kind": DeadlineKind.DOSSIER,
            "title": Title.FAMILY,
            "year": self.year_for(days),
            "level": Level.COMMUNE,
            "due_on": self.today + dt.timedelta(days=days),
            "label": "Nộp hồ sơ đề nghị công nhận",
            "remind_days": remind,
        }
        data.update(overrides)
        return deadline_services.deadline_save(actor=None, plan=self.plan, data=data)

    def year_for(self, days: int) -> int:
        return (self.today + dt.timedelta(days=days)).year

    def submit(self, ward: Any, deadline: Deadline, *, at: dt.datetime | None = None) -> Dossier:
        """The ward's dossier of the deadline's title and year, marked submitted."""
        return Dossier.objects.create(
            tenant=ward.tenant,
            proposing_unit=ward,
            reviewing_unit=self.cast.district,
            title=deadline.title or Title.FAMILY,
            year=deadline.year,
            status=DossierStatus.SUBMITTED,
            submitted_at=at or timezone.now(),
            submission_count=1,
        )


@pytest.fixture
def world(cast: Cast) -> World:
    return World(cast)


def _recipients() -> list[set[str]]:
    return [set(m.to) for m in mail.outbox]


def test_units_that_have_not_met_the_deadline_are_reminded_once(
    world: World, django_capture_on_commit_callbacks
) -> None:
    deadline = world.deadline(days=3)
    world.submit(world.ward3, deadline)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=world.today) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=world.today) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=world.today + dt.timedelta(days=1)) == 0
    assert sorted(_recipients(), key=sorted) == sorted(
        [{"ward@example.vn"}, {"dakao@example.vn"}], key=sorted
    )
    rows = Reminder.objects.filter(deadline=deadline, kind="before")
    assert {r.unit for r in rows} == {world.cast.ward, world.ward2}
    message = mail.outbox[0]
    assert message.subject.startswith(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX)
    assert deadline.due_on.strftime("%d/%m/%Y") in message.subject
    assert settings.SITE_URL in message.body
    assert message.alternatives and "<html" in message.alternatives[0][0]


def test_no_reminder_before_the_window_or_after_the_deadline_or_when_switched_off(
    world: World, django_capture_on_commit_callbacks
) -> None:
    world.deadline(days=10, remind=7)
    world.deadline(days=-1, remind=7, kind=DeadlineKind.ASSESSMENT)
    world.deadline(days=2, remind=0, kind=DeadlineKind.REGISTRATION)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=world.today) == 0
    assert mail.outbox == []
    assert not Reminder.objects.exists()


def test_officials_are_those_assigned_at_the_unit_and_units_with_an_extension_are_skipped(
    world: World, django_capture_on_commit_callbacks
) -> None:
    cast = world.cast
    # The district reviewer and the city admin are not officials OF the ward.
    deadline = world.deadline(days=0)
    reviewer_at_ward = grant(make_user(cast.tenant, "rv.ward"), cast.ward, Role.REVIEWER)
    lead = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    grant(make_user(cast.tenant, "kp.lead"), lead, Role.NEIGHBOURHOOD_LEAD)
    inactive = grant(make_user(cast.tenant, "gone"), world.ward2, Role.WARD_OFFICIAL)
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    deadline_services.extension_grant(
        actor=cast.reviewer,
        deadline=deadline,
        unit=world.ward3,
        until=world.today + dt.timedelta(days=5),
        reason="Gia hạn",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.reminders_send(today=world.today)
    assert sorted(_recipients(), key=sorted) == sorted(
        [{"ward@example.vn", reviewer_at_ward.email}, {"dakao@example.vn"}], key=sorted
    )


def test_a_failed_run_sends_nothing_and_leaves_no_row(world: World) -> None:
    world.deadline(days=3)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        services.reminders_send(today=world.today)
        raise Boom
    assert mail.outbox == []
    assert not Reminder.objects.exists()


def test_the_unique_row_is_the_guard(world: World) -> None:
    deadline = world.deadline(days=3)
    first = services._record(deadline=deadline, unit=world.ward2, kind="before", recipients=[])
    again = services._record(deadline=deadline, unit=world.ward2, kind="before", recipients=[])
    assert first is not None and again is None
    assert Reminder.objects.count() == 1


def test_a_derived_deadline_replaces_the_parents_reminder_in_its_subtree(
    world: World, django_capture_on_commit_callbacks
) -> None:
    cast = world.cast
    city_plan = make_plan(cast.city, start=2025, end=2030)
    world.plan.parent = city_plan
    world.plan.save(update_fields=["parent"])
    data = {
        "kind": DeadlineKind.DOSSIER,
        "title": Title.FAMILY,
        "year": world.year_for(3),
        "level": Level.COMMUNE,
        "due_on": world.today + dt.timedelta(days=3),
        "label": "",
        "remind_days": 7,
    }
    parent = deadline_services.deadline_save(actor=None, plan=city_plan, data=data)
    child = world.deadline(days=2)
    assert child.source == parent
    grant(make_user(cast.tenant, "tandinh"), cast.other_ward, Role.WARD_OFFICIAL)
    with django_capture_on_commit_callbacks(execute=True):
        services.reminders_send(today=world.today)
    by_deadline = {(r.deadline_id, r.unit_id) for r in Reminder.objects.filter(kind="before")}
    assert by_deadline == {
        (child.pk, cast.ward.pk),
        (child.pk, world.ward2.pk),
        (child.pk, world.ward3.pk),
        (parent.pk, cast.other_ward.pk),
    }
    assert len(mail.outbox) == 4


# --- The digest ------------------------------------------------------------------------


def test_the_digest_tells_each_reviewer_once_a_day_what_arrived_and_what_is_late(
    world: World, django_capture_on_commit_callbacks
) -> None:
    cast = world.cast
    overdue = world.deadline(days=-3, remind=0)
    yesterday_noon = dt.datetime.combine(
        world.today - dt.timedelta(days=1), dt.time(12), tzinfo=deadline_services.local_tz()
    )
    world.submit(world.ward2, overdue, at=yesterday_noon)
    # A reviewer elsewhere with nothing to hear about gets nothing.
    grant(make_user(cast.tenant, "rv.q2"), cast.other_district, Role.REVIEWER)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digest_send(today=world.today) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digest_send(today=world.today) == 0
    assert _recipients() == [{cast.reviewer.email}]
    body = mail.outbox[0].body
    assert "Phường Đa Kao" in body  # arrived yesterday (late, but it arrived)
    assert cast.ward.name in body and "Phường Cầu Kho" in body  # late units
    assert overdue.due_on.strftime("%d/%m/%Y") in body
    row = Reminder.objects.get(kind=f"digest:{world.today.isoformat()}")
    assert row.user == cast.reviewer
    # The next day is another digest.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digest_send(today=world.today + dt.timedelta(days=1)) == 1


def test_the_digest_lists_the_deadline_in_force_for_each_reviewer(world: World) -> None:
    cast = world.cast
    city_plan = make_plan(cast.city, start=2025, end=2030)
    world.plan.parent = city_plan
    world.plan.save(update_fields=["parent"])
    data = {
        "kind": DeadlineKind.DOSSIER,
        "title": Title.FAMILY,
        "year": world.year_for(-3),
        "level": Level.COMMUNE,
        "due_on": world.today - dt.timedelta(days=3),
        "label": "",
        "remind_days": 0,
    }
    parent = deadline_services.deadline_save(actor=None, plan=city_plan, data=data)
    child = world.deadline(days=-5, remind=0, year=world.year_for(-5))
    assert child.source == parent
    city_reviewer = grant(make_user(cast.tenant, "rv.city"), cast.city, Role.REVIEWER)
    district = services.digest_for(cast.reviewer, [cast.district], world.today)
    assert [item.deadline for item in district.overdue] == [child]
    city = services.digest_for(city_reviewer, [cast.city], world.today)
    (item,) = city.overdue
    assert item.deadline == parent
    # Measured against the city's own date, the district's wards are late too.
    assert {u.pk for u in item.units} >= {cast.ward.pk, world.ward2.pk, cast.other_ward.pk}


def test_no_digest_when_there_is_nothing_to_say(
    world: World, django_capture_on_commit_callbacks
) -> None:
    world.deadline(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digest_send(today=world.today) == 0
    assert mail.outbox == []
    assert not Reminder.objects.exists()


# --- The real beat schedule, evaluated twice ----------------------------------------------


class RunningScheduler(Scheduler):
    """celery beat's own scheduler, except that a due entry runs its task here
    (``Task.apply``) instead of sending it to a broker."""

    producer = None  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.ran: list[tuple[str, Any]] = []
        super().__init__(*args, **kwargs)

    def apply_async(self, entry: Any, producer: Any = None, advance: bool = True, **kw: Any) -> Any:
        if not entry.task.startswith("campaigns."):
            return None
        result = self.app.tasks[entry.task].apply(args=entry.args, kwargs=entry.kwargs)
        self.ran.append((entry.task, result.get()))
        return result


@pytest.fixture
def worker_modules() -> None:
    """Import the task modules as a worker does when it starts (autodiscovery)."""
    app.loader.import_default_modules()


def _beat(clock: dt.datetime) -> RunningScheduler:
    """A fresh beat process whose entries last ran yesterday at this time."""
    scheduler = RunningScheduler(app=app)
    for entry in scheduler.schedule.values():
        entry.last_run_at = clock - dt.timedelta(days=1)
    for _ in range(10):
        if scheduler.tick() != 0:
            break
    return scheduler


def test_the_beat_schedule_comes_from_the_settings(worker_modules: None) -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    tasks = {spec["task"] for spec in schedule.values()}
    assert {"campaigns.reminders_send", "campaigns.digest_send"} <= tasks
    assert tasks <= set(app.tasks)
    assert app.conf.beat_schedule == schedule
    assert app.conf.timezone == "Asia/Ho_Chi_Minh"


def test_reminder_idempotency_with_the_real_beat_schedule_evaluated_twice(
    world: World, django_capture_on_commit_callbacks, monkeypatch, worker_modules: None
) -> None:
    deadline = world.deadline(days=2)
    overdue = world.deadline(days=-2, remind=0, kind=DeadlineKind.ASSESSMENT)
    clock = dt.datetime.combine(world.today, dt.time(7, 45), tzinfo=deadline_services.local_tz())
    monkeypatch.setattr(crontab, "now", lambda self: clock)
    with django_capture_on_commit_callbacks(execute=True):
        first = _beat(clock)
        # A second beat (a restart without its state, or two beats by mistake)
        # finds the same entries due and runs them again.
        second = _beat(clock)
        # The first beat ticking again later the same morning runs nothing.
        assert first.tick() > 0
    assert sorted(first.ran) == [("campaigns.digest_send", 1), ("campaigns.reminders_send", 3)]
    assert sorted(second.ran) == [("campaigns.digest_send", 0), ("campaigns.reminders_send", 0)]
    reminded = [m for m in mail.outbox if world.cast.reviewer.email not in m.to]
    assert sorted(tuple(m.to) for m in reminded) == sorted(
        [("ward@example.vn",), ("dakao@example.vn",), ("caukho@example.vn",)]
    )
    for unit in (world.cast.ward, world.ward2, world.ward3):
        assert Reminder.objects.filter(deadline=deadline, unit=unit, kind="before").count() == 1
    digests = [m for m in mail.outbox if world.cast.reviewer.email in m.to]
    assert len(digests) == 1
    assert overdue.due_on.strftime("%d/%m/%Y") in digests[0].body


def test_the_configured_database_scheduler_installs_the_entries(transactional_db: None) -> None:
    """beat runs django-celery-beat's DatabaseScheduler: it copies the settings'
    entries into its tables at start, with their local times. (Transactional:
    the scheduler closes the database connection, as beat does between ticks.)"""
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    assert settings.CELERY_BEAT_SCHEDULER.endswith(":DatabaseScheduler")
    DatabaseScheduler(app=app)
    tasks = {t.name: t for t in PeriodicTask.objects.select_related("crontab")}
    reminders = tasks["campaigns-deadline-reminders"]
    assert reminders.task == "campaigns.reminders_send"
    assert (reminders.crontab.hour, reminders.crontab.minute) == ("7", "0")
    assert str(reminders.crontab.timezone) == "Asia/Ho_Chi_Minh"
    digest = tasks["campaigns-reviewer-digest"]
    assert (digest.crontab.hour, digest.crontab.minute) == ("7", "30")

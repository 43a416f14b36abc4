"""Deadlines of a plan, the form locks they create, and extensions.

* A deadline says that the units at ``level`` under the plan's unit must act by
  ``due_on`` (wards report by 1 November, the district consolidates by 10
  November, seed 002; commune Cộng đồng học tập dossiers by 28 February,
  RULES.md §2.5).
* **Tightening**: a plan implementing a parent plan may set its deadlines
  earlier than the parent's, never later. The bound is the deadline the child
  derives from (``source``) or, failing that, the parent plan's deadline of the
  same kind, year, level and title (a parent deadline for every title bounds
  each title). When a parent deadline moves earlier, every derived deadline
  later than the new date moves to it in the same transaction (audited), so a
  child never ends up looser than its parent.
* **Locks**: registration, self-assessment and dossier deadlines of one title
  close that stage of the recognition cycle at the end of the due day (00:00
  the next day, Asia/Ho_Chi_Minh) for every unit under the plan's unit
  (:func:`deadline_sync_lock` keeps a ``recognition.FormLock`` in step). The
  recognition services already refuse writes after a lock
  (``recognition.locks.check_open``).
* **Extensions**: a reviewer of the plan's unit may reopen the stage for one
  unit of its subtree until a later date, with a reason (audited
  ``deadline.extend``); revoking ends it now.

A FormLock has no level: a locking deadline closes its stage for every unit
under the plan's unit, whatever their level.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.exceptions import CampaignError, LoosenedError
from campaigns.models import LOCKING_KINDS, Deadline, DeadlineKind, Plan
from campaigns.permissions import require_planner, require_reviewer
from core.audit import audit_record
from core.text import nfc
from recognition.models import FormLock, LockExtension
from recognition.titles import Title
from units.levels import Level, level_rank
from units.models import AdministrativeUnit

FIELDS = ("kind", "title", "year", "level", "due_on", "label", "remind_days")
MAX_REMIND_DAYS = 365


def local_tz() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def end_of_day(day: dt.date) -> dt.datetime:
    """The moment a deadline of ``day`` passes: 00:00 the next day, local time."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=local_tz())


def last_day(moment: dt.datetime) -> dt.date:
    """The last local day a moment such as ``end_of_day(day)`` still covers (``day``)."""
    return timezone.localtime(moment - dt.timedelta(microseconds=1), local_tz()).date()


def format_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _snapshot(deadline: Deadline) -> dict[str, Any]:
    return {
        "kind": deadline.kind,
        "title": deadline.title,
        "year": deadline.year,
        "level": deadline.level,
        "due_on": deadline.due_on.isoformat() if deadline.due_on else None,
        "label": deadline.label,
        "remind_days": deadline.remind_days,
        "source": str(deadline.source.public_id) if deadline.source_id else None,  # type: ignore[union-attr]
    }


def _error(message: str, code: str = "invalid_deadline") -> CampaignError:
    return CampaignError(message, code=code)


def _int(value: Any, message: str) -> int:
    if isinstance(value, bool):
        raise _error(message)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _error(message) from exc


def _clean(plan: Plan, data: dict[str, Any]) -> dict[str, Any]:
    """Check the shape and the plan's own rules; returns the cleaned values."""
    kind = data.get("kind")
    if kind not in DeadlineKind.values:
        raise _error(_("Choose what the deadline is for."))
    title = data.get("title") or ""
    if title and title not in Title.values:
        raise _error(_("Choose a title, or none for every title."))
    year = _int(data.get("year"), _("Give the year the deadline belongs to."))
    if not plan.start_year <= year <= plan.end_year:
        raise _error(
            _("The year %(year)s is outside the plan's period %(start)s–%(end)s.")
            % {"year": year, "start": plan.start_year, "end": plan.end_year}
        )
    level = data.get("level")
    if level not in Level.values:
        raise _error(_("Choose the level of the units that must act."))
    if level_rank(level) < level_rank(plan.issuing_unit.level):
        raise _error(
            _("A plan of %(unit)s can only set deadlines for its own level or the levels below.")
            % {"unit": plan.issuing_unit.name}
        )
    due_on = data.get("due_on")
    if isinstance(due_on, str):
        try:
            due_on = dt.date.fromisoformat(due_on)
        except ValueError:
            due_on = None
    if not isinstance(due_on, dt.date) or isinstance(due_on, dt.datetime):
        raise _error(_("Give the due date (dd/mm/yyyy)."))
    if not year <= due_on.year <= year + 1:
        raise _error(
            _("A deadline for %(year)s falls in %(year)s or early the next year, not on %(date)s.")
            % {"year": year, "date": format_date(due_on)}
        )
    label = nfc(data.get("label") or "")
    if len(label) > 300:
        raise _error(_("The description is too long (at most 300 characters)."))
    remind_days = _int(
        data.get("remind_days", 7), _("Reminder days must be a whole number of days.")
    )
    if not 0 <= remind_days <= MAX_REMIND_DAYS:
        raise _error(_("Reminder days must be between 0 and %(max)s.") % {"max": MAX_REMIND_DAYS})
    return {
        "kind": kind,
        "title": title,
        "year": year,
        "level": level,
        "due_on": due_on,
        "label": label,
        "remind_days": remind_days,
    }


def _matches(candidate: Deadline, values: dict[str, Any]) -> bool:
    return (
        candidate.kind == values["kind"]
        and candidate.year == values["year"]
        and candidate.level == values["level"]
        and candidate.title in (values["title"], "")
    )


def parent_bound(
    plan: Plan, values: dict[str, Any], source: Deadline | None = None
) -> Deadline | None:
    """The parent plan's deadline that bounds one with ``values``, if any."""
    if plan.parent_id is None:
        return None
    if source is not None and source.plan_id == plan.parent_id and _matches(source, values):
        return source
    candidates = Deadline.objects.filter(
        plan_id=plan.parent_id,
        kind=values["kind"],
        year=values["year"],
        level=values["level"],
    ).filter(Q(title=values["title"]) | Q(title=""))
    # The title's own deadline first, then one for every title.
    return min(candidates, key=lambda d: (d.title != values["title"], d.due_on), default=None)


def _check_unique(plan: Plan, values: dict[str, Any], deadline: Deadline | None) -> None:
    same = Deadline.objects.filter(
        plan=plan,
        kind=values["kind"],
        title=values["title"],
        year=values["year"],
        level=values["level"],
    )
    if deadline is not None:
        same = same.exclude(pk=deadline.pk)
    if same.exists():
        raise _error(
            _(
                "This plan already has a deadline of this kind for this title, year and level: "
                "edit that one."
            ),
            code="deadline_exists",
        )


def _tighten_derived(*, actor: Any, deadline: Deadline) -> int:
    """Move every deadline derived from ``deadline`` (at any depth) that is later
    than it to its date; returns how many moved."""
    moved = 0
    for child in (
        Deadline.objects.select_for_update(of=("self",))
        .select_related("plan__issuing_unit", "plan__tenant", "source")
        .filter(source=deadline)
        .order_by("pk")
    ):
        if child.due_on > deadline.due_on:
            before = _snapshot(child)
            child.due_on = deadline.due_on
            child.save(update_fields=["due_on"])
            deadline_sync_lock(child)
            audit_record(
                actor=actor,
                action="deadline.tighten",
                obj=child,
                tenant=child.plan.tenant,
                unit=child.plan.issuing_unit,
                before=before,
                after={**_snapshot(child), "because_of": str(deadline.public_id)},
            )
            moved += 1
        moved += _tighten_derived(actor=actor, deadline=child)
    return moved


@transaction.atomic
def deadline_save(
    *, actor: Any, plan: Plan, data: dict[str, Any], deadline: Deadline | None = None
) -> Deadline:
    """Create (``deadline=None``) or change a deadline of ``plan``.

    Refused with a clear message, nothing saved: a year outside the plan's
    period, a level above the plan's unit, a duplicate, and a date later than
    the parent plan's deadline it implements.
    """
    plan = (
        Plan.objects.select_for_update(of=("self",))
        .select_related("issuing_unit", "tenant")
        .get(pk=plan.pk)
    )
    require_planner(actor, plan.issuing_unit)
    if deadline is not None:
        deadline = (
            Deadline.objects.select_for_update(of=("self",))
            .select_related("source")
            .filter(pk=deadline.pk, plan=plan)
            .first()
        )
        if deadline is None:
            raise _error(_("This deadline does not belong to the plan."))
    values = _clean(plan, data)
    _check_unique(plan, values, deadline)
    bound = parent_bound(plan, values, deadline.source if deadline is not None else None)
    if bound is not None and values["due_on"] > bound.due_on:
        raise LoosenedError(
            _(
                "The due date %(date)s is later than the parent plan's deadline of "
                "%(parent)s: a plan may set an earlier date than its parent, not a later one."
            )
            % {"date": format_date(values["due_on"]), "parent": format_date(bound.due_on)}
        )
    if deadline is None:
        deadline = Deadline(plan=plan, **values, source=bound)
        deadline.save()
        action, before = "deadline.create", None
    else:
        before = _snapshot(deadline)
        for name, value in values.items():
            setattr(deadline, name, value)
        deadline.source = bound
        deadline.save()
        action = "deadline.update"
    deadline_sync_lock(deadline)
    audit_record(
        actor=actor,
        action=action,
        obj=deadline,
        tenant=plan.tenant,
        unit=plan.issuing_unit,
        before=before,
        after=_snapshot(deadline),
    )
    if before is not None and before["due_on"] != values["due_on"].isoformat():
        _tighten_derived(actor=actor, deadline=deadline)
    return deadline


@transaction.atomic
def deadline_delete(*, actor: Any, deadline: Deadline) -> None:
    """Delete a deadline and its form lock (extensions go with it). Deadlines
    derived from it stay, no longer bound."""
    deadline = (
        Deadline.objects.select_for_update(of=("self",))
        .select_related("plan__issuing_unit", "plan__tenant", "source")
        .get(pk=deadline.pk)
    )
    plan = deadline.plan
    require_planner(actor, plan.issuing_unit)
    before = _snapshot(deadline)
    lock_id = deadline.form_lock_id
    audit_record(
        actor=actor,
        action="deadline.delete",
        obj=deadline,
        tenant=plan.tenant,
        unit=plan.issuing_unit,
        before=before,
    )
    deadline.delete()
    if lock_id is not None:
        FormLock.objects.filter(pk=lock_id).delete()


def deadline_sync_lock(deadline: Deadline) -> None:
    """Keep the deadline's FormLock in step with it (call inside the writer's
    transaction; ``plan_derive`` calls it for every copied deadline).

    A registration, self-assessment or dossier deadline of one title locks
    that stage at the end of the due day for every unit under the plan's unit;
    any other deadline has no lock (an existing one is deleted).
    """
    plan = deadline.plan
    stage = LOCKING_KINDS.get(deadline.kind)
    if stage and deadline.title:
        values = {
            "tenant_id": plan.tenant_id,
            "unit_id": plan.issuing_unit_id,
            "title": deadline.title,
            "year": deadline.year,
            "stage": stage,
            "locks_at": end_of_day(deadline.due_on),
            "label": str(deadline)[:200],
        }
        if deadline.form_lock_id is not None:
            FormLock.objects.filter(pk=deadline.form_lock_id).update(**values)
            deadline.form_lock = FormLock.objects.get(pk=deadline.form_lock_id)
        else:
            lock = FormLock.objects.create(**values)
            Deadline.objects.filter(pk=deadline.pk).update(form_lock=lock)
            deadline.form_lock = lock
        return
    if deadline.form_lock_id is not None:
        lock_id = deadline.form_lock_id
        Deadline.objects.filter(pk=deadline.pk).update(form_lock=None)
        deadline.form_lock = None
        FormLock.objects.filter(pk=lock_id).delete()


# --- Extensions ---------------------------------------------------------------------


def _in_subtree(unit: AdministrativeUnit, root: AdministrativeUnit) -> bool:
    return unit.tenant_id == root.tenant_id and unit.path.startswith(root.path)


def _other_lock_bound(lock: FormLock, unit: AdministrativeUnit) -> FormLock | None:
    """The earliest other lock closing the same stage for ``unit`` after ``lock``
    (a parent plan's deadline): an extension cannot reopen past it."""
    return (
        FormLock.objects.filter(
            tenant_id=lock.tenant_id,
            title=lock.title,
            year=lock.year,
            stage=lock.stage,
            unit_id__in=[*unit.ancestor_ids(), unit.pk],
            locks_at__gte=lock.locks_at,
        )
        .exclude(pk=lock.pk)
        .order_by("locks_at")
        .first()
    )


def _until(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=local_tz())
    if isinstance(value, dt.date):
        return end_of_day(value)
    if isinstance(value, str):
        try:
            return end_of_day(dt.date.fromisoformat(value))
        except ValueError:
            pass
    raise _error(_("Give the date the extension runs to (dd/mm/yyyy)."), code="invalid_extension")


@transaction.atomic
def extension_grant(
    *, actor: Any, deadline: Deadline, unit: AdministrativeUnit, until: Any, reason: str
) -> LockExtension:
    """Reopen the deadline's locked stage for ``unit`` (and the units under it)
    until the end of ``until`` (a date) — reviewers of the plan's unit only."""
    deadline = (
        Deadline.objects.select_for_update(of=("self",))
        .select_related("plan__issuing_unit", "plan__tenant", "form_lock")
        .get(pk=deadline.pk)
    )
    plan = deadline.plan
    require_reviewer(actor, plan.issuing_unit)
    lock = deadline.form_lock
    if lock is None:
        raise _error(
            _(
                "This deadline locks no form (only registration, self-assessment and dossier "
                "deadlines of one title do): there is nothing to extend."
            ),
            code="nothing_to_extend",
        )
    if not _in_subtree(unit, plan.issuing_unit):
        raise _error(
            _("%(unit)s is not under %(plan_unit)s, whose plan set this deadline.")
            % {"unit": unit.name, "plan_unit": plan.issuing_unit.name},
            code="invalid_extension",
        )
    ends = _until(until)
    if ends <= lock.locks_at:
        raise _error(
            _("An extension must run past the due date %(date)s.")
            % {"date": format_date(deadline.due_on)},
            code="invalid_extension",
        )
    reason = "\n".join(line for line in (nfc(x) for x in (reason or "").splitlines()) if line)
    if not reason:
        raise _error(_("Give the reason for the extension."), code="invalid_extension")
    other = _other_lock_bound(lock, unit)
    if other is not None and ends > other.locks_at:
        covered = LockExtension.objects.filter(
            lock=other, unit_id__in=[*unit.ancestor_ids(), unit.pk], until__gte=ends
        ).exists()
        if not covered:
            raise _error(
                _(
                    "An extension cannot run past %(date)s, the deadline set by %(unit)s's "
                    "plan; ask that unit for a longer one."
                )
                % {
                    "date": format_date(
                        other.locks_at.astimezone(local_tz()).date() - dt.timedelta(days=1)
                    ),
                    "unit": other.unit.name,
                },
                code="extension_past_parent",
            )
    extension = LockExtension.objects.create(
        lock=lock, unit=unit, until=ends, reason=reason, granted_by=actor if actor else None
    )
    audit_record(
        actor=actor,
        action="deadline.extend",
        obj=deadline,
        tenant=plan.tenant,
        unit=unit,
        after={
            "extension": extension.pk,
            "unit": str(unit.public_id),
            "until": ends.isoformat(),
            "reason": reason,
        },
    )
    return extension


@transaction.atomic
def extension_revoke(*, actor: Any, deadline: Deadline, extension_id: Any) -> LockExtension:
    """End an extension now (the row stays, as the record that it was granted)."""
    deadline = (
        Deadline.objects.select_for_update(of=("self",))
        .select_related("plan__issuing_unit", "plan__tenant")
        .get(pk=deadline.pk)
    )
    plan = deadline.plan
    require_reviewer(actor, plan.issuing_unit)
    try:
        pk = int(extension_id)
    except (TypeError, ValueError):
        pk = 0
    extension = (
        LockExtension.objects.select_for_update(of=("self",))
        .select_related("unit")
        .filter(pk=pk, lock_id=deadline.form_lock_id)
        .first()
        if deadline.form_lock_id
        else None
    )
    if extension is None:
        raise _error(_("This extension does not belong to the deadline."), code="no_extension")
    now = timezone.now()
    if extension.until <= now:
        raise _error(_("This extension has already ended."), code="extension_ended")
    before = {"until": extension.until.isoformat()}
    extension.until = now
    extension.save(update_fields=["until"])
    audit_record(
        actor=actor,
        action="deadline.extension_revoke",
        obj=deadline,
        tenant=plan.tenant,
        unit=extension.unit,
        before=before,
        after={"extension": extension.pk, "until": now.isoformat()},
    )
    return extension

"""Events of a campaign (the lifelong-learning week, review conferences), each
unit's report of what it held, and the photos that evidence it.

* An event is organised by a unit (the district's week, Quận 10's sơ kết
  conference, seed 000); the units below it report what they held (activities,
  participants, number of activities), one report per unit and event.
* The lifelong-learning week (Tuần lễ hưởng ứng học tập suốt đời) runs every
  year from 1 to 7 October (RULES.md §5): :func:`lifelong_week_create`.
* Photos are checked by their bytes (JPEG, PNG, WebP, or a PDF), never by the
  name or the browser's content type, limited in size, stored under an opaque
  name outside the web root and served only through a scoped view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from campaigns.exceptions import CampaignError
from campaigns.models import Event, EventKind, EventPhoto, EventReport, Plan
from campaigns.permissions import require_planner
from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.text import nfc
from recognition.evidence_validation import HEAD_BYTES, KINDS, Kind
from units.models import AdministrativeUnit

#: The week runs 1–7 October every year (RULES.md §5).
WEEK_START = (10, 1)
WEEK_END = (10, 7)
#: Photos per report (a report is evidence, not an album).
MAX_PHOTOS = 30
#: Participants or activities above this are a typing error, not a ward's week.
MAX_COUNT = 10_000_000

EVENT_FIELDS = ("kind", "name", "starts_on", "ends_on", "theme", "reports_due")


class EventError(CampaignError):
    code = "event_error"


class PhotoError(CampaignError):
    code = "event_photo"


# --- Events ---------------------------------------------------------------------------


def _lines(value: Any) -> str:
    """NFC per line, empty lines dropped (multi-line user text)."""
    return "\n".join(line for line in (nfc(x) for x in str(value or "").splitlines()) if line)


def _date(value: Any, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise EventError(_("Enter the date “%(field)s” as dd/mm/yyyy.") % {"field": label})


def _clean_event(unit: AdministrativeUnit, data: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(data.get("kind") or "")
    if kind not in EventKind.values:
        raise EventError(_("Choose the kind of event."))
    name = nfc(data.get("name"))
    if not name:
        raise EventError(_("Enter the name of the event."))
    if len(name) > 300:
        raise EventError(_("The name of the event is longer than 300 characters."))
    starts_on = _date(data.get("starts_on"), _("from"))
    ends_on = _date(data.get("ends_on"), _("to"))
    if ends_on < starts_on:
        raise EventError(
            _("The event cannot end (%(end)s) before it starts (%(start)s).")
            % {"end": f"{ends_on:%d/%m/%Y}", "start": f"{starts_on:%d/%m/%Y}"}
        )
    reports_due = data.get("reports_due") or None
    if reports_due is not None:
        reports_due = _date(reports_due, _("reports due"))
        if reports_due < starts_on:
            raise EventError(
                _("Reports cannot be due (%(due)s) before the event starts (%(start)s).")
                % {"due": f"{reports_due:%d/%m/%Y}", "start": f"{starts_on:%d/%m/%Y}"}
            )
    theme = nfc(data.get("theme"))
    if len(theme) > 300:
        raise EventError(_("The theme is longer than 300 characters."))
    return {
        "kind": kind,
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "theme": theme,
        "reports_due": reports_due,
    }


def _check_plan(plan: Plan | None, unit: AdministrativeUnit) -> None:
    """The plan must be the unit's own or one of its ancestors' (same tenant)."""
    if plan is None:
        return
    if plan.tenant_id != unit.tenant_id or not unit.path.startswith(plan.issuing_unit.path):
        raise EventError(
            _("The event can only belong to a plan of its unit or of a unit above it.")
        )


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}


@transaction.atomic
def event_create(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    kind: str,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    theme: str = "",
    reports_due: dt.date | None = None,
    plan: Plan | None = None,
) -> Event:
    """A new event organised by ``unit`` (the actor plans at that unit)."""
    require_planner(actor, unit)
    values = _clean_event(
        unit,
        {
            "kind": kind,
            "name": name,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "theme": theme,
            "reports_due": reports_due,
        },
    )
    _check_plan(plan, unit)
    event = Event.objects.create(tenant_id=unit.tenant_id, unit=unit, plan=plan, **values)
    audit_record(
        actor=actor,
        action="event.create",
        obj=event,
        tenant=unit.tenant,
        unit=unit,
        after=_jsonable(values),
    )
    return event


@transaction.atomic
def event_update(
    *, actor: Any, event: Event, data: Mapping[str, Any], expected_version: int | None = None
) -> Event:
    """Change the event's fields given in ``data`` (kind, name, dates, theme).

    ``expected_version`` is the version the user edited: an event changed
    meanwhile is a conflict (nothing saved)."""
    require_planner(actor, event.unit)
    locked = Event.objects.select_for_update(of=("self",)).select_related("unit").get(pk=event.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    current = {f: getattr(locked, f) for f in EVENT_FIELDS}
    merged = {**current, **{k: v for k, v in data.items() if k in EVENT_FIELDS}}
    values = _clean_event(locked.unit, merged)
    changes = {k: v for k, v in values.items() if v != current[k]}
    if not changes:
        return locked
    for key, value in changes.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.save(update_fields=[*changes, "version"])
    audit_record(
        actor=actor,
        action="event.edit",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.unit,
        before=_jsonable({k: current[k] for k in changes}),
        after=_jsonable(changes),
    )
    return locked


def lifelong_week_name(year: int) -> str:
    return f"Tuần lễ hưởng ứng học tập suốt đời năm {year}"


@transaction.atomic
def lifelong_week_create(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    year: int,
    theme: str = "",
    reports_due: dt.date | None = None,
    plan: Plan | None = None,
) -> Event:
    """The unit's lifelong-learning week of ``year``: 1–7 October (RULES.md §5).

    One per unit and year: a second one is refused.
    """
    if not 2000 <= int(year) <= 2100:
        raise EventError(_("Enter a year between 2000 and 2100."))
    if Event.objects.filter(unit=unit, kind=EventKind.LIFELONG_WEEK, starts_on__year=year).exists():
        raise EventError(
            _("%(unit)s already has its lifelong-learning week of %(year)s.")
            % {"unit": unit.name, "year": year}
        )
    return event_create(
        actor=actor,
        unit=unit,
        kind=EventKind.LIFELONG_WEEK,
        name=lifelong_week_name(int(year)),
        starts_on=dt.date(int(year), *WEEK_START),
        ends_on=dt.date(int(year), *WEEK_END),
        theme=theme,
        reports_due=reports_due,
        plan=plan,
    )


# --- Reports --------------------------------------------------------------------------


def _count(value: Any, label: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise EventError(_("“%(field)s” must be a whole number.") % {"field": label}) from exc
    if number < 0 or number > MAX_COUNT:
        raise EventError(
            _("“%(field)s” must be between 0 and %(max)s.") % {"field": label, "max": "10.000.000"}
        )
    return number


def check_reporting_unit(event: Event, unit: AdministrativeUnit) -> None:
    """Only the organising unit and the units under it report for an event."""
    if unit.tenant_id != event.tenant_id or not unit.path.startswith(event.unit.path):
        raise EventError(
            _("%(unit)s is not under %(organiser)s and does not report for this event.")
            % {"unit": unit.name, "organiser": event.unit.name}
        )


@transaction.atomic
def event_report_save(
    *,
    actor: Any,
    event: Event,
    unit: AdministrativeUnit,
    activities: str,
    participants: int,
    sessions: int,
    expected_version: int | None = None,
) -> EventReport:
    """Create or change ``unit``'s report for ``event`` (one per unit and event).

    The actor plans at ``unit`` (a ward official reports for their ward).
    ``expected_version`` is the version the user edited: a report changed
    meanwhile (or created meanwhile by someone else) is a conflict.
    """
    check_reporting_unit(event, unit)
    require_planner(actor, unit)
    text = _lines(activities)
    if not text:
        raise EventError(_("Describe the activities held."))
    values = {
        "activities": text,
        "participants": _count(participants, _("participants")),
        "sessions": _count(sessions, _("number of activities")),
    }
    submitted_by = actor if getattr(actor, "is_authenticated", False) else None
    existing = (
        EventReport.objects.select_for_update(of=("self",)).filter(event=event, unit=unit).first()
    )
    if existing is None:
        if expected_version:
            # The user edited a report that no longer exists (deleted meanwhile).
            raise ConcurrentEditError()
        try:
            with transaction.atomic():
                report = EventReport.objects.create(
                    event=event, unit=unit, submitted_by=submitted_by, **values
                )
        except IntegrityError as exc:
            # Another official of the unit saved the first report at the same moment.
            raise ConcurrentEditError() from exc
        audit_record(
            actor=actor,
            action="event_report.create",
            obj=report,
            tenant=event.tenant,
            unit=unit,
            after={**values, "event": str(event.public_id)},
        )
        return report
    if expected_version is not None and existing.version != expected_version:
        raise ConcurrentEditError()
    before = {k: getattr(existing, k) for k in values}
    EventReport.objects.filter(pk=existing.pk).update(
        version=F("version") + 1, submitted_by=submitted_by, **values
    )
    existing.refresh_from_db()
    audit_record(
        actor=actor,
        action="event_report.edit",
        obj=existing,
        tenant=event.tenant,
        unit=unit,
        before=before,
        after=values,
    )
    return existing


# --- Photos ---------------------------------------------------------------------------


def _is_webp(head: bytes, file: IO[bytes]) -> bool:
    return len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP"


WEBP = Kind("webp", "WebP", ("webp",), "image/webp", _is_webp)
#: What a report's photo may be: a photo, or a scanned programme as a PDF.
PHOTO_KINDS: tuple[Kind, ...] = (KINDS["jpeg"], KINDS["png"], WEBP, KINDS["pdf"])
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


def photo_max_bytes() -> int:
    return int(getattr(settings, "EVENT_PHOTO_MAX_BYTES", settings.EVIDENCE_MAX_BYTES))


def photo_max_megabytes() -> str:
    text = f"{photo_max_bytes() / (1024 * 1024):.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def photo_accept_attribute() -> str:
    """For ``<input type=file accept=…>``: a hint only; the bytes are checked."""
    return ",".join(f".{ext}" for kind in PHOTO_KINDS for ext in kind.extensions)


def _base_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip()


def check_photo_file(file: Any) -> Kind:
    """The kind of an uploaded photo, judged by its bytes, or :class:`PhotoError`.

    The extension must name an accepted kind *and* the content must be that
    kind: a program renamed ``.jpg`` is refused.
    """
    name = _base_name(getattr(file, "name", "") or "")
    if not name:
        raise PhotoError(_("The file has no name."))
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
        file.seek(0)
    if not size:
        raise PhotoError(_("The file “%(name)s” is empty.") % {"name": name})
    if size > photo_max_bytes():
        raise PhotoError(
            _("The file “%(name)s” is larger than the limit of %(limit)s MB.")
            % {"name": name, "limit": photo_max_megabytes()}
        )
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = next((k for k in PHOTO_KINDS if ext in k.extensions), None)
    if kind is None:
        raise PhotoError(
            _("Files of type “.%(ext)s” are not accepted. Accepted: %(allowed)s.")
            % {"ext": ext or "?", "allowed": ", ".join(k.label for k in PHOTO_KINDS)}
        )
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if not kind.matches(head, file):
        raise PhotoError(
            _(
                "The content of “%(name)s” is not a %(kind)s file, although its name "
                "ends in “.%(ext)s”. Upload the real photo."
            )
            % {"name": name, "kind": kind.label, "ext": ext}
        )
    return kind


@transaction.atomic
def event_photo_upload(*, actor: Any, report: EventReport, file: Any) -> EventPhoto:
    """Attach a photo (or a PDF) to ``report``, checked by its content."""
    require_planner(actor, report.unit)
    locked = EventReport.objects.select_for_update(of=("self",)).get(pk=report.pk)
    if locked.photos.count() >= MAX_PHOTOS:
        raise PhotoError(
            _("A report holds at most %(max)s photos; remove one first.") % {"max": MAX_PHOTOS}
        )
    kind = check_photo_file(file)
    name = nfc(_base_name(file.name))[:255]
    photo = EventPhoto(
        report=locked,
        original_name=name,
        content_type=kind.content_type,
        size=int(file.size if getattr(file, "size", None) is not None else 0),
    )
    file.seek(0)
    photo.file.save(name, file, save=False)
    stored = photo.file.name or ""
    try:
        photo.save()
        audit_record(
            actor=actor,
            action="event_photo.upload",
            obj=photo,
            tenant=locked.event.tenant,
            unit=locked.unit,
            after={"name": name, "size": photo.size, "type": kind.code},
        )
    except BaseException:
        photo.file.storage.delete(stored)
        raise
    return photo


@transaction.atomic
def event_photo_delete(*, actor: Any, photo: EventPhoto) -> None:
    """Remove a photo (the file goes once the transaction commits)."""
    report = photo.report
    require_planner(actor, report.unit)
    storage, name = photo.file.storage, photo.file.name or ""
    audit_record(
        actor=actor,
        action="event_photo.delete",
        obj=photo,
        tenant=report.event.tenant,
        unit=report.unit,
        before={"name": photo.original_name, "size": photo.size},
    )
    photo.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))

"""Registration: a subject registers for a title in a year (issue 4 §5).

Early in the year the ward registers its households, clans, organisations,
citizens and communities ("Giấy đăng ký …", RULES.md §4.2), one at a time or
in bulk from a filtered list. The title decides the kind of subject
(``recognition.titles.TITLE_SUBJECT``); "Cộng đồng học tập" registers a unit —
a neighbourhood under the Khuyến học criteria, a commune (or a district or
province) under TT 25/2023 (RULES.md §0, §2).

The proposing unit is the commune/ward at or above the subject's unit. Every
write checks the registration deadline of that unit
(:func:`recognition.locks.check_open`), the actor's role (ward official,
neighbourhood lead or administrator over the subject's unit), runs in one
transaction with the proposing units locked, and writes an audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from recognition.exceptions import (
    DuplicateRegistrationError,
    RegistrationClosedError,
    RegistrationError,
    RoleNotAllowedError,
    TransitionError,
)
from recognition.locks import check_open
from recognition.models import Assessment, AssessmentStatus, Registration, RegistrationStatus
from recognition.models.config import Stage
from recognition.selectors.registration import proposing_units_for
from recognition.selectors.subjects import (
    MODEL_KINDS,
    SUBJECT_WRITERS,
    kind_of,
    subject_name,
    subject_unit,
)
from recognition.titles import SUBJECT_FIELD, TITLE_SUBJECT, SubjectKind, Title
from units.models import PATH_SEGMENT_WIDTH, AdministrativeUnit
from units.selectors import has_any_role, roles_at, scope_queryset

#: The first year the application registers for (the 2016–2020 campaigns, RULES.md §1).
FIRST_YEAR = 2016

#: An assessment in these states is still the ward's own: withdrawing is allowed.
WITHDRAWABLE_ASSESSMENT_STATES = frozenset({AssessmentStatus.DRAFT, AssessmentStatus.READY})

BULK_BATCH_SIZE = 1000


@dataclass(frozen=True)
class BulkRegistrationResult:
    """What a bulk registration did; duplicates are reported, not errors."""

    created: int = 0
    reinstated: int = 0
    already_registered: int = 0
    not_eligible: int = 0
    proposing_units: tuple[str, ...] = field(default=())

    @property
    def registered(self) -> int:
        return self.created + self.reinstated

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "reinstated": self.reinstated,
            "already_registered": self.already_registered,
            "not_eligible": self.not_eligible,
        }


# --- Checks ---------------------------------------------------------------------------


def last_year() -> int:
    """Registrations open for next year before this one ends."""
    return timezone.localdate().year + 1


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= last_year():
        raise RegistrationError(
            _("Registrations are for the years %(first)s to %(last)s.")
            % {"first": FIRST_YEAR, "last": last_year()},
            code="invalid_year",
        )


def _check_title(title: str, kind: str) -> None:
    """The title must be awarded to this kind of subject (TITLE_SUBJECT)."""
    if title not in Title.values:
        raise RegistrationError(_("Choose a title from the list."), code="invalid_title")
    expected = TITLE_SUBJECT[Title(title)]
    if expected != kind:
        raise RegistrationError(
            _("The title “%(title)s” is awarded to %(expected)s, not to %(given)s.")
            % {
                "title": Title(title).label,
                "expected": str(SubjectKind(expected).label).lower(),
                "given": str(SubjectKind(kind).label).lower(),
            },
            code="title_subject_mismatch",
        )


def _in_force_during(unit: AdministrativeUnit, year: int) -> bool:
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return unit.valid_from <= end and (unit.valid_to is None or unit.valid_to >= start)


def closed_unit_message(unit: AdministrativeUnit) -> str:
    """ "<unit> was closed on dd/mm/yyyy by an administrative reorganisation and is
    continued by <successors>": the refusal shown for a unit a plan has closed."""
    from units.reorganisation.selectors import successors_in_force, successors_of

    successors = [u for u in successors_in_force(unit) if u.pk != unit.pk] or list(
        successors_of(unit).order_by("path")
    )
    closed_on = formats.date_format(unit.valid_to, "d/m/Y") if unit.valid_to else ""
    if not successors:
        return gettext("%(unit)s was closed on %(date)s.") % {"unit": unit.name, "date": closed_on}
    return gettext(
        "%(unit)s was closed on %(date)s by an administrative reorganisation and is "
        "continued by %(successors)s."
    ) % {
        "unit": unit.name,
        "date": closed_on,
        "successors": ", ".join(u.name for u in successors),
    }


def _closed_before_today(unit: AdministrativeUnit, today: dt.date) -> bool:
    return unit.valid_to is not None and unit.valid_to < today


def _check_in_force_today(units: Iterable[AdministrativeUnit], year: int) -> None:
    """A registration for the current or a future year goes to units in force
    today: a unit an administrative reorganisation has closed is refused, with the
    units that continue it (past years keep the units they were made under)."""
    today = timezone.localdate()
    if year < today.year:
        return
    for unit in units:
        if _closed_before_today(unit, today):
            raise RegistrationError(
                gettext("%(closed)s Register under the unit in force today.")
                % {"closed": closed_unit_message(unit)},
                code="unit_closed",
            )


def _require_registrar(actor: Any, unit: AdministrativeUnit) -> None:
    if actor is not None and not roles_at(actor, unit) & SUBJECT_WRITERS:
        raise RoleNotAllowedError()


def _lock_units(units: list[AdministrativeUnit]) -> None:
    """Serialise registration writes per proposing unit (in pk order: no deadlock),
    so the duplicate check below cannot race another registration."""
    pks = sorted({u.pk for u in units})
    list(
        AdministrativeUnit.objects.select_for_update()
        .filter(pk__in=pks)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _audit_snapshot(registration: Registration, subject: Any) -> dict[str, Any]:
    return {
        "title": registration.title,
        "year": registration.year,
        "subject_kind": registration.subject_kind,
        "subject": subject_name(subject),
        "proposing_unit": registration.proposing_unit.code,
        "status": registration.status,
    }


# --- Single registration -------------------------------------------------------------


def _rollup_registered(
    *, units: list[AdministrativeUnit], title: str, year: int, sign: int
) -> None:
    from reports.services import rollup_registrations  # lazy: import cycle

    rollup_registrations(units=units, title=title, year=year, sign=sign)


@transaction.atomic
def registration_create(*, actor: Any, title: str, year: int, subject: Any) -> Registration:
    """Register ``subject`` (a household, clan, organisation, citizen, or a unit for
    "Cộng đồng học tập") for ``title`` in ``year``.

    A withdrawn registration of the same subject, title and year is reinstated;
    a standing one is refused with :class:`DuplicateRegistrationError`.
    """
    kind = kind_of(subject)
    _check_title(title, kind)
    _check_year(year)
    unit = subject_unit(subject)
    _require_registrar(actor, unit)
    name = subject_name(subject)
    if kind != SubjectKind.UNIT and not subject.is_active:
        raise RegistrationError(
            _("%(subject)s is inactive and cannot be registered.") % {"subject": name},
            code="inactive_subject",
        )
    _check_in_force_today([unit], year)
    if not _in_force_during(unit, year):
        raise RegistrationError(
            _("%(unit)s is not in force in %(year)s.") % {"unit": unit.name, "year": year},
            code="unit_not_in_force",
        )
    proposing = proposing_units_for([unit])[unit.pk]
    if proposing is None:
        raise RegistrationError(
            _("No commune or ward above %(unit)s can propose it.") % {"unit": unit.name},
            code="no_proposing_unit",
        )
    _check_in_force_today([proposing], year)
    check_open(unit=proposing, title=title, year=year, stage=Stage.REGISTRATION)
    _lock_units([proposing])
    subject_field = SUBJECT_FIELD[kind]
    existing = (
        Registration.objects.select_for_update()
        .filter(**{subject_field: subject}, title=title, year=year)
        .first()
    )
    duplicate = DuplicateRegistrationError(
        DuplicateRegistrationError.default_message
        % {"subject": name, "title": Title(title).label, "year": year}
    )
    if existing is not None:
        if existing.status == RegistrationStatus.REGISTERED:
            raise duplicate
        before = {"status": existing.status}
        existing.status = RegistrationStatus.REGISTERED
        existing.proposing_unit = proposing
        existing.registered_by = actor if getattr(actor, "is_authenticated", False) else None
        existing.save(update_fields=["status", "proposing_unit", "registered_by"])
        _rollup_registered(units=[existing.unit], title=title, year=year, sign=1)
        audit_record(
            actor=actor,
            action="registration.reinstate",
            obj=existing,
            tenant=existing.tenant,
            unit=proposing,
            before=before,
            after=_audit_snapshot(existing, subject),
        )
        return existing
    registration = Registration(
        tenant_id=unit.tenant_id,
        unit=unit,
        proposing_unit=proposing,
        title=title,
        year=year,
        subject_kind=kind,
        registered_by=actor if getattr(actor, "is_authenticated", False) else None,
        **{subject_field: subject},
    )
    try:
        with transaction.atomic():
            registration.save()
    except IntegrityError as exc:
        raise duplicate from exc
    _rollup_registered(units=[unit], title=title, year=year, sign=1)
    audit_record(
        actor=actor,
        action="registration.create",
        obj=registration,
        tenant=registration.tenant,
        unit=proposing,
        after=_audit_snapshot(registration, subject),
    )
    return registration


# --- Bulk registration ---------------------------------------------------------------


def _common_unit(units: list[AdministrativeUnit]) -> AdministrativeUnit:
    """The deepest unit containing every unit of the list (for the summary event)."""
    first, *others = [u.path for u in units]
    segments = len(first) // PATH_SEGMENT_WIDTH
    while segments and any(
        not path.startswith(first[: segments * PATH_SEGMENT_WIDTH]) for path in others
    ):
        segments -= 1
    prefix = first[: segments * PATH_SEGMENT_WIDTH]
    by_path = {u.path: u for u in units}
    if prefix in by_path:
        return by_path[prefix]
    return AdministrativeUnit.objects.get(tenant_id=units[0].tenant_id, path=prefix)


@transaction.atomic
def registration_bulk_create(
    *, actor: Any, title: str, year: int, subjects: QuerySet[Any]
) -> BulkRegistrationResult:
    """Register every subject of ``subjects`` for ``title`` in ``year``, in one
    transaction (e.g. every active household of a ward not yet registered).

    ``subjects`` is a queryset of one subject model (units for "Cộng đồng học
    tập"), already restricted to what the actor may see. Subjects already
    registered are skipped and counted; withdrawn registrations are reinstated;
    inactive subjects, and subjects whose unit is not in force in the year, are
    skipped and counted as not eligible. The actor must hold a writing role
    over every subject; the registration deadline of every proposing unit must
    still be open. One audit event summarises the whole operation.
    """
    model = subjects.model
    kind = MODEL_KINDS[model]
    _check_title(title, kind)
    _check_year(year)
    if actor is not None:
        if not has_any_role(actor, SUBJECT_WRITERS):
            raise RoleNotAllowedError()
        writable = scope_queryset(
            subjects,
            actor,
            unit_field="" if kind == SubjectKind.UNIT else "unit",
            roles=SUBJECT_WRITERS,
        )
        if subjects.exclude(pk__in=writable.values("pk")).exists():
            raise RoleNotAllowedError()

    # Load the subjects and their units (no per-row query).
    if kind == SubjectKind.UNIT:
        units = list(subjects.order_by())
        rows = [(u.pk, u.pk, True) for u in units]
        unit_by_id = {u.pk: u for u in units}
    else:
        rows = list(subjects.order_by().values_list("pk", "unit_id", "is_active"))
        unit_ids = {unit_id for _pk, unit_id, _active in rows}
        unit_by_id = AdministrativeUnit.objects.in_bulk(unit_ids)
    proposing_by_unit = proposing_units_for(unit_by_id.values())

    eligible: list[tuple[int, AdministrativeUnit, AdministrativeUnit]] = []
    not_eligible = 0
    for pk, unit_id, active in rows:
        unit = unit_by_id[unit_id]
        proposing = proposing_by_unit.get(unit_id)
        if not active or proposing is None or not _in_force_during(unit, year):
            not_eligible += 1
            continue
        eligible.append((pk, unit, proposing))

    proposing_units = list({p.pk: p for _pk, _u, p in eligible}.values())
    _check_in_force_today([*{u.pk: u for _pk, u, _p in eligible}.values(), *proposing_units], year)
    for proposing in proposing_units:
        check_open(unit=proposing, title=title, year=year, stage=Stage.REGISTRATION)
    _lock_units(proposing_units)

    subject_field = f"{SUBJECT_FIELD[kind]}_id"
    # A subquery, not a list of ids: a ward has tens of thousands of households.
    existing = dict(
        Registration.objects.filter(
            title=title, year=year, **{f"{subject_field}__in": subjects.order_by().values("pk")}
        ).values_list(subject_field, "status")
        if eligible
        else []
    )
    registered_by = actor if getattr(actor, "is_authenticated", False) else None
    new_rows: list[Registration] = []
    reinstate: list[int] = []
    already = 0
    for pk, unit, proposing in eligible:
        status = existing.get(pk)
        if status == RegistrationStatus.REGISTERED:
            already += 1
        elif status == RegistrationStatus.WITHDRAWN:
            reinstate.append(pk)
        else:
            new_rows.append(
                Registration(
                    tenant_id=unit.tenant_id,
                    unit=unit,
                    proposing_unit=proposing,
                    title=title,
                    year=year,
                    subject_kind=kind,
                    registered_by=registered_by,
                    **{subject_field: pk},
                )
            )
    Registration.objects.bulk_create(new_rows, batch_size=BULK_BATCH_SIZE)
    if reinstate:
        for start in range(0, len(reinstate), BULK_BATCH_SIZE):
            Registration.objects.filter(
                title=title,
                year=year,
                **{f"{subject_field}__in": reinstate[start : start + BULK_BATCH_SIZE]},
            ).update(status=RegistrationStatus.REGISTERED, registered_by=registered_by)
    _rollup_registered(
        units=[u for pk, u, _p in eligible if existing.get(pk) != RegistrationStatus.REGISTERED],
        title=title,
        year=year,
        sign=1,
    )
    result = BulkRegistrationResult(
        created=len(new_rows),
        reinstated=len(reinstate),
        already_registered=already,
        not_eligible=not_eligible,
        proposing_units=tuple(sorted(p.code for p in proposing_units)),
    )
    if result.registered:
        where = _common_unit(proposing_units)
        audit_record(
            actor=actor,
            action="registration.bulk_create",
            obj=where,
            tenant=where.tenant,
            unit=where,
            after={
                "title": title,
                "year": year,
                "subject_kind": kind,
                **result.as_dict(),
                "proposing_units": list(result.proposing_units),
            },
        )
    return result


# --- Withdrawal ------------------------------------------------------------------------


@transaction.atomic
def registration_withdraw(*, actor: Any, registration: Registration) -> Registration:
    """Withdraw a registration while its assessment is still the ward's own (none
    yet, or being assessed / self-assessed); once submitted it stays."""
    locked = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("unit", "proposing_unit", "tenant")
        .get(pk=registration.pk)
    )
    _require_registrar(actor, locked.unit)
    if locked.status == RegistrationStatus.WITHDRAWN:
        raise TransitionError(
            TransitionError.default_message % {"status": locked.get_status_display()},
            current=locked.status,
        )
    check_open(
        unit=locked.proposing_unit, title=locked.title, year=locked.year, stage=Stage.REGISTRATION
    )
    assessment = Assessment.objects.select_for_update().filter(registration=locked).first()
    if assessment is not None and assessment.status not in WITHDRAWABLE_ASSESSMENT_STATES:
        raise RegistrationClosedError(
            RegistrationClosedError.default_message % {"status": assessment.get_status_display()},
            current=assessment.status,
        )
    locked.status = RegistrationStatus.WITHDRAWN
    locked.save(update_fields=["status"])
    _rollup_registered(units=[locked.unit], title=locked.title, year=locked.year, sign=-1)
    audit_record(
        actor=actor,
        action="registration.withdraw",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.proposing_unit,
        before={"status": RegistrationStatus.REGISTERED},
        after={"status": RegistrationStatus.WITHDRAWN},
    )
    return locked

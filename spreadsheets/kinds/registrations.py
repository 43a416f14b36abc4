"""Import kind of registrations ("Giấy đăng ký …"): a subject registers for a title in a year.

The rules are those of :func:`recognition.services.registration.registration_create`
(and its bulk twin): the title must be awarded to the subject's kind, the year
must be open for registration, the subject must be active and its unit in force
during the year, a commune or ward must be able to propose it, and the
registration deadline of that proposing unit must still be open. A row changes
only the status (registered / withdrawn); withdrawing follows
``registration_withdraw`` (the assessment must still be the ward's own).

Subjects are found by their natural keys, a batch at a time
(:class:`~spreadsheets.kinds.subject_keys.SubjectFinder`, shared with the assessment kind): a household by its
code, a clan or an organisation by its name and managing unit, a citizen by the
citizen ID number (or name, year of birth and neighbourhood), a community by its
unit code. Every subject must lie inside the importer's subtree.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from recognition.exceptions import RegistrationClosedError
from recognition.locks import check_open
from recognition.models import Assessment, Registration, RegistrationStatus
from recognition.models.config import Stage
from recognition.selectors.registration import (
    filter_registrations,
    proposing_units_for,
    registrations_for_user,
)
from recognition.selectors.subjects import SUBJECT_WRITERS
from recognition.services.registration import (
    WITHDRAWABLE_ASSESSMENT_STATES,
    _check_title,
    _check_year,
    _in_force_during,
    _lock_units,
)
from recognition.titles import SUBJECT_FIELD, SubjectKind, Title
from spreadsheets import cleaners
from spreadsheets.kinds.base import (
    CellWidget,
    ChoiceWidget,
    Column,
    ImportContext,
    ImportKind,
    RowChange,
)
from spreadsheets.kinds.subject_keys import (
    SUBJECT_KEY_COLUMNS,
    Problem,
    Refused,
    Subject,
    SubjectFinder,
    birth_year_column,
    sees_national_ids,
    subject_cells,
    subject_code_column,
    subject_name_column,
    unit_column,
)
from units.models import AdministrativeUnit


def exported_registrations(
    user: Any, unit: AdministrativeUnit, options: dict[str, Any]
) -> QuerySet[Registration]:
    """The registrations under ``unit`` the user may see (optionally of one title/year)."""
    year = options.get("year")
    return filter_registrations(
        registrations_for_user(user),
        unit=unit,
        title=options.get("title") or None,
        year=int(year) if year else None,
    ).order_by("year", "title", "subject_kind", "pk")


# --- The kind ---------------------------------------------------------------------------------

STATUS_CHOICES = [
    (RegistrationStatus.REGISTERED, gettext_lazy("Register")),
    (RegistrationStatus.WITHDRAWN, gettext_lazy("Withdraw registration")),
]


class StatusWidget(ChoiceWidget):
    """Đăng ký / Rút đăng ký (the list's "Đã đăng ký" / "Đã rút" too); empty = register."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        accepted = [
            *((code, str(label)) for code, label in self.choices),
            *((code, str(label)) for code, label in RegistrationStatus.choices),
            (RegistrationStatus.REGISTERED, "Đăng ký"),
            (RegistrationStatus.WITHDRAWN, "Rút đăng ký"),
        ]
        return cleaners.choice(value, accepted) or RegistrationStatus.REGISTERED


class RegistrationKind(ImportKind):
    """Đăng ký danh hiệu: one row per subject, title and year."""

    key = "registrations"
    label = gettext_lazy("Registrations")
    natural_key = ("subject_kind", *SUBJECT_KEY_COLUMNS, "title", "year")
    roles = SUBJECT_WRITERS
    instructions = (
        gettext_lazy(
            "One row per subject, title and year: importing the same row again changes nothing."
        ),
        gettext_lazy(
            "The subject must already exist inside your unit: import households, clans, "
            "organisations and citizens first."
        ),
        gettext_lazy(
            "How a subject is found: household by its code; clan and organisation by their "
            "name and the code of the unit managing them; citizen by the citizen ID number "
            "(or the full name, year of birth and neighbourhood code); learning community "
            "by the unit's code."
        ),
        gettext_lazy(
            "The title must be the one awarded to the kind of subject (Gia đình học tập to a "
            "household, Dòng họ học tập to a clan, and so on)."
        ),
        gettext_lazy(
            "Status: Đăng ký registers (or registers again); Rút đăng ký withdraws a "
            "registration whose assessment has not been submitted. The registration "
            "deadline of the ward must still be open."
        ),
        gettext_lazy(
            "Do not change the header row. Keep one registration per row, no merged cells, "
            "no formulas."
        ),
    )

    subject_kind = Column(
        attribute="subject_kind",
        header="Loại đối tượng",
        header_en="Subject kind",
        widget=ChoiceWidget(SubjectKind.choices, required=True),
        required=True,
        help=gettext_lazy("Household, clan, organisation, citizen or administrative unit."),
        choices=[label for _code, label in SubjectKind.choices],
        width=18,
    )
    subject_code = subject_code_column()
    subject_name = subject_name_column()
    birth_year = birth_year_column()
    unit = unit_column()
    title = Column(
        attribute="title",
        header="Danh hiệu",
        header_en="Title",
        widget=ChoiceWidget(Title.choices, required=True),
        required=True,
        help=gettext_lazy("The title registered for, e.g. Gia đình học tập."),
        choices=[label for _code, label in Title.choices],
        width=22,
    )
    year = Column(
        attribute="year",
        header="Năm",
        header_en="Year",
        widget=CellWidget(cleaners.year, required=True),
        required=True,
        help=gettext_lazy("The year registered for, e.g. 2025."),
        width=8,
    )
    status = Column(
        attribute="status",
        header="Trạng thái",
        header_en="Status",
        widget=StatusWidget(STATUS_CHOICES),
        help=gettext_lazy("Đăng ký (the default when empty) or Rút đăng ký."),
        choices=[label for _code, label in STATUS_CHOICES],
        width=14,
    )

    class Meta:
        model = Registration
        fields = (
            "subject_kind",
            "subject_code",
            "subject_name",
            "birth_year",
            "unit",
            "title",
            "year",
            "status",
        )

    def __init__(self, ctx: ImportContext | None = None, **kwargs: Any) -> None:
        super().__init__(ctx, **kwargs)
        self._finder: SubjectFinder | None = None
        #: Cleaned rows by key, between key_of and existing (one batch).
        self._rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        #: Key -> subject of the rows found new (for write).
        self._subjects: dict[tuple[Any, ...], Subject] = {}
        #: (kind, subject pk, title, year) -> key of the row that claimed it.
        self._claimed: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._proposing: dict[int, AdministrativeUnit | None] = {}
        self._deadlines: dict[tuple[int, str, int], str] = {}
        #: Rollup moves: (unit pk, title, year) -> change of "registered".
        self._moves: Counter[tuple[int, str, int]] = Counter()
        self._show_ids = False

    @property
    def finder(self) -> SubjectFinder:
        if self._finder is None:
            self._finder = SubjectFinder(self.context)
        return self._finder

    # -- rows
    def check_row(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        kind, title, year = values["subject_kind"], values["title"], values["year"]
        problems = self.finder.check(kind, values)
        try:
            _check_title(title, kind)
        except ApplicationError as exc:
            problems.append(("title", str(exc)))
        try:
            _check_year(year)
        except ApplicationError as exc:
            problems.append(("year", str(exc)))
        return problems

    def key_of(self, values: dict[str, Any]) -> tuple[Any, ...]:
        key = (*self.finder.ident(values["subject_kind"], values), values["title"], values["year"])
        self._rows.setdefault(key, values)
        return key

    def existing(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
        rows, self._rows = self._rows, {}
        self._subjects = {}
        idents = {key[:-2] for key in keys}
        subjects = self.finder.find(idents, {k[:-2]: rows[k].get("unit") for k in keys})
        found = [s for s in subjects.values() if isinstance(s, Subject)]
        self._load_proposing([s.unit for s in found])
        stored = self._registrations(keys, subjects)
        out: dict[tuple[Any, ...], Any] = {}
        for key in keys:
            subject = subjects[key[:-2]]
            if not isinstance(subject, Subject):
                out[key] = Refused([subject])
                continue
            identity = (subject.kind, subject.pk, key[-2], key[-1])
            first = self._claimed.setdefault(identity, key)
            if first != key:
                out[key] = Refused(
                    [
                        (
                            subject.column,
                            _(
                                "Another row of the file already names %(subject)s for this "
                                "title and year."
                            )
                            % {"subject": subject.name},
                        )
                    ]
                )
                continue
            registration = stored.get(identity)
            if registration is not None:
                registration._import_subject = subject  # type: ignore[attr-defined]
                out[key] = registration
                continue
            values = rows[key]
            if values["status"] == RegistrationStatus.WITHDRAWN:
                out[key] = Refused(
                    [
                        (
                            "status",
                            _(
                                "%(subject)s has no registration for “%(title)s” %(year)s to withdraw."
                            )
                            % {
                                "subject": subject.name,
                                "title": Title(key[-2]).label,
                                "year": key[-1],
                            },
                        )
                    ]
                )
                continue
            problems = self._registrable(subject, key[-2], key[-1])
            if problems:
                out[key] = Refused(problems)
            else:
                self._subjects[key] = subject
        return out

    def _registrations(
        self,
        keys: list[tuple[Any, ...]],
        subjects: dict[tuple[Any, ...], Subject | Problem],
    ) -> dict[tuple[Any, ...], Registration]:
        """The stored registrations of the batch's subjects, titles and years (one query
        per kind of subject), locked when applying, with their assessments' status."""
        wanted: dict[str, set[int]] = {}
        titles, years = {k[-2] for k in keys}, {k[-1] for k in keys}
        for subject in subjects.values():
            if isinstance(subject, Subject):
                wanted.setdefault(subject.kind, set()).add(subject.pk)
        stored: dict[tuple[Any, ...], Registration] = {}
        for kind, pks in wanted.items():
            field = f"{SUBJECT_FIELD[kind]}_id"
            qs = Registration.objects.filter(
                tenant_id=self.context.tenant.pk,
                subject_kind=kind,
                title__in=titles,
                year__in=years,
                **{f"{field}__in": pks},
            ).select_related("unit", "proposing_unit")
            if not self.context.dry_run:
                qs = qs.select_for_update(of=("self",))
            for registration in qs:
                stored[
                    (kind, getattr(registration, field), registration.title, registration.year)
                ] = registration
        states = dict(
            Assessment.objects.filter(
                registration_id__in=[r.pk for r in stored.values()]
            ).values_list("registration_id", "status")
        )
        for registration in stored.values():
            registration._assessment_status = states.get(registration.pk)  # type: ignore[attr-defined]
        return stored

    def _load_proposing(self, units: list[AdministrativeUnit]) -> None:
        missing = {u.pk: u for u in units if u.pk not in self._proposing}
        if missing:
            self._proposing.update(proposing_units_for(missing.values()))

    def _deadline(self, proposing: AdministrativeUnit, title: str, year: int) -> str:
        """ "" when the registration stage is open for ``proposing``, else why not (cached)."""
        key = (proposing.pk, title, year)
        if key not in self._deadlines:
            try:
                check_open(unit=proposing, title=title, year=year, stage=Stage.REGISTRATION)
                self._deadlines[key] = ""
            except ApplicationError as exc:
                self._deadlines[key] = _(
                    "Registrations of %(unit)s for “%(title)s” %(year)s are closed: %(reason)s"
                ) % {
                    "unit": proposing.name,
                    "title": Title(title).label,
                    "year": year,
                    "reason": exc,
                }
        return self._deadlines[key]

    def _registrable(self, subject: Subject, title: str, year: int) -> list[Problem]:
        """registration_create's checks of a subject (new or registered again)."""
        if not subject.active:
            return [
                (
                    subject.column,
                    _("%(subject)s is inactive and cannot be registered.")
                    % {"subject": subject.name},
                )
            ]
        if not _in_force_during(subject.unit, year):
            return [
                (
                    "year",
                    _("%(unit)s is not in force in %(year)s.")
                    % {"unit": subject.unit.name, "year": year},
                )
            ]
        proposing = self._proposing.get(subject.unit.pk)
        if proposing is None:
            return [
                (
                    subject.column,
                    _("No commune or ward above %(unit)s can propose it.")
                    % {"unit": subject.unit.name},
                )
            ]
        closed = self._deadline(proposing, title, year)
        return [("year", closed)] if closed else []

    def check_existing(self, obj: Any, values: dict[str, Any]) -> list[tuple[str, str]]:
        if isinstance(obj, Refused):
            return obj.problems
        registration: Registration = obj
        status = values["status"]
        if status == registration.status:
            return []
        subject: Subject = registration._import_subject  # type: ignore[attr-defined]
        if status == RegistrationStatus.REGISTERED:
            return self._registrable(subject, registration.title, registration.year)
        closed = self._deadline(registration.proposing_unit, registration.title, registration.year)
        if closed:
            return [("year", closed)]
        assessment_status = registration._assessment_status  # type: ignore[attr-defined]
        if (
            assessment_status is not None
            and assessment_status not in WITHDRAWABLE_ASSESSMENT_STATES
        ):
            label = dict(Assessment._meta.get_field("status").choices or [])  # type: ignore[arg-type]
            return [
                (
                    "status",
                    RegistrationClosedError.default_message
                    % {"status": label.get(assessment_status, assessment_status)},
                )
            ]
        return []

    def compare(self, obj: Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        registration: Registration = obj  # type: ignore[assignment]
        if registration.status != values["status"]:
            return {"status": (registration.status, values["status"])}
        return {}

    # -- writes
    def write(self, new: list[RowChange], changed: list[RowChange]) -> None:
        actor = self.context.actor
        registered_by = actor if getattr(actor, "is_authenticated", False) else None
        proposing_units: dict[int, AdministrativeUnit] = {}
        created: list[Registration] = []
        for change in new:
            key = self.key_of(change.values)
            subject = self._subjects.pop(key)
            proposing = cast(AdministrativeUnit, self._proposing[subject.unit.pk])
            proposing_units[proposing.pk] = proposing
            title, year = change.values["title"], change.values["year"]
            created.append(
                Registration(
                    tenant_id=self.context.tenant.pk,
                    unit=subject.unit,
                    proposing_unit=proposing,
                    title=title,
                    year=year,
                    subject_kind=subject.kind,
                    registered_by=registered_by,
                    **{f"{SUBJECT_FIELD[subject.kind]}_id": subject.pk},
                )
            )
            self._moves[(subject.unit.pk, title, year)] += 1
        self._rows = {}
        updated: list[Registration] = []
        for change in changed:
            registration: Registration = change.obj
            if change.values["status"] == RegistrationStatus.REGISTERED:
                subject = registration._import_subject  # type: ignore[attr-defined]
                proposing = cast(AdministrativeUnit, self._proposing[subject.unit.pk])
                registration.proposing_unit = proposing
                registration.registered_by = registered_by
                sign = 1
            else:
                proposing = registration.proposing_unit
                sign = -1
            proposing_units[proposing.pk] = proposing
            registration.status = change.values["status"]
            updated.append(registration)
            self._moves[(registration.unit_id, registration.title, registration.year)] += sign
        _lock_units(list(proposing_units.values()))
        Registration.objects.bulk_create(created, batch_size=1000)
        if updated:
            Registration.objects.bulk_update(
                updated, ["status", "proposing_unit", "registered_by"], batch_size=1000
            )

    def finish(self) -> None:
        from reports.services import rollup_registrations  # lazy: import cycle

        units = AdministrativeUnit.objects.in_bulk({unit_pk for unit_pk, _t, _y in self._moves})
        for (unit_pk, title, year), delta in sorted(self._moves.items()):
            if delta:
                rollup_registrations(
                    units=[units[unit_pk]] * abs(delta),
                    title=title,
                    year=year,
                    sign=1 if delta > 0 else -1,
                )
        self._moves.clear()

    # -- exports
    def export_queryset(self, user: Any, unit: AdministrativeUnit) -> QuerySet[Any]:
        self._show_ids = sees_national_ids(user, unit)
        options = self.ctx.options if self.ctx is not None else {}
        return exported_registrations(user, unit, options)

    def export_values(self, obj: Model) -> list[Any]:
        registration: Registration = obj  # type: ignore[assignment]
        return [
            self.fields["subject_kind"].widget.render(registration.subject_kind),
            *subject_cells(registration, self.finder, show_national_id=self._show_ids),
            self.fields["title"].widget.render(registration.title),
            registration.year,
            self.fields["status"].widget.render(registration.status),
        ]

"""Import kind of registrations ("Giấy đăng ký …"): a subject registers for a title in a year.

The rules are those of :func:`recognition.services.registration.registration_create`
(and its bulk twin): the title must be awarded to the subject's kind, the year
must be open for registration, the subject must be active and its unit in force
during the year, a commune or ward must be able to propose it, and the
registration deadline of that proposing unit must still be open. A row changes
only the status (registered / withdrawn); withdrawing follows
``registration_withdraw`` (the assessment must still be the ward's own).

Subjects are found by their natural keys, a batch at a time
(:class:`SubjectFinder`, shared with the assessment kind): a household by its
code, a clan or an organisation by its name and managing unit, a citizen by the
citizen ID number (or name, year of birth and neighbourhood), a community by its
unit code. Every subject must lie inside the importer's subtree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from recognition.exceptions import RegistrationClosedError
from recognition.locks import check_open
from recognition.models import (
    Assessment,
    Citizen,
    Clan,
    Household,
    Organisation,
    Registration,
    RegistrationStatus,
)
from recognition.models.config import Stage
from recognition.selectors.registration import (
    filter_registrations,
    proposing_units_for,
    registrations_for_user,
)
from recognition.selectors.subjects import NATIONAL_ID_READERS, SUBJECT_WRITERS
from recognition.services.registration import (
    WITHDRAWABLE_ASSESSMENT_STATES,
    _check_title,
    _check_year,
    _in_force_during,
    _lock_units,
)
from recognition.services.subjects import normalise_national_id
from recognition.titles import SUBJECT_FIELD, SubjectKind, Title
from spreadsheets import cleaners
from spreadsheets.kinds.base import (
    CellWidget,
    ChoiceWidget,
    Column,
    ImportContext,
    ImportKind,
    RowChange,
    UnitCodeWidget,
    UnitRef,
)
from units.models import AdministrativeUnit
from units.selectors import roles_at

# --- Columns shared with the assessment kind ------------------------------------------------

CODE_HEADER = "Mã hộ / Mã đơn vị / Số CCCD"
NAME_HEADER = "Tên (dòng họ, cơ quan, công dân)"
BIRTH_YEAR_HEADER = "Năm sinh"
UNIT_HEADER = "Mã đơn vị quản lý"


def subject_code_column() -> Column:
    return Column(
        attribute="subject_code",
        header=CODE_HEADER,
        header_en="Household code / Unit code / Citizen ID",
        widget=CellWidget(cleaners.text, max_length=64),
        help=gettext_lazy(
            "Household: the household code. Learning community: the unit's official code. "
            "Citizen: the 12-digit citizen ID number (CCCD). Empty for clans and organisations."
        ),
        width=24,
    )


def subject_name_column() -> Column:
    return Column(
        attribute="subject_name",
        header=NAME_HEADER,
        header_en="Name (clan, organisation, citizen)",
        widget=CellWidget(cleaners.text, max_length=300),
        help=gettext_lazy(
            "Clan or organisation: its name as recorded (with the managing unit's code it "
            "finds the subject). Citizen without an ID number: the full name. For other "
            "subjects the name is only shown for reading and is not checked."
        ),
        width=32,
    )


def birth_year_column() -> Column:
    return Column(
        attribute="birth_year",
        header=BIRTH_YEAR_HEADER,
        header_en="Year of birth",
        widget=CellWidget(cleaners.year),
        help=gettext_lazy(
            "Only for a citizen without a citizen ID number (with the name and the "
            "neighbourhood code it finds the citizen)."
        ),
        width=10,
    )


def unit_column() -> Column:
    return Column(
        attribute="unit",
        header=UNIT_HEADER,
        header_en="Unit code",
        widget=UnitCodeWidget(max_length=32),
        help=gettext_lazy(
            "Official code of the unit the subject belongs to: the commune managing a clan, "
            "the unit managing an organisation, the neighbourhood of a household or a "
            "citizen. Required for clans, organisations and citizens without an ID number; "
            "when given for other subjects it must be the subject's unit."
        ),
        width=18,
    )


SUBJECT_KEY_COLUMNS = ("subject_code", "subject_name", "birth_year", "unit")


# --- Finding the subjects of a batch --------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """A subject found for a row (a unit for the community title)."""

    kind: str
    pk: int
    unit: AdministrativeUnit
    active: bool
    name: str
    #: The column that named it (errors about the subject point there).
    column: str


Problem = tuple[str, str]  # (column attribute, message)


def _problem(column: str, message: str) -> Problem:
    return (column, message)


class SubjectFinder:
    """Finds the subjects named by rows, one query per kind and batch, and checks
    that each lies inside the importer's subtree."""

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self._units: dict[int, AdministrativeUnit] = {}
        self._by_pk: dict[int, UnitRef] | None = None

    # -- row checks (no query)
    def check(self, kind: str, values: dict[str, Any]) -> list[Problem]:
        """The key cells a row of ``kind`` needs; normalises the citizen ID in ``values``."""
        code: str = values.get("subject_code") or ""
        name: str = values.get("subject_name") or ""
        unit: UnitRef | None = values.get("unit")
        if kind in (SubjectKind.HOUSEHOLD, SubjectKind.UNIT):
            if not code:
                return [_problem("subject_code", _("This cell is required."))]
            if kind == SubjectKind.UNIT:
                try:
                    ref = self.ctx.unit_by_code(code)
                except cleaners.CellError as exc:
                    return [_problem("subject_code", exc.message)]
                if unit is not None and unit.pk != ref.pk:
                    return [
                        _problem(
                            "unit",
                            _("For a learning community, leave this cell empty or repeat %(code)s.")
                            % {"code": ref.code},
                        )
                    ]
            return []
        if kind in (SubjectKind.CLAN, SubjectKind.ORGANISATION):
            problems = []
            if code:
                problems.append(
                    _problem(
                        "subject_code",
                        _(
                            "Leave this cell empty for clans and organisations: they are found "
                            "by their name and the code of the unit managing them."
                        ),
                    )
                )
            if not name:
                problems.append(_problem("subject_name", _("This cell is required.")))
            if unit is None:
                problems.append(_problem("unit", _("This cell is required.")))
            return problems
        # citizen
        if code:
            try:
                values["subject_code"] = normalise_national_id(code)
            except ApplicationError as exc:
                return [_problem("subject_code", str(exc))]
            return []
        missing = [
            attribute
            for attribute, given in (
                ("subject_name", name),
                ("birth_year", values.get("birth_year")),
                ("unit", unit),
            )
            if not given
        ]
        return [
            _problem(
                attribute,
                _(
                    "A citizen is found by the citizen ID number, or by the full name, the "
                    "year of birth and the neighbourhood code together."
                ),
            )
            for attribute in missing
        ]

    def ident(self, kind: str, values: dict[str, Any]) -> tuple[Any, ...]:
        """The subject's identity in a row that passed :meth:`check` (exact, as stored)."""
        unit_pk = getattr(values.get("unit"), "pk", None)
        if kind in (SubjectKind.HOUSEHOLD, SubjectKind.UNIT):
            return (kind, values["subject_code"])
        if kind in (SubjectKind.CLAN, SubjectKind.ORGANISATION):
            return (kind, unit_pk, values["subject_name"])
        if values.get("subject_code"):
            return (kind, "id", values["subject_code"])
        return (kind, "name", unit_pk, values["subject_name"], values["birth_year"])

    # -- batch lookup
    def find(
        self, idents: Iterable[tuple[Any, ...]], units: dict[tuple[Any, ...], UnitRef | None]
    ) -> dict[tuple[Any, ...], Subject | Problem]:
        """Each identity's subject, or the problem that stops it. ``units`` holds the unit
        cell of each identity's row (checked against the subject's own unit)."""
        by_kind: dict[str, list[tuple[Any, ...]]] = {}
        for ident in idents:
            by_kind.setdefault(ident[0], []).append(ident)
        found: dict[tuple[Any, ...], Subject | Problem] = {}
        tenant_id = self.ctx.tenant.pk
        for kind, group in by_kind.items():
            if kind == SubjectKind.HOUSEHOLD:
                households = Household.objects.filter(
                    tenant_id=tenant_id, code__in=[i[1] for i in group]
                ).select_related("unit")
                by_code = {h.code: h for h in households}
                for ident in group:
                    household = by_code.get(ident[1])
                    found[ident] = (
                        self._subject(kind, household, household.head_name, "subject_code")
                        if household is not None
                        else _problem(
                            "subject_code",
                            _("There is no household with code %(code)s in %(tenant)s.")
                            % {"code": ident[1], "tenant": self.ctx.tenant.name},
                        )
                    )
            elif kind == SubjectKind.UNIT:
                refs = {i: self.ctx.units_by_code[i[1]] for i in group}
                self._load_units(ref.pk for ref in refs.values())
                for ident, ref in refs.items():
                    unit = self._units[ref.pk]
                    found[ident] = Subject(kind, unit.pk, unit, True, unit.name, "subject_code")
            elif kind in (SubjectKind.CLAN, SubjectKind.ORGANISATION):
                model: type[Clan] | type[Organisation] = (
                    Clan if kind == SubjectKind.CLAN else Organisation
                )
                rows = model.objects.filter(
                    tenant_id=tenant_id,
                    unit_id__in={i[1] for i in group},
                    name__in={i[2] for i in group},
                ).select_related("unit")
                by_key = {(s.unit_id, s.name): s for s in rows}
                for ident in group:
                    subject = by_key.get((ident[1], ident[2]))
                    if subject is None:
                        message = (
                            _("There is no clan named “%(name)s” managed by %(unit)s.")
                            if kind == SubjectKind.CLAN
                            else _("There is no organisation named “%(name)s” managed by %(unit)s.")
                        )
                        found[ident] = _problem(
                            "subject_name",
                            message % {"name": ident[2], "unit": self._unit_name(ident[1])},
                        )
                    else:
                        found[ident] = self._subject(kind, subject, subject.name, "subject_name")
            else:
                found.update(self._citizens(group))
        for ident, result in found.items():
            if isinstance(result, Subject):
                found[ident] = self._in_scope(result, units.get(ident))
        return found

    def _citizens(self, group: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Subject | Problem]:
        tenant_id = self.ctx.tenant.pk
        out: dict[tuple[Any, ...], Subject | Problem] = {}
        by_id = [i for i in group if i[1] == "id"]
        by_name = [i for i in group if i[1] == "name"]
        matches: dict[tuple[Any, ...], list[Citizen]] = {i: [] for i in group}
        if by_id:
            wanted = {i[2]: i for i in by_id}
            rows = Citizen.objects.filter(
                tenant_id=tenant_id, national_id__in=list(wanted)
            ).select_related("unit")
            for citizen in rows:
                matches[wanted[citizen.national_id]].append(citizen)
        if by_name:
            wanted_names = {(i[2], i[3], i[4]): i for i in by_name}
            rows = Citizen.objects.filter(
                tenant_id=tenant_id,
                unit_id__in={i[2] for i in by_name},
                full_name__in={i[3] for i in by_name},
            ).select_related("unit")
            for citizen in rows:
                ident = wanted_names.get((citizen.unit_id, citizen.full_name, citizen.birth_year))
                if ident is not None:
                    matches[ident].append(citizen)
        for ident in group:
            column = "subject_code" if ident[1] == "id" else "subject_name"
            citizens = matches[ident]
            if len(citizens) == 1:
                out[ident] = self._subject(
                    SubjectKind.CITIZEN, citizens[0], citizens[0].full_name, column
                )
            elif not citizens and ident[1] == "id":
                out[ident] = _problem(
                    column,
                    _("There is no citizen with this citizen ID number in %(tenant)s.")
                    % {"tenant": self.ctx.tenant.name},
                )
            elif not citizens:
                out[ident] = _problem(
                    column,
                    _("There is no citizen named “%(name)s” born in %(year)s in %(unit)s.")
                    % {"name": ident[3], "year": ident[4], "unit": self._unit_name(ident[2])},
                )
            elif ident[1] == "id":
                out[ident] = _problem(
                    column,
                    _(
                        "Several citizens have this citizen ID number: correct the citizen "
                        "records first."
                    ),
                )
            else:
                out[ident] = _problem(
                    column,
                    _(
                        "Several citizens named “%(name)s” born in %(year)s live in %(unit)s: "
                        "give the citizen ID number."
                    )
                    % {"name": ident[3], "year": ident[4], "unit": self._unit_name(ident[2])},
                )
        return out

    def _subject(self, kind: str, obj: Any, name: str, column: str) -> Subject:
        unit: AdministrativeUnit = obj.unit
        self._units.setdefault(unit.pk, unit)
        return Subject(kind, obj.pk, self._units[unit.pk], obj.is_active, name, column)

    def _in_scope(self, subject: Subject, unit_cell: UnitRef | None) -> Subject | Problem:
        if not subject.unit.path.startswith(self.ctx.unit.path):
            return _problem(
                subject.column,
                _("%(subject)s belongs to %(unit)s, outside %(scope)s, where you are importing.")
                % {"subject": subject.name, "unit": subject.unit.name, "scope": self.ctx.unit.name},
            )
        if unit_cell is not None and unit_cell.pk != subject.unit.pk:
            return _problem(
                "unit",
                _("%(subject)s belongs to %(unit)s (code %(code)s), not to the unit of this cell.")
                % {"subject": subject.name, "unit": subject.unit.name, "code": subject.unit.code},
            )
        return subject

    def _load_units(self, pks: Iterable[int]) -> None:
        missing = {pk for pk in pks if pk not in self._units}
        if missing:
            self._units.update(AdministrativeUnit.objects.in_bulk(missing))

    def _ref(self, pk: int) -> UnitRef | None:
        if self._by_pk is None:
            self._by_pk = {r.pk: r for r in self.ctx.units_by_code.values()}
        return self._by_pk.get(pk)

    def _unit_name(self, pk: int) -> str:
        ref = self._ref(pk)
        return ref.name if ref is not None else str(pk)

    def code_of(self, unit_pk: int) -> str:
        """A unit's official code (exports: no query per row)."""
        ref = self._ref(unit_pk)
        return ref.code if ref is not None else ""


def subject_cells(
    registration: Registration, finder: SubjectFinder, *, show_national_id: bool
) -> list[Any]:
    """The subject key cells of a registration, as :class:`SubjectFinder` reads them back."""
    kind = registration.subject_kind
    subject: Any = registration.subject
    if kind == SubjectKind.UNIT:
        return [subject.code, subject.name, None, subject.code]
    unit_code = finder.code_of(subject.unit_id)
    if kind == SubjectKind.HOUSEHOLD:
        return [subject.code, subject.head_name, None, unit_code]
    if kind == SubjectKind.CITIZEN:
        national_id = subject.national_id if show_national_id else subject.national_id_masked
        return [national_id, subject.full_name, subject.birth_year, unit_code]
    return ["", subject.name, None, unit_code]


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


def sees_national_ids(user: Any, unit: AdministrativeUnit) -> bool:
    """Full citizen ID numbers only for the officials who keep the records."""
    return bool(roles_at(user, unit) & NATIONAL_ID_READERS)


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


@dataclass
class _Refused:
    """Stands for a stored row in :meth:`RegistrationKind.existing` when the row cannot
    go through; :meth:`~RegistrationKind.check_existing` reports its problems."""

    problems: list[Problem]


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
                out[key] = _Refused([subject])
                continue
            identity = (subject.kind, subject.pk, key[-2], key[-1])
            first = self._claimed.setdefault(identity, key)
            if first != key:
                out[key] = _Refused(
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
                out[key] = _Refused(
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
                out[key] = _Refused(problems)
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
        if isinstance(obj, _Refused):
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

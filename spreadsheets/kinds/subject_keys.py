"""The subject key columns shared by the registration and assessment kinds, and the
finder that turns them into subjects a batch at a time.

A household is found by its code, a clan or an organisation by its name and
managing unit, a citizen by the citizen ID number (or name, year of birth and
neighbourhood), a community by its unit code; every subject must lie inside the
importer's subtree (issue 8 §3), an error naming the row's key column otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from recognition.models import Citizen, Clan, Household, Organisation, Registration
from recognition.personal_data.crypto import blind_index
from recognition.personal_data.policy import exports_full_ids
from recognition.services.subjects import normalise_national_id
from recognition.titles import SubjectKind
from spreadsheets import cleaners
from spreadsheets.kinds.base import CellWidget, Column, ImportContext, UnitCodeWidget, UnitRef
from units.models import AdministrativeUnit

# --- Columns ------------------------------------------------

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
            rows = Citizen.objects.filter(  # encrypted at rest: match the blind index
                tenant_id=tenant_id, national_id_index__in=[blind_index(n) for n in wanted]
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
                # Neither the person's name nor the unit: found by a key the importer
                # typed, the subject lies outside their area and stays unseen.
                _("This record belongs to a unit outside %(scope)s, where you are importing.")
                % {"scope": self.ctx.unit.name},
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


def sees_national_ids(user: Any, unit: AdministrativeUnit) -> bool:
    """Full citizen ID numbers only for the roles of ``PERSONAL_DATA_EXPORT_ID_ROLES``
    over ``unit`` (recognition.personal_data.policy); the export is then logged as
    containing identifiers."""
    return exports_full_ids(user, unit)


@dataclass
class Refused:
    """Stands for a stored row in a kind's ``existing`` when the row cannot
    go through; its ``check_existing`` reports its problems."""

    problems: list[Problem]

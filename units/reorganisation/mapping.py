"""Bulk reorganisation plans from the official old → new commune code mapping.

The official list (e.g. the 2025 resolutions of the Standing Committee) is a
table with one row per (old commune, new commune) pair::

    Mã xã cũ | Mã xã mới | Tên xã mới | Loại | Ngày hiệu lực | Mã cấp trên mới

"Loại" (phường / xã / đặc khu) and "Mã cấp trên mới" are optional. Rows are
grouped by new code:

- several old codes → one new code: a **merge**;
- one old code → several new codes: a **split** (the list does not say which
  neighbourhoods go where: the first new code listed is the default target and
  takes everything; :func:`plan_warnings` says so, and the admin edits the step);
- one old code → one new code with another code, name, kind or parent: a
  **re-code**, **rename** or **move**. An unchanged row is skipped, except when
  a level is abolished: the commune then moves under the level above.

The file is checked whole before anything is written: every error names its
row and column (:class:`MappingFileError`), and the plan is created only for a
clean file, with all its steps in one :func:`~units.reorganisation.services.steps_add`
call. Conflicts of the layout (codes in use, levels not closed…) are the
preview's, as for a plan entered by hand, and block its apply.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.exceptions import ApplicationError
from core.text import fold
from spreadsheets import cleaners
from spreadsheets.writers import ColumnSpec, write_xlsx
from units.levels import KIND_LEVEL, KIND_PREFIX, LEVEL_ORDER, Kind, Level
from units.models import AdministrativeUnit, Tenant
from units.reorganisation.models import (
    Reorganisation,
    ReorganisationSource,
    ReorganisationStep,
    StepKind,
)
from units.reorganisation.preview import Preview, _chunks, reorganisation_preview
from units.reorganisation.services import (
    StepInput,
    TargetInput,
    reorganisation_create,
    steps_add,
)
from units.roles import ADMIN_ROLES
from units.selectors import is_tenant_admin, scope_paths

__all__ = [
    "COLUMNS",
    "MappingFileError",
    "MappingImport",
    "mapping_import",
    "mapping_template",
    "plan_from_mapping",
    "plan_warnings",
]

# The official list's column names (the file's language, not the interface's).
OLD_CODE = "Mã xã cũ"
NEW_CODE = "Mã xã mới"
NEW_NAME = "Tên xã mới"
KIND = "Loại"
EFFECTIVE = "Ngày hiệu lực"
PARENT = "Mã cấp trên mới"
REQUIRED = (OLD_CODE, NEW_CODE, NEW_NAME, EFFECTIVE)
OPTIONAL = (KIND, PARENT)

#: The commune-level kinds a row may name, by their folded label or value.
COMMUNE_KINDS: dict[str, str] = {}
for _kind, _level in KIND_LEVEL.items():
    if _level == Level.COMMUNE:
        COMMUNE_KINDS[fold(KIND_PREFIX[_kind])] = _kind
        COMMUNE_KINDS[fold(str(_kind))] = _kind
CODE_LENGTH = 20
NAME_LENGTH = 200


def _columns() -> list[ColumnSpec]:
    labels = [KIND_PREFIX[k].lower() for k in (Kind.WARD, Kind.COMMUNE, Kind.SPECIAL_ZONE)]
    return [
        ColumnSpec(OLD_CODE, 14, _("Code of a commune before the change."), required=True),
        ColumnSpec(
            NEW_CODE,
            14,
            _(
                "Code of the commune after the change. Several rows with the same new code "
                "merge their old communes; one old code on several rows splits it."
            ),
            required=True,
        ),
        ColumnSpec(
            NEW_NAME,
            30,
            _("Name of the new commune, the same on every row of a new code."),
            required=True,
        ),
        ColumnSpec(
            KIND,
            12,
            _("Kind of the new commune; empty: the kind of the old communes."),
            choices=labels,
        ),
        ColumnSpec(
            EFFECTIVE,
            14,
            _("Date the change takes effect (dd/mm/yyyy), the same on every row."),
            required=True,
            number_format="DD/MM/YYYY",
        ),
        ColumnSpec(
            PARENT,
            16,
            _(
                "Code of the unit the new commune belongs to; empty: the old commune's "
                "parent, or the province when a level is abolished."
            ),
        ),
    ]


COLUMNS = [OLD_CODE, NEW_CODE, NEW_NAME, KIND, EFFECTIVE, PARENT]


def mapping_template(out: BinaryIO) -> int:
    """Write the empty template of the mapping file (XLSX with an instructions sheet)."""
    return write_xlsx(
        out,
        columns=_columns(),
        rows=[],
        instructions=[
            _(
                "One row per pair of an old commune and the new commune it becomes part of, "
                "as in the official list."
            ),
            _(
                "A split lists the old code once per new commune; the first new commune "
                "listed takes every neighbourhood and subject until the step is edited."
            ),
            _("The file is checked whole: nothing is created while it has an error."),
        ],
        title=_("Official mapping of old to new communes"),
    )


# --- Errors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        return _("Row %(row)s, column “%(column)s”: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class MappingFileError(ApplicationError):
    """The mapping file has errors: no plan was created."""

    code = "reorganisation_mapping_invalid"

    def __init__(self, errors: Sequence[RowError]) -> None:
        count = len(errors)
        message = ngettext(
            "The mapping file has %(count)d error: no plan was created.",
            "The mapping file has %(count)d errors: no plan was created.",
            count,
        ) % {"count": count}
        super().__init__(message, errors=[e.as_dict() for e in errors])
        self.errors = list(errors)


# --- Reading ---------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    old: str
    new: str
    name: str
    kind: str
    parent: str


@dataclass
class _Group:
    """The rows of one new code."""

    code: str
    rows: list[_Row] = field(default_factory=list)

    @property
    def first(self) -> _Row:
        return self.rows[0]

    @property
    def olds(self) -> list[str]:
        return list(dict.fromkeys(r.old for r in self.rows))


class _Reader:
    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.rows: list[_Row] = []
        self.effective_on: dt.date | None = None
        self.date_row = 0

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))

    def read(self, file: BinaryIO, filename: str) -> None:
        from spreadsheets.readers import open_table

        with open_table(file, filename=filename) as table:
            index = self._headers(table.header_row, table.headers)
            if index is None:
                return
            for number, values in table.rows:
                self._row(number, values, index)
        if not self.rows and not self.errors:
            self.error(table.header_row + 1, OLD_CODE, _("The file has no data rows."))

    def _headers(self, row: int, headers: list[str]) -> dict[str, int] | None:
        known = {fold(name): name for name in (*REQUIRED, *OPTIONAL)}
        index: dict[str, int] = {}
        ok = True
        for position, header in enumerate(headers):
            name = known.get(fold(header or ""))
            if name is None:
                if header:
                    self.error(
                        row,
                        header,
                        _("Unknown column; the columns are: %(columns)s.")
                        % {"columns": ", ".join(COLUMNS)},
                    )
                    ok = False
                continue
            if name in index:
                self.error(row, header, _("This column appears twice."))
                ok = False
            index[name] = position
        for name in REQUIRED:
            if name not in index:
                self.error(row, name, _("This required column is missing."))
                ok = False
        return index if ok else None

    def _row(self, number: int, values: list[Any], index: dict[str, int]) -> None:
        def cell(name: str) -> Any:
            return values[index[name]] if name in index else None

        found: dict[str, Any] = {}
        for name, clean in (
            (OLD_CODE, lambda v: cleaners.text(v, required=True, max_length=CODE_LENGTH)),
            (NEW_CODE, lambda v: cleaners.text(v, required=True, max_length=CODE_LENGTH)),
            (NEW_NAME, lambda v: cleaners.text(v, required=True, max_length=NAME_LENGTH)),
            (KIND, self._kind),
            (EFFECTIVE, lambda v: cleaners.date(v, required=True)),
            (PARENT, lambda v: cleaners.text(v, max_length=CODE_LENGTH)),
        ):
            try:
                found[name] = clean(cell(name))
            except cleaners.CellError as exc:
                self.error(number, name, exc.message)
        day = found.get(EFFECTIVE)
        if day is not None:
            if self.effective_on is None:
                self.effective_on, self.date_row = day, number
            elif day != self.effective_on:
                self.error(
                    number,
                    EFFECTIVE,
                    _("%(day)s differs from %(first)s on row %(row)s: one file is one date.")
                    % {
                        "day": day.strftime("%d/%m/%Y"),
                        "first": self.effective_on.strftime("%d/%m/%Y"),
                        "row": self.date_row,
                    },
                )
        if all(name in found for name in (OLD_CODE, NEW_CODE, NEW_NAME, KIND, PARENT)):
            self.rows.append(
                _Row(
                    number,
                    found[OLD_CODE],
                    found[NEW_CODE],
                    found[NEW_NAME],
                    found[KIND],
                    found[PARENT],
                )
            )

    @staticmethod
    def _kind(value: Any) -> str:
        label = cleaners.text(value)
        if not label:
            return ""
        kind = COMMUNE_KINDS.get(fold(label))
        if kind is None:
            raise cleaners.CellError(
                _("“%(value)s” is not a kind of commune; write phường, xã or đặc khu.")
                % {"value": label}
            )
        return kind


# --- Planning --------------------------------------------------------------------------


@dataclass
class _Planner:
    tenant_id: int
    actor: Any
    effective_on: dt.date
    abolish_level: str
    reader: _Reader
    units: dict[str, AdministrativeUnit] = field(default_factory=dict)
    parents: dict[str, AdministrativeUnit] = field(default_factory=dict)
    ancestors: dict[int, AdministrativeUnit] = field(default_factory=dict)
    steps: list[StepInput] = field(default_factory=list)
    unchanged: int = 0

    def error(self, row: int, column: str, message: str) -> None:
        self.reader.error(row, column, message)

    def _in_force(self) -> Q:
        return Q(valid_from__lte=self.effective_on) & (
            Q(valid_to__isnull=True) | Q(valid_to__gte=self.effective_on)
        )

    def load(self, rows: list[_Row]) -> None:
        base = AdministrativeUnit.objects.filter(tenant_id=self.tenant_id).filter(self._in_force())
        olds = sorted({r.old for r in rows})
        for batch in _chunks(olds):  # type: ignore[arg-type]
            for unit in base.filter(level=Level.COMMUNE, code__in=batch):
                self.units[unit.code] = unit
        parents = sorted({r.parent for r in rows if r.parent})
        for batch in _chunks(parents):  # type: ignore[arg-type]
            for unit in base.filter(code__in=batch).exclude(level=Level.NEIGHBOURHOOD):
                self.parents[unit.code] = unit
        if self.abolish_level:
            rank = LEVEL_ORDER.index(Level.COMMUNE)
            for unit in base.filter(level__in=LEVEL_ORDER[:rank]):
                self.ancestors[unit.pk] = unit

    def _above_abolished(self, unit: AdministrativeUnit) -> AdministrativeUnit | None:
        """The old commune's nearest ancestor that is not of the abolished level."""
        pk = unit.parent_id
        while pk is not None and pk in self.ancestors:
            ancestor = self.ancestors[pk]
            if ancestor.level != self.abolish_level:
                return ancestor
            pk = ancestor.parent_id
        return None

    def check_rows(self, rows: list[_Row]) -> list[_Row]:
        admin_roots = None if self.actor is None else scope_paths(self.actor, roles=ADMIN_ROLES)
        good: list[_Row] = []
        seen: dict[tuple[str, str], int] = {}
        for row in rows:
            unit = self.units.get(row.old)
            pair = (row.old, row.new)
            if pair in seen:
                self.error(
                    row.number,
                    NEW_CODE,
                    _("Old code %(old)s is mapped to %(new)s again (first on row %(row)s).")
                    % {"old": row.old, "new": row.new, "row": seen[pair]},
                )
                continue
            seen[pair] = row.number
            if unit is None:
                self.error(
                    row.number,
                    OLD_CODE,
                    _("No commune with code %(code)s is in force on %(day)s.")
                    % {"code": row.old, "day": self.effective_on.strftime("%d/%m/%Y")},
                )
                continue
            if admin_roots is not None and not any(unit.path.startswith(r) for r in admin_roots):
                self.error(
                    row.number,
                    OLD_CODE,
                    _("%(code)s (%(name)s) is outside the units you administer.")
                    % {"code": unit.code, "name": unit.name},
                )
                continue
            good.append(row)
        return good

    def _parent(self, group: _Group, new_codes: set[str]) -> AdministrativeUnit | str | None:
        code = group.first.parent
        if not code:
            return None
        if code in new_codes and code != group.code:
            return code
        unit = self.parents.get(code)
        if unit is None:
            self.error(
                group.first.number,
                PARENT,
                _("No unit with code %(code)s is in force, and no new commune of the file has it.")
                % {"code": code},
            )
        return unit

    def _consistent(self, group: _Group) -> bool:
        """Every row of a new code gives the same name; kind and parent may be left
        empty after the first row that gives them, never contradicted."""
        ok = True
        for column, attr in ((NEW_NAME, "name"), (KIND, "kind"), (PARENT, "parent")):
            first = group.first
            if attr != "name":
                first = next((r for r in group.rows if getattr(r, attr)), group.first)
            for row in group.rows:
                value = getattr(row, attr)
                if row is first or (attr != "name" and not value):
                    continue
                if value != getattr(first, attr):
                    self.error(
                        row.number,
                        column,
                        _("New code %(code)s has “%(value)s” here but “%(first)s” on row %(row)s.")
                        % {
                            "code": group.code,
                            "value": value,
                            "first": getattr(first, attr),
                            "row": first.number,
                        },
                    )
                    ok = False
            if ok and attr != "name":
                for row in group.rows:
                    setattr(row, attr, getattr(first, attr))
        return ok

    def _kind(self, group: _Group) -> str:
        if group.first.kind:
            return group.first.kind
        kinds = {self.units[old].kind for old in group.olds}
        if len(kinds) == 1:
            return kinds.pop()
        self.error(
            group.first.number,
            KIND,
            _(
                "The old communes of %(code)s are of different kinds (%(kinds)s): "
                "write the new commune's kind."
            )
            % {
                "code": group.code,
                "kinds": ", ".join(sorted(KIND_PREFIX[k].lower() for k in kinds)),
            },
        )
        return ""

    def plan(self, rows: list[_Row]) -> None:
        groups: dict[str, _Group] = {}
        for row in rows:
            groups.setdefault(row.new, _Group(row.new)).rows.append(row)
        new_codes = set(groups)
        targets_of: dict[str, list[str]] = defaultdict(list)
        for group in groups.values():
            for old in group.olds:
                targets_of[old].append(group.code)
        split_done: set[str] = set()
        for group in groups.values():
            if not self._consistent(group):
                continue
            olds = group.olds
            mixed = [(r, targets_of[r.old]) for r in group.rows if len(targets_of[r.old]) > 1]
            if len(olds) > 1 and mixed:
                row, codes = mixed[0]
                self.error(
                    row.number,
                    OLD_CODE,
                    _(
                        "Old code %(old)s is merged into %(new)s and also mapped to %(others)s: "
                        "a commune is either merged or split."
                    )
                    % {
                        "old": row.old,
                        "new": group.code,
                        "others": ", ".join(c for c in codes if c != group.code),
                    },
                )
                continue
            if len(olds) == 1 and len(targets_of[olds[0]]) > 1:
                if olds[0] not in split_done:
                    split_done.add(olds[0])
                    self._split(olds[0], targets_of[olds[0]], groups, new_codes)
                continue
            kind = self._kind(group)
            parent = self._parent(group, new_codes)
            if not kind or (group.first.parent and parent is None):
                continue
            first = group.first
            if len(olds) > 1:
                self.steps.append(
                    StepInput(
                        kind=StepKind.MERGE,
                        sources=[self.units[o] for o in olds],
                        targets=[
                            TargetInput(code=group.code, name=first.name, kind=kind, parent=parent)
                        ],
                    )
                )
            else:
                self._one(group, kind, parent)

    def _split(
        self, old: str, codes: list[str], groups: dict[str, _Group], new_codes: set[str]
    ) -> None:
        targets = []
        for position, code in enumerate(codes):
            group = groups[code]
            if len(group.olds) > 1:
                return  # reported by the merge check of that group
            kind = self._kind(group)
            parent = self._parent(group, new_codes)
            if not kind or (group.first.parent and parent is None):
                return
            targets.append(
                TargetInput(
                    code=code,
                    name=group.first.name,
                    kind=kind,
                    parent=parent,
                    default=position == 0,
                )
            )
        self.steps.append(
            StepInput(kind=StepKind.SPLIT, sources=[self.units[old]], targets=targets)
        )

    def _one(self, group: _Group, kind: str, parent: AdministrativeUnit | str | None) -> None:
        unit = self.units[group.olds[0]]
        first = group.first
        moved = parent is not None and (isinstance(parent, str) or parent.pk != unit.parent_id)
        if self.abolish_level and parent is None:
            parent_id = unit.parent_id
            if (
                parent_id in self.ancestors
                and self.ancestors[parent_id].level == self.abolish_level
            ):
                parent = self._above_abolished(unit)
                moved = parent is not None
        target = TargetInput(code=group.code, name=first.name, kind=kind, parent=parent)
        if moved:
            step = StepKind.MOVE
        elif group.code != unit.code:
            step = StepKind.RECODE
        elif first.name != unit.name or kind != unit.kind:
            step = StepKind.RENAME
        else:
            self.unchanged += 1
            return
        self.steps.append(StepInput(kind=step, sources=[unit], targets=[target]))


def _error_order(error: RowError) -> tuple[int, int]:
    return (error.row, COLUMNS.index(error.column) if error.column in COLUMNS else len(COLUMNS))


# --- Entry points -----------------------------------------------------------------------


@transaction.atomic
def plan_from_mapping(
    *,
    actor: Any,
    file: BinaryIO,
    filename: str,
    name: str,
    legal_basis: str = "",
    abolish_level: str = "",
    tenant: Tenant | None = None,
) -> Reorganisation:
    """Read the official mapping ``file`` and create a draft plan with all its steps.

    All or nothing: any error of the file raises :class:`MappingFileError` (every
    error with its row and column) and nothing is created. ``tenant`` only when
    ``actor`` is None (commands). Spreadsheet refusals (format, size) raise
    :class:`~spreadsheets.exceptions.FileRejected`.
    """
    if actor is not None and not is_tenant_admin(actor):
        raise PermissionDenied
    tenant_id = actor.tenant_id if actor is not None else tenant.pk  # type: ignore[union-attr]
    reader = _Reader()
    reader.read(file, filename)
    if reader.effective_on is None:
        raise MappingFileError(sorted(reader.errors, key=_error_order))
    planner = _Planner(
        tenant_id=tenant_id,
        actor=actor,
        effective_on=reader.effective_on,
        abolish_level=abolish_level,
        reader=reader,
    )
    planner.load(reader.rows)
    rows = planner.check_rows(reader.rows)
    if not reader.errors:
        planner.plan(rows)
    if reader.errors:
        raise MappingFileError(sorted(reader.errors, key=_error_order))
    plan = reorganisation_create(
        actor=actor,
        name=name,
        effective_on=reader.effective_on,
        legal_basis=legal_basis,
        abolish_level=abolish_level,
        source=ReorganisationSource.IMPORT,
        tenant=tenant,
    )
    if planner.steps:
        steps_add(actor=actor, plan=plan, steps=planner.steps)
    plan.refresh_from_db()
    return plan


def plan_warnings(plan: Reorganisation) -> list[str]:
    """What the preview cannot show as a conflict but the admin must check: each
    split of an imported plan sends everything to its default target."""
    warnings = []
    for step in ReorganisationStep.objects.filter(plan=plan, kind=StepKind.SPLIT).order_by(
        "position"
    ):
        if any(t.get("neighbourhoods") for t in step.targets):
            continue
        default = next((t for t in step.targets if t.get("default")), step.targets[0])
        warnings.append(
            _(
                "Step %(position)s (split): the official list does not say which "
                "neighbourhoods go to which new commune; %(code)s %(name)s takes them all "
                "with every subject. Edit the step to distribute them."
            )
            % {"position": step.position, "code": default["code"], "name": default["name"]}
        )
    return warnings


@dataclass
class MappingImport:
    plan: Reorganisation
    preview: Preview
    warnings: list[str]


def mapping_import(
    *,
    actor: Any,
    file: BinaryIO,
    filename: str,
    name: str,
    legal_basis: str = "",
    abolish_level: str = "",
    tenant: Tenant | None = None,
) -> MappingImport:
    """The screens' and the command's entry point: the plan, its preview and warnings."""
    plan = plan_from_mapping(
        actor=actor,
        file=file,
        filename=filename,
        name=name,
        legal_basis=legal_basis,
        abolish_level=abolish_level,
        tenant=tenant,
    )
    return MappingImport(
        plan=plan, preview=reorganisation_preview(plan=plan), warnings=plan_warnings(plan)
    )

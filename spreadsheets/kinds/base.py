"""What every import kind is: a django-import-export resource plus the hooks the engine needs.

A kind declares its columns as import-export ``Field``\\ s (``column_name`` is the
Vietnamese header of the template) whose widgets parse cells with
:mod:`spreadsheets.cleaners`. The same resource exports the rows (so an export
imports back unchanged) and, in the benchmark, runs through the library's own
``import_data`` for the default figure. The engine (:mod:`spreadsheets.engine`)
does not call ``import_data``: it cleans each row through the resource's fields,
then looks existing rows up, compares and writes **a batch at a time** — the
library's per-row instance lookup, diff and save are what make its defaults slow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from core.text import fold
from spreadsheets import cleaners
from spreadsheets.cleaners import CellError
from units.models import AdministrativeUnit, Tenant


@dataclass
class UnitRef:
    """A unit as the import sees it (loaded once per run: no query per row)."""

    pk: int
    code: str
    name: str
    path: str
    level: str
    parent_id: int | None
    valid_to: dt.date | None


@dataclass
class ImportContext:
    """One run's facts: who imports, into which subtree, with which options."""

    tenant: Tenant
    unit: AdministrativeUnit
    actor: Any
    options: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = True
    #: Kind-specific caches (e.g. codes already seen as new in this file).
    cache: dict[str, Any] = field(default_factory=dict)
    _units: dict[str, UnitRef] | None = None

    @property
    def units_by_code(self) -> dict[str, UnitRef]:
        """Every unit of the tenant by official code (in force ones win over closed ones)."""
        if self._units is None:
            found: dict[str, UnitRef] = {}
            rows = AdministrativeUnit.objects.filter(tenant_id=self.tenant.pk).values_list(
                "pk", "code", "name", "path", "level", "parent_id", "valid_to"
            )
            for row in rows.order_by("valid_to"):  # NULL (in force) last on PostgreSQL
                ref = UnitRef(*row)
                current = found.get(ref.code)
                if current is None or current.valid_to is not None:
                    found[ref.code] = ref
            self._units = found
        return self._units

    def in_scope(self, ref: UnitRef) -> bool:
        return ref.path.startswith(self.unit.path)

    def unit_by_code(self, code: str) -> UnitRef:
        """The unit with this code inside the importer's subtree, or a cell error saying why not."""
        ref = self.units_by_code.get(code)
        if ref is None:
            raise CellError(
                _("There is no unit with code %(code)s in %(tenant)s.")
                % {"code": code, "tenant": self.tenant.name}
            )
        if not self.in_scope(ref):
            raise CellError(
                # Not the unit's name: what lies outside the importer's area stays unseen.
                _("The unit with code %(code)s is outside %(scope)s, where you are importing.")
                % {"code": code, "scope": self.unit.name}
            )
        return ref


# --- Widgets: cells -> values through the cleaners --------------------------------------


class CellWidget(widgets.Widget):
    """Parses a cell with one of :mod:`spreadsheets.cleaners` and renders the value back."""

    def __init__(self, parse: Callable[..., Any], **options: Any) -> None:
        super().__init__()
        self.parse = parse
        self.options = options

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return self.parse(value, **self.options)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return value


class ChoiceWidget(CellWidget):
    """A code stored in the database, a Vietnamese label in the file."""

    def __init__(self, choices: Sequence[tuple[str, Any]], **options: Any) -> None:
        self.choices = list(choices)
        super().__init__(cleaners.choice, **options)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return cleaners.choice(
            value, [(c, str(label)) for c, label in self.choices], **self.options
        )

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return next((str(label) for code, label in self.choices if code == value), value)


class UnitCodeWidget(CellWidget):
    """A unit by official code; it must be inside the importer's subtree (issue 8 §3)."""

    def __init__(self, *, levels: Sequence[str] = (), **options: Any) -> None:
        self.levels = tuple(levels)
        super().__init__(cleaners.text, **options)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> UnitRef | None:
        code = cleaners.text(value, **self.options)
        if not code:
            return None
        ctx: ImportContext | None = kwargs.get("ctx")
        if ctx is None:  # the library's own import_data without our context (benchmark only)
            raise CellError(_("Unit codes need an import context."))
        ref = ctx.unit_by_code(code)
        if self.levels and ref.level not in self.levels:
            raise CellError(
                _("%(unit)s (code %(code)s) is not a unit of the right level for this column.")
                % {"unit": ref.name, "code": code}
            )
        return ref

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return getattr(value, "code", value)


class Column(fields.Field):
    """A column of the template: Vietnamese header, English alias, help and choices."""

    def __init__(
        self,
        *,
        header: str,
        header_en: str,
        attribute: str | None = None,
        widget: widgets.Widget | None = None,
        required: bool = False,
        help: str | Promise = "",
        choices: Sequence[str | Promise] = (),
        width: int = 18,
        number_format: str | None = None,
    ) -> None:
        super().__init__(attribute=attribute, column_name=header, widget=widget)
        self.header = header
        self.header_en = header_en
        self.required = required
        self.help = help
        self.choices = tuple(choices)
        self.width = width
        self.number_format = number_format

    def matches(self, header: str) -> bool:
        folded = " ".join(fold(header).split())
        return folded in (fold(self.header), fold(self.header_en), (self.attribute or "").lower())


# --- The kind -----------------------------------------------------------------------------


@dataclass
class RowChange:
    """One classified row: its number in the file, the cleaned values and the existing object."""

    row: int
    values: dict[str, Any]
    obj: Any = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


class ImportKind(resources.ModelResource):
    """Base of every kind. Subclasses set the Meta, the Columns and the class attributes."""

    #: Registry key and URL part, e.g. "households".
    key: ClassVar[str] = ""
    #: What users read in menus, e.g. _("Households").
    label: ClassVar[str | Promise] = ""
    #: Column attribute names forming the natural key (unique inside the tenant or unit).
    natural_key: ClassVar[tuple[str, ...]] = ()
    #: Lines of the instructions sheet of the template.
    instructions: ClassVar[Sequence[str | Promise]] = ()
    #: Rows cleaned, looked up and written together.
    batch_size: ClassVar[int] = 2000
    #: Roles (units.roles) allowed to import this kind at the chosen unit; () = writers.
    roles: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, ctx: ImportContext | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx

    @property
    def context(self) -> ImportContext:
        """The run's context (the engine always sets it; the library's own path may not)."""
        if self.ctx is None:
            raise RuntimeError("this import kind needs an ImportContext")
        return self.ctx

    # -- columns
    @classmethod
    def columns(cls) -> list[Column]:
        """The kind's columns in template order (built once per class: a resource is costly)."""
        cached: list[Column] | None = cls.__dict__.get("_columns_cache")
        if cached is None:
            cached = [f for f in cls().get_import_fields() if isinstance(f, Column)]
            cls._columns_cache = cached  # type: ignore[attr-defined]
        return cached

    # -- the engine's hooks (batch-wise)
    def key_of(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The natural key of a cleaned row (exact, as the database's unique constraint)."""
        return tuple(_key_part(values.get(name)) for name in self.natural_key)

    def check_row(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        """Cross-column checks of one cleaned row: [(column attribute, message)]."""
        return []

    def existing(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Model]:
        """The stored objects of these natural keys, in one query."""
        raise NotImplementedError

    def check_existing(self, obj: Model, values: dict[str, Any]) -> list[tuple[str, str]]:
        """Checks of a row against the stored object of its key (e.g. the stored one lies
        outside the importer's subtree): [(column attribute, message)]."""
        return []

    def compare(self, obj: Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """{attribute: (stored, new)} for the columns that differ."""
        changes: dict[str, tuple[Any, Any]] = {}
        for column in self.columns():
            name = column.attribute
            if not name or name not in values:
                continue
            stored = self.stored_value(obj, name)
            new = values[name]
            new_cmp = new.pk if isinstance(new, UnitRef) else new
            if _normal(stored) != _normal(new_cmp):
                changes[name] = (stored, new.code if isinstance(new, UnitRef) else new)
        return changes

    def stored_value(self, obj: Model, name: str) -> Any:
        """The stored value comparable to a cleaned one (FKs to units compare by pk)."""
        if name == "unit":
            return obj.unit_id  # type: ignore[attr-defined]
        return getattr(obj, name)

    def write(self, new: list[RowChange], changed: list[RowChange]) -> None:
        """Write one batch (inside the apply transaction)."""
        raise NotImplementedError

    def finish(self) -> None:
        """After the last batch of an apply (e.g. move rollups once per unit)."""

    # -- exports
    def export_queryset(self, user: Any, unit: AdministrativeUnit) -> QuerySet[Any]:
        raise NotImplementedError

    def export_values(self, obj: Model) -> list[Any]:
        """One row of the export, typed (dates stay dates) in the columns' order."""
        return [column.widget.render(self.export_get(obj, column)) for column in self.columns()]

    def export_get(self, obj: Model, column: Column) -> Any:
        if column.attribute == "unit":
            return obj.unit.code  # type: ignore[attr-defined]
        return column.get_value(obj)

    def export_rows(self, queryset: QuerySet[Any]) -> Iterable[list[Any]]:
        for obj in queryset.iterator(chunk_size=2000):
            yield self.export_values(obj)


def _key_part(value: Any) -> Any:
    if isinstance(value, UnitRef):
        return value.pk
    return value


def _normal(value: Any) -> Any:
    if value == "":
        return None
    return value

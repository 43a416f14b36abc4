"""Import kind of the administrative units (đơn vị hành chính) with their official codes.

The rules are those of :mod:`units.services`: a unit's kind fixes its level,
which must be the next level in use under its parent (``_check_placement``,
called with the same arguments as ``unit_create`` / ``unit_update``); official
codes are unique among the units valid at the same date; a unit's validity lies
within its parent's and its children's within its own; the level of a unit with
sub-units does not change. The tree is a materialised path
(:func:`units.models.path_segment`), written after the rows exist.

A row is keyed by the official code among the units in force. Parents may be
new rows earlier in the same file (the export lists parents first). An import
never moves a unit: that is the reorganisation feature's job (merges, splits,
moves keep the lineage). Only administrators import units, and only inside
their subtree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.text import fold, natural_key
from spreadsheets import cleaners
from spreadsheets.cleaners import CellError
from spreadsheets.kinds.base import CellWidget, ChoiceWidget, Column, ImportKind, RowChange
from units.exceptions import LevelError, UnitError, ValidityError
from units.levels import KIND_LEVEL, Kind
from units.models import AdministrativeUnit, path_segment
from units.roles import ADMIN_ROLES
from units.selectors import units_for_user
from units.services import FAR_PAST, _check_placement

#: Where the new units of this file are remembered across batches (code -> _Known).
NEW_UNITS = "units.new"


class ValidFromWidget(CellWidget):
    """A dd/mm/yyyy date; empty means "since always" (the services' 01/01/1900)."""

    def __init__(self) -> None:
        super().__init__(cleaners.date)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> dt.date:
        return cleaners.date(value) or FAR_PAST

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return None if value == FAR_PAST else value


class YesNoWidget(CellWidget):
    """có / không; an empty cell is "không"."""

    def __init__(self) -> None:
        super().__init__(cleaners.boolean)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool:
        return bool(cleaners.boolean(value))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return _("yes") if value else _("no")


@dataclass
class _Known:
    """A unit as this import sees it: a stored one, or a new one of the file (``pk`` is
    None until it is written). Has what ``_check_placement`` reads of a parent."""

    pk: int | None
    code: str
    name: str
    path: str
    level: str
    parent_id: int | None
    valid_from: dt.date
    valid_to: dt.date | None
    depth: int
    tenant_id: int
    parent_code: str = ""


class UnitKind(ImportKind):
    """Đơn vị hành chính: one row per unit, keyed by its official code."""

    key = "units"
    label = gettext_lazy("Administrative units")
    natural_key = ("code",)
    roles = ADMIN_ROLES
    instructions = (
        gettext_lazy(
            "One row per administrative unit, identified by its official code (mã đơn vị hành chính; for khu phố / ấp / thôn / tổ dân phố the code your province gives them). A row whose code belongs to a unit in force updates that unit."
        ),
        gettext_lazy(
            "Parent unit code: the code of the unit directly above (the district, commune or ward). The parent must be inside your unit, or be a new unit written on an earlier row of the same file: list parents before their sub-units."
        ),
        gettext_lazy(
            "The kind fixes the level: a ward, commune or township stands under a district (or directly under the province once districts are gone), a neighbourhood under a commune or ward."
        ),
        gettext_lazy(
            "An import does not move units: a row that gives an existing unit another parent is refused. Merges, splits and moves belong to the reorganisation feature, which keeps the units' history."
        ),
        gettext_lazy(
            "Valid from: dd/mm/yyyy, empty if the date is not known. Disadvantaged area: có or không. Only administrators may import units."
        ),
        gettext_lazy(
            "Do not change the header row. Keep one unit per row, no merged cells, no formulas."
        ),
    )

    code = Column(
        attribute="code",
        header="Mã đơn vị",
        header_en="Unit code",
        widget=CellWidget(cleaners.text, required=True, max_length=32),
        required=True,
        help=gettext_lazy("Official code, e.g. 27184 for a ward, 27184-KP01 for its khu phố 1."),
        width=16,
    )
    name = Column(
        attribute="name",
        header="Tên đơn vị",
        header_en="Name",
        widget=CellWidget(cleaners.text, required=True, max_length=200),
        required=True,
        help=gettext_lazy("Full name, e.g. Phường Bến Nghé."),
        width=30,
    )
    kind = Column(
        attribute="kind",
        header="Loại đơn vị",
        header_en="Kind",
        widget=ChoiceWidget(Kind.choices, required=True),
        required=True,
        help=gettext_lazy(
            "One of the list (it fixes the level: province, district, commune or neighbourhood)."
        ),
        choices=[label for _code, label in Kind.choices],
        width=22,
    )
    parent_code = Column(
        attribute="parent_code",
        header="Mã đơn vị cấp trên",
        header_en="Parent unit code",
        widget=CellWidget(cleaners.text, max_length=32),
        required=True,
        help=gettext_lazy(
            "Code of the unit directly above; empty only for the province/city itself."
        ),
        width=18,
    )
    valid_from = Column(
        attribute="valid_from",
        header="Hiệu lực từ ngày",
        header_en="Valid from",
        widget=ValidFromWidget(),
        help=gettext_lazy("dd/mm/yyyy; empty if not known."),
        width=16,
        number_format="dd/mm/yyyy",
    )
    is_disadvantaged = Column(
        attribute="is_disadvantaged",
        header="Vùng khó khăn",
        header_en="Disadvantaged area",
        widget=YesNoWidget(),
        help=gettext_lazy(
            "có for a remote, especially disadvantaged or ethnic-minority area (lower pass thresholds apply), otherwise không."
        ),
        choices=[gettext_lazy("yes"), gettext_lazy("no")],
        width=14,
    )

    class Meta:
        model = AdministrativeUnit
        fields = ("code", "name", "kind", "parent_code", "valid_from", "is_disadvantaged")
        import_id_fields = ("code",)

    def __init__(self, ctx: Any = None, **kwargs: Any) -> None:
        super().__init__(ctx, **kwargs)
        self._loaded = False
        self._today = timezone.localdate()
        #: The tenant's units in force today (or later) by code, and by pk.
        self._current: dict[str, _Known] = {}
        self._by_pk: dict[int, _Known] = {}
        #: Codes of ended units: [(valid_to, name)].
        self._ended: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
        #: Per unit pk: how many children, and the earliest start among them.
        self._children: dict[int, int] = defaultdict(int)
        self._first_child_from: dict[int, dt.date] = {}
        self._placements: dict[tuple[Any, ...], tuple[str, str, str]] = {}

    # -- the tenant's tree, loaded once per run (no query per row)
    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        tenant_id = self.context.tenant.pk
        rows = AdministrativeUnit.objects.filter(tenant_id=tenant_id).values_list(
            "pk", "code", "name", "path", "level", "parent_id", "valid_from", "valid_to", "depth"
        )
        for pk, code, name, path, level, parent_id, valid_from, valid_to, depth in rows:
            known = _Known(
                pk, code, name, path, level, parent_id, valid_from, valid_to, depth, tenant_id
            )
            self._by_pk[pk] = known
            if parent_id is not None:
                self._children[parent_id] += 1
                first = self._first_child_from.get(parent_id)
                if first is None or valid_from < first:
                    self._first_child_from[parent_id] = valid_from
            if valid_to is not None and valid_to < self._today:
                self._ended[code].append((valid_to, name))
                continue
            other = self._current.get(code)
            if other is None or other.valid_to is not None:
                self._current[code] = known
        for known in self._by_pk.values():
            if known.parent_id is not None and known.parent_id in self._by_pk:
                known.parent_code = self._by_pk[known.parent_id].code

    @property
    def _new(self) -> dict[str, _Known]:
        new: dict[str, _Known] = self.context.cache.setdefault(NEW_UNITS, {})
        return new

    def _placement(
        self, parent: _Known | None, kind: str, valid_from: dt.date, valid_to: dt.date | None
    ) -> tuple[str, str, str]:
        """(level, column, problem) of ``kind`` under ``parent``, by the services' rules;
        remembered per combination (the rules read the tenant's levels)."""
        parent_key = (
            None
            if parent is None
            else (parent.tenant_id, parent.level, parent.valid_from, parent.valid_to)
        )
        memo_key = (parent_key, kind, valid_from, valid_to)
        found = self._placements.get(memo_key)
        if found is None:
            try:
                level = _check_placement(
                    tenant=self.context.tenant,
                    parent=cast(AdministrativeUnit, parent),
                    kind=kind,
                    valid_from=valid_from,
                    valid_to=valid_to,
                )
                found = (level, "", "")
            except LevelError as exc:
                found = ("", "kind", str(exc))
            except UnitError as exc:
                found = ("", "valid_from", str(exc))
            self._placements[memo_key] = found
        return found

    # -- the engine's hooks
    def check_row(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        self._load()
        code: str = values["code"]
        if code in self._current:
            return []  # an existing unit: checked against the stored one (check_existing)
        valid_from: dt.date = values.get("valid_from") or FAR_PAST
        parent_code: str = values.get("parent_code") or ""
        if not parent_code:
            return [
                (
                    "parent_code",
                    _(
                        "Give the code of the parent unit: new units are added under a unit of your area."
                    ),
                )
            ]
        parent = self._new.get(parent_code)
        if parent is None:
            try:
                self.context.unit_by_code(parent_code)  # exists, inside the importer's subtree
            except CellError as exc:
                return [("parent_code", exc.message)]
            parent = self._current.get(parent_code)
            if parent is None:
                return [
                    (
                        "parent_code",
                        _("%(code)s is the code of a unit that is no longer in force.")
                        % {"code": parent_code},
                    )
                ]
        for ended_to, ended_name in self._ended.get(code, ()):
            if ended_to >= valid_from:  # the services' _check_code for a unit without end
                return [
                    (
                        "code",
                        _(
                            "Code %(code)s is already used by %(other)s during the same period. "
                            "Official codes must be unique among units valid at the same date."
                        )
                        % {"code": code, "other": ended_name},
                    )
                ]
        level, column, problem = self._placement(parent, values["kind"], valid_from, None)
        if problem:
            return [(column, problem)]
        if code not in self._new:
            self._new[code] = _Known(
                pk=None,
                code=code,
                name=values["name"],
                path="",
                level=level,
                parent_id=parent.pk,
                valid_from=valid_from,
                valid_to=None,
                depth=parent.depth + 1,
                tenant_id=self.context.tenant.pk,
                parent_code=parent.code,
            )
        return []

    def existing(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
        found = (
            AdministrativeUnit.objects.filter(
                tenant_id=self.context.tenant.pk, code__in=[key[0] for key in keys]
            )
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self._today))
            .select_related("parent")
        )
        result: dict[tuple[Any, ...], Any] = {}
        for unit in found:
            other = result.get((unit.code,))
            if other is None or other.valid_to is not None:
                result[(unit.code,)] = unit
        return result

    def check_existing(self, obj: Model, values: dict[str, Any]) -> list[tuple[str, str]]:
        unit: AdministrativeUnit = obj  # type: ignore[assignment]
        self._load()
        if not unit.path.startswith(self.context.unit.path):
            return [
                (
                    "code",
                    _("Code %(code)s belongs to a unit outside your unit.") % {"code": unit.code},
                )
            ]
        stored_parent = unit.parent.code if unit.parent is not None else ""
        if "parent_code" in values and (values["parent_code"] or "") != stored_parent:
            return [
                (
                    "parent_code",
                    _(
                        "%(unit)s stands under the unit with code %(parent)s: an import does not move units. Keep that parent code, or move the unit with the reorganisation feature."
                    )
                    % {"unit": unit.name, "parent": stored_parent or "—"},
                )
            ]
        valid_from = values.get("valid_from", unit.valid_from)
        parent = self._by_pk.get(unit.parent_id) if unit.parent_id is not None else None
        level, column, problem = self._placement(parent, values["kind"], valid_from, unit.valid_to)
        if problem:
            return [(column, problem)]
        if level != unit.level and self._children.get(unit.pk):
            return [
                (
                    "kind",
                    _(
                        "%(unit)s has sub-units: its level cannot change (only its kind within the same level)."
                    )
                    % {"unit": unit.name},
                )
            ]
        first_child = self._first_child_from.get(unit.pk)
        if first_child is not None and first_child < valid_from:
            return [("valid_from", str(ValidityError.default_message))]
        return []

    def stored_value(self, obj: Model, name: str) -> Any:
        if name == "parent_code":
            parent = obj.parent  # type: ignore[attr-defined]
            return parent.code if parent is not None else ""
        return getattr(obj, name)

    def write(self, new: list[RowChange], changed: list[RowChange]) -> None:
        self._create(new)
        updated = []
        now = timezone.now()
        for change in changed:
            unit: AdministrativeUnit = change.obj
            v = change.values
            unit.name = v["name"]
            unit.search_name = fold(unit.name)
            unit.sort_name = natural_key(unit.name)
            unit.kind = v["kind"]
            unit.level = KIND_LEVEL[unit.kind]
            if "valid_from" in v:
                unit.valid_from = v["valid_from"]
            if "is_disadvantaged" in v:
                unit.is_disadvantaged = v["is_disadvantaged"]
            unit.version += 1
            unit.updated_at = now
            updated.append(unit)
        if updated:
            AdministrativeUnit.objects.bulk_update(
                updated,
                [
                    "name",
                    "search_name",
                    "sort_name",
                    "kind",
                    "level",
                    "valid_from",
                    "is_disadvantaged",
                    "version",
                    "updated_at",
                ],
                batch_size=1000,
            )

    def _create(self, new: list[RowChange]) -> None:
        """Insert the batch's new units a tree level at a time (parents first), then write
        their paths, which need their primary keys."""
        by_depth: dict[int, list[RowChange]] = defaultdict(list)
        for change in new:
            by_depth[self._new[change.values["code"]].depth].append(change)
        tenant_id = self.context.tenant.pk
        for depth in sorted(by_depth):
            created: list[tuple[AdministrativeUnit, _Known, _Known]] = []
            for change in by_depth[depth]:
                v = change.values
                known = self._new[v["code"]]
                parent = self._new.get(known.parent_code) or self._current[known.parent_code]
                if parent.pk is None:  # cannot happen: parents come first in the file
                    raise RuntimeError(f"the parent of unit {known.code} is not written yet")
                unit = AdministrativeUnit(
                    tenant_id=tenant_id,
                    parent_id=parent.pk,
                    level=known.level,
                    kind=v["kind"],
                    name=v["name"],
                    search_name=fold(v["name"]),
                    sort_name=natural_key(v["name"]),
                    code=v["code"],
                    valid_from=known.valid_from,
                    is_disadvantaged=v.get("is_disadvantaged") or False,
                    path=f"new-{uuid.uuid4().hex}",  # unique until the real path is known
                    depth=depth,
                )
                created.append((unit, known, parent))
            AdministrativeUnit.objects.bulk_create([c[0] for c in created], batch_size=1000)
            for unit, known, parent in created:
                unit.path = parent.path + path_segment(unit.pk)
                known.pk, known.path = unit.pk, unit.path
            AdministrativeUnit.objects.bulk_update(
                [c[0] for c in created], ["path"], batch_size=1000
            )

    # -- exports
    def export_queryset(self, user: Any, unit: AdministrativeUnit) -> QuerySet[Any]:
        """The units in force of the subtree, parents before their sub-units."""
        return (
            units_for_user(user, roles=ADMIN_ROLES)
            .filter(path__startswith=unit.path)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=timezone.localdate()))
            .select_related("parent")
            .order_by("path")
        )

    def export_get(self, obj: Model, column: Column) -> Any:
        if column.attribute == "parent_code":
            return self.stored_value(obj, "parent_code")
        return column.get_value(obj)

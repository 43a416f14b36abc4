"""Import kinds of the subjects of recognition: households here, and what the clan,
organisation and citizen kinds (clans.py, organisations.py, citizens.py) share.

The rules are the subject services' (recognition/services/subjects.py): a
household belongs to a neighbourhood and its code is unique in the tenant; the
eligible base of the rollups follows every new subject (reports/services.py).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.bulk import bulk_insert
from recognition.models import Household
from recognition.selectors.subjects import (
    SUBJECT_WRITERS,
    SubjectKind,
    search_text_for,
    subjects_for_user,
)
from recognition.services.subjects import (
    HOUSEHOLD_MAX_MEMBERS,
)
from spreadsheets import cleaners
from spreadsheets.cleaners import CellError
from spreadsheets.kinds.base import (
    CellWidget,
    Column,
    ImportContext,
    ImportKind,
    RowChange,
    UnitCodeWidget,
    UnitRef,
)
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import subtree


def rollup_base_moved(model: type[Model], per_unit: Counter[int]) -> None:
    """Move the rollups' eligible base once for the whole import (not once per row)."""
    from reports.services import rollup_bases_moved  # lazy: import cycle

    rollup_bases_moved(model=model, deltas=dict(per_unit))


class HouseholdKind(ImportKind):
    """Hộ gia đình: one row per household, keyed by the household code (unique in the tenant)."""

    key = "households"
    #: As the subject services: ward officials, neighbourhood leads, administrators.
    roles = SUBJECT_WRITERS
    label = gettext_lazy("Households")
    natural_key = ("code",)
    instructions = (
        gettext_lazy(
            "One row per household. The household code is unique in the whole province/city: a row whose code already exists updates that household."
        ),
        gettext_lazy(
            "The neighbourhood code is the official code of the khu phố / ấp / thôn / tổ dân phố where the household lives; it must be inside your unit."
        ),
        gettext_lazy(
            "Do not change the header row. Keep one household per row, no merged cells, no formulas."
        ),
    )

    code = Column(
        attribute="code",
        header="Mã hộ",
        header_en="Household code",
        widget=CellWidget(cleaners.text, required=True, max_length=64),
        required=True,
        help=gettext_lazy("Unique in the province/city, e.g. Q10-P1-KP1-0001."),
        width=22,
    )
    head_name = Column(
        attribute="head_name",
        header="Chủ hộ",
        header_en="Head of household",
        widget=CellWidget(cleaners.text, required=True, max_length=200),
        required=True,
        help=gettext_lazy("Full name of the head of household."),
        width=28,
    )
    address = Column(
        attribute="address",
        header="Địa chỉ",
        header_en="Address",
        widget=CellWidget(cleaners.text, max_length=300),
        help=gettext_lazy("House number and street."),
        width=36,
    )
    member_count = Column(
        attribute="member_count",
        header="Số nhân khẩu",
        header_en="Members",
        widget=CellWidget(
            cleaners.integer, required=True, min_value=1, max_value=HOUSEHOLD_MAX_MEMBERS
        ),
        required=True,
        help=gettext_lazy("Number of people in the household (at least 1)."),
        width=14,
        number_format="#,##0",
    )
    unit = Column(
        attribute="unit",
        header="Mã khu phố/ấp",
        header_en="Neighbourhood code",
        widget=UnitCodeWidget(levels=(Level.NEIGHBOURHOOD,), required=True, max_length=32),
        required=True,
        help=gettext_lazy("Official code of the neighbourhood (khu phố, ấp, thôn, tổ dân phố)."),
        width=18,
    )

    class Meta:
        model = Household
        fields = ("code", "head_name", "address", "member_count", "unit")
        import_id_fields = ("code",)

    def __init__(self, ctx: Any = None, **kwargs: Any) -> None:
        super().__init__(ctx, **kwargs)
        self._base: Counter[int] = Counter()

    def check_row(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        unit: UnitRef = values["unit"]
        if unit.valid_to is not None:
            return [("unit", _("%(unit)s is no longer in force.") % {"unit": unit.name})]
        return []

    def existing(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Model]:
        codes = [k[0] for k in keys]
        found = Household.objects.filter(
            tenant_id=self.context.tenant.pk, code__in=codes
        ).select_related("unit")
        return {(h.code,): h for h in found}

    def check_existing(self, obj: Model, values: dict[str, Any]) -> list[tuple[str, str]]:
        household: Household = obj  # type: ignore[assignment]
        if not household.unit.path.startswith(self.context.unit.path):
            return [
                (
                    "code",
                    _("Household code %(code)s belongs to a household outside your unit.")
                    % {"code": household.code},
                )
            ]
        return []

    def write(self, new: list[RowChange], changed: list[RowChange]) -> None:
        tenant_id = self.context.tenant.pk
        created = []
        for change in new:
            v = change.values
            household = Household(
                tenant_id=tenant_id,
                unit_id=v["unit"].pk,
                code=v["code"],
                head_name=v["head_name"],
                address=v.get("address") or "",
                member_count=v["member_count"],
            )
            household.search_text = search_text_for(SubjectKind.HOUSEHOLD, household)
            created.append(household)
            self._base[v["unit"].pk] += 1
        bulk_insert(Household, created)
        updated = []
        now = timezone.now()
        for change in changed:
            stored: Household = change.obj
            v = change.values
            if stored.is_active and "unit" in change.changes:
                self._base[stored.unit_id] -= 1
                self._base[v["unit"].pk] += 1
            stored.unit_id = v["unit"].pk
            stored.head_name = v["head_name"]
            if "address" in v:
                stored.address = v["address"] or ""
            stored.member_count = v["member_count"]
            stored.search_text = search_text_for(SubjectKind.HOUSEHOLD, stored)
            stored.version += 1
            stored.updated_at = now
            updated.append(stored)
        if updated:
            Household.objects.bulk_update(
                updated,
                [
                    "unit",
                    "head_name",
                    "address",
                    "member_count",
                    "search_text",
                    "version",
                    "updated_at",
                ],
                batch_size=1000,
            )

    def finish(self) -> None:
        rollup_base_moved(Household, self._base)

    def export_queryset(self, user: Any, unit: AdministrativeUnit) -> QuerySet[Any]:
        return (
            subjects_for_user(user, SubjectKind.HOUSEHOLD)
            .filter(unit__in=subtree(unit))
            .order_by("code")
        )


# --- Shared by the clan, organisation and citizen kinds ---------------------------------

_CODE_SEPARATORS = re.compile(r"[;,]")


@dataclass(frozen=True)
class KeyPart:
    """A part of a natural key: compared and hashed by ``match``, shown in the preview as
    ``shown`` (a unit's code rather than its pk, a masked ID number rather than the number)."""

    match: Any
    shown: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.shown or str(self.match)

    def __repr__(self) -> str:  # the engine finds duplicate keys by hashing repr(key)
        return f"KeyPart({self.match!r})"


@dataclass(frozen=True)
class Refusal:
    """What :meth:`existing` returns for a key that must not be imported (e.g. a masked ID
    number that matches no stored citizen): :meth:`check_existing` turns it into the row's
    error, since the engine asks the kind only about rows it found."""

    column: str
    message: str


def refusal_errors(obj: Any) -> list[tuple[str, str]]:
    return [(obj.column, obj.message)] if isinstance(obj, Refusal) else []


def assign_present(obj: Model, values: dict[str, Any], names: tuple[str, ...]) -> None:
    """Copy the columns the file has onto ``obj`` (a column left out of the file keeps
    the stored value; an empty cell of an optional text column stores "")."""
    for name in names:
        if name in values:
            value = values[name]
            field_ = obj._meta.get_field(name)
            setattr(obj, name, "" if value is None and not field_.null else value)


class UnitListWidget(CellWidget):
    """Several unit codes in one cell, separated by ";" or ",", each inside the importer's
    subtree; gives the units (each once) in the order written."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cleaners.text, **options)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> tuple[UnitRef, ...]:
        text = cleaners.text(value, **self.options)
        ctx: ImportContext | None = kwargs.get("ctx")
        if ctx is None:
            raise CellError(_("Unit codes need an import context."))
        found: dict[int, UnitRef] = {}
        for part in _CODE_SEPARATORS.split(text):
            code = part.strip()
            if code:
                ref = ctx.unit_by_code(code)
                found.setdefault(ref.pk, ref)
        return tuple(found.values())

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, list | tuple):
            return "; ".join(str(code) for code in value)
        return value


class SubjectImportKind(ImportKind):
    """What the clan, organisation and citizen kinds share: the unit rules of the subject
    services and the rollups' eligible base, moved once at the end of the import."""

    roles = SUBJECT_WRITERS
    #: The levels of unit the subject may belong to, and the services' message otherwise.
    unit_levels: ClassVar[tuple[str, ...]] = ()
    unit_level_message: ClassVar[str | Promise] = ""

    def __init__(self, ctx: Any = None, **kwargs: Any) -> None:
        super().__init__(ctx, **kwargs)
        self._base: Counter[int] = Counter()

    def check_unit(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        unit: UnitRef = values["unit"]
        if unit.level not in self.unit_levels:
            return [("unit", str(self.unit_level_message))]
        if unit.valid_to is not None and unit.valid_to < timezone.localdate():
            return [("unit", _("%(unit)s is no longer in force.") % {"unit": unit.name})]
        return []

    def check_row(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        return self.check_unit(values)

    def finish(self) -> None:
        rollup_base_moved(self._meta.model, self._base)

    def export_subjects(self, user: Any, unit: AdministrativeUnit, kind: str) -> QuerySet[Any]:
        return subjects_for_user(user, kind).filter(unit__in=subtree(unit))


class NamedInUnitKind(SubjectImportKind):
    """Clans and organisations: named uniquely inside the unit that manages them. The
    services compare names case-insensitively, so the key does too."""

    natural_key = ("unit", "name")

    def key_of(self, values: dict[str, Any]) -> tuple[Any, ...]:
        unit: UnitRef = values["unit"]
        name: str = values["name"]
        return (KeyPart(unit.pk, unit.code), KeyPart(name.casefold(), name))

    def existing(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
        # A unit manages a few dozen clans or organisations: load them all and match the
        # names in Python (case-insensitively on every database, as the services do).
        model = self._meta.model
        found = self.related(
            model.objects.filter(
                tenant_id=self.context.tenant.pk, unit_id__in={key[0].match for key in keys}
            ).select_related("unit")
        )
        return {(KeyPart(obj.unit_id), KeyPart(obj.name.casefold())): obj for obj in found}

    def related(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset


# --- Clans ------------------------------------------------------------------------------

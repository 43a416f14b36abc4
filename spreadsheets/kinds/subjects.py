"""Import kinds of the subjects of recognition: households, clans, organisations, citizens.

The rules are the subject services' (recognition/services/subjects.py): a
household belongs to a neighbourhood and its code is unique in the tenant; the
eligible base of the rollups follows every new subject (reports/services.py).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.bulk import bulk_insert
from core.text import fold
from recognition.exceptions import SubjectError
from recognition.models import Citizen, Clan, Household, LabourGroup, Organisation
from recognition.selectors.subjects import SubjectKind, search_text_for, subjects_for_user
from recognition.services.subjects import (
    HOUSEHOLD_MAX_MEMBERS,
    MAX_MEMBERS,
    _check_birth_year,
    normalise_national_id,
)
from spreadsheets import cleaners
from spreadsheets.cleaners import CellError
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
                    _(
                        "Household code %(code)s belongs to a household of %(unit)s, outside your unit."
                    )
                    % {"code": household.code, "unit": household.unit.name},
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
_MASKED_ID = re.compile(r"^\*+([0-9]{3})$")


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


class _NamedInUnitKind(SubjectImportKind):
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


class ClanKind(_NamedInUnitKind):
    """Dòng họ: one row per clan, keyed by the managing commune's code and the clan's name."""

    key = "clans"
    label = gettext_lazy("Clans")
    unit_levels = (Level.COMMUNE,)
    unit_level_message = gettext_lazy(
        "A clan is managed by a commune or ward: choose a commune-level unit."
    )
    instructions = (
        gettext_lazy(
            "One row per clan. A clan is identified by the code of the commune or ward that manages it and its name: a row whose commune and name already exist updates that clan (names are compared without regard to capital letters)."
        ),
        gettext_lazy(
            "The commune code is the official code of the xã / phường / thị trấn that manages the clan; it must be inside your unit."
        ),
        gettext_lazy(
            "Home units: the codes of the neighbourhoods (khu phố, ấp, thôn, tổ dân phố) of that commune where the clan's families live, separated by ';' or ','. An empty cell removes the stored home units."
        ),
        gettext_lazy(
            "Do not change the header row. Keep one clan per row, no merged cells, no formulas."
        ),
    )

    name = Column(
        attribute="name",
        header="Tên dòng họ",
        header_en="Clan name",
        widget=CellWidget(cleaners.text, required=True, max_length=200),
        required=True,
        help=gettext_lazy("E.g. Họ Nguyễn Văn; unique inside the commune."),
        width=28,
    )
    representative = Column(
        attribute="representative",
        header="Người đại diện",
        header_en="Representative",
        widget=CellWidget(cleaners.text, required=True, max_length=200),
        required=True,
        help=gettext_lazy("Full name of the clan's representative (trưởng họ)."),
        width=28,
    )
    member_count = Column(
        attribute="member_count",
        header="Số thành viên",
        header_en="Members",
        widget=CellWidget(cleaners.integer, min_value=1, max_value=MAX_MEMBERS),
        help=gettext_lazy("Number of members (optional, at least 1)."),
        width=14,
        number_format="#,##0",
    )
    unit = Column(
        attribute="unit",
        header="Mã xã/phường",
        header_en="Commune code",
        widget=UnitCodeWidget(required=True, max_length=32),
        required=True,
        help=gettext_lazy("Official code of the commune or ward that manages the clan."),
        width=16,
    )
    home_units = Column(
        attribute="home_units",
        header="Mã khu phố/ấp nơi sinh sống",
        header_en="Home unit codes",
        widget=UnitListWidget(max_length=2000),
        help=gettext_lazy(
            "Codes of the neighbourhoods of the commune where the clan lives, separated by ';', e.g. 27184-KP01; 27184-KP02."
        ),
        width=32,
    )

    class Meta:
        model = Clan
        fields = ("name", "representative", "member_count", "unit", "home_units")
        import_id_fields = ("unit", "name")

    def check_row(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        errors = self.check_unit(values)
        if errors:
            return errors
        unit: UnitRef = values["unit"]
        for home in values.get("home_units") or ():
            if not home.path.startswith(unit.path):  # the rule of the clan services
                return [
                    (
                        "home_units",
                        _(
                            "A clan's home units must lie inside the commune that manages it: "
                            "%(name)s does not."
                        )
                        % {"name": home.name},
                    )
                ]
        return []

    def related(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.prefetch_related("home_units")

    def compare(self, obj: Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        clan: Clan = obj  # type: ignore[assignment]
        changes = super().compare(
            clan, {name: v for name, v in values.items() if name != "home_units"}
        )
        if "home_units" in values:
            stored = list(clan.home_units.all())
            new: tuple[UnitRef, ...] = values["home_units"]
            if {u.pk for u in stored} != {u.pk for u in new}:
                changes["home_units"] = (
                    "; ".join(sorted(u.code for u in stored)),
                    "; ".join(sorted(u.code for u in new)),
                )
        return changes

    def write(self, new: list[RowChange], changed: list[RowChange]) -> None:
        through = Clan.home_units.through
        created = []
        for change in new:
            v = change.values
            clan = Clan(
                tenant_id=self.context.tenant.pk,
                unit_id=v["unit"].pk,
                name=v["name"],
                representative=v["representative"],
                member_count=v.get("member_count"),
            )
            clan.search_text = search_text_for(SubjectKind.CLAN, clan)
            created.append(clan)
            self._base[v["unit"].pk] += 1
        # bulk_create (not COPY): the home units need the new primary keys.
        Clan.objects.bulk_create(created, batch_size=1000)
        links = [
            through(clan_id=clan.pk, administrativeunit_id=home.pk)
            for clan, change in zip(created, new, strict=True)
            for home in change.values.get("home_units") or ()
        ]
        updated: list[Clan] = []
        relinked: list[int] = []
        now = timezone.now()
        for change in changed:
            clan = change.obj
            assign_present(clan, change.values, ("name", "representative", "member_count"))
            clan.search_text = search_text_for(SubjectKind.CLAN, clan)
            clan.version += 1
            clan.updated_at = now
            updated.append(clan)
            if "home_units" in change.changes:
                relinked.append(clan.pk)
                links.extend(
                    through(clan_id=clan.pk, administrativeunit_id=home.pk)
                    for home in change.values["home_units"]
                )
        if updated:
            Clan.objects.bulk_update(
                updated,
                ["name", "representative", "member_count", "search_text", "version", "updated_at"],
                batch_size=1000,
            )
        if relinked:
            through.objects.filter(clan_id__in=relinked).delete()
        through.objects.bulk_create(links, batch_size=2000)

    def export_queryset(self, user: Any, unit: AdministrativeUnit) -> QuerySet[Any]:
        return self.export_subjects(user, unit, SubjectKind.CLAN).order_by("unit__code", "name")

    def export_get(self, obj: Model, column: Column) -> Any:
        if column.attribute == "home_units":
            return sorted(u.code for u in obj.home_units.all())  # type: ignore[attr-defined]
        return super().export_get(obj, column)


# --- Organisations ----------------------------------------------------------------------


class OrganisationKind(_NamedInUnitKind):
    """Cơ quan, trường học, doanh nghiệp: one row per organisation, keyed by the managing
    unit's code and the organisation's name."""

    key = "organisations"
    label = gettext_lazy("Organisations")
    unit_levels = (Level.PROVINCE, Level.DISTRICT, Level.COMMUNE)
    unit_level_message = gettext_lazy(
        "An organisation is managed by a commune, district or province, not by a neighbourhood."
    )
    instructions = (
        gettext_lazy(
            "One row per agency, school, enterprise or other organisation. An organisation is identified by the code of the unit that manages it and its name: a row whose unit and name already exist updates that organisation (names are compared without regard to capital letters)."
        ),
        gettext_lazy(
            "The managing unit is a commune/ward, a district or the province/city, given by its official code; it must be inside your unit. Neighbourhoods do not manage organisations."
        ),
        gettext_lazy("Choose the kind from the drop-down list of the column."),
        gettext_lazy(
            "Do not change the header row. Keep one organisation per row, no merged cells, no formulas."
        ),
    )

    name = Column(
        attribute="name",
        header="Tên cơ quan, đơn vị",
        header_en="Organisation name",
        widget=CellWidget(cleaners.text, required=True, max_length=300),
        required=True,
        help=gettext_lazy("Full name, unique among the organisations of the managing unit."),
        width=36,
    )
    kind = Column(
        attribute="kind",
        header="Loại hình",
        header_en="Kind",
        widget=ChoiceWidget(Organisation.Kind.choices, required=True),
        required=True,
        help=gettext_lazy("One of the list: state agency, school, enterprise, …"),
        choices=[label for _code, label in Organisation.Kind.choices],
        width=22,
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
        header="Số thành viên",
        header_en="Members",
        widget=CellWidget(cleaners.integer, min_value=1, max_value=MAX_MEMBERS),
        help=gettext_lazy("Number of staff or members (optional, at least 1)."),
        width=14,
        number_format="#,##0",
    )
    unit = Column(
        attribute="unit",
        header="Mã đơn vị quản lý",
        header_en="Managing unit code",
        widget=UnitCodeWidget(required=True, max_length=32),
        required=True,
        help=gettext_lazy(
            "Official code of the commune, district or province that manages the organisation."
        ),
        width=18,
    )

    class Meta:
        model = Organisation
        fields = ("name", "kind", "address", "member_count", "unit")
        import_id_fields = ("unit", "name")

    def write(self, new: list[RowChange], changed: list[RowChange]) -> None:
        created = []
        for change in new:
            v = change.values
            organisation = Organisation(
                tenant_id=self.context.tenant.pk,
                unit_id=v["unit"].pk,
                name=v["name"],
                kind=v["kind"],
                address=v.get("address") or "",
                member_count=v.get("member_count"),
            )
            organisation.search_text = search_text_for(SubjectKind.ORGANISATION, organisation)
            created.append(organisation)
            self._base[v["unit"].pk] += 1
        bulk_insert(Organisation, created)
        updated = []
        now = timezone.now()
        for change in changed:
            organisation = change.obj
            assign_present(organisation, change.values, ("name", "kind", "address", "member_count"))
            organisation.search_text = search_text_for(SubjectKind.ORGANISATION, organisation)
            organisation.version += 1
            organisation.updated_at = now
            updated.append(organisation)
        if updated:
            Organisation.objects.bulk_update(
                updated,
                ["name", "kind", "address", "member_count", "search_text", "version", "updated_at"],
                batch_size=1000,
            )

    def export_queryset(self, user: Any, unit: AdministrativeUnit) -> QuerySet[Any]:
        return self.export_subjects(user, unit, SubjectKind.ORGANISATION).order_by(
            "unit__code", "name"
        )


# --- Citizens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MaskedId:
    """A citizen ID number as lists and exports show it (``*********123``): "keep the
    stored number", which must end in the same three digits."""

    text: str

    @property
    def last_digits(self) -> str:
        return self.text[-3:]

    def __str__(self) -> str:
        return self.text


def mask_national_id(value: str) -> str:
    """``012345678901`` -> ``*********901`` (as :attr:`Citizen.national_id_masked`)."""
    return "" if not value else "*" * (len(value) - 3) + value[-3:]


class NationalIdWidget(CellWidget):
    """A citizen ID number (số CCCD): 12 digits, empty, or the masked form of an export."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cleaners.text, **options)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | MaskedId:
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Excel turned the number into a number and dropped its leading zeros
            # (every CCCD starts with the province's code, 001-096).
            digits = cleaners.text(value)
            if digits.isdigit() and 10 <= len(digits) < 12:
                return digits.zfill(12)
        text = cleaners.text(value, **self.options)
        masked = _MASKED_ID.match(text.replace(" ", ""))
        if masked:
            return MaskedId(text.replace(" ", ""))
        try:
            return normalise_national_id(text)
        except SubjectError as exc:
            raise CellError(str(exc)) from exc

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return str(value or "")


class CitizenKind(SubjectImportKind):
    """Công dân học tập: one row per citizen, keyed by the citizen ID number when the row
    gives it, otherwise by neighbourhood (or commune), full name and year of birth."""

    key = "citizens"
    label = gettext_lazy("Citizens")
    natural_key = ("national_id", "unit", "full_name", "birth_year")
    unit_levels = (Level.NEIGHBOURHOOD, Level.COMMUNE)
    unit_level_message = gettext_lazy("A citizen belongs to a neighbourhood or a commune.")
    instructions = (
        gettext_lazy(
            "One row per citizen. A citizen is identified by the citizen ID number (CCCD, 12 digits) when the row gives it; otherwise by the unit code, the full name and the year of birth together."
        ),
        gettext_lazy(
            "The ID number is personal data: exports show it masked, only its last 3 digits (e.g. *********123). A masked number in this column means “keep the stored number”: the row is then matched by unit, full name and year of birth, and the last 3 digits must be those of the stored number."
        ),
        gettext_lazy(
            "Write a full 12-digit number to add or correct it (format the column as Text so that Excel keeps the leading zero). An empty cell means the citizen has no ID number on record: it removes a stored one."
        ),
        gettext_lazy(
            "The unit code is the official code of the neighbourhood (khu phố, ấp, thôn, tổ dân phố) or commune where the citizen lives; it must be inside your unit."
        ),
        gettext_lazy(
            "Do not change the header row. Keep one citizen per row, no merged cells, no formulas."
        ),
    )

    full_name = Column(
        attribute="full_name",
        header="Họ và tên",
        header_en="Full name",
        widget=CellWidget(cleaners.text, required=True, max_length=200),
        required=True,
        help=gettext_lazy("Full name with diacritics, e.g. Nguyễn Thị Lan."),
        width=28,
    )
    birth_year = Column(
        attribute="birth_year",
        header="Năm sinh",
        header_en="Year of birth",
        widget=CellWidget(cleaners.year, required=True),
        required=True,
        help=gettext_lazy("Four digits, e.g. 1985."),
        width=10,
        number_format="0",
    )
    labour_group = Column(
        attribute="labour_group",
        header="Nhóm đối tượng",
        header_en="Labour group",
        widget=ChoiceWidget(LabourGroup.choices, required=True),
        required=True,
        help=gettext_lazy("One of the groups of QĐ 244/QĐ-KHVN in the list."),
        choices=[label for _code, label in LabourGroup.choices],
        width=30,
    )
    national_id = Column(
        attribute="national_id",
        header="Số CCCD",
        header_en="Citizen ID number",
        widget=NationalIdWidget(max_length=32),
        help=gettext_lazy(
            "12 digits (optional). A masked number from an export (*********123) keeps the stored one."
        ),
        width=16,
        number_format="@",
    )
    unit = Column(
        attribute="unit",
        header="Mã khu phố/ấp hoặc xã/phường",
        header_en="Unit code",
        widget=UnitCodeWidget(required=True, max_length=32),
        required=True,
        help=gettext_lazy("Official code of the neighbourhood or commune where the citizen lives."),
        width=18,
    )

    class Meta:
        model = Citizen
        fields = ("full_name", "birth_year", "labour_group", "national_id", "unit")
        import_id_fields = ("national_id",)

    def __init__(self, ctx: Any = None, **kwargs: Any) -> None:
        super().__init__(ctx, **kwargs)
        #: key -> (how the row gives the ID: "id" / "masked" / "none", the name key,
        #: the masked form's last digits); filled by key_of, emptied by existing.
        self._pending: dict[tuple[Any, ...], tuple[str, tuple[Any, ...], str]] = {}

    def check_row(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        errors = self.check_unit(values)
        try:
            _check_birth_year(values["birth_year"])
        except SubjectError as exc:
            errors.append(("birth_year", str(exc)))
        return errors

    @staticmethod
    def _name_key(unit_id: int, full_name: str, birth_year: int) -> tuple[Any, ...]:
        return (KeyPart(unit_id), KeyPart(full_name.casefold()), birth_year)

    def key_of(self, values: dict[str, Any]) -> tuple[Any, ...]:
        unit: UnitRef = values["unit"]
        name: str = values["full_name"]
        national_id = values.get("national_id") or ""
        name_key = (
            KeyPart(unit.pk, unit.code),
            KeyPart(name.casefold(), name),
            values["birth_year"],
        )
        if isinstance(national_id, str) and national_id:
            key: tuple[Any, ...] = (KeyPart(national_id, mask_national_id(national_id)),)
            self._pending[key] = ("id", name_key, "")
            return key
        if isinstance(national_id, MaskedId):
            self._pending[name_key] = ("masked", name_key, national_id.last_digits)
        else:
            self._pending[name_key] = ("none", name_key, "")
        return name_key

    def existing(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
        pending = [(key, *self._pending.get(key, ("none", key, ""))) for key in keys]
        self._pending = {}
        ids = [key[0].match for key, how, _n, _d in pending if how == "id"]
        names = [name_key for _k, _how, name_key, _d in pending]
        query = Q(national_id__in=ids) | Q(
            unit_id__in={k[0].match for k in names},
            birth_year__in={k[2] for k in names},
        ) & (
            Q(full_name__in={k[1].shown for k in names})
            | Q(search_text__in={fold(k[1].shown) for k in names})
        )
        found = Citizen.objects.filter(query, tenant_id=self.context.tenant.pk).select_related(
            "unit"
        )
        by_id: dict[str, Citizen] = {}
        by_name: dict[tuple[Any, ...], list[Citizen]] = defaultdict(list)
        for citizen in found:
            if citizen.national_id:
                by_id[citizen.national_id] = citizen
            by_name[self._name_key(citizen.unit_id, citizen.full_name, citizen.birth_year)].append(
                citizen
            )
        result: dict[tuple[Any, ...], Any] = {}
        for key, how, name_key, last_digits in pending:
            candidates = by_name.get(name_key, [])
            if how == "id":
                stored = by_id.get(key[0].match)
                if stored is not None:
                    result[key] = stored
                    continue
                # A citizen recorded without a number gets the number of this row.
                candidates = [c for c in candidates if not c.national_id]
            elif how == "masked":
                candidates = [c for c in candidates if c.national_id.endswith(last_digits)]
                if not candidates:
                    result[key] = Refusal(
                        "national_id",
                        _(
                            "No citizen of this unit with this full name and year of birth has a citizen ID number ending in %(digits)s: write the full 12-digit number, or leave the cell empty for a citizen without one."
                        )
                        % {"digits": last_digits},
                    )
                    continue
            if len(candidates) > 1:
                result[key] = Refusal(
                    "full_name",
                    _(
                        "Several citizens of this unit have this full name and year of birth: write the citizen ID number to say which one."
                    ),
                )
            elif candidates:
                result[key] = candidates[0]
        return result

    def check_existing(self, obj: Model, values: dict[str, Any]) -> list[tuple[str, str]]:
        if isinstance(obj, Refusal):
            return refusal_errors(obj)
        citizen: Citizen = obj  # type: ignore[assignment]
        if not citizen.unit.path.startswith(self.context.unit.path):
            return [("national_id", _("Another citizen already has this citizen ID number."))]
        seen: set[int] = self.context.cache.setdefault("citizens.matched", set())
        if citizen.pk in seen:
            return [
                (
                    "full_name",
                    _("Another row of the file already updates this citizen."),
                )
            ]
        seen.add(citizen.pk)
        return []

    def compare(self, obj: Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        citizen: Citizen = obj  # type: ignore[assignment]
        changes = super().compare(
            citizen, {name: v for name, v in values.items() if name != "national_id"}
        )
        national_id = values.get("national_id")
        if isinstance(national_id, str) and national_id != citizen.national_id:
            # The preview keeps samples: never the full number.
            changes["national_id"] = (citizen.national_id_masked, mask_national_id(national_id))
        return changes

    def write(self, new: list[RowChange], changed: list[RowChange]) -> None:
        created = []
        for change in new:
            v = change.values
            national_id = v.get("national_id")
            citizen = Citizen(
                tenant_id=self.context.tenant.pk,
                unit_id=v["unit"].pk,
                full_name=v["full_name"],
                birth_year=v["birth_year"],
                labour_group=v["labour_group"],
                national_id=national_id if isinstance(national_id, str) else "",
            )
            citizen.search_text = search_text_for(SubjectKind.CITIZEN, citizen)
            created.append(citizen)
            self._base[v["unit"].pk] += 1
        bulk_insert(Citizen, created)
        updated = []
        now = timezone.now()
        for change in changed:
            citizen = change.obj
            v = change.values
            if citizen.is_active and "unit" in change.changes:
                self._base[citizen.unit_id] -= 1
                self._base[v["unit"].pk] += 1
            citizen.unit_id = v["unit"].pk
            assign_present(citizen, v, ("full_name", "birth_year", "labour_group"))
            if isinstance(v.get("national_id"), str):
                citizen.national_id = v["national_id"]
            citizen.search_text = search_text_for(SubjectKind.CITIZEN, citizen)
            citizen.version += 1
            citizen.updated_at = now
            updated.append(citizen)
        if updated:
            Citizen.objects.bulk_update(
                updated,
                [
                    "unit",
                    "full_name",
                    "birth_year",
                    "labour_group",
                    "national_id",
                    "search_text",
                    "version",
                    "updated_at",
                ],
                batch_size=1000,
            )

    def export_queryset(self, user: Any, unit: AdministrativeUnit) -> QuerySet[Any]:
        return self.export_subjects(user, unit, SubjectKind.CITIZEN).order_by(
            "unit__code", "full_name", "birth_year", "pk"
        )

    def export_get(self, obj: Model, column: Column) -> Any:
        if column.attribute == "national_id":
            return obj.national_id_masked  # type: ignore[attr-defined]
        return super().export_get(obj, column)

"""Import kind of citizens (công dân học tập): keyed by ID number, or by neighbourhood, name and birth year."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.bulk import bulk_insert
from core.text import fold
from recognition.exceptions import SubjectError
from recognition.models import Citizen, LabourGroup
from recognition.personal_data.crypto import blind_index, mask
from recognition.personal_data.exceptions import SubjectErasedError
from recognition.selectors.subjects import SubjectKind, search_text_for
from recognition.services.subjects import (
    _check_birth_year,
    normalise_national_id,
)
from spreadsheets import cleaners
from spreadsheets.cleaners import CellError
from spreadsheets.kinds.base import (
    CellWidget,
    ChoiceWidget,
    Column,
    RowChange,
    UnitCodeWidget,
    UnitRef,
)
from spreadsheets.kinds.subjects import (
    KeyPart,
    Refusal,
    SubjectImportKind,
    assign_present,
    refusal_errors,
)
from units.levels import Level
from units.models import AdministrativeUnit

_MASKED_ID = re.compile(r"^\*+([0-9]{3})$")


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
    return mask(value)


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
    def _name_key(unit_id: int, full_name: str, birth_year: int | None) -> tuple[Any, ...]:
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
        # ID numbers are encrypted at rest: match their blind index.
        query = Q(national_id_index__in=[blind_index(i) for i in ids]) | Q(
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
        if citizen.erased_at is not None:
            return [("full_name", str(SubjectErasedError().message))]
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
                    "national_id_index",
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

"""Import kinds of the subjects of recognition: households, clans, organisations, citizens.

The rules are the subject services' (recognition/services/subjects.py): a
household belongs to a neighbourhood and its code is unique in the tenant; the
eligible base of the rollups follows every new subject (reports/services.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recognition.models import Household
from recognition.selectors.subjects import SubjectKind, search_text_for, subjects_for_user
from recognition.services.subjects import HOUSEHOLD_MAX_MEMBERS
from spreadsheets import cleaners
from spreadsheets.kinds.base import (
    CellWidget,
    Column,
    ImportKind,
    RowChange,
    UnitCodeWidget,
    UnitRef,
)
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import subtree


def rollup_base_moved(model: type[Model], per_unit: Counter[int]) -> None:
    """Move the rollups' eligible base once per unit (not once per row)."""
    from reports.services import rollup_subject_changed  # lazy: import cycle

    sample = model()
    for unit_id, delta in per_unit.items():
        if delta:
            rollup_subject_changed(subject=sample, delta=delta, unit_id=unit_id)


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
        Household.objects.bulk_create(created, batch_size=2000)
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

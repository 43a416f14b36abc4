"""Import kind of organisations (agencies, schools, enterprises): keyed by managing unit and name."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.bulk import bulk_insert
from recognition.models import Organisation
from recognition.selectors.subjects import SubjectKind, search_text_for
from recognition.services.subjects import (
    MAX_MEMBERS,
)
from spreadsheets import cleaners
from spreadsheets.kinds.base import (
    CellWidget,
    ChoiceWidget,
    Column,
    RowChange,
    UnitCodeWidget,
)
from spreadsheets.kinds.subjects import (
    NamedInUnitKind,
    assign_present,
)
from units.levels import Level
from units.models import AdministrativeUnit


class OrganisationKind(NamedInUnitKind):
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

"""Import kind of clans (dòng họ): keyed by the managing commune and the clan's name."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recognition.models import Clan
from recognition.selectors.subjects import SubjectKind, search_text_for
from recognition.services.subjects import (
    MAX_MEMBERS,
)
from spreadsheets import cleaners
from spreadsheets.kinds.base import (
    CellWidget,
    Column,
    RowChange,
    UnitCodeWidget,
    UnitRef,
)
from spreadsheets.kinds.subjects import (
    NamedInUnitKind,
    UnitListWidget,
    assign_present,
)
from units.levels import Level
from units.models import AdministrativeUnit


class ClanKind(NamedInUnitKind):
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

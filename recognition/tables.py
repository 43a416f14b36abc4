"""django-tables2 tables of the recognition screens (subject lists, registration).

Every table reads only what the selectors loaded (``unit`` is select_related,
clans' home units prefetched): no query per row. A citizen's ID number appears
only masked (issue 4 §4).
"""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from recognition.models import Citizen, Clan, Household, Organisation, RegistrationStatus
from recognition.selectors.subjects import subject_name
from recognition.titles import SubjectKind
from units.models import AdministrativeUnit


def subject_url(kind: str, subject: Any) -> str:
    """The detail page of a subject (a unit's own page for a community)."""
    if kind == SubjectKind.UNIT:
        return str(subject.get_absolute_url())
    return reverse(f"recognition:{kind}-detail", kwargs={"public_id": subject.public_id})


def _active_badge(value: bool) -> SafeString:
    if value:
        return format_html('<span class="badge text-bg-success">{}</span>', _("active"))
    return format_html('<span class="badge text-bg-secondary">{}</span>', _("inactive"))


class SubjectTable(tables.Table):
    kind: str = ""

    unit = tables.Column(verbose_name=_("Unit"), accessor="unit__name", order_by="unit__sort_name")
    is_active = tables.Column(verbose_name=_("Status"))

    def render_is_active(self, value: bool) -> SafeString:
        return _active_badge(value)

    class Meta:
        attrs = {"class": "table table-hover align-middle"}
        per_page = 50
        empty_text = _("Nothing found.")


class HouseholdTable(SubjectTable):
    kind = SubjectKind.HOUSEHOLD

    code = tables.Column(
        verbose_name=_("Household code"),
        linkify=lambda record: subject_url(SubjectKind.HOUSEHOLD, record),
    )
    head_name = tables.Column(verbose_name=_("Head of household"))
    address = tables.Column(verbose_name=_("Address"), default="—")
    member_count = tables.Column(verbose_name=_("Members"), attrs={"td": {"class": "num"}})

    class Meta(SubjectTable.Meta):
        model = Household
        fields = ("code", "head_name", "address", "unit", "member_count", "is_active")
        sequence = ("code", "head_name", "address", "unit", "member_count", "is_active")


class ClanTable(SubjectTable):
    kind = SubjectKind.CLAN

    name = tables.Column(
        verbose_name=_("Clan name"), linkify=lambda record: subject_url(SubjectKind.CLAN, record)
    )
    representative = tables.Column(verbose_name=_("Representative"))
    home_units = tables.Column(verbose_name=_("Home units"), orderable=False, empty_values=())
    member_count = tables.Column(
        verbose_name=_("Members"), default="—", attrs={"td": {"class": "num"}}
    )

    def render_home_units(self, record: Clan) -> SafeString | str:
        homes = list(record.home_units.all())
        if not homes:
            return "—"
        return format_html_join(", ", "{}", ((u.name,) for u in homes))

    class Meta(SubjectTable.Meta):
        model = Clan
        fields = ("name", "representative", "unit", "home_units", "member_count", "is_active")
        sequence = ("name", "representative", "unit", "home_units", "member_count", "is_active")


class OrganisationTable(SubjectTable):
    kind = SubjectKind.ORGANISATION

    name = tables.Column(
        verbose_name=_("Name"), linkify=lambda record: subject_url(SubjectKind.ORGANISATION, record)
    )
    kind_label = tables.Column(verbose_name=_("Kind"), accessor="kind")
    address = tables.Column(verbose_name=_("Address"), default="—")
    member_count = tables.Column(
        verbose_name=_("Members"), default="—", attrs={"td": {"class": "num"}}
    )

    def render_kind_label(self, record: Organisation) -> str:
        return str(record.get_kind_display())

    class Meta(SubjectTable.Meta):
        model = Organisation
        fields = ("name", "kind_label", "unit", "address", "member_count", "is_active")
        sequence = ("name", "kind_label", "unit", "address", "member_count", "is_active")


class CitizenTable(SubjectTable):
    kind = SubjectKind.CITIZEN

    full_name = tables.Column(
        verbose_name=_("Full name"),
        linkify=lambda record: subject_url(SubjectKind.CITIZEN, record),
    )
    birth_year = tables.Column(verbose_name=_("Year of birth"))
    labour_group = tables.Column(verbose_name=_("Labour group"))
    national_id_masked = tables.Column(
        verbose_name=_("Citizen ID number"), orderable=False, empty_values=(), default="—"
    )

    def render_birth_year(self, value: int) -> str:
        return str(value)  # a year, never "1.980"

    def render_national_id_masked(self, record: Citizen) -> str:
        return record.national_id_masked or "—"

    class Meta(SubjectTable.Meta):
        model = Citizen
        fields = (
            "full_name",
            "birth_year",
            "labour_group",
            "national_id_masked",
            "unit",
            "is_active",
        )
        sequence = (
            "full_name",
            "birth_year",
            "labour_group",
            "national_id_masked",
            "unit",
            "is_active",
        )


SUBJECT_TABLES: dict[str, type[SubjectTable]] = {
    SubjectKind.HOUSEHOLD: HouseholdTable,
    SubjectKind.CLAN: ClanTable,
    SubjectKind.ORGANISATION: OrganisationTable,
    SubjectKind.CITIZEN: CitizenTable,
}


# --- Registration screen ----------------------------------------------------------------


class RegistrationCandidateTable(tables.Table):
    """Subjects with their registration for the screen's title and year.

    The rows sit inside the screen's one form: the tick boxes feed the bulk
    action, the row buttons post to the single register/withdraw views.
    """

    select = tables.TemplateColumn(
        template_name="recognition/registration/_select_cell.html",
        verbose_name="",
        orderable=False,
        attrs={"th": {"class": "text-center"}, "td": {"class": "text-center"}},
    )
    subject = tables.Column(verbose_name=_("Subject"), empty_values=(), orderable=False)
    unit_name = tables.Column(verbose_name=_("Unit"), empty_values=(), orderable=False)
    registration_status = tables.Column(
        verbose_name=_("Registration"), empty_values=(), orderable=False
    )
    action = tables.TemplateColumn(
        template_name="recognition/registration/_action_cell.html",
        verbose_name=_("Actions"),
        orderable=False,
    )

    def __init__(self, *args: Any, kind: str, can_write: bool, **kwargs: Any) -> None:
        self.kind = kind
        self.can_write = can_write
        extra = kwargs.pop("exclude", ())
        exclude = (*extra, "select", "action") if not can_write else extra
        super().__init__(*args, exclude=exclude, **kwargs)

    def render_subject(self, record: Any) -> SafeString:
        name = record.name if isinstance(record, AdministrativeUnit) else subject_name(record)
        extra = ""
        if isinstance(record, Citizen):
            extra = record.national_id_masked
        link = format_html('<a href="{}">{}</a>', subject_url(self.kind, record), name)
        if extra:
            return format_html('{} <span class="text-body-secondary small">{}</span>', link, extra)
        return link

    def render_unit_name(self, record: Any) -> str:
        if isinstance(record, AdministrativeUnit):
            return record.parent.name if record.parent_id and record.parent else "—"
        return str(record.unit.name)

    def render_registration_status(self, record: Any) -> SafeString:
        status = record.registration_status
        if status == RegistrationStatus.REGISTERED:
            return format_html(
                '<span class="badge text-bg-success">{}</span>', RegistrationStatus(status).label
            )
        if status == RegistrationStatus.WITHDRAWN:
            return format_html(
                '<span class="badge text-bg-secondary">{}</span>', RegistrationStatus(status).label
            )
        return format_html('<span class="text-body-secondary">{}</span>', _("not registered"))

    class Meta:
        attrs = {"class": "table table-hover align-middle", "data-testid": "candidates"}
        per_page = 50
        empty_text = _("No subject matches.")
        sequence = ("select", "subject", "unit_name", "registration_status", "action")

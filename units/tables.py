import datetime as dt

import django_tables2 as tables
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from units.models import AdministrativeUnit

FAR_PAST = dt.date(1900, 1, 1)


class UnitTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), linkify=lambda record: record.get_absolute_url())
    code = tables.Column(verbose_name=_("Official code"))
    kind = tables.Column(verbose_name=_("Kind"))
    parent = tables.Column(verbose_name=_("Parent unit"), accessor="parent__name", orderable=False)
    child_count = tables.Column(
        verbose_name=_("Sub-units"), orderable=False, attrs={"td": {"class": "num"}}
    )
    valid_from = tables.Column(verbose_name=_("Valid from"))
    valid_to = tables.DateColumn(verbose_name=_("Valid to"), format="d/m/Y", default="—")

    def render_valid_from(self, value: dt.date) -> str:
        """1900-01-01 stands for "start unknown" and is shown blank."""
        return "" if value <= FAR_PAST else date_format(value, "SHORT_DATE_FORMAT")

    class Meta:
        model = AdministrativeUnit
        fields = ("name", "code", "kind", "parent", "child_count", "valid_from", "valid_to")
        attrs = {"class": "table"}
        per_page = 50

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from units.models import AdministrativeUnit


class UnitTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), linkify=lambda record: record.get_absolute_url())
    code = tables.Column(verbose_name=_("Official code"))
    kind = tables.Column(verbose_name=_("Kind"))
    parent = tables.Column(verbose_name=_("Parent unit"), accessor="parent__name", orderable=False)
    child_count = tables.Column(verbose_name=_("Sub-units"), orderable=False)
    valid_from = tables.DateColumn(verbose_name=_("Valid from"), format="d/m/Y")
    valid_to = tables.DateColumn(verbose_name=_("Valid to"), format="d/m/Y", default="—")

    class Meta:
        model = AdministrativeUnit
        fields = ("name", "code", "kind", "parent", "child_count", "valid_from", "valid_to")
        attrs = {"class": "table"}
        per_page = 50

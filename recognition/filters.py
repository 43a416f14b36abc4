"""django-filter filters for the subject lists (households, clans, organisations,
citizens): unit (its whole subtree, by official code), accent-insensitive search
by code or name, and active/inactive."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from recognition.forms.subjects import resolve_unit_code, unit_not_found
from recognition.models import Citizen, Clan, Household, Organisation
from recognition.selectors.subjects import search_subjects
from recognition.titles import SubjectKind
from units.models import AdministrativeUnit


class SubjectFilterForm(forms.Form):
    """Resolves the unit code among the units the user may see."""

    units: QuerySet[AdministrativeUnit]

    def clean_unit(self) -> AdministrativeUnit | None:
        code = nfc(self.cleaned_data.get("unit"))
        if not code:
            return None
        unit = resolve_unit_code(self.units, code)
        if unit is None:
            raise unit_not_found(code)
        return unit


class SubjectFilterSet(django_filters.FilterSet):
    ACTIVE = ""
    INACTIVE = "inactive"
    ALL = "all"

    kind: str = ""

    q = django_filters.CharFilter(label=_("Code or name"), method="filter_nothing")
    unit = django_filters.CharFilter(
        label=_("Unit code"),
        method="filter_nothing",
        help_text=_("This unit and every unit below it, e.g. 27184-KP01."),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(INACTIVE, _("Inactive")), (ALL, _("Active and inactive"))],
        empty_label=_("Active"),
        method="filter_nothing",
    )

    class Meta:
        form = SubjectFilterForm
        fields: list[str] = []

    def __init__(self, *args: Any, units: QuerySet[AdministrativeUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = units

    @property
    def form(self) -> Any:
        if not hasattr(self, "_form"):
            form = super().form
            form.units = self.units
        return self._form

    def filter_nothing(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        """The filters work together in :meth:`filter_queryset` (one selector call)."""
        return queryset

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.form.errors:
            return queryset.none()
        data = self.form.cleaned_data
        status = data.get("status") or self.ACTIVE
        active = {self.ACTIVE: True, self.INACTIVE: False}.get(status)
        return search_subjects(
            queryset, kind=self.kind, q=data.get("q") or "", unit=data.get("unit"), active=active
        )


class HouseholdFilter(SubjectFilterSet):
    kind = SubjectKind.HOUSEHOLD

    class Meta(SubjectFilterSet.Meta):
        model = Household


class ClanFilter(SubjectFilterSet):
    kind = SubjectKind.CLAN

    class Meta(SubjectFilterSet.Meta):
        model = Clan


class OrganisationFilter(SubjectFilterSet):
    kind = SubjectKind.ORGANISATION

    class Meta(SubjectFilterSet.Meta):
        model = Organisation


class CitizenFilter(SubjectFilterSet):
    kind = SubjectKind.CITIZEN

    class Meta(SubjectFilterSet.Meta):
        model = Citizen

"""Forms for households, clans, organisations and citizens.

They validate shape and resolve unit codes among the units the actor may
write in; the services enforce the rules (issue 4 §4).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from recognition.models import LabourGroup, Organisation
from units.models import AdministrativeUnit

_CODE_SPLIT = re.compile(r"[\s,;]+")


def resolve_unit_code(units: QuerySet[AdministrativeUnit], code: str) -> AdministrativeUnit | None:
    """The unit in force today with ``code`` among ``units`` (codes are unique per
    tenant among units valid at the same date)."""
    today = timezone.localdate()
    return (
        units.filter(code__iexact=nfc(code), valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .first()
    )


def unit_not_found(code: str) -> forms.ValidationError:
    return forms.ValidationError(
        _("No unit in force with code %(code)s in your area."),
        code="unit_not_found",
        params={"code": code},
    )


class SubjectForm(forms.Form):
    """Common part: the unit (by official code, as on the user pages: a tenant
    has too many units for a drop-down) and the version for optimistic locking."""

    unit_code = forms.CharField(label=_("Unit code"), max_length=32)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    unit_help: Any = _("The official code of the unit, e.g. 27184-KP01.")

    def __init__(self, *args: Any, units: QuerySet[AdministrativeUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = units
        self.fields["unit_code"].help_text = self.unit_help

    def clean_unit_code(self) -> AdministrativeUnit:
        code = nfc(self.cleaned_data["unit_code"])
        unit = resolve_unit_code(self.units, code)
        if unit is None:
            raise unit_not_found(code)
        return unit


class HouseholdForm(SubjectForm):
    unit_help = _("The official code of the neighbourhood (khu phố, ấp, thôn), e.g. 27184-KP01.")

    code = forms.CharField(label=_("Household code"), max_length=64)
    head_name = forms.CharField(label=_("Head of household"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    member_count = forms.IntegerField(label=_("Number of members"), initial=1)

    field_order = ["unit_code", "code", "head_name", "address", "member_count"]


class ClanForm(SubjectForm):
    unit_help = _("The official code of the commune or ward that manages the clan, e.g. 27184.")

    name = forms.CharField(label=_("Clan name"), max_length=200)
    representative = forms.CharField(label=_("Representative"), max_length=200)
    member_count = forms.IntegerField(label=_("Number of members"), required=False)
    home_unit_codes = forms.CharField(
        label=_("Home units"),
        required=False,
        max_length=2000,
        help_text=_(
            "Codes of the neighbourhoods where the clan lives, separated by commas "
            "(e.g. 27184-KP01, 27184-KP02)."
        ),
    )

    field_order = ["unit_code", "name", "representative", "member_count", "home_unit_codes"]

    def clean_home_unit_codes(self) -> list[AdministrativeUnit]:
        codes = [c for c in _CODE_SPLIT.split(nfc(self.cleaned_data["home_unit_codes"])) if c]
        found: list[AdministrativeUnit] = []
        missing: list[str] = []
        for code in dict.fromkeys(codes):
            unit = resolve_unit_code(self.units, code)
            if unit is None:
                missing.append(code)
            else:
                found.append(unit)
        if missing:
            raise unit_not_found(", ".join(missing))
        return found


class OrganisationForm(SubjectForm):
    unit_help = _("The official code of the managing commune, district or province, e.g. 27184.")

    name = forms.CharField(label=_("Name"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=Organisation.Kind.choices)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    member_count = forms.IntegerField(label=_("Number of members"), required=False)

    field_order = ["unit_code", "name", "kind", "address", "member_count"]


class CitizenForm(SubjectForm):
    unit_help = _("The official code of the neighbourhood or commune, e.g. 27184-KP01.")

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    birth_year = forms.IntegerField(label=_("Year of birth"))
    labour_group = forms.ChoiceField(label=_("Labour group"), choices=LabourGroup.choices)
    national_id = forms.CharField(
        label=_("Citizen ID number (CCCD)"),
        max_length=20,
        required=False,
        help_text=_("Optional; 12 digits. Lists show only its last 3 digits."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    field_order = ["unit_code", "full_name", "birth_year", "labour_group", "national_id"]


class SubjectActiveForm(forms.Form):
    """Deactivate or reactivate a subject (with its version)."""

    active = forms.BooleanField(required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

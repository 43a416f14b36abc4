"""Forms of the nomination screens: propose (the nominee kind switches the
fields), edit, filter the list, review notes and the award decision. They check
shape only; campaigns.services.nominations enforces the rules (the nominee
inside the nominator's scope, the reviewing unit by award form)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import AwardForm, NominationStatus, NomineeKind
from core.text import nfc
from recognition.forms.dossier import UnitChoiceField
from recognition.models import Organisation
from units.models import AdministrativeUnit

#: Which fields each kind of nominee uses (the others are hidden and ignored).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    NomineeKind.UNIT: ("nominee_unit",),
    NomineeKind.ORGANISATION: ("organisation",),
    NomineeKind.HOUSEHOLD: ("household_code",),
    NomineeKind.PERSON: ("person_name", "person_position"),
}


def _lines(value: str) -> str:
    return "\n".join(line for line in (nfc(x) for x in (value or "").splitlines()) if line)


def year_choices() -> list[tuple[int, str]]:
    year = timezone.localdate().year
    return [(y, str(y)) for y in (year, year - 1, year + 1)]


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} — {obj.unit.name}"


class NominationForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    nominating_unit = UnitChoiceField(
        label=_("Nominated by"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
    )
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, choices=year_choices)
    nominee_kind = forms.ChoiceField(
        label=_("Nominee"), choices=NomineeKind.choices, widget=forms.RadioSelect
    )
    award_form = forms.ChoiceField(label=_("Proposed award"), choices=AwardForm.choices)
    nominee_unit = UnitChoiceField(
        label=_("Unit nominated"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
        required=False,
    )
    organisation = OrganisationChoiceField(
        label=_("Organisation nominated"),
        queryset=Organisation.objects.none(),
        to_field_name="public_id",
        required=False,
    )
    household_code = forms.CharField(label=_("Household code"), max_length=64, required=False)
    person_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    person_position = forms.CharField(
        label=_("Position and workplace"), max_length=300, required=False
    )
    achievements = forms.CharField(
        label=_("Achievements"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=10000,
        help_text=_("One achievement per line."),
    )

    def __init__(
        self,
        *args: Any,
        units: QuerySet[AdministrativeUnit],
        nominee_units: QuerySet[AdministrativeUnit],
        organisations: QuerySet[Organisation],
        fixed_unit: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", {}).setdefault("nominee_kind", NomineeKind.PERSON)
        kwargs["initial"].setdefault("year", timezone.localdate().year)
        super().__init__(*args, **kwargs)
        self.fields["nominating_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["nominee_unit"].queryset = nominee_units  # type: ignore[attr-defined]
        self.fields["organisation"].queryset = organisations  # type: ignore[attr-defined]
        if fixed_unit:
            del self.fields["nominating_unit"]
        elif not self.is_bound:
            first = units.order_by("depth", "sort_name").first()
            if first is not None:
                self.fields["nominating_unit"].initial = first.public_id

    @property
    def current_kind(self) -> str:
        value = self.data.get("nominee_kind") if self.is_bound else None
        value = value or self.initial.get("nominee_kind") or NomineeKind.PERSON
        return value if value in NomineeKind.values else NomineeKind.PERSON

    def kind_fields(self) -> list[Any]:
        """The bound fields of the current nominee kind (shown under the kind choice)."""
        return [self[name] for name in KIND_FIELDS[self.current_kind]]

    def common_fields(self) -> list[Any]:
        names = ("nominating_unit", "year", "award_form")
        return [self[name] for name in names if name in self.fields]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("household_code", "person_name", "person_position"):
            data[name] = nfc(data.get(name))
        if "achievements" in data:
            data["achievements"] = _lines(data["achievements"])
        kind = data.get("nominee_kind")
        required = {
            NomineeKind.UNIT: ("nominee_unit", _("Choose the unit nominated.")),
            NomineeKind.ORGANISATION: ("organisation", _("Choose the organisation nominated.")),
            NomineeKind.HOUSEHOLD: ("household_code", _("Enter the household code.")),
            NomineeKind.PERSON: ("person_name", _("Enter the full name of the person nominated.")),
        }
        if kind in required:
            name, message = required[kind]
            if not data.get(name):
                self.add_error(name, message)
        return data


class NominationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *NominationStatus.choices], required=False
    )
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    award_form = forms.ChoiceField(
        label=_("Proposed award"),
        choices=[("", _("All awards")), *AwardForm.choices],
        required=False,
    )
    mine = forms.BooleanField(label=_("Only those I review"), required=False)


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text=_("Required when the nomination is not approved."),
    )

    def clean_note(self) -> str:
        return _lines(self.cleaned_data.get("note", ""))


class AwardDecisionForm(forms.Form):
    unit = forms.UUIDField(widget=forms.HiddenInput)
    year = forms.IntegerField(min_value=2000, max_value=2100, widget=forms.HiddenInput)

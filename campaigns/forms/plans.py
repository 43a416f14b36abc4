"""Forms of the plan screens: create a plan, edit its header, a text section,
a phase, a target, and derive a unit's plan.

They validate shape only; campaigns/services/plans.py enforces the rules
(period, 0–100 %, tightening) and its refusals come back as form errors.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Plan, ReviewKind, TargetKind
from recognition.forms.dossier import UnitChoiceField
from recognition.titles import Title
from units.forms import DateInput
from units.models import AdministrativeUnit

DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"]


def _year_field(label: Any, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=2000,
        max_value=2100,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": "4"}),
        **kwargs,
    )


class PlanHeaderForm(forms.Form):
    """The header of a plan (everything but the issuing unit)."""

    number = forms.IntegerField(
        label=_("Number"),
        min_value=1,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("The number given by the office, e.g. 734; empty while drafting."),
    )
    symbol = forms.CharField(
        label=_("Symbol"), max_length=32, initial="KH-UBND", help_text=_("e.g. KH-UBND")
    )
    issued_on = forms.DateField(
        label=_("Date"),
        required=False,
        widget=DateInput(),
        input_formats=DATE_FORMATS,
        help_text=_("dd/mm/yyyy"),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The line under KẾ HOẠCH, e.g. Tổ chức thực hiện Phong trào thi đua …"),
    )
    start_year = _year_field(_("From year"))
    end_year = _year_field(_("To year"))
    legal_bases = forms.CharField(
        label=_("Legal bases"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One per line, e.g. “Thực hiện Kế hoạch số …” or “Căn cứ …”."),
    )
    signer_title = forms.CharField(
        label=_("Signer's position"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("One line each, e.g. KT. CHỦ TỊCH then PHÓ CHỦ TỊCH."),
    )
    signer_name = forms.CharField(label=_("Signer's name"), max_length=200, required=False)
    recipients = forms.CharField(
        label=_("Recipients"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One recipient per line (Nơi nhận)."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_year"), data.get("end_year")
        if start and end and end < start:
            self.add_error("end_year", _("The period ends before it starts."))
        return data


class PlanCreateForm(PlanHeaderForm):
    issuing_unit = UnitChoiceField(
        label=_("Issuing unit"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
    )
    field_order = ["issuing_unit", "number", "symbol", "issued_on", "title"]

    def __init__(self, *args: Any, units: QuerySet[AdministrativeUnit], **kwargs: Any) -> None:
        year = timezone.localdate().year
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("start_year", year)
        initial.setdefault("end_year", year)
        super().__init__(*args, **kwargs)
        field = self.fields["issuing_unit"]
        field.queryset = units  # type: ignore[attr-defined]
        first = units.order_by("depth", "sort_name").first()
        if first is not None:
            field.initial = first.public_id


class PlanEditForm(PlanHeaderForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    place_name = forms.CharField(label=_("Place name"), max_length=100, required=False)
    agency = forms.CharField(
        label=_("Issuing agency"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("As in the header, e.g. ỦY BAN NHÂN DÂN QUẬN 10."),
    )

    @staticmethod
    def initial_for(plan: Plan) -> dict[str, Any]:
        names = [*PlanHeaderForm.base_fields, "version", "place_name", "agency"]
        return {name: getattr(plan, name) for name in names}


class SectionForm(forms.Form):
    section = forms.IntegerField(required=False, widget=forms.HiddenInput)
    heading = forms.CharField(
        label=_("Heading"),
        max_length=300,
        help_text=_("e.g. MỤC ĐÍCH, YÊU CẦU — the PDF numbers the sections I., II., …"),
    )
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("One paragraph per line."),
    )


class PhaseForm(forms.Form):
    phase = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200)
    start_year = _year_field(_("From year"))
    end_year = _year_field(_("To year"))
    review_kind = forms.ChoiceField(label=_("Review"), choices=ReviewKind.choices)
    review_due = forms.DateField(
        label=_("Review by"), widget=DateInput(), input_formats=DATE_FORMATS
    )


class TargetForm(forms.Form):
    target = forms.IntegerField(required=False, widget=forms.HiddenInput)
    unit = UnitChoiceField(
        label=_("Unit"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
        help_text=_("The plan's own unit, or a unit under it for an override."),
    )
    title = forms.ChoiceField(label=_("Title"), choices=Title.choices)
    year = _year_field(_("Year"))
    kind = forms.ChoiceField(label=_("Kind"), choices=TargetKind.choices)
    # Checked by the service (a rate 0–100, a count from 0); "72,5" and "72.5" both read.
    value = forms.CharField(
        label=_("Value"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("A rate in % (e.g. 70) or a count."),
    )

    def __init__(self, *args: Any, units: QuerySet[AdministrativeUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class DeriveForm(forms.Form):
    issuing_unit = UnitChoiceField(
        label=_("Unit making its plan"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
    )

    def __init__(self, *args: Any, units: QuerySet[AdministrativeUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["issuing_unit"].queryset = units  # type: ignore[attr-defined]

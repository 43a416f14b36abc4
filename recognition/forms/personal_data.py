"""Forms of the personal-data screens: an erasure request, the access-log filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from recognition.models import AccessAction

DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"]


class ErasureForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference of the request"),
        max_length=100,
        help_text=_(
            "The number or date of the person's written request, e.g. “Đơn ngày 05/01/2026”."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    #: Set by the confirmation screen: the second POST erases.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class AccessLogFilterForm(forms.Form):
    person = forms.CharField(label=_("Person (name or id)"), required=False, max_length=200)
    actor = forms.CharField(label=_("User"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("All actions")), *AccessAction.choices],
    )
    date_from = forms.DateField(
        label=_("From (dd/mm/yyyy)"), required=False, input_formats=DATE_FORMATS
    )
    date_to = forms.DateField(
        label=_("To (dd/mm/yyyy)"), required=False, input_formats=DATE_FORMATS
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data

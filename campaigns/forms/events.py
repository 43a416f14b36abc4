"""Forms of the event screens: a new event (or its edit), a unit's report and a
photo upload. They check shape only; campaigns.services.events enforces the
rules and its refusals come back as form errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import EventKind
from campaigns.services.events import (
    WEEK_END,
    WEEK_START,
    lifelong_week_name,
    photo_accept_attribute,
)
from core.text import nfc
from recognition.forms.dossier import UnitChoiceField
from units.forms import DateInput
from units.models import AdministrativeUnit

DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"]


def _lines(value: str) -> str:
    return "\n".join(line for line in (nfc(x) for x in (value or "").splitlines()) if line)


class EventForm(forms.Form):
    unit = UnitChoiceField(
        label=_("Organised by"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices)
    name = forms.CharField(label=_("Name"), max_length=300)
    starts_on = forms.DateField(
        label=_("From"), widget=DateInput(), input_formats=DATE_FORMATS, help_text="dd/mm/yyyy"
    )
    ends_on = forms.DateField(
        label=_("To"), widget=DateInput(), input_formats=DATE_FORMATS, help_text="dd/mm/yyyy"
    )
    theme = forms.CharField(label=_("Theme"), max_length=300, required=False)
    reports_due = forms.DateField(
        label=_("Reports due"),
        widget=DateInput(),
        input_formats=DATE_FORMATS,
        required=False,
        help_text=_("The date by which the units below report what they held."),
    )

    def __init__(
        self, *args: Any, units: QuerySet[AdministrativeUnit] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if units is None:
            del self.fields["unit"]
        else:
            field = self.fields["unit"]
            field.queryset = units  # type: ignore[attr-defined]
            first = units.order_by("depth", "sort_name").first()
            if first is not None and not self.is_bound:
                field.initial = first.public_id

    @staticmethod
    def week_initial(year: int | None = None) -> dict[str, Any]:
        """The lifelong-learning week of the year: 1–7 October (RULES.md §5)."""
        year = year or timezone.localdate().year
        return {
            "kind": EventKind.LIFELONG_WEEK,
            "name": lifelong_week_name(year),
            "starts_on": dt.date(year, *WEEK_START),
            "ends_on": dt.date(year, *WEEK_END),
        }

    def clean_name(self) -> str:
        return nfc(self.cleaned_data["name"])

    def clean_theme(self) -> str:
        return nfc(self.cleaned_data.get("theme"))


class EventReportForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    unit = forms.UUIDField(widget=forms.HiddenInput)
    activities = forms.CharField(
        label=_("Activities held"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10000,
        help_text=_("One activity per line: what, where, with whom."),
    )
    participants = forms.IntegerField(label=_("Participants"), min_value=0, max_value=10_000_000)
    sessions = forms.IntegerField(
        label=_("Number of activities"), min_value=0, max_value=10_000_000
    )

    def clean_activities(self) -> str:
        return _lines(self.cleaned_data["activities"])


class PhotoForm(forms.Form):
    file = forms.FileField(
        label=_("Photo or PDF"),
        widget=forms.ClearableFileInput(attrs={"accept": photo_accept_attribute()}),
        help_text=_("JPEG, PNG, WebP or PDF; the content is checked, not the name."),
    )

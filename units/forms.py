"""Forms for unit edits. They validate shape; the services enforce the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from units.levels import KIND_LEVEL, Kind, level_rank
from units.models import AdministrativeUnit


class DateInput(forms.DateInput):
    input_type = "text"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}, **kwargs)


class UnitForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(label=_("Official code"), max_length=32)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_to = forms.DateField(label=_("Valid to"), widget=DateInput(), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, parent: AdministrativeUnit | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if parent is not None:
            self.fields["kind"].choices = [  # type: ignore[attr-defined]
                (value, label)
                for value, label in Kind.choices
                if level_rank(KIND_LEVEL[value]) > level_rank(parent.level)
            ]

    def clean_name(self) -> str:
        return nfc(self.cleaned_data["name"])

    def clean_code(self) -> str:
        return nfc(self.cleaned_data["code"])


class UnitMoveForm(forms.Form):
    new_parent = forms.UUIDField(label=_("New parent unit"))
    version = forms.IntegerField(widget=forms.HiddenInput)

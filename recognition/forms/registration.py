"""Forms of the registration screen: the filter (GET), single and bulk actions (POST)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from recognition.selectors.registration import COMMUNITY_LEVELS, CandidateState
from recognition.services.registration import FIRST_YEAR, last_year
from recognition.titles import Title
from units.levels import Level


def level_choices() -> list[tuple[str, Any]]:
    labels = dict(Level.choices)
    return [(level, labels[level]) for level in COMMUNITY_LEVELS]


STATE_CHOICES = [
    (CandidateState.ALL, _("All")),
    (CandidateState.NOT_REGISTERED, _("Not registered yet")),
    (CandidateState.REGISTERED, _("Registered")),
    (CandidateState.WITHDRAWN, _("Withdrawn")),
]


class RegistrationScopeForm(forms.Form):
    """Which title and year, and which subjects (the screen's filter)."""

    title = forms.ChoiceField(label=_("Title"), choices=Title.choices)
    year = forms.IntegerField(label=_("Year"))
    level = forms.ChoiceField(
        label=_("Community level"),
        required=False,
        help_text=_("For “Learning community”: neighbourhoods or communes."),
    )
    unit = forms.CharField(
        label=_("Unit code"),
        required=False,
        max_length=32,
        help_text=_("Only subjects in this unit and below, e.g. 27184-KP01."),
    )
    q = forms.CharField(label=_("Code or name"), required=False, max_length=200)
    state = forms.ChoiceField(label=_("Registration"), choices=STATE_CHOICES, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = level_choices()  # type: ignore[attr-defined]
        self.fields["year"].widget.attrs.update({"min": FIRST_YEAR, "max": last_year()})

    def clean_year(self) -> int:
        year: int = self.cleaned_data["year"]
        if not FIRST_YEAR <= year <= last_year():
            raise forms.ValidationError(
                _("Registrations are for the years %(first)s to %(last)s."),
                code="invalid_year",
                params={"first": FIRST_YEAR, "last": last_year()},
            )
        return year

    def clean_level(self) -> str:
        return self.cleaned_data.get("level") or Level.COMMUNE

    def clean_unit(self) -> str:
        return nfc(self.cleaned_data.get("unit"))

    def clean_q(self) -> str:
        return nfc(self.cleaned_data.get("q"))

    @staticmethod
    def defaults() -> dict[str, Any]:
        return {"title": Title.FAMILY, "year": timezone.localdate().year, "level": Level.COMMUNE}


class RegisterOneForm(RegistrationScopeForm):
    """Register one subject (the row's button on the screen)."""

    subject = forms.UUIDField()


class BulkRegisterForm(RegistrationScopeForm):
    """Register every matching subject not yet registered, or the ticked ones."""

    ALL = "all"
    SELECTED = "selected"

    mode = forms.ChoiceField(choices=[(ALL, ALL), (SELECTED, SELECTED)])
    selected = forms.TypedMultipleChoiceField(required=False, coerce=str)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        data = self.data.getlist("selected") if hasattr(self.data, "getlist") else []
        # The choices are whatever was ticked; each id is resolved in scope later.
        self.fields["selected"].choices = [(v, v) for v in data]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("mode") == self.SELECTED and not cleaned.get("selected"):
            raise forms.ValidationError(
                _("Tick at least one subject to register."), code="nothing_selected"
            )
        return cleaned

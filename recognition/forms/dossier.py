"""Forms of the dossier builder, the review page and the review-chain screen.

They validate shape only; the services enforce the rules (roles, states,
deadlines) and their refusals come back as form errors.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from recognition.models import Indicator, ScoringMethod
from recognition.titles import Title
from units.forms import DateInput
from units.levels import Level
from units.models import AdministrativeUnit


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


def _scope_choices() -> list[tuple[str, Any]]:
    return [
        ("", _("— (not a community title)")),
        (Level.COMMUNE, Level.COMMUNE.label),
        (Level.NEIGHBOURHOOD, Level.NEIGHBOURHOOD.label),
        (Level.DISTRICT, Level.DISTRICT.label),
        (Level.PROVINCE, Level.PROVINCE.label),
    ]


class DossierOpenForm(forms.Form):
    """Open (or create) the dossier of a unit for a title and year."""

    proposing_unit = UnitChoiceField(
        label=_("Proposing unit"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
    )
    title = forms.ChoiceField(label=_("Title"), choices=Title.choices)
    scope_level = forms.ChoiceField(
        label=_("Level of the community"),
        choices=_scope_choices,
        required=False,
        help_text=_("Only for “Learning community”: the level of the communities assessed."),
    )
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)

    def __init__(self, *args: Any, units: QuerySet[AdministrativeUnit], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("year", timezone.localdate().year)
        super().__init__(*args, **kwargs)
        field = self.fields["proposing_unit"]
        field.queryset = units  # type: ignore[attr-defined]
        first_two = list(units[:2])
        if len(first_two) == 1:
            field.initial = first_two[0].public_id


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReasonForm(VersionForm):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("The ward sees this reason and uses it to fix the dossier."),
    )

    def clean_reason(self) -> str:
        return nfc(self.cleaned_data["reason"])


class ItemActionForm(forms.Form):
    """One POST for a single item (``item``) or several (``items``)."""

    ACTIONS = (
        ("approve", _("Approve")),
        ("return", _("Return for correction")),
        ("reject", _("Do not approve")),
    )
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    reason = forms.CharField(
        label=_("Reason (required to return or refuse)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )

    def clean_reason(self) -> str:
        return nfc(self.cleaned_data.get("reason", ""))


class ReviewScoreForm(forms.Form):
    """The reviewer's value per indicator; empty keeps the ward's own score."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, indicators: list[Indicator], method: str, max_level: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        for ind in indicators:
            name = self.field_name(ind)
            if method == ScoringMethod.LEVELS:
                self.fields[name] = forms.IntegerField(
                    label=f"{ind.code}. {ind.text}",
                    required=False,
                    min_value=0,
                    max_value=max_level,
                )
            else:
                self.fields[name] = forms.DecimalField(
                    label=f"{ind.code}. {ind.text}",
                    required=False,
                    min_value=0,
                    max_value=ind.max_points,
                    decimal_places=2,
                    max_digits=6,
                )

    @staticmethod
    def field_name(indicator: Indicator) -> str:
        return f"ind_{indicator.public_id.hex}"

    def scores(self) -> dict[int, Any]:
        return {ind.pk: self.cleaned_data.get(self.field_name(ind)) for ind in self.indicators}


class ReviewChainForm(forms.Form):
    title = forms.ChoiceField(label=_("Title"), choices=Title.choices)
    scope_level = forms.ChoiceField(
        label=_("Level of the community"), choices=_scope_choices, required=False
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_to = forms.DateField(label=_("Valid to"), widget=DateInput(), required=False)
    proposer_level = forms.ChoiceField(label=_("Proposed by (level)"), choices=Level.choices)
    reviewer_level = forms.ChoiceField(label=_("Reviewed by (level)"), choices=Level.choices)
    recogniser_level = forms.ChoiceField(label=_("Recognised by (level)"), choices=Level.choices)
    recogniser_label = forms.CharField(
        label=_("Recognising authority"),
        max_length=200,
        help_text=_("As written in decisions, e.g. “Chủ tịch UBND phường”."),
    )
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300, required=False)

    def clean_recogniser_label(self) -> str:
        return nfc(self.cleaned_data["recogniser_label"])

    def clean_legal_basis(self) -> str:
        return nfc(self.cleaned_data.get("legal_basis", ""))


class ChainEndForm(forms.Form):
    valid_to = forms.DateField(label=_("Last day"), widget=DateInput())

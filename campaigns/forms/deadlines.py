"""Forms of the deadline screens: a plan's deadline, an extension, the calendar
picker. They validate shape only; campaigns/services/deadlines.py enforces the
rules (tightening, the plan's period) and its refusals come back as form errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from campaigns.models import Deadline, DeadlineKind, Plan
from campaigns.services.deadlines import MAX_REMIND_DAYS
from core.text import nfc
from recognition.forms.dossier import UnitChoiceField
from recognition.titles import Title
from units.forms import DateInput
from units.levels import LEVEL_ORDER, Level, level_rank
from units.models import AdministrativeUnit

DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"]


def level_choices(unit: AdministrativeUnit) -> list[tuple[str, Any]]:
    """The plan's own level and the levels below it."""
    return [(lv, Level(lv).label) for lv in LEVEL_ORDER if level_rank(lv) >= level_rank(unit.level)]


class DeadlineForm(forms.Form):
    kind = forms.ChoiceField(label=_("Deadline for"), choices=DeadlineKind.choices)
    title = forms.ChoiceField(
        label=_("Title"),
        choices=[("", _("Every title")), *Title.choices],
        required=False,
        help_text=_(
            "Registration, self-assessment and dossier deadlines of one title lock "
            "those forms after the due day."
        ),
    )
    year = forms.TypedChoiceField(label=_("Year"), coerce=int)
    level = forms.ChoiceField(label=_("Units that must act"))
    due_on = forms.DateField(label=_("Due on"), input_formats=DATE_FORMATS, widget=DateInput())
    label = forms.CharField(label=_("Description"), max_length=300, required=False)
    remind_days = forms.IntegerField(
        label=_("Remind days before"),
        min_value=0,
        max_value=MAX_REMIND_DAYS,
        initial=7,
        help_text=_("0: no reminder e-mail."),
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [  # type: ignore[attr-defined]
            (y, str(y)) for y in range(plan.start_year, plan.end_year + 1)
        ]
        self.fields["level"].choices = level_choices(plan.issuing_unit)  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, deadline: Deadline) -> dict[str, Any]:
        return {
            "kind": deadline.kind,
            "title": deadline.title,
            "year": deadline.year,
            "level": deadline.level,
            "due_on": deadline.due_on,
            "label": deadline.label,
            "remind_days": deadline.remind_days,
        }

    def clean_label(self) -> str:
        return nfc(self.cleaned_data.get("label"))


class ExtensionForm(forms.Form):
    unit = UnitChoiceField(
        label=_("Unit"), queryset=AdministrativeUnit.objects.none(), to_field_name="public_id"
    )
    until = forms.DateField(
        label=_("Extended until"), input_formats=DATE_FORMATS, widget=DateInput()
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    def __init__(self, *args: Any, units: QuerySet[AdministrativeUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]

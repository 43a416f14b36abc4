"""Forms for criteria sets. They validate shape and turn text into data; the
services (recognition/services/criteria.py) enforce the rules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from recognition.models import AreaClass, CriteriaSet, Criterion, Indicator, ScoringMethod
from recognition.titles import Title
from units.levels import Level


def points_field(
    label: Any, *, help_text: Any = "", max_value: Decimal | None = None
) -> forms.DecimalField:
    """An optional point value (0 up to ``max_value``), typed as people write it (2,5)."""
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=6,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=max_value,
        localize=True,
        help_text=help_text,
    )


_LINE = re.compile(r"^\s*(?P<left>.+?)\s*[:=]\s*(?P<right>.+?)\s*$")


def _text_area(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class CriteriaSetForm(forms.Form):
    """The set's own fields; ``code`` only when the set is created."""

    code = forms.CharField(
        label=_("Short code"),
        max_length=64,
        help_text=_("A short name that stays the same across versions, e.g. GDHT-2025."),
    )
    title = forms.ChoiceField(label=_("Title"), choices=Title.choices)
    scope_level = forms.ChoiceField(
        label=_("Subject level"),
        required=False,
        choices=[("", _("Not applicable")), *Level.choices],
        help_text=_("For Cộng đồng học tập: the level of the community (e.g. commune)."),
    )
    name = forms.CharField(label=_("Name"), max_length=300)
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        widget=_text_area(3),
        help_text=_("One document per line: number, date and issuing body."),
    )
    source_note = forms.CharField(
        label=_("Source note"),
        required=False,
        widget=_text_area(4),
        help_text=_("Where the content comes from and what is still missing."),
    )
    year_from = forms.IntegerField(label=_("Applies from year"), min_value=1990, max_value=2100)
    year_to = forms.IntegerField(
        label=_("Applies to year"),
        min_value=1990,
        max_value=2100,
        required=False,
        help_text=_("Leave empty while the set is still in force."),
    )
    method = forms.ChoiceField(
        label=_("Scoring method"), choices=ScoringMethod.choices, widget=forms.RadioSelect
    )
    needs_completion = forms.BooleanField(
        label=_("Needs completion: part of the official text is still missing"), required=False
    )
    max_total = points_field(_("Maximum total"), help_text=_("Points method."))
    threshold_normal = points_field(
        _("Pass threshold"), help_text=_("Points method: the total a subject must reach.")
    )
    threshold_disadvantaged = points_field(
        _("Pass threshold in disadvantaged areas"),
        help_text=_(
            "Points method: remote, especially disadvantaged and ethnic-minority areas. "
            "Leave empty when the same threshold applies everywhere."
        ),
    )
    min_indicator_points = points_field(
        _("Minimum points of every indicator"),
        help_text=_("Points method: below this on any indicator the subject fails."),
    )
    grade_bands = forms.CharField(
        label=_("Grade bands"),
        required=False,
        widget=_text_area(3),
        help_text=_("Points method, optional: one band per line, e.g. “Tốt: 85”."),
    )
    levels = forms.CharField(
        label=_("Levels"),
        required=False,
        widget=_text_area(2),
        help_text=_("Levels method: one level per line, e.g. “1: Mức độ 1”."),
    )
    validity_years = forms.IntegerField(
        label=_("Recognition kept for (years after the year recognised)"),
        required=False,
        min_value=0,
        max_value=50,
    )
    upgrade_after_months = forms.IntegerField(
        label=_("Months before a higher level may be sought"),
        required=False,
        min_value=0,
        max_value=240,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, with_code: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_code:
            del self.fields["code"]

    @staticmethod
    def initial_from(cs: CriteriaSet) -> dict[str, Any]:
        thresholds = cs.pass_thresholds or {}
        return {
            "title": cs.title,
            "scope_level": cs.scope_level,
            "name": cs.name,
            "legal_basis": cs.legal_basis,
            "source_note": cs.source_note,
            "year_from": cs.year_from,
            "year_to": cs.year_to,
            "method": cs.method,
            "needs_completion": cs.needs_completion,
            "max_total": cs.max_total,
            "threshold_normal": thresholds.get(AreaClass.NORMAL),
            "threshold_disadvantaged": thresholds.get(AreaClass.DISADVANTAGED),
            "min_indicator_points": cs.min_indicator_points,
            "grade_bands": "\n".join(f"{b['label']}: {b['min']}" for b in cs.grade_bands or []),
            "levels": "\n".join(f"{lv['number']}: {lv['label']}" for lv in cs.levels or []),
            "validity_years": cs.validity_years,
            "upgrade_after_months": cs.upgrade_after_months,
            "version": cs.edit_version,
        }

    def clean_code(self) -> str:
        return nfc(self.cleaned_data["code"])

    def clean_name(self) -> str:
        return nfc(self.cleaned_data["name"])

    def clean_grade_bands(self) -> list[dict[str, Any]]:
        bands = []
        for number, line in _lines(self.cleaned_data.get("grade_bands", "")):
            match = _LINE.match(line)
            minimum = _decimal(match.group("right")) if match else None
            if match is None or minimum is None:
                raise forms.ValidationError(
                    _("Line %(n)s: write a band as “Tốt: 85”."), params={"n": number}
                )
            bands.append({"label": nfc(match.group("left")), "min": minimum})
        return bands

    def clean_levels(self) -> list[dict[str, Any]]:
        levels = []
        for number, line in _lines(self.cleaned_data.get("levels", "")):
            match = _LINE.match(line)
            if match is None or not match.group("left").isdigit():
                raise forms.ValidationError(
                    _("Line %(n)s: write a level as “1: Mức độ 1”."), params={"n": number}
                )
            levels.append({"number": int(match.group("left")), "label": nfc(match.group("right"))})
        return levels

    def to_fields(self) -> dict[str, Any]:
        """The cleaned data as the services take it."""
        data = self.cleaned_data
        thresholds = {
            area: data[f"threshold_{area}"]
            for area in AreaClass.values
            if data.get(f"threshold_{area}") is not None
        }
        fields = {
            name: data.get(name)
            for name in (
                "title",
                "scope_level",
                "name",
                "legal_basis",
                "source_note",
                "year_from",
                "year_to",
                "method",
                "needs_completion",
                "max_total",
                "min_indicator_points",
                "grade_bands",
                "levels",
                "validity_years",
                "upgrade_after_months",
            )
        }
        fields["pass_thresholds"] = thresholds
        if "code" in self.fields:
            fields["code"] = data["code"]
        return fields


def _lines(text: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        if line.strip():
            yield number, line.strip()


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value.replace(",", ".").strip())
    except ArithmeticError:
        return None


class CloneForm(forms.Form):
    code = forms.CharField(
        label=_("Code of the copy"),
        max_length=64,
        help_text=_("Must differ from the codes of your organisation's other sets."),
    )
    name = forms.CharField(label=_("Name of the copy"), max_length=300)

    def clean_code(self) -> str:
        return nfc(self.cleaned_data["code"])

    def clean_name(self) -> str:
        return nfc(self.cleaned_data["name"])


class VersionForm(forms.Form):
    """Confirms an action on the set as last seen (optimistic concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class MoveForm(VersionForm):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])
    n = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RemoveCriterionForm(VersionForm):
    n = forms.IntegerField(widget=forms.HiddenInput)


class CriterionForm(forms.Form):
    code = forms.CharField(label=_("Short code"), max_length=32, help_text=_("e.g. TC1"))
    name = forms.CharField(label=_("Name"), max_length=500)
    description = forms.CharField(label=_("Description"), required=False, widget=_text_area(2))
    max_points = points_field(
        _("Maximum points"),
        help_text=_("Points method, optional: the indicators must add up to it."),
    )
    n = forms.IntegerField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, criteria_set: CriteriaSet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if criteria_set.method != ScoringMethod.POINTS:
            del self.fields["max_points"]

    @staticmethod
    def initial_from(criterion: Criterion, edit_version: int) -> dict[str, Any]:
        return {
            "code": criterion.code,
            "name": criterion.name,
            "description": criterion.description,
            "max_points": criterion.max_points,
            "n": criterion.order,
            "version": edit_version,
        }

    def to_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "code": data["code"],
            "name": data["name"],
            "description": data.get("description", ""),
            "max_points": data.get("max_points"),
        }


def _level_label(level: dict[str, Any]) -> str:
    return str(level.get("label") or level.get("number"))


class IndicatorForm(forms.Form):
    """One indicator: points for the points method, a requirement per level
    for the levels method."""

    code = forms.CharField(label=_("Short code"), max_length=32, help_text=_("e.g. 1.1"))
    text = forms.CharField(label=_("Text"), widget=_text_area(3))
    guidance = forms.CharField(
        label=_("Guidance and evidence"), required=False, widget=_text_area(2)
    )
    max_points = points_field(_("Maximum points"))
    min_points = points_field(
        _("Minimum points"),
        help_text=_("Optional: below this the subject fails whatever its total."),
    )
    evidence_required = forms.BooleanField(label=_("Evidence required"), required=False)
    needs_completion = forms.BooleanField(
        label=_("Text not found yet: must be completed before publishing"), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        criteria_set: CriteriaSet,
        criteria: list[Criterion] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if criteria is not None:
            self.fields = {
                "criterion": forms.TypedChoiceField(
                    label=_("Criterion"),
                    coerce=int,
                    choices=[(c.order, f"{c.code}. {c.name}") for c in criteria],
                ),
                **self.fields,
            }
        self.level_numbers: list[int] = []
        if criteria_set.method == ScoringMethod.LEVELS:
            del self.fields["max_points"]
            del self.fields["min_points"]
            for level in criteria_set.levels or []:
                number = int(level["number"])
                self.level_numbers.append(number)
                self.fields[f"requirement_{number}"] = forms.CharField(
                    label=_("Requirement for %(level)s") % {"level": _level_label(level)},
                    required=False,
                    widget=_text_area(2),
                    help_text=(
                        _("Required before publishing.")
                        if number == 1
                        else _("Leave empty when the requirement of the level below still holds.")
                    ),
                )
            # Keep the two check boxes and the hidden version last.
            for name in ("evidence_required", "needs_completion", "version"):
                self.fields[name] = self.fields.pop(name)

    @staticmethod
    def initial_from(indicator: Indicator, edit_version: int) -> dict[str, Any]:
        initial = {
            "code": indicator.code,
            "text": indicator.text,
            "guidance": indicator.guidance,
            "max_points": indicator.max_points,
            "min_points": indicator.min_points,
            "evidence_required": indicator.evidence_required,
            "needs_completion": indicator.needs_completion,
            "version": edit_version,
        }
        for key, value in (indicator.requirements or {}).items():
            initial[f"requirement_{key}"] = value
        return initial

    def to_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "code": data["code"],
            "text": data["text"],
            "guidance": data.get("guidance", ""),
            "max_points": data.get("max_points"),
            "min_points": data.get("min_points"),
            "requirements": {str(n): data.get(f"requirement_{n}", "") for n in self.level_numbers},
            "evidence_required": data.get("evidence_required", False),
            "needs_completion": data.get("needs_completion", False),
        }


def preview_field_name(indicator: Indicator) -> str:
    return f"i_{indicator.public_id.hex}"


class PreviewForm(forms.Form):
    """Points or achieved levels per indicator, to try the set's scoring; saves nothing."""

    def __init__(
        self, *args: Any, criteria_set: CriteriaSet, indicators: list[Indicator], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        self.is_points = criteria_set.method == ScoringMethod.POINTS
        if self.is_points:
            self.fields["area_class"] = forms.ChoiceField(
                label=_("Area"), choices=AreaClass.choices, initial=AreaClass.NORMAL
            )
        levels = criteria_set.levels or []
        below = (
            _("below %(level)s") % {"level": _level_label(levels[0])} if levels else _("not met")
        )
        level_choices = [
            ("", _("not assessed")),
            ("0", below),
            *[(str(lv["number"]), _level_label(lv)) for lv in levels],
        ]
        for indicator in indicators:
            name = preview_field_name(indicator)
            if self.is_points:
                self.fields[name] = points_field(indicator.code, max_value=indicator.max_points)
            else:
                self.fields[name] = forms.ChoiceField(
                    label=indicator.code, required=False, choices=level_choices
                )

    def rows(self) -> list[tuple[Indicator, forms.BoundField]]:
        return [(i, self[preview_field_name(i)]) for i in self.indicators]

    def values(self) -> dict[int, Any]:
        """Scoring input keyed by indicator primary key (as rule_from_set builds it)."""
        return {
            indicator.pk: self.cleaned_data.get(preview_field_name(indicator))
            for indicator in self.indicators
        }

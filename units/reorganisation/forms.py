"""Forms of the reorganisation screens. They validate shape; the services and the
preview enforce the rules (codes, placement, overlaps are conflicts)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from units.forms import DateInput
from units.levels import Kind, Level
from units.models import AdministrativeUnit


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        parent = f" — {obj.parent.name}" if obj.parent_id and obj.parent else ""
        return f"{obj.name} ({obj.code}){parent}"


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        parent = f" — {obj.parent.name}" if obj.parent_id and obj.parent else ""
        return f"{obj.name} ({obj.code}){parent}"


def _unit_field(label: Any, *, required: bool = True, help_text: Any = "") -> UnitChoiceField:
    return UnitChoiceField(
        label=label,
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
        required=required,
        help_text=help_text,
    )


def _style(form: forms.Form) -> None:
    """Bootstrap classes on the text inputs and selects (checkboxes stay plain)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class PlanForm(StyledForm):
    name = forms.CharField(label=_("Name of the plan"), max_length=200)
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        max_length=300,
        required=False,
        help_text=_("The resolution or decision that orders the change."),
    )
    effective_on = forms.DateField(label=_("Effective on"), widget=DateInput())
    abolish_level = forms.ChoiceField(
        label=_("Level abolished"),
        choices=[("", _("— (none)"))] + [(v, lbl) for v, lbl in Level.choices],
        required=False,
        help_text=_(
            "A level that ends the day before the plan takes effect (e.g. the district level "
            "on 1 July 2025): every unit of that level must be closed by the plan."
        ),
    )

    def clean_name(self) -> str:
        return nfc(self.cleaned_data["name"])

    def clean_legal_basis(self) -> str:
        return nfc(self.cleaned_data["legal_basis"])


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class StepRemoveForm(VersionForm):
    step = forms.IntegerField(widget=forms.HiddenInput)


class _StepForm(VersionForm, StyledForm):
    """Base of the step forms: ``units`` are the candidates (in force, in scope)."""

    def __init__(
        self,
        *args: Any,
        units: QuerySet[AdministrativeUnit],
        parents: QuerySet[AdministrativeUnit],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = parents if name == "parent" else units


class _NewUnitFields(StyledForm):
    code = forms.CharField(label=_("Code of the new unit"), max_length=32)
    name = forms.CharField(label=_("Name of the new unit"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind of the new unit"), choices=Kind.choices)

    def clean_code(self) -> str:
        return nfc(self.cleaned_data["code"])

    def clean_name(self) -> str:
        return nfc(self.cleaned_data["name"])


class MergeForm(_StepForm, _NewUnitFields):
    sources = UnitMultipleChoiceField(
        label=_("Units merged"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose two or more units in force."),
    )
    parent = _unit_field(
        _("Parent of the new unit"),
        required=False,
        help_text=_("Leave blank to keep the parent of the merged units."),
    )

    def clean_sources(self) -> Any:
        sources = self.cleaned_data["sources"]
        if len(sources) < 2:
            raise forms.ValidationError(_("Choose two or more units to merge."))
        return sources


class SplitForm(_StepForm):
    source = _unit_field(_("Unit split"))


class SplitTargetForm(_NewUnitFields):
    """One new unit of a split (blank rows are ignored)."""

    neighbourhoods = UnitMultipleChoiceField(
        label=_("Sub-units it takes"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    default = forms.BooleanField(
        label=_("Takes the unit's own subjects and every sub-unit not listed"), required=False
    )

    def __init__(
        self, *args: Any, children: QuerySet[AdministrativeUnit] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _style(self)
        field = self.fields["neighbourhoods"]
        field.queryset = children if children is not None else AdministrativeUnit.objects.none()  # type: ignore[attr-defined]
        self.empty_permitted = True
        self.use_required_attribute = False


class RenameForm(_StepForm):
    source = _unit_field(_("Unit renamed"))
    name = forms.CharField(label=_("New name"), max_length=200)

    def clean_name(self) -> str:
        return nfc(self.cleaned_data["name"])


class RecodeForm(_StepForm):
    source = _unit_field(_("Unit re-coded"))
    code = forms.CharField(label=_("New code"), max_length=32)

    def clean_code(self) -> str:
        return nfc(self.cleaned_data["code"])


class MoveForm(_StepForm):
    source = _unit_field(_("Unit moved"))
    parent = _unit_field(_("New parent unit"))


class ResolveForm(forms.Form):
    units = UnitMultipleChoiceField(
        label=_("Give the role at"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Choose none to withdraw the role."),
    )

    def __init__(self, *args: Any, choices: QuerySet[AdministrativeUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = choices  # type: ignore[attr-defined]


class MappingImportForm(StyledForm):
    """The official old → new commune code mapping, imported as one draft plan."""

    file = forms.FileField(
        label=_("Mapping file (.xlsx or .csv)"),
        help_text=_("One row per old commune and the new commune it becomes part of."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    name = forms.CharField(label=_("Name of the plan"), max_length=200)
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        max_length=300,
        required=False,
        help_text=_("The resolution or decision that orders the change."),
    )
    abolish_level = forms.ChoiceField(
        label=_("Level abolished"),
        choices=[("", _("— (none)"))] + [(v, lbl) for v, lbl in Level.choices],
        required=False,
        help_text=_(
            "A level that ends with the change (e.g. the district level on 1 July 2025): "
            "communes whose parent is of that level move under the level above."
        ),
    )

    def clean_name(self) -> str:
        return nfc(self.cleaned_data["name"])

    def clean_legal_basis(self) -> str:
        return nfc(self.cleaned_data["legal_basis"])

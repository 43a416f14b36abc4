"""Forms of the import and export screens: shape only; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from recognition.forms.subjects import resolve_unit_code, unit_not_found
from recognition.titles import Title
from spreadsheets.exports import FORMATS
from spreadsheets.kinds.base import ImportKind
from spreadsheets.registry import KINDS
from units.levels import Level
from units.models import AdministrativeUnit

#: Kind key -> the options chosen at upload (stored in ImportRun.options); the
#: assessment results' columns depend on them (one per indicator of the set).
KIND_OPTIONS: dict[str, tuple[str, ...]] = {"assessments": ("title", "year", "scope_level")}


def _scope_choices() -> list[tuple[str, Any]]:
    return [
        ("", _("— (not a community title)")),
        (Level.NEIGHBOURHOOD, Level.NEIGHBOURHOOD.label),
        (Level.COMMUNE, Level.COMMUNE.label),
        (Level.DISTRICT, Level.DISTRICT.label),
        (Level.PROVINCE, Level.PROVINCE.label),
    ]


def _option_fields() -> dict[str, forms.Field]:
    return {
        "title": forms.ChoiceField(
            label=_("Title"),
            choices=Title.choices,
            help_text=_("The title the scores in the file are for."),
        ),
        "year": forms.IntegerField(
            label=_("Year"),
            min_value=2000,
            max_value=2100,
            initial=timezone.localdate().year,
            localize=False,
            help_text=_("The year of the registrations the scores are for."),
        ),
        "scope_level": forms.ChoiceField(
            label=_("Level of the community"),
            choices=_scope_choices,
            required=False,
            help_text=_("Only for “Learning community”: the level of the communities assessed."),
        ),
    }


def kind_has_options(kind: type[ImportKind]) -> bool:
    return bool(KIND_OPTIONS.get(kind.key))


class OptionsMixin(forms.Form):
    """The kind's options as form fields (none for most kinds)."""

    kind: type[ImportKind]

    def add_options(self, kind: type[ImportKind]) -> None:
        self.kind = kind
        extra = _option_fields()
        for name in KIND_OPTIONS.get(kind.key, ()):
            self.fields[name] = extra[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            "scope_level" in self.fields
            and data.get("title") == Title.COMMUNITY
            and not data.get("scope_level")
        ):
            self.add_error("scope_level", _("Choose the level of the learning communities."))
        return data

    def options(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name]
            for name in KIND_OPTIONS.get(self.kind.key, ())
            if self.cleaned_data.get(name) not in (None, "")
        }


class OptionsForm(OptionsMixin):
    """Choose the options first (the template and the columns depend on them)."""

    def __init__(self, *args: Any, kind: type[ImportKind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_options(kind)


class ImportUploadForm(OptionsMixin):
    """The file, the unit whose subtree it may touch, and the kind's options."""

    unit_code = forms.CharField(
        label=_("Unit"),
        max_length=32,
        help_text=_(
            "The official code of the unit you import into, e.g. 27184: every row of the "
            "file must lie inside it."
        ),
    )
    file = forms.FileField(
        label=_("File (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
        help_text=_("Fill in the template; keep its first row as it is."),
    )

    def __init__(
        self,
        *args: Any,
        kind: type[ImportKind],
        units: QuerySet[AdministrativeUnit],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.units = units
        self.add_options(kind)

    def clean_unit_code(self) -> AdministrativeUnit:
        code = nfc(self.cleaned_data["unit_code"])
        unit = resolve_unit_code(self.units, code)
        if unit is None:
            raise unit_not_found(code)
        return unit


class VersionForm(forms.Form):
    """The import's version as the user read it (a stale one is refused)."""

    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class ExportForm(forms.Form):
    """What to export: a kind, the unit (public id) and the format; a list's filters;
    the kind's options (title and year of assessment results)."""

    kind = forms.ChoiceField(choices=[(key, key) for key in KINDS])
    unit = forms.UUIDField(required=False)
    fmt = forms.ChoiceField(choices=[(f, f.upper()) for f in FORMATS], initial="xlsx")
    filters = forms.CharField(required=False, max_length=2000)
    title = forms.ChoiceField(choices=Title.choices, required=False)
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False)
    scope_level = forms.CharField(max_length=32, required=False)

    def options(self) -> dict[str, Any]:
        names = KIND_OPTIONS.get(self.cleaned_data.get("kind", ""), ())
        return {
            n: self.cleaned_data[n] for n in names if self.cleaned_data.get(n) not in (None, "")
        }

"""Forms of the self-assessment. They carry shape only; the services check the
ranges, the states and the files (a refused value keeps what the user typed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from recognition.evidence_validation import accept_attribute
from recognition.models import CriteriaSet, ScoringMethod
from recognition.selectors.assessment import CriterionRow

#: The id of the score form; inputs placed elsewhere on the page join it with
#: the HTML ``form`` attribute (the evidence forms sit between them).
SCORE_FORM_ID = "score-form"


def score_field_name(public_id: Any) -> str:
    return f"score_{public_id}"


def note_field_name(public_id: Any) -> str:
    return f"note_{public_id}"


def format_points(value: Decimal | None) -> str:
    """30.00 -> "30", 7.50 -> "7,5" (Vietnamese decimal comma)."""
    if value is None:
        return ""
    return f"{value.normalize():f}".replace(".", ",")


def level_choices(criteria_set: CriteriaSet) -> list[tuple[str, str]]:
    levels = sorted(
        (int(lv["number"]), str(lv.get("label") or lv["number"]))
        for lv in criteria_set.levels or []
        if "number" in lv
    ) or [(1, "1"), (2, "2")]
    return [
        ("", "—"),
        ("0", str(_("Not reached"))),
        *((str(n), label) for n, label in levels),
    ]


class PlainTextInput(forms.TextInput):
    """A text input rendered in Python, not through ``input.html``.

    The assessment page shows two inputs per indicator (score and note), 40 and
    more on a page; through the widget templates they were about a third of the
    page's rendering time at the deadline peak (``bench/peak_load``). The markup
    is the same as Django's template gives (``tests/recognition/test_forms_plain_input.py``
    compares them), so labels, ``aria-*`` and ``is-invalid`` work unchanged."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        shown = widget["value"]
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            format_html(' value="{}"', shown) if shown is not None else "",
            flatatt(widget["attrs"]),
        )


class AssessmentScoreForm(forms.Form):
    """One input per indicator (points, or a level select) and a note."""

    version = forms.IntegerField(widget=forms.HiddenInput(attrs={"form": SCORE_FORM_ID}))

    def __init__(
        self,
        *args: Any,
        rows: list[CriterionRow],
        criteria_set: CriteriaSet,
        preview_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.method = criteria_set.method
        live = (
            {"hx-post": preview_url, "hx-trigger": "input changed delay:300ms"}
            if preview_url
            else {}
        )
        choices = level_choices(criteria_set) if self.method == ScoringMethod.LEVELS else []
        for row in rows:
            for item in row.indicators:
                ind = item.indicator
                label = f"{ind.code}"
                name = score_field_name(ind.public_id)
                attrs = {"form": SCORE_FORM_ID, **live}
                if self.method == ScoringMethod.LEVELS:
                    self.fields[name] = forms.ChoiceField(
                        label=label,
                        required=False,
                        choices=choices,
                        widget=forms.Select(attrs=attrs),
                    )
                    self.initial.setdefault(
                        name, "" if item.score.self_level is None else str(item.score.self_level)
                    )
                else:
                    self.fields[name] = forms.CharField(
                        label=label,
                        required=False,
                        max_length=20,
                        widget=PlainTextInput(
                            attrs={
                                **attrs,
                                "inputmode": "decimal",
                                "autocomplete": "off",
                                "size": "6",
                            }
                        ),
                    )
                    self.initial.setdefault(name, format_points(item.score.self_points))
                note = note_field_name(ind.public_id)
                self.fields[note] = forms.CharField(
                    label=_("Note"),
                    required=False,
                    max_length=2000,
                    widget=PlainTextInput(attrs={"form": SCORE_FORM_ID, "autocomplete": "off"}),
                )
                self.initial.setdefault(note, item.score.note)

    def indicator_ids(self) -> list[str]:
        return [str(item.indicator.public_id) for row in self.rows for item in row.indicators]

    def raw_values(self) -> dict[str, Any]:
        """What was typed, by indicator public id (valid or not: the service decides)."""
        data = self.data
        return {
            pid: data.get(score_field_name(pid), "")
            for pid in self.indicator_ids()
            if score_field_name(pid) in data
        }

    def raw_notes(self) -> dict[str, Any]:
        data = self.data
        return {
            pid: data.get(note_field_name(pid), "")
            for pid in self.indicator_ids()
            if note_field_name(pid) in data
        }

    def add_score_errors(self, errors: dict[str, str]) -> None:
        for pid, message in errors.items():
            name = score_field_name(pid)
            self.add_error(name if name in self.fields else None, message)


class EvidenceUploadForm(forms.Form):
    indicator = forms.CharField(widget=forms.HiddenInput, max_length=64)
    file = forms.FileField(
        label=_("Evidence file"),
        allow_empty_file=True,
        max_length=1000,
        error_messages={"required": _("Choose a file to upload.")},
        widget=forms.ClearableFileInput(attrs={"accept": ""}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = accept_attribute()


class VersionForm(forms.Form):
    """For the complete / reopen / copy buttons: the version the user saw."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

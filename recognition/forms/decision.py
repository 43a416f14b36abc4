"""Forms of the decision screens: create a draft, edit it (every editable field
of the document), filter the annex candidates, revoke, and the issuer profile.

They validate shape only; the services (recognition/services/decision.py)
enforce the rules and their refusals come back as form errors.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from recognition.forms.dossier import UnitChoiceField, _scope_choices
from recognition.models import DecisionStatus, SigningForm
from recognition.titles import Title
from units.forms import DateInput
from units.models import AdministrativeUnit

DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"]


def _lines(value: str) -> str:
    """NFC per line, blank lines dropped (textareas of one entry per line)."""
    return "\n".join(line for line in (nfc(x) for x in (value or "").splitlines()) if line)


def year_choices() -> list[tuple[int, str]]:
    year = timezone.localdate().year
    return [(y, str(y)) for y in (year, year - 1, year - 2)]


class DecisionCreateForm(forms.Form):
    issuing_unit = UnitChoiceField(
        label=_("Issuing unit"),
        queryset=AdministrativeUnit.objects.none(),
        to_field_name="public_id",
        help_text=_("The unit whose head signs the decision."),
    )
    title = forms.ChoiceField(label=_("Title"), choices=Title.choices)
    year = forms.TypedChoiceField(label=_("Year recognised"), coerce=int, choices=year_choices)
    scope_level = forms.ChoiceField(
        label=_("Level of the community"),
        choices=_scope_choices,
        required=False,
        help_text=_("Only for “Learning community”: the level of the communities recognised."),
    )

    def __init__(self, *args: Any, units: QuerySet[AdministrativeUnit], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("year", timezone.localdate().year)
        super().__init__(*args, **kwargs)
        field = self.fields["issuing_unit"]
        field.queryset = units  # type: ignore[attr-defined]
        # The highest unit the user can issue for (their own office) comes first.
        first = units.order_by("depth", "sort_name").first()
        if first is not None:
            field.initial = first.public_id

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("title") != Title.COMMUNITY:
            data["scope_level"] = ""
        return data


class DecisionForm(forms.Form):
    """Every field of the draft a user may edit (services.decision.EDITABLE_FIELDS)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    parent_agency = forms.CharField(
        label=_("Parent agency"),
        max_length=200,
        required=False,
        help_text=_(
            "Leave empty for an Ủy ban nhân dân; e.g. ỦY BAN NHÂN DÂN QUẬN 10 above a Phòng."
        ),
    )
    agency = forms.CharField(label=_("Issuing agency"), max_length=200)
    symbol = forms.CharField(
        label=_("Symbol"), max_length=32, help_text=_("Written after the number, e.g. QĐ-UBND.")
    )
    place_name = forms.CharField(label=_("Place name"), max_length=100)
    issued_on = forms.DateField(
        label=_("Date of the decision"),
        required=False,
        widget=DateInput(),
        input_formats=DATE_FORMATS,
        help_text=_("dd/mm/yyyy; the number is given when the decision is issued."),
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The line under QUYẾT ĐỊNH, e.g. Về việc công nhận …"),
    )
    authority = forms.CharField(
        label=_("Issuing authority"),
        max_length=200,
        help_text=_("The line above the legal bases, e.g. CHỦ TỊCH ỦY BAN NHÂN DÂN QUẬN 10."),
    )
    legal_bases = forms.CharField(
        label=_("Legal bases"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One basis per line, each starting with “Căn cứ”."),
    )
    articles = forms.CharField(
        label=_("Articles"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "One article per line, starting with “Điều 1.”, “Điều 2.” … "
            "Write {số lượng} where the number of items in the annex goes: "
            "it is replaced by the count when the document is rendered."
        ),
    )
    signing_form = forms.ChoiceField(
        label=_("Signing form"), choices=SigningForm.choices, required=False
    )
    signer_collective = forms.CharField(
        label=_("Collective or head"),
        max_length=200,
        required=False,
        help_text=_("After TM./KT., e.g. ỦY BAN NHÂN DÂN or CHỦ TỊCH."),
    )
    signer_title = forms.CharField(
        label=_("Signer's position"),
        max_length=200,
        required=False,
        help_text=_("e.g. CHỦ TỊCH, PHÓ CHỦ TỊCH"),
    )
    signer_name = forms.CharField(label=_("Signer's name"), max_length=200, required=False)
    recipients = forms.CharField(
        label=_("Recipients"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("One recipient per line (Nơi nhận)."),
    )
    annex_title = forms.CharField(
        label=_("Annex heading"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    TEXT_FIELDS = (
        "parent_agency",
        "agency",
        "symbol",
        "place_name",
        "summary",
        "authority",
        "signer_collective",
        "signer_title",
        "signer_name",
        "annex_title",
    )
    LINE_FIELDS = ("legal_bases", "articles", "recipients")

    @classmethod
    def initial_for(cls, decision: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(decision, name) for name in (*cls.TEXT_FIELDS, "signing_form")
        }
        initial.update(
            version=decision.version,
            issued_on=decision.issued_on,
            legal_bases=decision.legal_bases,
            articles="\n".join(decision.articles or []),
            recipients=decision.recipients,
        )
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.TEXT_FIELDS:
            if name in data:
                data[name] = nfc(data[name])
        for name in self.LINE_FIELDS:
            if name in data:
                data[name] = _lines(data[name])
        return data

    def document_values(self) -> dict[str, Any]:
        """The cleaned values as the decision stores them (articles as a list)."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["articles"] = [line for line in data.get("articles", "").splitlines() if line]
        return data


class AnnexFilterForm(forms.Form):
    """Filters of the annex candidates (services.decision.filter_candidates)."""

    proposing_unit = forms.ChoiceField(label=_("Proposing unit"), required=False)
    dossier = forms.ChoiceField(label=_("Dossier"), required=False)
    q = forms.CharField(label=_("Name or household code"), max_length=100, required=False)

    def __init__(
        self,
        *args: Any,
        units: list[tuple[str, str]],
        dossiers: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["proposing_unit"].choices = [("", _("All units")), *units]  # type: ignore[attr-defined]
        self.fields["dossier"].choices = [("", _("All dossiers")), *dossiers]  # type: ignore[attr-defined]

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for revoking"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("Written into Article 1 of the revoking decision."),
    )

    def clean_reason(self) -> str:
        return nfc(self.cleaned_data["reason"])


class DecisionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *DecisionStatus.choices], required=False
    )
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    title = forms.ChoiceField(
        label=_("Title"), choices=[("", _("All titles")), *Title.choices], required=False
    )


class IssuerProfileForm(forms.Form):
    """How one unit writes its decisions (services.decision.issuer_profile_save)."""

    parent_agency = forms.CharField(label=_("Parent agency"), max_length=200, required=False)
    agency = forms.CharField(label=_("Issuing agency"), max_length=200)
    authority = forms.CharField(
        label=_("Issuing authority"),
        max_length=200,
        help_text=_("The line above the legal bases, e.g. CHỦ TỊCH ỦY BAN NHÂN DÂN QUẬN 10."),
    )
    symbol = forms.CharField(
        label=_("Symbol"), max_length=32, help_text=_("Written after the number, e.g. QĐ-UBND.")
    )
    place_name = forms.CharField(label=_("Place name"), max_length=100)
    legal_bases = forms.CharField(
        label=_("Standing legal bases"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("One basis per line; every new decision starts with them."),
    )
    signing_form = forms.ChoiceField(
        label=_("Signing form"), choices=SigningForm.choices, required=False
    )
    signer_collective = forms.CharField(
        label=_("Collective or head"), max_length=200, required=False
    )
    signer_title = forms.CharField(label=_("Signer's position"), max_length=200, required=False)
    signer_name = forms.CharField(label=_("Signer's name"), max_length=200, required=False)
    recipients = forms.CharField(
        label=_("Recipients"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("One recipient per line; “Lưu: VT, …” is added to every decision."),
    )
    executors = forms.CharField(
        label=_("Responsible for implementation"),
        max_length=500,
        required=False,
        help_text=_("Who carries out the decision (Điều 3)."),
    )
    archive_code = forms.CharField(
        label=_("Drafting unit abbreviation"),
        max_length=32,
        required=False,
        help_text=_("For “Lưu: VT, …”"),
    )

    FIELDS = (
        "parent_agency",
        "agency",
        "authority",
        "symbol",
        "place_name",
        "legal_bases",
        "signing_form",
        "signer_collective",
        "signer_title",
        "signer_name",
        "recipients",
        "executors",
        "archive_code",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, value in list(data.items()):
            if isinstance(value, str):
                data[name] = _lines(value) if name in ("legal_bases", "recipients") else nfc(value)
        return data

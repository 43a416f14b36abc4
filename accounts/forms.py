from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from units.models import AdministrativeUnit
from units.roles import ROLE_RANK, Role


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AdministrativeUnit) -> str:
        return f"{'— ' * obj.depth}{obj.name} ({obj.code})"


def _role_choices(max_rank: int) -> list[tuple[str, Any]]:
    return [(value, label) for value, label in Role.choices if ROLE_RANK[value] <= max_rank]


class RoleAssignForm(forms.Form):
    unit = UnitChoiceField(label=_("Unit"), queryset=AdministrativeUnit.objects.none(), to_field_name="public_id")
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args: Any, units: QuerySet[AdministrativeUnit], max_rank: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units.exclude(level="neighbourhood").order_by("path") | units.filter(
            level="neighbourhood"
        ).order_by("path")
        self.fields["role"].choices = _role_choices(max_rank)


class InviteForm(RoleAssignForm):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("Use letters, digits and . @ + - _ only.")},
    )
    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    position = forms.CharField(label=_("Position"), max_length=200, required=False)

    field_order = ["username", "email", "full_name", "position", "unit", "role"]

    def clean_full_name(self) -> str:
        return nfc(self.cleaned_data["full_name"])


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)

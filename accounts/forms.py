from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import nfc
from units.models import AdministrativeUnit
from units.roles import ROLE_RANK, Role


def role_choices(max_rank: int) -> list[tuple[str, Any]]:
    return [(value, label) for value, label in Role.choices if ROLE_RANK[value] <= max_rank]


class RoleAssignForm(forms.Form):
    """A role at a unit. The unit is given by its official code (a tenant may hold
    hundreds of thousands of units, too many for a drop-down) and resolved only
    among the units the actor administers."""

    unit_code = forms.CharField(
        label=_("Unit code"),
        max_length=32,
        help_text=_("The official code of the unit, e.g. 27184 or 27184-KP01."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(
        self, *args: Any, units: QuerySet[AdministrativeUnit], max_rank: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.units = units
        self.fields["role"].choices = role_choices(max_rank)  # type: ignore[attr-defined]

    def clean_unit_code(self) -> AdministrativeUnit:
        code = nfc(self.cleaned_data["unit_code"])
        today = timezone.localdate()
        unit = (
            self.units.filter(code=code, valid_from__lte=today)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
            .first()
        )
        if unit is None:
            raise forms.ValidationError(
                _("No unit in force with code %(code)s in the area you administer."),
                code="unit_not_found",
                params={"code": code},
            )
        return unit


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

    field_order = ["username", "email", "full_name", "position", "unit_code", "role"]

    def clean_full_name(self) -> str:
        return nfc(self.cleaned_data["full_name"])


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("A name to recognise it by, e.g. the program that uses it."),
    )


class TenantSecurityForm(forms.Form):
    """The roles of the tenant that must sign in with an authenticator app."""

    mfa_required_roles = forms.MultipleChoiceField(
        label=_("Roles that must use two-factor sign-in"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Holders of a ticked role must set up an authenticator app at their next sign-in "
            "and then enter its code every time they sign in. Recommended: reviewers and "
            "administrators."
        ),
    )

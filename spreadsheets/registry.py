"""The import kinds by key (resolved lazily: kinds import models of every app)."""

from __future__ import annotations

import importlib

from django.http import Http404

from spreadsheets.kinds.base import ImportKind

#: key -> "module:Class". The order is the order of the menus.
KINDS: dict[str, str] = {
    "units": "spreadsheets.kinds.units:UnitKind",
    "households": "spreadsheets.kinds.subjects:HouseholdKind",
    "clans": "spreadsheets.kinds.clans:ClanKind",
    "organisations": "spreadsheets.kinds.organisations:OrganisationKind",
    "citizens": "spreadsheets.kinds.citizens:CitizenKind",
    "registrations": "spreadsheets.kinds.registrations:RegistrationKind",
    "assessments": "spreadsheets.kinds.assessments:AssessmentKind",
    "users": "spreadsheets.kinds.users:UserKind",
}


def kind_class(key: str) -> type[ImportKind]:
    """The kind class of ``key``; an unknown key is a 404 (it comes from URLs)."""
    target = KINDS.get(key)
    if target is None:
        raise Http404
    module, _sep, name = target.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def all_kinds() -> list[type[ImportKind]]:
    return [kind_class(key) for key in KINDS]

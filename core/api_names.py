"""Unique component names in the API schema.

django-ninja names each schema component after its class (``PlanOut``) and
merges the components of every operation into one dict, so two classes of the
same name in different modules — the campaign plan's ``PlanOut`` and the
reorganisation plan's — silently share one component, and one of the two
operations is documented with the other's body. Here a class whose name is
taken by another class of the project is named after its module instead
(``campaigns_plans_PlanOut``, ``units_reorganisation_PlanOut``); unique names
stay as they are.
"""

from __future__ import annotations

import typing
from collections import defaultdict
from functools import cache

import pydantic
from ninja.openapi import schema as ninja_openapi
from ninja.schema import NinjaGenerateJsonSchema
from pydantic.json_schema import CoreModeRef, DefsRef

PROJECT_PACKAGES = (
    "accounts",
    "campaigns",
    "core",
    "recognition",
    "reports",
    "spreadsheets",
    "units",
)


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _is_project(model: type) -> bool:
    return model.__module__.split(".")[0] in PROJECT_PACKAGES


@cache
def ambiguous_names() -> frozenset[str]:
    """Class names of the project's pydantic models defined in more than one module."""
    modules: dict[str, set[str]] = defaultdict(set)
    for model in _subclasses(pydantic.BaseModel):
        if _is_project(model):
            modules[model.__qualname__].add(model.__module__)
    return frozenset(name for name, found in modules.items() if len(found) > 1)


def qualified_name(module: str, name: str) -> str:
    """``campaigns.api.plans`` + ``PlanOut`` → ``campaigns_plans_PlanOut``."""
    parts = [p for p in module.split(".") if p != "api"]
    return "_".join([*parts, name])


def _page_item(model: type) -> type | None:
    """The item class of a page django-ninja's ``@paginate`` built (``Paged<Item>``)."""
    field = getattr(model, "model_fields", {}).get("items")
    if not model.__name__.startswith("Paged") or field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if args and isinstance(args[0], type) else None


def component_name(model: type) -> str | None:
    """The name ``model`` needs instead of its class name, or None if that is unique."""
    if _is_project(model) and model.__qualname__ in ambiguous_names():
        return qualified_name(model.__module__, model.__qualname__)
    item = _page_item(model)
    inner = component_name(item) if item is not None else None
    return f"Paged_{inner}" if inner else None


@cache
def _models_by_id() -> dict[int, type]:
    return {id(model): model for model in _subclasses(pydantic.BaseModel)}


class QualifiedJsonSchema(NinjaGenerateJsonSchema):
    """Names an ambiguous model after its module (see the module docstring)."""

    def get_defs_ref(self, core_mode_ref: CoreModeRef) -> DefsRef:
        defs_ref = super().get_defs_ref(core_mode_ref)
        # A class's core ref is "module.Class:<id of the class>".
        ident = core_mode_ref[0].rsplit(":", 1)[-1]
        model = _models_by_id().get(int(ident)) if ident.isdigit() else None
        name = component_name(model) if model is not None else None
        if name is not None:
            choices = self._prioritized_defsref_choices[defs_ref]
            self._prioritized_defsref_choices[defs_ref] = [DefsRef(name), *choices[2:]]
        return defs_ref


def install() -> None:
    """Make django-ninja's schema builder use :class:`QualifiedJsonSchema`.

    ninja 1.7 hard-codes its generator in ``ninja.openapi.schema``; this is
    the one place that replaces it (for the OpenAPI document only; request
    validation does not use JSON schemas).
    """
    ninja_openapi.NinjaGenerateJsonSchema = QualifiedJsonSchema  # type: ignore[misc]

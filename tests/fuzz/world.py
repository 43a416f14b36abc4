"""The world the API fuzzer runs in (tests/fuzz/test_api_schemathesis.py).

A tenant with data of every kind, built by the isolation registries
(tests/isolation/registry_*.py): each registry entry makes an object in the
actor's scope, one in a sibling subtree of the same tenant and one in another
tenant. The fuzzer fills path parameters with the in-scope ids (so operations
reach real rows, not only 404s) and checks that nothing of the other tenant,
and for subtree-scoped users nothing of the sibling district, ever appears in
a response.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps

from accounts.models import User
from accounts.services import api_token_create
from tests.conftest import Cast
from tests.factories import grant, make_unit, make_user
from tests.test_isolation import API_REGISTRY
from units.models import AdministrativeUnit
from units.roles import Role

#: Foreign keys naming the unit an object belongs to, in order of precedence.
OWNER_FIELDS = ("unit", "proposing_unit", "issuing_unit", "nominating_unit")

#: Recognisable names planted outside the fuzzed users' scopes.
OTHER_TENANT_MARK = "Ngoại Tỉnh ZQX"
SIBLING_MARK = "Quận Bên ZQY"


@dataclass
class Fixed:
    """Values the fuzzer puts into one operation instead of generating them."""

    path_parameters: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    cast: Cast
    fixed: dict[str, Fixed]
    #: Strings that must never appear in any response of a user of the tenant.
    other_tenant: set[str]
    #: Strings that must never appear in the responses of the district reviewer
    #: and the ward official (the sibling district's objects).
    sibling: set[str]
    tokens: dict[str, str]

    def forbidden(self, role: str) -> set[str]:
        if role in SUBTREE_ROLES:
            return self.other_tenant | self.sibling
        return self.other_tenant


#: The fuzzed users whose scope is a subtree, not the whole tenant.
SUBTREE_ROLES = {"reviewer", "ward_official", "neighbourhood_lead"}


def _fixed_values(cast: Cast) -> dict[str, Fixed]:
    fixed: dict[str, Fixed] = {}
    for key, entry in API_REGISTRY.items():
        if entry.ids is None:
            continue
        ids = entry.ids(cast)
        values = Fixed()
        if entry.query:
            values.query[entry.query] = ids.in_scope
        elif "{" in key:
            values.path_parameters[entry.path_param] = ids.in_scope
        if entry.other_params is not None:
            values.path_parameters.update(entry.other_params(cast))
        fixed[key] = values
    return fixed


def _owned_public_ids(prefix: str) -> set[str]:
    """Public ids of every object whose owning unit lies in the subtree at ``prefix``."""
    found: set[str] = set()
    for model in apps.get_models():
        names = {f.name for f in model._meta.fields}
        if "public_id" not in names:
            continue
        if model is AdministrativeUnit:
            rows = model._default_manager.filter(path__startswith=prefix)
        else:
            owner = next((n for n in OWNER_FIELDS if n in names), None)
            if owner is None:
                continue
            rows = model._default_manager.filter(**{f"{owner}__path__startswith": prefix})
        found |= {str(pid) for pid in rows.values_list("public_id", flat=True)}
    return found


def _other_tenant_strings(cast: Cast) -> set[str]:
    found: set[str] = {OTHER_TENANT_MARK}
    for model in apps.get_models():
        names = {f.name for f in model._meta.fields}
        if "public_id" in names and "tenant" in names:
            found |= {
                str(pid)
                for pid in model._default_manager.filter(tenant=cast.other_tenant).values_list(
                    "public_id", flat=True
                )
            }
    found |= {
        name
        for name in AdministrativeUnit.objects.filter(tenant=cast.other_tenant).values_list(
            "name", flat=True
        )
        if len(name) > 12
    }
    return found


def build_world(cast: Cast) -> World:
    fixed = _fixed_values(cast)
    # Recognisable objects outside the fuzzed users' scopes.
    make_unit(cast.other_tenant, cast.other_tenant_ward, "khu_pho", OTHER_TENANT_MARK, "ZQX-01")
    make_unit(cast.tenant, cast.other_ward, "khu_pho", SIBLING_MARK, "ZQY-01")
    other = cast.other_district
    sibling = _owned_public_ids(other.path) | {SIBLING_MARK}
    lead = grant(make_user(cast.tenant, "fuzz.lead"), cast.neighbourhood, Role.NEIGHBOURHOOD_LEAD)
    users: dict[str, User] = {
        "admin": cast.admin,
        "viewer": cast.viewer,
        "reviewer": cast.reviewer,
        "ward_official": cast.ward_official,
        "neighbourhood_lead": lead,
    }
    tokens = {role: api_token_create(user=u, name="fuzz")[1] for role, u in users.items()}
    return World(
        cast=cast,
        fixed=fixed,
        other_tenant=_other_tenant_strings(cast),
        sibling=sibling,
        tokens=tokens,
    )


def leaks(body: bytes, forbidden: set[str]) -> list[str]:
    """The forbidden strings found in a response body, raw or JSON-escaped."""
    text = body.decode("utf-8", errors="replace")
    escaped = body.decode("unicode_escape", errors="replace") if b"\\u" in body else text
    return sorted(s for s in forbidden if s in text or s in escaped)

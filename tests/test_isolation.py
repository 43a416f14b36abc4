"""Tenant and subtree isolation, for every URL and every API operation.

The suite walks the project's URL resolver and the OpenAPI schema. Each URL
name and each API operation must have an entry in a registry below (saying how
to fill its ids from the fixed cast) or a reasoned exemption; anything new that
is in neither makes :func:`test_every_url_is_in_the_isolation_registry` or
:func:`test_every_api_operation_is_in_the_isolation_registry` fail, so later
features are covered as soon as they add a URL.

For every entry it checks (ARCHITECTURE.md, Tenancy; STYLE.md §4, §8):

* another tenant's object answers 404, even to the tenant's administrator;
* an object in another subtree answers 404 (a ward official asking for
  another ward);
* malformed ids (and sequential primary keys) answer 404, never 500;
* anonymous visitors are sent to the sign-in page (HTML) or get 401 (API);
* the read-only steering viewer gets 403 on every write;
* refused requests change nothing (no audit event is written).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.apps import apps
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import ApiToken, User
from accounts.services import api_token_create
from core.models import AuditEvent
from tests.conftest import Cast, client_for
from tests.factories import grant, make_user
from tests.isolation.base import Entry, Ids, _pid
from units.models import AdministrativeUnit, RoleAssignment
from units.roles import Role

# --- What the walk leaves out ------------------------------------------------

#: URL prefixes that are not ours to check here.
EXCLUDED_PREFIXES: dict[str, str] = {
    "admin/": "Django admin: superusers only, data repair (STYLE.md, Front end)",
    "accounts/": "allauth's sign-in, password and MFA pages (third-party, no tenant data)",
    "i18n/": "Django's set_language view (no tenant data)",
    settings.STATIC_URL.lstrip("/"): "static files",
    settings.MEDIA_URL.lstrip("/"): "media files are served only through scoped views",
}

#: URL names deliberately outside the isolation checks, each with its reason.
EXEMPT_URLS: dict[str, str] = {
    "healthz": "public liveness probe for the load balancer; no tenant data "
    "(tests/core/test_health.py)",
    "core:healthz-detail": "operators' health view behind HEALTH_TOKEN (404/401 without it); "
    "no tenant data (tests/core/test_health.py)",
    "api:openapi-json": "the public API description; no tenant data",
    "api:openapi-view": "Swagger UI page for the API description; no tenant data",
    "api:api-root": "django-ninja's root URL; answers 404",
    "account-email-not-offered": "allauth e-mail management is switched off; always 404",
}

#: API operations ("METHOD /path") deliberately outside the checks.
EXEMPT_API: dict[str, str] = {}


# --- The registry ------------------------------------------------------------


def unit_ids(cast: Cast) -> Ids:
    """A ward official asks for their ward, another ward, another tenant's ward."""
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(cast.ward),
        other_subtree=_pid(cast.other_ward),
        other_tenant=_pid(cast.other_tenant_ward),
    )


def _member(cast: Cast, username: str, unit: AdministrativeUnit, role: str) -> User:
    """A user of the cast's tenant holding ``role`` at ``unit`` (created once: making
    the user again would reset the password and end signed-in sessions)."""
    user = User.objects.filter(username=username).first() or make_user(cast.tenant, username)
    return grant(user, unit, role)


def _district_admin(cast: Cast) -> User:
    """An administrator of one district only (a subtree-scoped admin)."""
    return _member(cast, "district.admin", cast.district, Role.TENANT_ADMIN)


def _other_district_official(cast: Cast) -> User:
    return _member(cast, "tan.dinh", cast.other_ward, Role.WARD_OFFICIAL)


def user_ids(cast: Cast) -> Ids:
    """A district admin asks for a user of their district, of the other district,
    of the other tenant."""
    return Ids(
        actor=_district_admin(cast),
        in_scope=_pid(cast.ward_official),
        other_subtree=_pid(_other_district_official(cast)),
        other_tenant=_pid(cast.other_tenant_official),
    )


def _assignment(user: User) -> RoleAssignment:
    """The user's first role assignment (the one the cast gave them)."""
    return RoleAssignment.objects.filter(user=user).earliest("pk")


def assignment_ids(cast: Cast) -> Ids:
    return Ids(
        actor=_district_admin(cast),
        in_scope=_pid(_assignment(cast.ward_official)),
        other_subtree=_pid(_assignment(_other_district_official(cast))),
        other_tenant=_pid(_assignment(cast.other_tenant_official)),
    )


def _token(user: User) -> ApiToken:
    token, _raw = api_token_create(user=user, name="script")
    return token


def token_ids(cast: Cast) -> Ids:
    """Tokens are personal: anyone else's token is out of scope."""
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(_token(cast.ward_official)),
        other_subtree=_pid(_token(cast.admin)),
        other_tenant=_pid(_token(cast.other_tenant_official)),
        viewer=_pid(_token(cast.viewer)),
    )


def _unit_body(cast: Cast) -> dict[str, Any]:
    return {"name": "Khu phố 9", "code": "ISO-KP09", "kind": "khu_pho", "valid_from": "01/01/2000"}


def _edit_body(cast: Cast) -> dict[str, Any]:
    return {
        "name": "Phường Đổi Tên",
        "code": "ISO-EDIT",
        "kind": "phuong",
        "valid_from": "01/01/1900",
        "version": 1,
    }


def _move_body(cast: Cast) -> dict[str, Any]:
    return {"new_parent": _pid(cast.district), "version": 1}


def _invite_body(cast: Cast) -> dict[str, Any]:
    return {
        "username": "moi.nguoi",
        "email": "moi.nguoi@example.vn",
        "full_name": "Người Mới",
        "unit_code": cast.ward.code,
        "role": Role.WARD_OFFICIAL,
    }


def _grant_body(cast: Cast) -> dict[str, Any]:
    return {"unit_code": cast.ward.code, "role": Role.NEIGHBOURHOOD_LEAD}


OWN_TOKENS = (
    "a personal API token is the user's own, not tenant data: read-only users manage theirs"
)

#: URL name -> how to check it. Every URL of the project outside the exclusions
#: must be here (or in EXEMPT_URLS).
HTML_REGISTRY: dict[str, Entry] = {
    "core:home": Entry(),
    "units:browser": Entry(),
    "units:detail": Entry(ids=unit_ids),
    "units:children": Entry(ids=unit_ids),
    "units:create-child": Entry(writes=("POST",), ids=unit_ids, body=_unit_body),
    "units:edit": Entry(writes=("POST",), ids=unit_ids, body=_edit_body),
    "units:move": Entry(writes=("POST",), ids=unit_ids, body=_move_body),
    "accounts:user-list": Entry(),
    "accounts:user-invite": Entry(writes=("POST",), body=_invite_body),
    "accounts:user-detail": Entry(writes=("POST",), ids=user_ids, body=_grant_body),
    "accounts:user-toggle-active": Entry(reads=(), writes=("POST",), ids=user_ids),
    "accounts:role-revoke": Entry(reads=(), writes=("POST",), ids=assignment_ids),
    "accounts:user-unlock": Entry(reads=(), writes=("POST",), ids=user_ids),
    "accounts:tenant-security": Entry(
        writes=("POST",), body=lambda cast: {"mfa_required_roles": ["reviewer"]}
    ),
    "accounts:token-list": Entry(
        writes=("POST",),
        body=lambda cast: {"name": "script"},
        read_only_status=200,
        read_only_reason=OWN_TOKENS,
    ),
    "accounts:token-revoke": Entry(
        reads=(), writes=("POST",), ids=token_ids, read_only_status=302, read_only_reason=OWN_TOKENS
    ),
}

#: "METHOD /api/v1/path" -> how to check it. Every operation of the OpenAPI
#: schema must be here (or in EXEMPT_API).
API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/me": Entry(),
    "GET /api/v1/units": Entry(ids=unit_ids, query="parent"),
    "GET /api/v1/units/{public_id}": Entry(ids=unit_ids),
    "GET /api/v1/units/{public_id}/children": Entry(ids=unit_ids),
}


def _merge_feature_registries() -> None:
    """Add the registries of tests/isolation/registry_*.py (one module per feature)."""
    import importlib
    import pkgutil

    import tests.isolation as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("registry_"):
            continue
        module = importlib.import_module(f"tests.isolation.{info.name}")
        for target, name in (
            (HTML_REGISTRY, "HTML_REGISTRY"),
            (API_REGISTRY, "API_REGISTRY"),
            (EXEMPT_URLS, "EXEMPT_URLS"),
            (EXEMPT_API, "EXEMPT_API"),
        ):
            extra = getattr(module, name, {})
            clash = set(extra) & set(target)
            assert not clash, f"{info.name} registers {sorted(clash)} twice"
            target.update(extra)


_merge_feature_registries()

MALFORMED_IDS = [
    "not-a-uuid",
    "0",
    "-1",
    "00000000-0000-0000-0000-00000000000g",
    "a" * 300,
    "' OR 1=1 --",
    "\x00",
    "😀",
    "%",
    "{public_id}",
]

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# --- Walking the URLs and the schema -------------------------------------------


@dataclass(frozen=True)
class Url:
    name: str
    route: str
    params: tuple[str, ...]


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> list[Url]:
    found: list[Url] = []
    for item in resolver.url_patterns:
        route = prefix + str(item.pattern)
        if isinstance(item, URLResolver):
            ns = namespace
            if item.namespace:
                ns = f"{namespace}:{item.namespace}" if namespace else item.namespace
            found += _walk(item, route, ns)
        elif isinstance(item, URLPattern):
            name = f"{namespace}:{item.name}" if namespace and item.name else (item.name or "")
            found.append(Url(name=name, route=route, params=tuple(item.pattern.regex.groupindex)))
    return found


def project_urls() -> list[Url]:
    """Every URL pattern outside the excluded prefixes."""
    return [
        url
        for url in _walk(get_resolver())
        if not any(url.route.startswith(p) for p in EXCLUDED_PREFIXES if p)
    ]


def _openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def api_operations(client: Client) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in the served OpenAPI schema."""
    response = client.get(reverse("api:openapi-json"))
    assert response.status_code == 200
    return [
        (method.upper(), path)
        for path, operations in response.json()["paths"].items()
        for method in operations
        if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}
    ]


def html_targets() -> list[tuple[Url, Entry]]:
    return [(u, HTML_REGISTRY[u.name]) for u in project_urls() if u.name in HTML_REGISTRY]


def api_targets(client: Client) -> list[tuple[str, str, Entry]]:
    return [
        (method, path, API_REGISTRY[f"{method} {path}"])
        for method, path in api_operations(client)
        if f"{method} {path}" in API_REGISTRY
    ]


# --- Completeness ------------------------------------------------------------------


def test_every_url_is_in_the_isolation_registry(db: None, client: Client) -> None:
    """A URL neither registered nor exempt fails here: add it to the isolation registry."""
    schema_paths = {path for _method, path in api_operations(client)}
    urls = project_urls()
    problems = []
    for url in urls:
        if url.name in EXEMPT_URLS:
            continue
        if not url.name:
            problems.append(
                f"{url.route!r} has no name: name it and add it to the isolation registry"
            )
        elif url.name.startswith("api:"):
            if _openapi_path(url.route) not in schema_paths:
                problems.append(
                    f"{url.name} ({url.route}) is not an operation of the OpenAPI schema: "
                    "add it to the isolation registry (EXEMPT_URLS, with a reason)"
                )
        elif url.name not in HTML_REGISTRY:
            problems.append(
                f"{url.name} ({url.route}) is not covered: add it to the isolation registry "
                "(tests/test_isolation.py, HTML_REGISTRY) or exempt it with a reason"
            )
        elif url.params and HTML_REGISTRY[url.name].ids is None:
            problems.append(f"{url.name} takes {url.params}: give its registry entry an id factory")
    names = {u.name for u in urls}
    problems += [
        f"{name} is in the isolation registry but is no longer a URL"
        for name in sorted((set(HTML_REGISTRY) | set(EXEMPT_URLS)) - names)
    ]
    problems += [
        f"{name}: a read-only status other than 403 needs a reason"
        for name, e in HTML_REGISTRY.items()
        if e.read_only_status != 403 and not e.read_only_reason
    ]
    assert not problems, "\n".join(problems)


def test_every_api_operation_is_in_the_isolation_registry(db: None, client: Client) -> None:
    """An API operation neither registered nor exempt fails here: add it to the registry."""
    operations = {f"{method} {path}" for method, path in api_operations(client)}
    assert operations, "the OpenAPI schema lists no operation"
    problems = [
        f"{op} is not covered: add it to the isolation registry "
        "(tests/test_isolation.py, API_REGISTRY) or exempt it with a reason"
        for op in sorted(operations - set(API_REGISTRY) - set(EXEMPT_API))
    ]
    problems += [
        f"{op} has a path parameter: give its registry entry an id factory"
        for op in sorted(operations & set(API_REGISTRY))
        if "{" in op and API_REGISTRY[op].ids is None
    ]
    problems += [
        f"{op} is in the isolation registry but not in the OpenAPI schema"
        for op in sorted((set(API_REGISTRY) | set(EXEMPT_API)) - operations)
    ]
    assert not problems, "\n".join(problems)


def test_the_walk_finds_nested_namespaced_and_parameterised_urls(db: None) -> None:
    """Guards the walker itself."""
    by_name = {u.name: u for u in project_urls()}
    assert by_name["units:detail"].params == ("public_id",)
    assert by_name["accounts:role-revoke"].params == ("public_id",)
    assert by_name["api:get_unit"].route == "api/v1/units/<public_id>"
    assert _openapi_path(by_name["api:get_unit"].route) == "/api/v1/units/{public_id}"
    assert not any(u.route.startswith(("admin/", "accounts/", "i18n/")) for u in by_name.values())


# --- Requests ------------------------------------------------------------------


def html_url(url: Url, value: str | None) -> str:
    if not url.params:
        return reverse(url.name)
    assert value is not None, f"{url.name} needs an id"
    return reverse(url.name, kwargs={url.params[0]: value})


def html_request(
    client: Client, method: str, url: Url, value: str | None, body: dict[str, Any]
) -> HttpResponse:
    target = html_url(url, value)
    return client.get(target) if method == "GET" else client.post(target, body)


def api_request(
    client: Client,
    method: str,
    path: str,
    entry: Entry,
    value: str | None,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    *,
    cast: Cast | None = None,
) -> HttpResponse:
    target, query = path, {}
    if entry.other_params is not None and cast is not None:
        for name, other in entry.other_params(cast).items():
            target = target.replace("{" + name + "}", quote(other, safe=""))
    if entry.query:
        if value is not None:
            query[entry.query] = value
    elif "{" in path:
        assert value is not None, f"{path} needs an id"
        target = target.replace("{" + entry.path_param + "}", quote(value, safe=""))
    if method == "GET":
        return client.get(target, query, headers=headers)
    return client.generic(
        method, target, json.dumps(body), content_type="application/json", headers=headers
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _label(method: str, where: str, value: str | None) -> str:
    return f"{method} {where}" + (f" [{value!r}]" if value is not None else "")


def _bearer(user: User) -> dict[str, str]:
    _token, raw = api_token_create(user=user, name="isolation")
    return {"authorization": f"Bearer {raw}"}


def db_state() -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    return (
        list(
            AdministrativeUnit.objects.order_by("pk").values_list(
                "pk", "parent_id", "path", "depth", "name", "code", "kind", "version"
            )
        ),
        list(RoleAssignment.objects.order_by("pk").values_list("pk", "user_id", "unit_id", "role")),
        list(User.objects.order_by("pk").values_list("pk", "is_active", "tenant_id")),
        list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")),
        AuditEvent.objects.count(),
    )


def _html_cases(cast: Cast) -> list[tuple[Url, Entry, Ids | None]]:
    return [(url, entry, entry.ids(cast) if entry.ids else None) for url, entry in html_targets()]


def _api_cases(cast: Cast) -> list[tuple[str, str, Entry, Ids | None]]:
    return [
        (method, path, entry, entry.ids(cast) if entry.ids else None)
        for method, path, entry in api_targets(Client())
    ]


# --- HTML views --------------------------------------------------------------------


def test_html_anonymous_is_sent_to_sign_in(cast: Cast) -> None:
    cases = _html_cases(cast)
    before = db_state()
    client = Client()
    login_url = resolve_url(settings.LOGIN_URL)
    failures, checked = [], 0
    for url, entry, ids in cases:
        value = ids.in_scope if ids else None
        for method in entry.reads + entry.writes:
            response = html_request(client, method, url, value, entry.body(cast))
            checked += 1
            location = response.get("Location", "")
            if response.status_code != 302 or not location.startswith(f"{login_url}?next="):
                failures.append(
                    f"{_label(method, url.name, value)}: {response.status_code} {location}"
                )
    assert checked >= len(HTML_REGISTRY)
    assert not failures, "anonymous visitors must be sent to sign-in:\n" + "\n".join(failures)
    assert db_state() == before


def _html_all_404(cast: Cast, pick: Callable[[Ids], tuple[User, list[str]]], what: str) -> None:
    cases = [(u, e, ids) for u, e, ids in _html_cases(cast) if ids is not None]
    picked = [(u, e, *pick(ids)) for u, e, ids in cases]
    clients = {user.pk: client_for(user) for _u, _e, user, _v in picked}
    before = db_state()
    failures, checked = [], 0
    for url, entry, user, values in picked:
        for value in values:
            for method in entry.reads + entry.writes:
                response = html_request(clients[user.pk], method, url, value, entry.body(cast))
                checked += 1
                if response.status_code != 404:
                    failures.append(f"{_label(method, url.name, value)}: {response.status_code}")
    assert checked >= len(cases)
    assert not failures, f"{what} must answer 404:\n" + "\n".join(failures)
    assert db_state() == before, "a refused request changed the database"


def test_html_other_tenant_is_404_even_for_the_tenant_admin(cast: Cast) -> None:
    _html_all_404(cast, lambda ids: (cast.admin, [ids.other_tenant]), "another tenant's objects")


def test_html_other_subtree_is_404(cast: Cast) -> None:
    _html_all_404(cast, lambda ids: (ids.actor, [ids.other_subtree]), "another subtree's objects")


def test_html_malformed_and_unknown_ids_are_404(cast: Cast) -> None:
    _html_all_404(
        cast,
        lambda ids: (cast.admin, [*MALFORMED_IDS, str(uuid.uuid4()), _pk_of(ids.in_scope)]),
        "malformed ids, unknown ids and sequential primary keys",
    )


def _pk_of(public_id: str) -> str:
    """The sequential primary key behind a public id: it must never work in a URL."""
    for model in apps.get_models():
        if any(f.name == "public_id" for f in model._meta.fields):
            pks = list(
                model._default_manager.filter(public_id=public_id).values_list("pk", flat=True)
            )
            if pks:
                return str(pks[0])
    raise AssertionError(f"no object with public id {public_id}")


def test_html_read_only_user_cannot_write(cast: Cast) -> None:
    cases = _html_cases(cast)
    client = client_for(cast.viewer)
    failures, checked = [], 0
    for url, entry, ids in cases:
        value = (ids.viewer or ids.in_scope) if ids else None
        for method in entry.writes:
            before = db_state()
            response = html_request(client, method, url, value, entry.body(cast))
            checked += 1
            if response.status_code != entry.read_only_status:
                failures.append(
                    f"{_label(method, url.name, value)}: {response.status_code}, "
                    f"expected {entry.read_only_status}"
                )
            if entry.read_only_status == 403 and db_state() != before:
                failures.append(
                    f"{_label(method, url.name, value)}: the refused write changed data"
                )
    assert checked == sum(len(e.writes) for e in HTML_REGISTRY.values())
    assert not failures, "read-only user writing:\n" + "\n".join(failures)


def test_html_in_scope_ids_reach_the_view(cast: Cast) -> None:
    """Positive control: the ids above are real, so their 404s come from scoping."""
    failures = []
    for url, entry, ids in _html_cases(cast):
        client = client_for(ids.actor if ids else cast.admin)
        for method in entry.reads:
            response = html_request(client, method, url, ids.in_scope if ids else None, {})
            if response.status_code not in entry.ok_statuses:
                failures.append(f"{_label(method, url.name, None)}: {response.status_code}")
    assert not failures, "in-scope requests failed:\n" + "\n".join(failures)
    ward = client_for(cast.ward_official)
    assert ward.get(reverse("units:detail", args=[cast.ward.public_id])).status_code == 200
    assert ward.get(reverse("units:children", args=[cast.ward.public_id])).status_code == 200


def test_html_in_scope_writes_succeed_for_the_subtree_admin(cast: Cast) -> None:
    """Positive control for the write views that take a user, role or token id."""
    tokens = token_ids(cast)
    own = client_for(tokens.actor).post(reverse("accounts:token-revoke", args=[tokens.in_scope]))
    assert own.status_code == 302
    assert ApiToken.objects.get(public_id=tokens.in_scope).revoked_at is not None
    ids = user_ids(cast)
    admin = client_for(ids.actor)
    assert admin.get(reverse("accounts:user-detail", args=[ids.in_scope])).status_code == 200
    response = admin.post(reverse("accounts:user-detail", args=[ids.in_scope]), _grant_body(cast))
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(
        user=cast.ward_official, role=Role.NEIGHBOURHOOD_LEAD
    ).exists()
    assignment = assignment_ids(cast).in_scope
    revoke = admin.post(reverse("accounts:role-revoke", args=[assignment]))
    assert revoke.status_code == 302
    assert revoke["Location"] == reverse("accounts:user-detail", args=[ids.in_scope])
    assert not RoleAssignment.objects.filter(public_id=assignment).exists()
    toggle = admin.post(reverse("accounts:user-toggle-active", args=[ids.in_scope]))
    assert toggle.status_code == 302
    assert not User.objects.get(public_id=ids.in_scope).is_active


# --- API -------------------------------------------------------------------------------


def test_api_anonymous_is_401(cast: Cast) -> None:
    cases = _api_cases(cast)
    before = db_state()
    client = Client()
    failures = []
    for method, path, entry, ids in cases:
        value = ids.in_scope if ids else None
        for headers in ({}, {"authorization": "Bearer xhht_bogus_token"}, {"authorization": "x"}):
            response = api_request(
                client, method, path, entry, value, entry.body(cast), headers, cast=cast
            )
            if response.status_code != 401:
                failures.append(f"{_label(method, path, value)} {headers}: {response.status_code}")
    assert len(cases) == len(API_REGISTRY)
    assert not failures, "anonymous API calls must answer 401:\n" + "\n".join(failures)
    assert db_state() == before


def _api_all_404(
    cast: Cast,
    pick: Callable[[Ids], tuple[User, list[str]]],
    what: str,
    *,
    bearer: bool = False,
) -> None:
    cases = [(m, p, e, *pick(ids)) for m, p, e, ids in _api_cases(cast) if ids is not None]
    auth: dict[int, tuple[Client, dict[str, str] | None]] = {}
    for _m, _p, _e, user, _v in cases:
        if user.pk not in auth:
            auth[user.pk] = (Client(), _bearer(user)) if bearer else (client_for(user), None)
    before = db_state()
    failures = []
    for method, path, entry, user, values in cases:
        client, headers = auth[user.pk]
        for value in values:
            response = api_request(
                client, method, path, entry, value, entry.body(cast), headers, cast=cast
            )
            # A typed query filter (?parent=) is validated before the view runs:
            # a value that is not a UUID at all is a 422 validation error.
            expected = 422 if entry.query and not _is_uuid(value) else 404
            if response.status_code != expected:
                failures.append(f"{_label(method, path, value)}: {response.status_code}")
    assert cases
    assert not failures, f"{what} must answer 404:\n" + "\n".join(failures)
    assert db_state() == before, "a refused request changed the database"


def test_api_other_tenant_is_404_by_session(cast: Cast) -> None:
    _api_all_404(cast, lambda ids: (cast.admin, [ids.other_tenant]), "another tenant's objects")


def test_api_other_tenant_is_404_by_token(cast: Cast) -> None:
    _api_all_404(
        cast, lambda ids: (cast.admin, [ids.other_tenant]), "another tenant's objects", bearer=True
    )


def test_api_other_subtree_is_404(cast: Cast) -> None:
    _api_all_404(cast, lambda ids: (ids.actor, [ids.other_subtree]), "another subtree's objects")


def test_api_other_subtree_is_404_by_token(cast: Cast) -> None:
    _api_all_404(
        cast, lambda ids: (ids.actor, [ids.other_subtree]), "another subtree's objects", bearer=True
    )


def test_api_malformed_and_unknown_ids_are_404(cast: Cast) -> None:
    _api_all_404(
        cast,
        lambda ids: (cast.admin, [*MALFORMED_IDS, str(uuid.uuid4()), _pk_of(ids.in_scope)]),
        "malformed ids, unknown ids and sequential primary keys",
    )


def test_api_read_only_user_reads_but_cannot_write(cast: Cast) -> None:
    cases = _api_cases(cast)
    client = client_for(cast.viewer)
    failures = []
    for method, path, entry, ids in cases:
        value = (ids.viewer or ids.in_scope) if ids else None
        before = db_state()
        response = api_request(client, method, path, entry, value, entry.body(cast), cast=cast)
        expected = entry.read_only_status if method in WRITE_METHODS else 200
        if response.status_code != expected:
            failures.append(
                f"{_label(method, path, value)}: {response.status_code}, expected {expected}"
            )
        if expected == 403 and db_state() != before:
            failures.append(f"{_label(method, path, value)}: the refused write changed data")
    assert cases
    assert not failures, "read-only user:\n" + "\n".join(failures)


def test_api_in_scope_ids_answer_200(cast: Cast) -> None:
    """Positive control for the API ids."""
    failures = []
    for method, path, entry, ids in _api_cases(cast):
        if method in WRITE_METHODS:
            continue
        client = client_for(ids.actor if ids else cast.admin)
        response = api_request(
            client, method, path, entry, ids.in_scope if ids else None, {}, cast=cast
        )
        if response.status_code != 200:
            failures.append(f"{_label(method, path, None)}: {response.status_code}")
    assert not failures, "in-scope API calls failed:\n" + "\n".join(failures)

"""The adversarial pass (issue 10 §1): ids of other tenants' and sibling
subtrees' objects put where a user can type them — form fields, API bodies,
bulk actions, report requests, list filters, import rows, job URLs and htmx
partials. Every one answers 404 or a form error: never data, never a write.

The isolation suite (tests/test_isolation.py) puts foreign ids in the URL;
this pass keeps the URL in scope and puts them in what the request carries.
The valid bodies come from the isolation registries: each case swaps every id
(and unit code) in a body for the same kind of object of the other tenant,
then of the sibling district, and checks that nothing was written — and, as a
positive control, that the untouched body does write.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from accounts.models import User
from core.models import AuditEvent
from recognition.models import Clan, Household, Organisation
from tests.conftest import Cast, client_for
from tests.factories import make_unit
from tests.fuzz.world import OWNER_FIELDS, leaks
from tests.isolation.base import Entry, Ids
from tests.spreadsheets.support import kind_headers, xlsx_bytes
from tests.test_isolation import (
    API_REGISTRY,
    HTML_REGISTRY,
    _district_admin,
    api_request,
    html_url,
    project_urls,
)
from units.models import AdministrativeUnit, RoleAssignment

PROJECT_APPS = {"accounts", "campaigns", "core", "recognition", "reports", "spreadsheets", "units"}
#: Body fields that carry a unit code rather than a public id.
CODE_FIELDS = {"unit_code", "home_unit_codes"}
#: An answer that refuses: the object is not found, or the form/body is invalid.
API_REFUSED = {400, 403, 404, 409, 422}
HTML_REFUSED = {200, 400, 403, 404}  # 200: the form again, with its errors
OTHER_TENANT, SIBLING = "other_tenant", "sibling"


# --- The state a refused request must leave as it was -------------------------------


def state() -> tuple[Any, ...]:
    """Row counts of every model of the project and the audit log's length: a
    write of any service adds rows or at least an audit event."""
    counts = tuple(
        (model._meta.label, model._default_manager.count())
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
    )
    versions = tuple(
        AdministrativeUnit.objects.order_by("pk").values_list("pk", "parent_id", "version")
    )
    return (*counts, versions, AuditEvent.objects.count())


# --- Finding a foreign object of the same kind --------------------------------------------


def _object(public_id: str) -> Model | None:
    try:
        uuid.UUID(str(public_id))
    except ValueError:
        return None
    for model in apps.get_models():
        if model._meta.app_label in PROJECT_APPS and any(
            f.name == "public_id" for f in model._meta.fields
        ):
            found = model._default_manager.filter(public_id=public_id).first()
            if found is not None:
                return found
    return None


def _foreign_of(obj: Model, cast: Cast, where: str) -> Model | None:
    """An object of ``obj``'s model in the other tenant or the sibling district
    (a unit of the same kind if there is one)."""
    model = type(obj)
    names = {f.name for f in model._meta.fields}
    rows = model._default_manager.exclude(pk=obj.pk)
    if where == OTHER_TENANT:
        if "tenant" not in names:
            return None
        rows = rows.filter(tenant=cast.other_tenant)
    elif model is AdministrativeUnit:
        rows = rows.filter(path__startswith=cast.other_district.path)
    else:
        owner = next((n for n in OWNER_FIELDS if n in names), None)
        if owner is None:
            return None
        rows = rows.filter(**{f"{owner}__path__startswith": cast.other_district.path})
    if "kind" in names:
        same = rows.filter(kind=obj.kind).first()  # type: ignore[attr-defined]
        if same is not None:
            return same
    return rows.first()


def _swap_value(value: Any, field: str, cast: Cast, where: str) -> Any:
    if isinstance(value, list):
        return [_swap_value(v, field, cast, where) for v in value]
    if field in CODE_FIELDS:
        unit = AdministrativeUnit.objects.filter(tenant=cast.tenant, code=value).first()
        foreign = _foreign_of(unit, cast, where) if unit is not None else None
        return foreign.code if foreign is not None else value  # type: ignore[attr-defined]
    obj = _object(value)
    foreign = _foreign_of(obj, cast, where) if obj is not None else None
    return str(foreign.public_id) if foreign is not None else value  # type: ignore[attr-defined]


def _referenced(value: Any, field: str, cast: Cast) -> list[Model]:
    """The objects a body value names (ids, lists of ids, unit codes)."""
    if isinstance(value, list):
        return [obj for v in value for obj in _referenced(v, field, cast)]
    if field in CODE_FIELDS:
        return list(AdministrativeUnit.objects.filter(code=value))
    obj = _object(value)
    return [obj] if obj is not None else []


def footprint(objects: list[Model]) -> list[Any]:
    """The fields of ``objects`` and how many rows point at each: a request
    that changes either wrote to, or with, a foreign object."""
    found = []
    for obj in objects:
        fresh = type(obj)._default_manager.filter(pk=obj.pk).values().first()
        pointing = [
            relation.related_model._default_manager.filter(**{relation.field.name: obj}).count()
            for relation in obj._meta.related_objects
            if relation.field.concrete
        ]
        found.append((fresh, pointing))
    return found


def swap_ids(body: dict[str, Any], cast: Cast, where: str) -> tuple[dict[str, Any], list[str]]:
    """``body`` with every id and unit code replaced by a foreign one; the swapped fields."""
    swapped, fields = dict(body), []
    for field, value in body.items():
        new = _swap_value(value, field, cast, where)
        if new != value:
            swapped[field] = new
            fields.append(field)
    return swapped, fields


# --- Requests -------------------------------------------------------------------------------


def _covers_sibling(user: User, cast: Cast) -> bool:
    paths = RoleAssignment.objects.filter(user=user).values_list("unit__path", flat=True)
    return any(cast.other_district.path.startswith(p) for p in paths)


def _actor(cast: Cast, ids: Ids | None, where: str) -> User:
    user = ids.actor if ids is not None else cast.admin
    if where == SIBLING and _covers_sibling(user, cast):
        return _district_admin(cast)
    return user


@dataclass
class Target:
    """One write to attack: an HTML form or an API operation of the registries."""

    key: str
    html: bool

    @property
    def entry(self) -> Entry:
        return (HTML_REGISTRY if self.html else API_REGISTRY)[self.key]

    def send(
        self, client: Client, cast: Cast, ids: Ids | None, body: dict[str, Any]
    ) -> HttpResponse:
        value = ids.in_scope if ids is not None else None
        if self.html:
            url = next(u for u in project_urls() if u.name == self.key)
            return client.post(html_url(url, value), body)
        method, path = self.key.split(" ", 1)
        return api_request(client, method, path, self.entry, value, body, cast=cast)


#: Targets whose registry body cannot write as it stands (so no positive
#: control), with the reason; the foreign-id checks still run.
NO_POSITIVE_CONTROL = {
    "POST /api/v1/nominations/award-decision": "needs an approved nomination awaiting "
    "its decision; the registry's world has none",
    "POST /api/v1/dossiers/{public_id}/items": "the registry's ward dossier is already "
    "submitted, so its items are locked",
    "units:reassignment-resolve": "the registry's world has no role left to reassign",
    "recognition:dossier-remove": "the registry's ward dossier is already submitted, so "
    "its items are locked",
    "spreadsheets:import-new": "choosing the unit writes nothing: it leads to the unit's "
    "upload page",
}

#: Targets whose registry actor may not make this write: the tenant
#: administrator makes it instead.
BY_ADMIN = {"campaigns:event-edit", "units:move"}


def attack(target: Target, cast: Cast) -> None:
    """Foreign ids in the body refuse and write nothing; the real body writes.

    API operations must answer an error. HTML forms answer 404, the form with
    its errors (200), or — for an edit form that ignores a field the user may
    not change — a redirect after saving the rest: then the foreign objects
    must be untouched and no row may point at them.
    """
    entry = target.entry
    ids = entry.ids(cast) if entry.ids else None
    if target.key in BY_ADMIN and ids is not None:
        ids = Ids(cast.admin, ids.in_scope, ids.other_subtree, ids.other_tenant, ids.viewer)
    body = entry.body(cast)
    refused = HTML_REFUSED if target.html else API_REFUSED
    for where in (OTHER_TENANT, SIBLING):
        foreign, fields = swap_ids(body, cast, where)
        if where == OTHER_TENANT:
            assert fields, f"{target.key}: no id or unit code to swap in {sorted(body)}"
        if not fields:
            continue  # e.g. a tenant-wide criteria set has no sibling-district copy
        named = [obj for f in fields for obj in _referenced(foreign[f], f, cast)]
        client = client_for(_actor(cast, ids, where))
        before, untouched = state(), footprint(named)
        response = target.send(client, cast, ids, foreign)
        label = f"{target.key} with {where} {fields}"
        assert footprint(named) == untouched, f"{label} wrote to or with the foreign object"
        if target.html and response.status_code == 302:
            location = response["Location"]
            assert not any(str(getattr(o, "public_id", "-")) in location for o in named), (
                f"{label} led to the foreign object's page: {location}"
            )
            continue
        assert response.status_code in refused, (
            f"{label}: {response.status_code} {response.content[:300]!r}"
        )
        assert state() == before, f"{label} wrote something"


def positive_control(target: Target, cast: Cast) -> None:
    """The registry's body, untouched, writes (then is rolled back, so the
    attack runs on the same data): the refusals come from the foreign ids."""
    if target.key in NO_POSITIVE_CONTROL:
        return
    entry = target.entry
    ids = entry.ids(cast) if entry.ids else None
    if target.key in BY_ADMIN and ids is not None:
        ids = Ids(cast.admin, ids.in_scope, ids.other_subtree, ids.other_tenant, ids.viewer)
    body = entry.body(cast)
    client = client_for(_actor(cast, ids, OTHER_TENANT))
    before = state()
    try:
        with transaction.atomic():
            response = target.send(client, cast, ids, body)
            wrote = state() != before
            raise _Undo
    except _Undo:
        pass
    assert wrote, (
        f"positive control: {target.key} with its own ids wrote nothing "
        f"({response.status_code} {response.content[:300]!r})"
    )


class _Undo(Exception):
    """Rolls the positive control back."""


# --- Kind 1: unit, subject, reviewer and target choices in HTML forms --------------------

FORM_FIELDS = [
    "accounts:user-detail",  # grant a role (reviewer assignment) at a unit code
    "accounts:user-invite",
    "campaigns:deadline-extend",
    "campaigns:event-create",
    "campaigns:event-edit",
    "campaigns:event-report",
    "campaigns:nomination-create",
    "campaigns:nomination-edit",
    "campaigns:plan-create",
    "campaigns:plan-derive",
    "campaigns:plan-target-save",  # campaign targets per unit
    "recognition:clan-create",
    "recognition:clan-edit",
    "recognition:decision-list",
    "recognition:dossier-list",
    "recognition:household-create",
    "recognition:household-edit",
    "recognition:organisation-create",
    "recognition:organisation-edit",
    "recognition:registration-create",  # subject choice
    "spreadsheets:import-new",
    "units:move",
]


@pytest.mark.parametrize("name", FORM_FIELDS)
def test_foreign_ids_in_html_form_fields(cast: Cast, name: str) -> None:
    positive_control(Target(name, html=True), cast)
    attack(Target(name, html=True), cast)


# --- Kind 2: ids in API bodies ------------------------------------------------------------

API_BODIES = [
    "POST /api/v1/assessments",
    "POST /api/v1/deadlines",
    "POST /api/v1/deadlines/{public_id}/extensions",
    "POST /api/v1/decisions",
    "POST /api/v1/dossiers",
    "POST /api/v1/events",
    "POST /api/v1/events/lifelong-week",
    "POST /api/v1/events/{public_id}/reports",
    "POST /api/v1/nominations",
    "POST /api/v1/nominations/award-decision",
    "POST /api/v1/plans",
    "POST /api/v1/plans/{public_id}/derive",
    "POST /api/v1/plans/{public_id}/targets",
    "POST /api/v1/registrations",
    "POST /api/v1/subjects/citizens",
    "POST /api/v1/subjects/clans",
    "POST /api/v1/subjects/households",
    "POST /api/v1/subjects/organisations",
]


@pytest.mark.parametrize("key", API_BODIES)
def test_foreign_ids_in_api_bodies(cast: Cast, key: str) -> None:
    positive_control(Target(key, html=False), cast)
    attack(Target(key, html=False), cast)


# --- Kind 3: bulk actions -------------------------------------------------------------------

BULK_ACTIONS = [
    ("POST /api/v1/registrations/bulk", False),
    ("POST /api/v1/dossiers/{public_id}/items", False),
    ("POST /api/v1/reorganisations/{public_id}/steps", False),
    ("recognition:review-items", True),
    ("recognition:dossier-remove", True),
    ("units:reassignment-resolve", True),
    ("units:reorganisation-step-add", True),
]


@pytest.mark.parametrize(("key", "html"), BULK_ACTIONS)
def test_foreign_ids_in_bulk_actions(cast: Cast, key: str, html: bool) -> None:
    positive_control(Target(key, html=html), cast)
    attack(Target(key, html=html), cast)


# --- Kind 4: report and export requests ---------------------------------------------------

REPORT_REQUESTS = [
    ("POST /api/v1/reports", False),
    ("POST /api/v1/exports", False),
    ("reports:report-create", True),
    ("spreadsheets:export", True),
]


@pytest.mark.parametrize(("key", "html"), REPORT_REQUESTS)
def test_foreign_units_in_report_and_export_requests(cast: Cast, key: str, html: bool) -> None:
    positive_control(Target(key, html=html), cast)
    attack(Target(key, html=html), cast)


# --- Kind 5: list filters ----------------------------------------------------------------

#: Query parameters the lists filter by.
FILTERS = ("unit", "issuing_unit", "proposing_unit", "nominating_unit", "plan", "subject", "parent")


def _forbidden(cast: Cast, where: str) -> tuple[set[str], dict[str, str]]:
    """Strings that must not appear, and the foreign ids to put in the filters."""
    if where == OTHER_TENANT:
        units = list(AdministrativeUnit.objects.filter(tenant=cast.other_tenant))
        ward = cast.other_tenant_ward
    else:
        units = list(AdministrativeUnit.objects.filter(path__startswith=cast.other_district.path))
        ward = cast.other_ward
    # The queried ward's own id comes back in links (?next=…): look for the rest.
    forbidden = {str(u.public_id) for u in units if u.pk != ward.pk}
    forbidden |= {u.name for u in units if "Khu phố" not in u.name}
    query = {name: str(ward.public_id) for name in FILTERS}
    return forbidden, query


def _lists() -> list[str]:
    names = {u.name: u for u in project_urls()}
    return sorted(
        name
        for name, entry in HTML_REGISTRY.items()
        if name in names and not names[name].params and "GET" in entry.reads
    )


@pytest.mark.parametrize("where", [OTHER_TENANT, SIBLING])
def test_foreign_ids_in_list_filters(cast: Cast, where: str) -> None:
    """Every list page and every API list, filtered by a foreign unit: an empty
    list, a form error or 404 — never the foreign rows."""
    forbidden, query = _forbidden(cast, where)
    user = cast.admin if where == OTHER_TENANT else cast.ward_official
    client = client_for(user)
    failures, checked = [], 0
    # The names the lists would show: the planted household and the foreign units.
    unit = cast.other_tenant_ward if where == OTHER_TENANT else cast.other_ward
    planted = make_unit(unit.tenant, unit, "khu_pho", f"Khu Lọc {where}", f"ADV-{where}")
    forbidden |= {planted.name, str(planted.public_id)}
    before = state()
    targets = [reverse(name) for name in _lists()]
    targets += [
        key.split(" ", 1)[1] for key in API_REGISTRY if key.startswith("GET ") and "{" not in key
    ]
    for target in targets:
        response = client.get(target, query)
        checked += 1
        if response.status_code not in {200, 302, 400, 403, 404, 422}:
            failures.append(f"{target}: {response.status_code}")
        found = leaks(response.content, forbidden)
        if found:
            failures.append(f"{target}: shows {found}")
    assert checked > 20
    assert not failures, "\n".join(failures)
    assert state() == before


# --- Kind 6: import rows naming a foreign unit --------------------------------------------


@dataclass
class ImportCase:
    kind: str
    model: type[Model]
    #: A row whose unit code is ``code`` (the code of a unit of the given kind).
    row: Callable[[Cast, str], list[Any]]
    unit_kind: str  # "neighbourhood" or "ward"


IMPORT_ROWS = [
    ImportCase(
        "households",
        Household,
        lambda cast, code: ["HG-ADV-1", "Nguyễn Văn Đối", "1 Lê Lợi", 3, code],
        "neighbourhood",
    ),
    ImportCase(
        "clans",
        Clan,
        lambda cast, code: ["Họ Đối Kháng", "Nguyễn Văn Đối", 20, code, ""],
        "ward",
    ),
    ImportCase(
        "organisations",
        Organisation,
        lambda cast, code: ["Trường Đối Kháng", "Trường học", "1 Lê Lợi", 10, code],
        "ward",
    ),
]


def _foreign_unit(cast: Cast, unit_kind: str, where: str) -> AdministrativeUnit:
    if where == SIBLING:
        return cast.other_neighbourhood if unit_kind == "neighbourhood" else cast.other_ward
    if unit_kind == "ward":
        return cast.other_tenant_ward
    return make_unit(cast.other_tenant, cast.other_tenant_ward, "khu_pho", "Khu phố Xa", "31-ADV")


def _upload(
    client: Client, cast: Cast, case: ImportCase, code: str, on_commit: Any
) -> dict[str, Any]:
    content = xlsx_bytes(kind_headers(case.kind), [case.row(cast, code)])
    with on_commit(execute=True):  # the check runs as a job, enqueued on commit
        response = client.post(
            f"/api/v1/units/{cast.ward.public_id}/imports",
            {"kind": case.kind, "file": SimpleUploadedFile("data.xlsx", content)},
        )
    assert response.status_code == 202, response.content
    return client.get(f"/api/v1/imports/{response.json()['public_id']}").json()


@pytest.mark.parametrize("case", IMPORT_ROWS, ids=lambda c: c.kind)
def test_import_rows_naming_a_foreign_unit(
    cast: Cast, case: ImportCase, django_capture_on_commit_callbacks: Any
) -> None:
    on_commit = django_capture_on_commit_callbacks
    client = client_for(cast.ward_official)
    for where in (OTHER_TENANT, SIBLING):
        foreign = _foreign_unit(cast, case.unit_kind, where)
        run = _upload(client, cast, case, foreign.code, on_commit)
        assert run["error_count"] == 1, (where, run["status"], run["errors"], run["message"])
        assert foreign.code in run["errors"][0]["message"]
        if where == OTHER_TENANT:
            assert foreign.name not in str(run), "the error names the other tenant's unit"
        before = state()
        with on_commit(execute=True):
            confirm = client.post(
                f"/api/v1/imports/{run['public_id']}/confirm",
                {"version": run["version"]},
                content_type="application/json",
            )
        assert confirm.status_code in API_REFUSED, confirm.content
        assert state() == before
        assert not case.model._default_manager.filter(tenant=cast.tenant).exists()
    own = cast.neighbourhood if case.unit_kind == "neighbourhood" else cast.ward
    run = _upload(client, cast, case, own.code, on_commit)
    assert run["error_count"] == 0, run["errors"]  # positive control


# --- Kind 7: job status and download URLs of others' jobs -------------------------------

JOB_URLS = [
    ("GET", "/api/v1/jobs/{id}"),
    ("GET", "/api/v1/jobs/{id}/download"),
    ("POST", "/api/v1/jobs/{id}/retry"),
    ("GET", "jobs:detail"),
    ("GET", "jobs:progress"),
    ("GET", "jobs:download"),
    ("POST", "jobs:retry"),
]


@pytest.mark.parametrize(("method", "url"), JOB_URLS)
def test_job_urls_of_others_jobs(cast: Cast, method: str, url: str) -> None:
    from tests.isolation.registry_decision_api import done_job_ids, failed_job_ids

    ids = (failed_job_ids if "retry" in url else done_job_ids)(cast)
    own = client_for(ids.actor)
    admin = client_for(cast.admin)

    def call(client: Client, job: str, htmx: bool = False) -> HttpResponse:
        target = url.replace("{id}", job) if url.startswith("/") else reverse(url, args=[job])
        headers = {"HX-Request": "true"} if htmx else {}
        if method == "GET":
            return client.get(target, headers=headers)
        return client.post(target, headers=headers)

    before = state()
    for client, job in ((admin, ids.other_tenant), (own, ids.other_subtree)):
        for htmx in (False, True):
            response = call(client, job, htmx)
            assert response.status_code == 404, (url, job, htmx, response.status_code)
    assert state() == before
    assert call(own, ids.in_scope).status_code in {200, 202, 302}  # positive control


# --- Kind 8: htmx partials --------------------------------------------------------------


@pytest.mark.parametrize("where", [OTHER_TENANT, SIBLING])
def test_htmx_requests_with_foreign_ids(cast: Cast, where: str) -> None:
    """Every URL that takes an id, asked as htmx asks (HX-Request, and the
    partial's POST for the forms): 404, like the full page."""
    headers = {"HX-Request": "true", "HX-Target": "main"}
    urls = {u.name: u for u in project_urls()}
    cases = [(name, e, e.ids(cast)) for name, e in HTML_REGISTRY.items() if e.ids is not None]
    clients: dict[int, Client] = {}
    before = state()
    failures = []
    for name, entry, ids in cases:
        user = cast.admin if where == OTHER_TENANT else ids.actor
        value = ids.other_tenant if where == OTHER_TENANT else ids.other_subtree
        client = clients.setdefault(user.pk, client_for(user))
        target = html_url(urls[name], value)
        for method in entry.reads + entry.writes:
            if method == "GET":
                response = client.get(target, headers=headers)
            else:
                response = client.post(target, entry.body(cast), headers=headers)
            if response.status_code != 404:
                failures.append(f"{method} {name} [{where}]: {response.status_code}")
    assert len(cases) > 30
    assert not failures, "\n".join(failures)
    assert state() == before

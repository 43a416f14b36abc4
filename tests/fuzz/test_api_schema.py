"""The served OpenAPI schema documents what the API really answers
(core/api_errors.py, core/api_names.py): the fuzzer validates every response
against it, so these pin the two things it first got wrong."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from campaigns.api import plans as campaign_plans
from core.api_names import ambiguous_names
from units.reorganisation import api as reorganisation_api

WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture
def schema(db: None, client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _ref(schema: dict[str, Any], ref: str) -> dict[str, Any]:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_every_operation_documents_its_error_answers(schema: dict[str, Any]) -> None:
    problems = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
            expected = {"400", "401", "403"}
            expected |= {"404", "422"} if takes_input else set()
            expected |= {"409"} if method in WRITES else set()
            missing = expected - set(operation["responses"])
            if missing:
                problems.append(f"{method.upper()} {path}: {sorted(missing)}")
    assert not problems, "\n".join(problems)
    me = schema["paths"]["/api/v1/me"]["get"]["responses"]
    body = me["401"]["content"]["application/json"]["schema"]
    assert _ref(schema, body["$ref"])["required"] == ["code", "detail"]


def test_an_operations_own_error_body_is_documented_beside_the_domain_error(
    schema: dict[str, Any],
) -> None:
    answer = schema["paths"]["/api/v1/reorganisations/import"]["post"]["responses"]["400"]
    refs = [s["$ref"] for s in answer["content"]["application/json"]["schema"]["anyOf"]]
    assert refs == ["#/components/schemas/MappingErrorsOut", "#/components/schemas/ErrorOut"]


def _item_properties(schema: dict[str, Any], path: str) -> set[str]:
    """The fields of the items a list operation answers (a page or a plain list)."""
    body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    listed = body["schema"]
    if "$ref" in listed:
        listed = _ref(schema, listed["$ref"])["properties"]["items"]
    return set(_ref(schema, listed["items"]["$ref"])["properties"])


def test_classes_of_the_same_name_in_two_modules_get_a_component_each(
    schema: dict[str, Any],
) -> None:
    assert "PlanOut" in ambiguous_names()
    assert not ambiguous_names() & set(schema["components"]["schemas"])
    assert _item_properties(schema, "/api/v1/plans") == set(campaign_plans.PlanOut.model_fields)
    assert _item_properties(schema, "/api/v1/reorganisations") == set(
        reorganisation_api.PlanOut.model_fields
    )


#: Operations whose ``page`` is not a database offset, with the reason.
CLAMPED_PAGES = {
    "GET /api/v1/dossiers/{public_id}": "its items page goes through Django's "
    "Paginator.get_page, which clamps any number to the last page",
}


def test_every_paginated_list_bounds_its_page_number(schema: dict[str, Any]) -> None:
    """A list paginated with ninja's own class would take ?page=10**30 to the
    database (500): lists use core.api_pagination.PageNumberPagination."""
    unbounded, paged = [], 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "page" and parameter["in"] == "query":
                    paged += 1
                    key = f"{method.upper()} {path}"
                    if "maximum" not in parameter["schema"] and key not in CLAMPED_PAGES:
                        unbounded.append(key)
    assert paged >= 15
    assert not unbounded, unbounded

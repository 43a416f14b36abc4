"""The error answers every API operation may give, documented in the schema.

The handlers in :mod:`core.api` answer out-of-scope ids with 404, read-only
writes with 403, missing credentials with 401 and domain errors with 400/409,
all as ``{"code", "detail"}``, and outages of the database or the job queue
with 503; django-ninja answers invalid parameters with
422 ``{"detail": [...]}``. Views declare only their success answers, so the
schema gains these here, for every operation, once.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = "ErrorOut"
VALIDATION_SCHEMA = "ValidationErrorOut"

_SCHEMAS: dict[str, dict[str, Any]] = {
    ERROR_SCHEMA: {
        "title": ERROR_SCHEMA,
        "type": "object",
        "properties": {
            "code": {"title": "Code", "type": "string"},
            "detail": {"title": "Detail", "type": "string"},
        },
        "required": ["code", "detail"],
    },
    VALIDATION_SCHEMA: {
        "title": VALIDATION_SCHEMA,
        "type": "object",
        "properties": {
            "detail": {"title": "Detail", "type": "array", "items": {"type": "object"}},
        },
        "required": ["detail"],
    },
}

_DESCRIPTIONS = {
    "400": "A domain error: the request cannot be carried out (code and message).",
    "401": "No session and no valid API token.",
    "403": "The user's role may only read here.",
    "404": "No such object in the user's scope (other tenants and subtrees included).",
    "409": "The object changed meanwhile or is in a state that forbids this.",
    "422": "A parameter or the body does not match the schema.",
    "503": "The database or the job queue is unavailable for a moment: try again "
    "(code service_unavailable or queue_unavailable).",
}

WRITE_METHODS = {"post", "put", "patch", "delete"}


def _codes(method: str, operation: dict[str, Any]) -> list[str]:
    takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
    codes = ["400", "401", "403"]
    if takes_input:
        codes += ["404", "422"]
    if method in WRITE_METHODS:
        codes.append("409")
    # Any operation may meet a database outage, and a write may need the queue.
    codes.append("503")
    return codes


def _response(code: str) -> dict[str, Any]:
    name = VALIDATION_SCHEMA if code == "422" else ERROR_SCHEMA
    return {
        "description": _DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def _also_error(declared: dict[str, Any]) -> None:
    """An operation that declares its own body for an error status (the
    reorganisation import's row errors) may still answer a domain error
    from the handlers there: document either body."""
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    content = declared.setdefault("content", {}).setdefault("application/json", {})
    own = content.get("schema")
    if own is None:
        content["schema"] = ref
    elif own != ref and ref not in own.get("anyOf", []):
        content["schema"] = {"anyOf": [own, ref]}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers to every operation of ``schema`` (in place)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, body in _SCHEMAS.items():
        components.setdefault(name, body)
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in _codes(method, operation):
                # ninja keys the declared answers by int, JSON by string.
                declared = responses.get(int(code), responses.get(code))
                if declared is None:
                    responses[int(code)] = _response(code)
                elif code != "422":
                    _also_error(declared)
    return schema

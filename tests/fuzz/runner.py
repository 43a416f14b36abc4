"""Runs schemathesis over every operation of /api/v1/openapi.json as one user.

Each operation gets a bounded, derandomised hypothesis run (the same cases on
every run), mixing cases whose path and query ids are real in-scope ids of the
fuzz world with fully generated and schema-violating (negative) cases. Every
response is checked: no 5xx, status code, content type and body documented in
the schema, and none of the forbidden strings (ids and names outside the
user's scope) in the body.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.world import Fixed, leaks

POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS = [*POSITIVE_CHECKS, negative_data_rejection]


@dataclass
class Tally:
    """What one fuzz run did: cases per operation and the failures found."""

    cases: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: Operations that answered 2xx at least once (the cases reached real data).
    succeeded: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.cases.values())


def operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda op: (op.path, op.method))


def _strategy(operation: Any, fixed: Fixed | None) -> st.SearchStrategy[Any]:
    strategies = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    if fixed is not None:
        in_scope = operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE,
            path_parameters=fixed.path_parameters or None,
            query=fixed.query or None,
        )
        strategies = [in_scope, in_scope, *strategies]
    return st.one_of(strategies)


def fuzz(
    schema: schemathesis.BaseSchema,
    *,
    headers: dict[str, str],
    fixed: dict[str, Fixed],
    forbidden: set[str],
    max_examples: int,
    expect_status: set[int] | None = None,
    keep_session_cookie: bool = False,
) -> Tally:
    """Fuzz every operation; collect (not raise) the first failure of each."""
    tally = Tally()
    for operation in operations(schema):
        key = f"{operation.method.upper()} {operation.path}"
        tally.cases[key] = 0
        started = time.monotonic()
        try:
            _fuzz_operation(
                operation,
                key=key,
                tally=tally,
                headers=headers,
                fixed=fixed.get(key),
                forbidden=forbidden,
                max_examples=max_examples,
                expect_status=expect_status,
                keep_session_cookie=keep_session_cookie,
            )
        except (Exception, BaseExceptionGroup) as exc:
            tally.failures[key] = f"{type(exc).__name__}: {exc}"[:3000]
        tally.seconds[key] = time.monotonic() - started
    return tally


def _fuzz_operation(
    operation: Any,
    *,
    key: str,
    tally: Tally,
    headers: dict[str, str],
    fixed: Fixed | None,
    forbidden: set[str],
    max_examples: int,
    expect_status: set[int] | None,
    keep_session_cookie: bool,
) -> None:
    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=_strategy(operation, fixed))
    def run(case: Any) -> None:
        tally.cases[key] += 1
        if not keep_session_cookie and case.cookies:
            # Token users: a generated session cookie only trips the CSRF check.
            case.cookies.pop("sessionid", None)
        response = case.call(headers=headers)
        if 200 <= response.status_code < 300:
            tally.succeeded.add(key)
        if expect_status is not None:
            assert response.status_code in expect_status, (
                f"{response.status_code}, expected {sorted(expect_status)}"
            )
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        case.validate_response(response, checks=NEGATIVE_CHECKS if negative else POSITIVE_CHECKS)
        found = leaks(response.content, forbidden)
        assert not found, f"out-of-scope data in the response: {found}"

    run()

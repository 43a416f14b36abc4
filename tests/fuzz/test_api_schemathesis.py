"""Schemathesis over every API operation (issue 10, Bad input): no 5xx, no
schema violation, no data outside the user's scope — for a user of each role
of a tenant with data, and for anonymous callers (401 everywhere).

One test walks every role over one world (building the world takes most of
the time); the roles run from the read-only ones to the administrator, whose
writes change the most. Cases per operation are bounded and derandomised, so
every run sends the same requests (tests/fuzz/README.md has the figures).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from tests.conftest import Cast
from tests.fuzz.runner import Tally, fuzz
from tests.fuzz.world import World, build_world, leaks

#: Role → generated cases per operation. Anonymous calls need few: every one
#: must be refused before any input is read.
EXAMPLES = {
    "anonymous": 1,
    "viewer": 2,
    "neighbourhood_lead": 2,
    "ward_official": 2,
    "reviewer": 3,
    "admin": 4,
}


@pytest.fixture
def api_schema(db: None) -> Iterator[schemathesis.BaseSchema]:
    """The served schema, and the WSGI app schemathesis calls. As Django's test
    client does, requests keep the test's database connection: closing it at
    the end of each request would end the test's transaction (PostgreSQL)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(cast: Cast) -> World:
    return build_world(cast)


def _run(role: str, api_schema: schemathesis.BaseSchema, world: World) -> Tally:
    if role == "anonymous":
        return fuzz(
            api_schema,
            headers={},
            fixed=world.fixed,
            forbidden=world.forbidden(role),
            max_examples=EXAMPLES[role],
            # 403 only for a (generated) session cookie without its CSRF token.
            expect_status={401, 403},
            keep_session_cookie=True,
        )
    return fuzz(
        api_schema,
        headers={"Authorization": f"Bearer {world.tokens[role]}"},
        fixed=world.fixed,
        forbidden=world.forbidden(role),
        max_examples=EXAMPLES[role],
    )


def _check_the_leak_check(world: World) -> None:
    """The forbidden strings are the planted objects, and nothing in scope."""
    cast = world.cast
    assert str(cast.other_tenant_ward.public_id) in world.forbidden("admin")
    assert str(cast.other_ward.public_id) in world.forbidden("ward_official")
    assert str(cast.other_ward.public_id) not in world.forbidden("admin")
    assert len(world.other_tenant) > 20 and len(world.sibling) > 10
    for role in EXAMPLES:
        assert str(cast.ward.public_id) not in world.forbidden(role)
    body = f'{{"unit": "{cast.other_tenant_ward.public_id}"}}'.encode()
    assert leaks(body, world.forbidden("viewer")) == [str(cast.other_tenant_ward.public_id)]
    assert leaks(b'{"name": "Ngo\\u1ea1i T\\u1ec9nh ZQX"}', world.forbidden("viewer"))


def test_every_operation_for_every_role(api_schema: schemathesis.BaseSchema, world: World) -> None:
    _check_the_leak_check(world)
    failures, total, reached = [], 0, {}
    for role in EXAMPLES:
        tally = _run(role, api_schema, world)
        total += tally.total
        print(
            f"\nfuzz[{role}]: {tally.total} cases over {len(tally.cases)} operations, "
            f"{len(tally.succeeded)} of them answered 2xx at least once"
        )
        reached[role] = len(tally.succeeded)
        slow = sorted(tally.seconds.items(), key=lambda kv: -kv[1])[:3]
        print("  slowest: " + ", ".join(f"{k} {v:.1f}s" for k, v in slow))
        failures += [f"[{role}] {key}\n{text}" for key, text in sorted(tally.failures.items())]
    print(f"fuzz: {total} cases in all")
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
    # Positive control: the in-scope ids reach real rows, so the checks above
    # looked at real answers, not only at 404s and 422s.
    assert reached["anonymous"] == 0
    assert reached["viewer"] >= 40, reached
    assert reached["admin"] >= 60, reached

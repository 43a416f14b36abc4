"""/healthz: database, cache and broker, with the failing part named."""

from __future__ import annotations

import pytest
from django.test import Client

from core import health


def _boom() -> str:
    raise ConnectionError("redis unreachable")


def test_healthz_is_ok(db: None, client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert body["checks"]["database"] == "ok" and body["checks"]["cache"] == "ok"
    assert body["checks"]["broker"] in {"ok", "in-process"}
    assert body["failing"] == []
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("part", ["database", "cache", "broker"])
def test_healthz_names_the_failing_part(
    db: None, client: Client, monkeypatch: pytest.MonkeyPatch, part: str
) -> None:
    monkeypatch.setitem(health.CHECKS, part, _boom)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == [part]
    assert body["checks"][part] == "error: ConnectionError"
    # The exception text (which may hold hosts or credentials) is not shown.
    assert "redis unreachable" not in response.content.decode()
    assert all(
        body["checks"][other] != "error: ConnectionError"
        for other in body["checks"]
        if other != part
    )


def test_healthz_needs_no_sign_in_and_only_answers_get(db: None, client: Client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405

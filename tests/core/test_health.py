"""/healthz (liveness, no query) and /healthz/detail (token, every dependency)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import health
from core.models import Job, JobStatus

TOKEN = "s3cret-health-token-for-tests"


def _boom() -> dict[str, Any]:
    raise ConnectionError("redis://:password@10.0.0.5 unreachable")


def _detail(client: Client, token: str | None = TOKEN) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.get("/healthz/detail", **headers)


def test_healthz_is_liveness_without_queries(db: None, client: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(queries) == 0
    assert "no-cache" in response["Cache-Control"]


def test_healthz_stays_up_when_the_database_is_down(
    db: None, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "check_database", _boom)
    assert client.get("/healthz").status_code == 200


def test_healthz_needs_no_sign_in_and_only_answers_get(db: None, client: Client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_detail_does_not_exist_without_a_token_setting(db: None, client: Client, settings) -> None:
    settings.HEALTH_TOKEN = ""
    assert _detail(client).status_code == 404
    assert _detail(client, None).status_code == 404


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN + "x", TOKEN[:-1]])
def test_detail_refuses_a_missing_or_wrong_token(
    db: None, client: Client, settings, token: str | None
) -> None:
    settings.HEALTH_TOKEN = TOKEN
    response = _detail(client, token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "checks" not in response.json()


def test_detail_reports_every_part(db: None, client: Client, settings) -> None:
    settings.HEALTH_TOKEN = TOKEN
    settings.HEALTH_MIN_FREE_BYTES = 1
    Job.objects.create(kind="report.build", label="old", status=JobStatus.PENDING)
    response = _detail(client)
    assert response.status_code == 200, response.json()
    body = response.json()
    checks = body["checks"]
    assert set(checks) == {
        "database",
        "migrations",
        "cache",
        "broker",
        "workers",
        "queues",
        "storage",
        "disk",
    }
    assert checks["database"]["status"] == "ok" and checks["database"]["latency_ms"] >= 0
    assert checks["migrations"] == {**checks["migrations"], "status": "ok", "pending": 0}
    assert checks["storage"]["status"] == "ok"
    assert checks["disk"]["status"] == "ok" and checks["disk"]["free_bytes"] > 0
    assert checks["queues"]["jobs_pending"] == 1
    assert checks["queues"]["oldest_pending_job_age_s"] >= 0
    # Tests run tasks in-process: no broker, no workers to ask.
    assert checks["broker"]["status"] == "skipped" and checks["workers"]["status"] == "skipped"
    assert body["status"] == "ok" and body["failing"] == []
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("part", ["database", "migrations", "storage", "disk", "broker", "workers"])
def test_detail_is_503_when_an_essential_part_fails(
    db: None, client: Client, settings, monkeypatch: pytest.MonkeyPatch, part: str
) -> None:
    settings.HEALTH_TOKEN = TOKEN
    monkeypatch.setitem(health.CHECKS, part, (_boom, True))
    response = _detail(client)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["failing"] == [part]
    assert body["checks"][part] == {
        "status": "error",
        "error": "ConnectionError",
        "took_ms": body["checks"][part]["took_ms"],
    }
    # The exception text (hosts, credentials) is not shown.
    assert "password" not in response.content.decode()


def test_a_failing_cache_is_degraded_not_down(
    db: None, client: Client, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HEALTH_TOKEN = TOKEN
    monkeypatch.setitem(health.CHECKS, "cache", (_boom, False))
    response = _detail(client)
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["degraded"] == ["cache"]


def test_low_disk_space_fails_the_detail(db: None, client: Client, settings) -> None:
    settings.HEALTH_TOKEN = TOKEN
    settings.HEALTH_MIN_FREE_BYTES = 10**18  # more than any disk
    response = _detail(client)
    assert response.status_code == 503
    assert response.json()["failing"] == ["disk"]


def test_pending_migrations_fail_the_detail(
    db: None, client: Client, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db.migrations.executor import MigrationExecutor

    settings.HEALTH_TOKEN = TOKEN
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets: [("core", "9999_future")]
    )
    response = _detail(client)
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"]["pending"] == 1

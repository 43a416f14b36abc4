"""/healthz/detail with a real broker and worker: the worker answers the ping,
the queues are measured; with the worker stopped the detail answers 503."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.integration.conftest import Worker, _stop

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

TOKEN = "integration-health-token"


def _detail(settings: Any, queue: str) -> Any:
    settings.HEALTH_TOKEN = TOKEN
    settings.HEALTH_QUEUES = [queue]
    return Client().get("/healthz/detail", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def test_detail_sees_the_worker_and_the_queue(celery_worker: Worker, settings: Any) -> None:
    settings.CELERY_BROKER_URL = celery_worker.broker_url
    response = _detail(settings, celery_worker.queue)
    body = response.json()
    assert response.status_code == 200, body
    checks = body["checks"]
    assert checks["broker"]["status"] == "ok"
    assert checks["workers"]["status"] == "ok" and checks["workers"]["responding"] >= 1
    assert checks["queues"]["queue_lengths"] == {celery_worker.queue: 0}

    _stop(celery_worker.process)
    response = _detail(settings, celery_worker.queue)
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == {
        **response.json()["checks"]["workers"],
        "status": "error",
        "responding": 0,
    }
    assert "workers" in response.json()["failing"]

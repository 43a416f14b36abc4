"""Redis down (issue 10 §4): reads keep working, an action that would queue a job
answers with a clear message (503 JSON in the API) and leaves no job "waiting"
forever; when Redis is back, the failed job can be retried.

A real ``redis-server`` is started on a free port of its own for this test and
stopped in the middle (the shared Redis on 6379 is never touched). The cache and
the Celery broker of this process point at it, as in production.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.urls import reverse

from config.celery import app
from core.jobs import job_retry
from core.models import Job, JobStatus
from reports import report_services
from reports.report_models import Report

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "celery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def queued(self) -> int:
        return int(redis.Redis.from_url(self.url).llen(QUEUE))


def _reset_broker_connections() -> None:
    """Forget the producer pool, so the next publish connects to the broker anew."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_server(tmp_path: Path, settings: Any) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    server = RedisServer(port=_free_port(), directory=tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "xhht-redis-down",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = server.url
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.task_always_eager = False
    app.conf.broker_url = server.url
    _reset_broker_connections()
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            app.conf[key] = value
        _reset_broker_connections()
        caches["default"].close()


def _english(client: Any) -> Any:
    client.cookies["xhht_language"] = "en"
    return client


def _draft(cast: Any) -> Report:
    return report_services.report_create(
        actor=cast.reviewer, unit=cast.district, kind="yearly", year=2025
    )


def test_redis_down_reads_work_and_jobs_are_refused_clearly(
    cast: Any, login: Any, redis_server: RedisServer
) -> None:
    client = _english(login(cast.reviewer))
    api = login(cast.reviewer)
    dashboard = reverse("reports:dashboard")
    assert client.get(dashboard).status_code == 200  # fills the cache

    # Redis up: a build is queued on the broker.
    report = _draft(cast)
    response = api.post(f"/api/v1/reports/{report.public_id}/build")
    assert response.status_code == 202
    assert redis_server.queued() == 1
    queued = Job.objects.get(public_id=response.json()["public_id"])
    assert queued.status == JobStatus.PENDING

    redis_server.stop()

    # Reads keep working: pages (the dashboard reads the cache), the API.
    started = time.monotonic()
    assert client.get(dashboard).status_code == 200
    assert client.get(reverse("units:browser")).status_code == 200
    assert client.get(reverse("reports:report-detail", args=[report.public_id])).status_code == 200
    assert api.get("/api/v1/units").status_code == 200
    assert time.monotonic() - started < 10  # short timeouts, no hanging

    # The API: 503 with a code and the reason.
    second = _draft(cast)
    refused = _english(api).post(f"/api/v1/reports/{second.public_id}/build")
    assert refused.status_code == 503
    assert refused.json()["code"] == "queue_unavailable"
    assert "task queue is unavailable" in refused.json()["detail"]

    # The page: the report's page says why, in the user's language.
    page = client.post(reverse("reports:report-build", args=[second.public_id]), follow=True)
    assert page.status_code == 200
    assert "task queue is unavailable" in page.content.decode()

    # Nothing is left "waiting" for a queue that never got it.
    refused_jobs = Job.objects.filter(object_id=str(second.public_id))
    assert refused_jobs.count() == 2
    assert set(refused_jobs.values_list("status", flat=True)) == {JobStatus.FAILED}
    assert all(job.message and job.finished_at for job in refused_jobs)
    assert not Job.objects.filter(status=JobStatus.PENDING).exclude(pk=queued.pk).exists()

    # Redis back (an empty one): the failed build is retried and queued.
    redis_server.start()
    _reset_broker_connections()
    job = refused_jobs.first()
    assert job is not None
    job_retry(actor=cast.reviewer, job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    assert redis_server.queued() == 1
    assert client.get(dashboard).status_code == 200


def test_import_upload_with_redis_down_says_so(
    cast: Any, login: Any, redis_server: RedisServer
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from spreadsheets.models import ImportRun
    from tests.spreadsheets.support import kind_headers, xlsx_bytes

    redis_server.stop()
    rows = [["KP01-0001", "Nguyễn Văn Hùng", "1 Lê Lợi", 4, cast.neighbourhood.code]]
    api = _english(login(cast.ward_official))
    upload = SimpleUploadedFile(
        "ho-gia-dinh.xlsx",
        xlsx_bytes(kind_headers("households"), rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response = api.post(
        f"/api/v1/units/{cast.ward.public_id}/imports", {"kind": "households", "file": upload}
    )
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "queue_unavailable"
    run = ImportRun.objects.get()
    assert run.validate_job is not None
    assert run.validate_job.status == JobStatus.FAILED

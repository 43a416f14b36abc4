"""Sentry-compatible error reporting (issue 10 §7): nothing without a DSN; with
one, an unhandled error is captured with the request id and without personal data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from django.urls import reverse
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

import units.views
from core.error_reporting import sentry_init

FAKE_DSN = "https://publickey@sentry.invalid/42"


class CaptureTransport(Transport):
    """Keeps the events in memory instead of sending them."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type == "event":
                self.events.append(json.loads(item.payload.get_bytes()))


@pytest.fixture
def transport() -> Iterator[CaptureTransport]:
    capture = CaptureTransport()
    assert sentry_init(dsn=FAKE_DSN, environment="test", release="xhht@1", transport=capture)
    try:
        yield capture
    finally:
        sentry_sdk.init()  # no DSN: reporting off again
        assert getattr(sentry_sdk.get_client(), "transport", None) is None


def test_nothing_is_set_up_without_a_dsn() -> None:
    assert sentry_init(dsn="") is False
    assert getattr(sentry_sdk.get_client(), "transport", None) is None


def test_defaults_send_no_pii_and_no_traces(transport: CaptureTransport) -> None:
    options = sentry_sdk.get_client().options
    assert options["send_default_pii"] is False
    assert options["traces_sample_rate"] == 0.0
    assert options["max_request_body_size"] == "never"
    assert options["environment"] == "test" and options["release"] == "xhht@1"
    names = {type(i).__name__ for i in sentry_sdk.get_client().integrations.values()}
    assert {"DjangoIntegration", "CeleryIntegration"} <= names


def test_an_error_in_a_request_is_captured_with_its_id_and_no_pii(
    cast, login, monkeypatch, transport: CaptureTransport
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("lookup of CCCD 079204001234 failed")

    client = login(cast.ward_official)
    client.raise_request_exception = False
    monkeypatch.setattr(units.views, "units_for_user", crash)
    response = client.post(
        reverse("units:browser") + "?q=Nguyen+Van+A",
        {"national_id": "079204001234", "password": "hunter2"},
        HTTP_AUTHORIZATION="Bearer xhht_secret_token",
    )
    assert response.status_code in (405, 500)
    if response.status_code == 405:  # the browser is GET-only: ask with GET then
        response = client.get(
            reverse("units:browser"),
            {"q": "Nguyen Van A"},
            HTTP_AUTHORIZATION="Bearer xhht_secret_token",
        )
    assert response.status_code == 500
    sentry_sdk.flush()
    assert len(transport.events) == 1
    event = transport.events[0]
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    text = json.dumps(event, ensure_ascii=False)
    for secret in (
        "079204001234",
        "hunter2",
        "xhht_secret_token",
        "Nguyen",
        "sessionid",
        "csrftoken",
        *([cast.ward_official.email] if cast.ward_official.email else []),
    ):
        assert secret not in text, secret
    assert set(event.get("user", {})) <= {"id"}
    assert "data" not in event["request"] and "cookies" not in event["request"]


def test_a_bug_in_a_job_is_captured_with_the_job_id(
    cast, monkeypatch, transport: CaptureTransport
) -> None:
    from core import jobs
    from core.models import Job

    job = Job.objects.create(tenant_id=cast.tenant.pk, unit=cast.district, kind="export.build")

    def bug(job: Job) -> None:
        raise KeyError("national_id 079204001234")

    monkeypatch.setattr(jobs, "_handler", lambda kind: bug)
    assert jobs.job_run(job.pk) == "failed"
    sentry_sdk.flush()
    assert len(transport.events) == 1
    event = transport.events[0]
    assert event["tags"]["job_id"] == str(job.public_id)
    assert "079204001234" not in json.dumps(event)

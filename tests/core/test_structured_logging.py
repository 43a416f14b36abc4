"""JSON logs (issue 10 §7): one line per request with its id (also in the
``X-Request-ID`` header), the user id and tenant, and no personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from django.conf import settings
from django.test import Client
from django.urls import reverse

from core.structured_logging import REDACTED, logging_config


def _parse(handler_stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in handler_stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def capture() -> Iterator[io.StringIO]:
    config = dict(logging_config(fmt="json", level="INFO")["formatters"]["structured"])
    formatter = config.pop("()")(**config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def _request_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [
        line for line in _parse(stream) if line.get("logger", "").startswith("django_structlog")
    ]


def test_the_test_settings_log_json() -> None:
    assert settings.LOG_FORMAT == "json"
    assert settings.MIDDLEWARE[0] == "core.request_id.RequestIdMiddleware"


def test_a_request_gives_one_json_line_with_its_id(cast, login, capture) -> None:
    client = login(cast.ward_official)
    response = client.get(reverse("units:browser"))
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert len(request_id) >= 16
    lines = _request_lines(capture)
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["event"] == "request_finished" and line["code"] == 200
    assert line["request_id"] == request_id
    assert line["user_id"] == cast.ward_official.pk
    assert line["tenant"] == cast.tenant.slug
    assert line["level"] == "info" and line["timestamp"].endswith("Z")
    assert "ip" not in line  # client addresses are not logged


def test_each_request_gets_its_own_id(db, capture) -> None:
    client = Client()
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first != second
    assert [line["request_id"] for line in _request_lines(capture)] == [first, second]


def test_an_untrusted_request_id_header_is_ignored(db, capture, settings) -> None:
    settings.TRUST_REQUEST_ID_HEADER = False
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="proxy-id-123456")
    assert response["X-Request-ID"] != "proxy-id-123456"


def test_the_trusted_proxy_request_id_is_kept(db, capture, settings) -> None:
    settings.TRUST_REQUEST_ID_HEADER = True
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="proxy-id-123456")
    assert response["X-Request-ID"] == "proxy-id-123456"
    assert _request_lines(capture)[0]["request_id"] == "proxy-id-123456"
    # A malformed id (log injection, absurd length) is replaced.
    bad = Client().get("/healthz", HTTP_X_REQUEST_ID='x" injected\n{"level":"error"}')
    assert bad["X-Request-ID"] != 'x" injected\n{"level":"error"}'


def test_no_personal_data_in_the_lines(db, capture) -> None:
    log = structlog.get_logger("xhht.test")
    log.info(
        "citizen checked 079204001234",
        national_id="079204001234",
        password="hunter2",
        note="CCCD 079 204 001 234 and CMND 271234567",
        payload={"user": {"email": "a@b.vn", "token": "xhht_abc"}},
    )
    logging.getLogger("xhht.stdlib").warning("lookup of %s failed", "079204001234")
    Client().get("/healthz?q=079204001234&name=Nguyen")
    text = capture.getvalue()
    for secret in (
        "079204001234",
        "079 204 001 234",
        "271234567",
        "hunter2",
        "a@b.vn",
        "xhht_abc",
        "Nguyen",
    ):
        assert secret not in text, secret
    lines = _parse(capture)
    assert lines[0]["national_id"] == REDACTED and lines[0]["password"] == REDACTED
    assert lines[0]["payload"]["user"] == {"email": REDACTED, "token": REDACTED}
    assert _request_lines(capture)[0]["request"] == f"GET /healthz?{REDACTED}"


def test_redaction_keeps_ordinary_text() -> None:
    from core.structured_logging import redact_text

    assert redact_text("Có chắc không? Có.") == "Có chắc không? Có."
    assert redact_text("GET /units/?q=Bến&page=2") == f"GET /units/?{REDACTED}"
    assert redact_text("job 1b9d6bcd-bbfd-4b2d-9b5d-123456789012 done") == (
        "job 1b9d6bcd-bbfd-4b2d-9b5d-123456789012 done"
    )
    assert redact_text("took 0.123456789 s, 1.500 rows") == "took 0.123456789 s, 1.500 rows"
    assert redact_text("CCCD 079204001234.") == f"CCCD {REDACTED}."

"""Sentry-compatible error reporting (issue 10 §7), configured only by the environment.

Without ``SENTRY_DSN`` nothing is initialised and nothing leaves the server.
With it, unhandled errors of requests (Django integration) and of Celery tasks
(Celery integration) are sent to that DSN — Sentry itself or a compatible
server (GlitchTip, a self-hosted Sentry). Performance tracing is off unless
``SENTRY_TRACES_SAMPLE_RATE`` says otherwise.

Personal data stays home (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15):
``send_default_pii=False`` (no user e-mail, IP address, cookies), request bodies
are never attached, and :func:`scrub_event` removes headers, query strings and
identity numbers that slipped into messages before anything is sent. Each event
carries the request id (or job id) of the logs so the two can be joined.
"""

from __future__ import annotations

from typing import Any

from core.structured_logging import REDACTED, current_context, redact_text

_KEPT_HEADERS = {"user-agent", "content-type", "accept", "accept-language", "x-request-id", "host"}


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``before_send``: tag the event with the log context and drop personal data."""
    context = current_context()
    tags = event.setdefault("tags", {})
    for key in ("request_id", "job_id", "task_id", "tenant"):
        if context.get(key):
            tags[key] = str(context[key])
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        request.pop("env", None)
        if request.get("query_string"):
            request["query_string"] = REDACTED
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
    user = event.get("user")
    if isinstance(user, dict):
        # Only the opaque id: never a name, e-mail or address.
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for key in ("message", "logentry", "exception", "breadcrumbs", "extra"):
        if key in event:
            event[key] = _scrub(event[key])
    return event


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """SQL parameters and log messages of breadcrumbs may hold personal data."""
    crumb.pop("data", None)
    if isinstance(crumb.get("message"), str):
        crumb["message"] = redact_text(crumb["message"])
    return crumb


def sentry_init(
    *,
    dsn: str,
    environment: str = "production",
    release: str | None = None,
    traces_sample_rate: float = 0.0,
    transport: Any = None,
) -> bool:
    """Initialise the SDK when ``dsn`` is set; return whether it was."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    options: dict[str, Any] = {
        "dsn": dsn,
        "environment": environment,
        "release": release or None,
        "traces_sample_rate": traces_sample_rate,
        "send_default_pii": False,
        "max_request_body_size": "never",
        "include_local_variables": False,
        "before_send": scrub_event,
        "before_breadcrumb": scrub_breadcrumb,
        "default_integrations": True,
        "integrations": [
            DjangoIntegration(),
            CeleryIntegration(),
            # Log records become breadcrumbs; only unhandled errors become events
            # (logged errors are in the JSON logs already).
            LoggingIntegration(event_level=None),
        ],
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)
    return True

"""Structured logs (issue 10 §7): one JSON object per line in production, readable
lines on a developer's console, and no personal data in either.

The settings (``config/settings/observability.py``) build ``LOGGING`` with
:func:`logging_config` and call :func:`configure_structlog`. Every record, from
structlog or from the standard library (Django, Celery), passes through the same
processors: the request id, user id and tenant bound for the request (or the job
and task ids bound in a Celery task) are merged in, then :func:`redact` removes
what Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 forbids us to spread: national ID
numbers, passwords and tokens, query strings (they may carry a searched name or
ID number). Request bodies are never logged.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import structlog

#: Keys whose values are never written (compared lower-case, also as a suffix).
SECRET_KEYS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "national_id",
    "cccd",
    "cmnd",
    "id_number",
    "email",
    "phone",
)
REDACTED = "[redacted]"
#: Citizen identity numbers (12 digits, CCCD) and old identity cards (9 digits),
#: also with spaces or dots between groups.
_ID_NUMBER = re.compile(r"(?<![\w-])(?<!\d\.)\d{3}[ .]?\d{3}[ .]?\d{3}(?:[ .]?\d{3})?(?!\w|[.-]\d)")
#: A URL's query string (``path?name=value…``), not a question mark in a sentence.
_QUERY = re.compile(r"(?<=[\w/])\?(?=[^\s\"']*=)[^\s\"']*")


def _secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(lowered == name or lowered.endswith(name) for name in SECRET_KEYS)


def redact_text(text: str) -> str:
    """Mask identity numbers and query strings inside free text."""
    return _ID_NUMBER.sub(REDACTED, _QUERY.sub("?" + REDACTED, text))


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _secret_key(k) else _redact_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no personal data or secrets leave the process."""
    for key in list(event_dict):
        if key in ("exc_info", "stack_info", "_record", "_from_structlog"):
            continue
        if _secret_key(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact_value(event_dict[key])
    return event_dict


def redact_exception(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """After the traceback is rendered: mask ID numbers an exception message carried."""
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = _ID_NUMBER.sub(REDACTED, event_dict[key])
    return event_dict


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    """``LOGGING`` for ``fmt`` "json" (production) or "console" (development)."""
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    tail = [structlog.processors.format_exc_info, redact_exception] if fmt == "json" else []
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *tail,
                    renderer,
                ],
                "foreign_pre_chain": _shared_processors(),
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # One line per request comes from django_structlog ("request_finished",
            # or "request_failed" with the traceback); Django's own request and
            # server loggers would repeat it (during an outage, a traceback per 503).
            "django.request": {"level": "CRITICAL"},
            "django.server": {"level": "WARNING"},
        },
    }


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def bind_job(*, job_id: str, kind: str) -> None:
    """In a Celery task: every log line of the job carries its id."""
    structlog.contextvars.bind_contextvars(job_id=job_id, job_kind=kind)


def unbind_job() -> None:
    structlog.contextvars.unbind_contextvars("job_id", "job_kind")


def current_context() -> dict[str, Any]:
    """What is bound now (request id, user, tenant, job): for error reports."""
    return dict(structlog.contextvars.get_contextvars())


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


__all__ = [
    "bind_job",
    "configure_structlog",
    "current_context",
    "get_logger",
    "logging_config",
    "redact",
    "redact_text",
    "unbind_job",
]

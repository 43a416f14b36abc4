"""Observability and fault tolerance (issue 10 §4, §7): Celery acknowledgement and retries, JSON logs with request and job ids, Sentry-compatible error reporting, detailed health.

``base.py`` calls :func:`apply` with its namespace at the end, so this module can
add apps and middleware in the right places and read what base defined.
"""

from __future__ import annotations

from typing import Any


def apply(settings: dict[str, Any]) -> None:
    """Adjust the settings namespace ``settings`` (base.py's globals) in place."""

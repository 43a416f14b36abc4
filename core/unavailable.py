"""Outages answer 503, not a stack trace (issue 10 §4).

While PostgreSQL restarts, every query raises ``OperationalError``; while Redis
is down, publishing a task raises kombu's ``OperationalError``. Either way the
request cannot be served, and the user should be told so plainly and asked to
try again, not shown "server error". :class:`ServiceUnavailableMiddleware`
turns these exceptions raised by a view into a 503 — the site's error page, or
JSON ``{"code", "detail"}`` for the API — and ``handler500`` (config/urls.py →
:func:`core.views.server_error`) does the same for those raised outside views
(loading the session, the user). Nothing needs restarting afterwards: the
next request opens a new connection (``CONN_HEALTH_CHECKS``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from core.jobs import QueueUnavailableError
from core.transient import QUEUE_ERRORS

log = logging.getLogger(__name__)

RETRY_AFTER_S = 30
DATABASE_ERRORS = (OperationalError, InterfaceError)


def outage_reason(exc: BaseException | None) -> str | None:
    """ "database", "queue" or "queue_after_commit" when ``exc`` means that part is down."""
    if isinstance(exc, DATABASE_ERRORS):
        return "database"
    if isinstance(exc, QueueUnavailableError):
        return "queue"  # a job refused: core.jobs ended it "failed", nothing else changed
    if isinstance(exc, QUEUE_ERRORS):
        # A task (an e-mail…) sent after its transaction committed: the change is saved.
        return "queue_after_commit"
    return None


def _message(reason: str) -> str:
    if reason == "queue":
        return _(
            "The task queue is unavailable at the moment, so this work was not started and "
            "nothing was changed by it. Try again in a few minutes."
        )
    if reason == "queue_after_commit":
        return _(
            "The task queue is unavailable at the moment. Your change may have been saved, "
            "but the work that follows it (e-mails, documents) could not be started: reload "
            "the page to check, and try again in a few minutes."
        )
    return _(
        "The system is temporarily unavailable (its database cannot be reached). "
        "Please try again in a minute; if you were saving something, check that it was saved."
    )


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def service_unavailable(request: HttpRequest, reason: str) -> HttpResponse:
    message = _message(reason)
    code = "service_unavailable" if reason == "database" else "queue_unavailable"
    if wants_json(request):
        response: HttpResponse = JsonResponse({"code": code, "detail": message}, status=503)
    else:
        html = render_to_string(
            "503.html",
            {
                "message": message,
                "request_id": getattr(request, "request_id", ""),
                "retry_url": request.get_full_path() if request.method == "GET" else "/",
            },
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response


class ServiceUnavailableMiddleware:
    """Place last: the first to see an exception leaving the view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        reason = outage_reason(exception)
        if reason is None:
            return None
        log.warning(
            "service unavailable: %s (%s) on %s %s",
            reason,
            type(exception).__name__,
            request.method,
            request.path,
        )
        return service_unavailable(request, reason)

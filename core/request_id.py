"""Every request gets an id: in the logs, in error reports and in the answer's
``X-Request-ID`` header, so a user's screenshot or a proxy log leads to the lines
of that request.

An id sent by the client is used only when ``TRUST_REQUEST_ID_HEADER`` is on (a
reverse proxy in front overwrites the header) and it is a short token; otherwise
a new one is made. The middleware goes first, before django-structlog's
``RequestMiddleware``, which reads the header this middleware leaves.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
_VALID = re.compile(r"^[A-Za-z0-9._:@-]{8,128}$")

#: tenant id -> slug, for the log lines (slugs do not change under a process).
_tenant_slugs: dict[int, str] = {}


def incoming_request_id(request: HttpRequest) -> str | None:
    """The proxy's request id, when it is trusted and well-formed."""
    if not getattr(settings, "TRUST_REQUEST_ID_HEADER", False):
        return None
    value = request.META.get(META_KEY, "")
    return value if _VALID.match(value) else None


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request) or uuid.uuid4().hex
        # django-structlog (TRUST_UPSTREAM_REQUEST_ID) binds what we leave here.
        request.META[META_KEY] = request_id
        request.request_id = request_id  # type: ignore[attr-defined]
        _tag_error_reports(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _tag_error_reports(request_id: str) -> None:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover - sentry-sdk is a dependency
        return
    sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)


def tenant_slug(user: Any) -> str | None:
    """The slug of the user's tenant, from a small per-process cache."""
    tenant_id = getattr(user, "tenant_id", None)
    if not tenant_id:
        return None
    descriptor = getattr(type(user), "tenant", None)
    if descriptor is not None and descriptor.is_cached(user):
        # The request already loaded the tenant (scoping does): no query.
        return str(user.tenant.slug)
    if tenant_id not in _tenant_slugs:
        from units.models import Tenant

        slug = Tenant.objects.filter(pk=tenant_id).values_list("slug", flat=True).first()
        if slug is None:
            return None
        _tenant_slugs[tenant_id] = slug
    return _tenant_slugs[tenant_id]


def bind_tenant(request: HttpRequest, log_kwargs: dict[str, Any]) -> None:
    """Add the tenant slug to the request's log line when the user was loaded.

    Never forces loading the user (anonymous and static requests stay free of
    queries) and never fails the request: with the database down the line
    simply has no tenant.
    """
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject):
        user = user._wrapped  # type: ignore[attr-defined]
        if user is empty:
            return
    if user is None or not getattr(user, "is_authenticated", False):
        return
    try:
        slug = tenant_slug(user)
    except DatabaseError:
        return
    if slug:
        log_kwargs["tenant"] = slug
        structlog.contextvars.bind_contextvars(tenant=slug)


def _on_request_finished(
    sender: Any,
    request: HttpRequest,
    logger: Any,
    response: Any,
    log_kwargs: dict[str, Any],
    **kwargs: Any,
) -> None:
    bind_tenant(request, log_kwargs)


def _on_request_failed(
    sender: Any,
    request: HttpRequest,
    logger: Any,
    exception: Any,
    log_kwargs: dict[str, Any],
    **kwargs: Any,
) -> None:
    bind_tenant(request, log_kwargs)


def connect_signals() -> None:
    """Called from CoreConfig.ready()."""
    from django_structlog import signals

    signals.bind_extra_request_finished_metadata.connect(
        _on_request_finished, dispatch_uid="xhht-tenant-finished"
    )
    signals.bind_extra_request_failed_metadata.connect(
        _on_request_failed, dispatch_uid="xhht-tenant-failed"
    )

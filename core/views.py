"""Cross-cutting views: health, the error handler and the home page."""

from __future__ import annotations

import hmac
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import run_detailed
from core.http import AuthedRequest
from core.unavailable import outage_reason, service_unavailable, wants_json
from units.selectors import home_units, user_grants, with_child_counts


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No query, so outages do not restart it."""
    return JsonResponse({"status": "ok"})


def _bearer_token(request: HttpRequest) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@never_cache
@require_GET
def healthz_detail(request: HttpRequest) -> JsonResponse:
    """Readiness and figures for the operators (core/health.py), behind ``HEALTH_TOKEN``.

    Without the setting the view does not exist (404); without the right bearer
    token it answers 401. The token is compared in constant time.
    """
    expected = getattr(settings, "HEALTH_TOKEN", "")
    if not expected:
        raise Http404
    given = _bearer_token(request)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        response = JsonResponse(
            {"code": "unauthorised", "detail": "bearer token required"}, status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="healthz"'
        return response
    healthy, body = run_detailed()
    return JsonResponse(body, status=200 if healthy else 503)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an outage (database, queue) is a 503 page or JSON, the rest a 500."""
    reason = outage_reason(sys.exc_info()[1])
    if reason is not None:
        return service_unavailable(request, reason)
    if wants_json(request):
        return JsonResponse(
            {"code": "server_error", "detail": _("The system could not complete your request.")},
            status=500,
        )
    # The shared bare layout (no user menu, no query): the request may have failed
    # anywhere. The reference lets support find the logged error.
    context = {
        "message": _(
            "The system could not complete your request. The error has been recorded; "
            "please try again in a few minutes."
        ),
        "request_id": getattr(request, "request_id", ""),
    }
    return HttpResponseServerError(render_to_string("500.html", context))


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    units = with_child_counts(home_units(request.user)) if request.user.tenant_id else []
    return render(
        request,
        "core/home.html",
        {"home_units": units, "grants": user_grants(request.user)},
    )

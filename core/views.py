"""Cross-cutting views: health and the home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import run_checks
from core.http import AuthedRequest
from units.selectors import home_units, user_grants, with_child_counts


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, results = run_checks()
    failing = [name for name, value in results.items() if value.startswith("error")]
    body = {"status": "ok" if healthy else "error", "checks": results, "failing": failing}
    return JsonResponse(body, status=200 if healthy else 503)


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    units = with_child_counts(home_units(request.user)) if request.user.tenant_id else []
    return render(
        request,
        "core/home.html",
        {"home_units": units, "grants": user_grants(request.user)},
    )

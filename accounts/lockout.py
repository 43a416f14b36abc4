"""django-axes hooks: who an attempt is for, where it comes from, and the page a
locked-out client sees (issue 10 §1, brute force).

A lock-out holds the pair (account, IP address) for ``AXES_COOLOFF_TIME`` after
``AXES_FAILURE_LIMIT`` wrong passwords; a successful sign-in clears the count.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.models import User
from core.ratelimit import client_ip as request_client_ip

LOCKED_OUT_CODE = "locked_out"


def username_of_attempt(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account an attempt is for, as its username (lower case).

    allauth passes ``username`` or ``email`` (its "login" field accepts both),
    Django's forms ``username``; an address is mapped to its account so both ways
    of signing in count towards the same lock-out.
    """
    raw = ""
    if credentials:
        raw = str(credentials.get("username") or credentials.get("email") or "")
    if not raw:
        data = getattr(request, "POST", None) or {}
        raw = str(data.get("login") or data.get("username") or "")
    raw = raw.strip().lower()
    if not raw:
        return None
    if "@" in raw:
        username = User.objects.filter(email__iexact=raw).values_list("username", flat=True).first()
        if username:
            return username.lower()
    return raw


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the rate limits see it (``TRUST_X_FORWARDED_FOR``),
    or None when the request carries none (a test client's ``login()``)."""
    address = request_client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def cooloff_minutes() -> int:
    cooloff: dt.timedelta | None = getattr(settings, "AXES_COOLOFF_TIME", None)
    return max(1, int(cooloff.total_seconds() // 60)) if cooloff else 0


def lockout_message() -> str:
    return _(
        "Too many wrong passwords: sign-in to this account from your computer is locked for "
        "%(minutes)s minutes. Wait, or ask your administrator to unlock it."
    ) % {"minutes": cooloff_minutes()}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """HTTP 429: JSON for the API and scripts, the site's page otherwise."""
    status: int = getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
    wants_json = request.path.startswith("/api/") or (
        request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )
    if wants_json:
        return JsonResponse({"code": LOCKED_OUT_CODE, "detail": lockout_message()}, status=status)
    return render(
        request,
        "account/lockout.html",
        {"message": lockout_message(), "minutes": cooloff_minutes()},
        status=status,
    )

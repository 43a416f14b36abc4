"""A small fixed-window rate limiter on the default cache (public pages).

The cache is the one allauth's sign-in limits use (Redis in production,
local memory otherwise), so both survive and expire the same way. A rate is
written ``"30/m"`` (30 per minute), ``"100/h"``, ``"5/10s"``: at most that many
hits per client and window; the next one answers 429 with ``templates/429.html``.

The client is the TCP peer (``REMOTE_ADDR``). Behind a reverse proxy set
``TRUST_X_FORWARDED_FOR``: the first hop of ``X-Forwarded-For`` is taken then,
which is only safe when the proxy overwrites the header sent by the client.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/m"`` -> ``(30, 60)``; ``"5/10s"`` -> ``(5, 10)``."""
    match = _RATE.match(rate or "")
    if match is None:
        raise ValueError(f"Invalid rate {rate!r}: write e.g. 30/m, 100/h or 5/10s")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNIT_SECONDS[unit]


def client_ip(request: HttpRequest) -> str:
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def hit(scope: str, key: str, rate: str) -> bool:
    """Count one hit of ``key`` in ``scope``; False when it is over the rate."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{window}:{digest}"
    if cache.add(cache_key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.set(cache_key, 1, timeout=period + 1)
            count = 1
    return count <= limit


def too_many_requests(request: HttpRequest, period: int) -> HttpResponse:
    response = render(request, "429.html", status=429)
    response["Retry-After"] = str(period)
    response["Cache-Control"] = "no-store"
    return response


def ratelimit(
    scope: str, *, setting: str, default: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Limit a view per client IP to ``settings.<setting>`` (or ``default``)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            rate = getattr(settings, setting, default) or default
            if not hit(scope, client_ip(request), rate):
                return too_many_requests(request, parse_rate(rate)[1])
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

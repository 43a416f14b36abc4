"""django-axes' backend, for every sign-in made through a request."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class RequestAxesBackend(AxesStandaloneBackend):
    """Checks the brute-force lock-out of every sign-in that comes with a request.

    Every sign-in form of the site (allauth's, the admin's which redirects to it,
    re-authentication) passes the request. A call without one comes from code,
    not from a client (a management command, Django's test client ``login()``):
    there is no address to lock, so it is left to the next backend instead of
    failing with ``AxesBackendRequestParameterRequired``.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username, password, **kwargs)
        return None

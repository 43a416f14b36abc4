"""Request types for views behind ``login_required``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from accounts.models import User


class AuthedRequest(HttpRequest):
    """A request whose user is signed in (the view is behind ``login_required``)."""

    user: User  # type: ignore[assignment]

"""Until a user who must sign in with two factors has set up an authenticator
app, every request leads to the set-up page (issue 10 §1).

Reachable meanwhile: the two-factor pages themselves (set-up, recovery codes,
re-authentication), sign-out, the language switch and static files. API calls
answer 403 with a code and a message instead of a redirect; htmx requests are
told to load the set-up page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.two_factor import has_totp, mfa_required

MFA_REQUIRED_CODE = "mfa_required"


@cache
def _allowed_prefixes() -> tuple[str, ...]:
    mfa_root = reverse("mfa_index")
    return (
        mfa_root,  # /accounts/2fa/: set-up, recovery codes, the sign-in code form
        reverse("account_logout"),
        reverse("account_reauthenticate"),
        reverse("set_language"),
        reverse("healthz"),
        settings.STATIC_URL,
    )


def _api_prefix() -> str:
    return reverse("api:api-root")


def setup_url() -> str:
    return reverse("mfa_activate_totp")


class RequireTwoFactorSetupMiddleware:
    """Place after ``AuthenticationMiddleware`` and allauth's ``AccountMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not mfa_required(user):
            return self.get_response(request)
        request.xhht_mfa_required = True  # type: ignore[attr-defined]
        if has_totp(user):
            return self.get_response(request)
        request.xhht_mfa_setup_required = True  # type: ignore[attr-defined]
        if request.path.startswith(_allowed_prefixes()):
            return self.get_response(request)
        message = _(
            "Your role requires two-factor sign-in: set up an authenticator app first "
            "(Two-factor authentication in your account menu)."
        )
        if request.path.startswith(_api_prefix()):
            return JsonResponse({"code": MFA_REQUIRED_CODE, "detail": message}, status=403)
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
            response["HX-Redirect"] = setup_url()
            return response
        return HttpResponseRedirect(setup_url())

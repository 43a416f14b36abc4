"""Sign-in and browser security (issue 10 §1): two-factor sign-in, brute-force lock-out (django-axes), Content-Security-Policy (django-csp).

``base.py`` calls :func:`apply` with its namespace at the end, so this module can
add apps and middleware in the right places and read what base defined.

Environment:

``AXES_FAILURE_LIMIT`` (default 5)
    Wrong passwords for one username from one IP address before both are locked out.
``AXES_COOLOFF_MINUTES`` (default 30)
    How long a lock-out lasts; a tenant administrator or a superuser may lift it earlier.
``AXES_ENABLED`` (default true)
    Switch the lock-out off (e.g. a load test signing in thousands of times).
``CSP_REPORT_ONLY`` (default false)
    Send the policy as ``Content-Security-Policy-Report-Only``: browsers report
    violations in their console (and to ``CSP_REPORT_URI`` if set) but block nothing.
``CSP_REPORT_URI`` (default empty)
    Where browsers POST violation reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from csp.constants import NONE, SELF

from config.env import env

#: What the pages load. Everything is served by the site itself (vendored
#: Bootstrap, htmx and ECharts): no CDN, no inline script, no eval.
CSP_DIRECTIVES: dict[str, list[str]] = {
    "default-src": [SELF],
    "script-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "frame-ancestors": [NONE],
    "form-action": [SELF],
    # The authenticator QR code is inline SVG; Bootstrap's icons are data: URIs.
    "img-src": [SELF, "data:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    # Style sheets only from the site, never a <style> element or injected sheet.
    "style-src": [SELF],
    "style-src-elem": [SELF],
    # Style *attributes* stay allowed: ECharts writes its tooltips as HTML with
    # style attributes, and the decision preview (an iframe srcdoc, which
    # inherits this policy) shares its markup with the PDF, whose column widths
    # are attributes. Attributes cannot run script, so the XSS protection of
    # the policy (script-src 'self') is whole.
    "style-src-attr": ["'unsafe-inline'"],
    # The decision preview iframe is a srcdoc (same origin, sandboxed).
    "frame-src": [SELF],
}


def _apply_two_factor(settings: dict[str, Any]) -> None:
    settings["MFA_ADAPTER"] = "accounts.adapters.TenantPolicyMFAAdapter"
    # Accounts are created by tenant administrators (no self sign-up), so the
    # attack allauth guards against here (someone signs up with another
    # person's address and locks its owner out with 2FA) cannot happen, and
    # invited users' addresses are not "verified" in allauth's sense.
    settings["MFA_ALLOW_UNVERIFIED_EMAIL"] = True
    settings["MFA_RECOVERY_CODE_COUNT"] = 10
    middleware: list[str] = settings["MIDDLEWARE"]
    middleware.insert(
        middleware.index("allauth.account.middleware.AccountMiddleware") + 1,
        "accounts.middleware.RequireTwoFactorSetupMiddleware",
    )


def _apply_axes(settings: dict[str, Any]) -> None:
    settings["INSTALLED_APPS"].append("axes")
    settings["AUTHENTICATION_BACKENDS"].insert(0, "accounts.backends.RequestAxesBackend")
    # Last, as django-axes requires: it turns a lock-out signalled by the
    # backend into the lock-out page.
    settings["MIDDLEWARE"].append("axes.middleware.AxesMiddleware")
    settings["AXES_ENABLED"] = env.bool("AXES_ENABLED", default=True)
    settings["AXES_FAILURE_LIMIT"] = env.int("AXES_FAILURE_LIMIT", default=5)
    settings["AXES_COOLOFF_TIME"] = dt.timedelta(
        minutes=env.int("AXES_COOLOFF_MINUTES", default=30)
    )
    # Lock the pair (username, IP): a colleague mistyping on the shared office
    # computer does not lock the whole ward out, an attacker cannot lock a
    # victim out from elsewhere.
    settings["AXES_LOCKOUT_PARAMETERS"] = [["username", "ip_address"]]
    settings["AXES_RESET_ON_SUCCESS"] = True
    # Lock-outs are logged as warnings either way; the verbose mode would log
    # every sign-in and its clean-up at INFO (four lines a sign-in).
    settings["AXES_VERBOSE"] = env.bool("AXES_VERBOSE", default=False)
    settings["AXES_HANDLER"] = "axes.handlers.database.AxesDatabaseHandler"
    settings["AXES_USERNAME_CALLABLE"] = "accounts.lockout.username_of_attempt"
    settings["AXES_LOCKOUT_CALLABLE"] = "accounts.lockout.lockout_response"
    settings["AXES_CLIENT_IP_CALLABLE"] = "accounts.lockout.client_ip"
    # Successful sign-ins are not logged by axes (the audit log and allauth's
    # session records keep them); failures are, for the lock-out and review.
    settings["AXES_DISABLE_ACCESS_LOG"] = True
    settings["AXES_VERBOSE"] = False
    # allauth's own limit of failed sign-ins per account (ACCOUNT_RATE_LIMITS,
    # "key") would answer before the lock-out: leave the per-account part to
    # django-axes unless LOGIN_FAILED_RATE is set explicitly.
    if not env.str("LOGIN_FAILED_RATE", default=""):
        limit = settings["AXES_FAILURE_LIMIT"]
        settings["ACCOUNT_RATE_LIMITS"]["login_failed"] = f"10/m/ip,{limit * 4}/5m/key"


def _apply_csp(settings: dict[str, Any]) -> None:
    middleware: list[str] = settings["MIDDLEWARE"]
    middleware.insert(
        middleware.index("django.middleware.security.SecurityMiddleware") + 1,
        "csp.middleware.CSPMiddleware",
    )
    directives = {name: list(values) for name, values in CSP_DIRECTIVES.items()}
    report_uri = env.str("CSP_REPORT_URI", default="")
    if report_uri:
        directives["report-uri"] = [report_uri]
    policy = {"DIRECTIVES": directives}
    if env.bool("CSP_REPORT_ONLY", default=False):
        settings["CONTENT_SECURITY_POLICY"] = None
        settings["CONTENT_SECURITY_POLICY_REPORT_ONLY"] = policy
    else:
        settings["CONTENT_SECURITY_POLICY"] = policy
        settings["CONTENT_SECURITY_POLICY_REPORT_ONLY"] = None


def _apply_input_checks(settings: dict[str, Any]) -> None:
    middleware: list[str] = settings["MIDDLEWARE"]
    # After the language is chosen, so the refusal is in the user's language.
    language = "core.middleware.ChosenLanguageMiddleware"
    at = middleware.index(language) + 1 if language in middleware else 0
    middleware.insert(at, "core.nul_characters.RejectNulCharactersMiddleware")


def apply(settings: dict[str, Any]) -> None:
    """Adjust the settings namespace ``settings`` (base.py's globals) in place."""
    _apply_input_checks(settings)
    _apply_two_factor(settings)
    _apply_axes(settings)
    _apply_csp(settings)

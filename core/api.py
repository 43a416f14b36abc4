"""The JSON API under /api/v1/ (django-ninja).

Session sign-in or a personal token (``Authorization: Bearer xhht_…``).
Anonymous calls answer 401; out-of-scope ids 404; read-only writes 403;
domain errors 400/409 with a code and a translated message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer, SessionAuth

from accounts.exceptions import TwoFactorSetupRequiredError
from accounts.services import api_token_authenticate
from accounts.two_factor import has_totp, mfa_required
from core.api_errors import document_errors
from core.api_names import install as install_qualified_names
from core.exceptions import ApplicationError


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            # A token made before the tenant required two factors for the
            # user's role opens nothing until the user has set them up.
            if mfa_required(user) and not has_totp(user):
                raise TwoFactorSetupRequiredError()
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie there is no session to forge a request with:
        # skip the CSRF check so that token clients (tried next) can write.
        # ninja checks CSRF first and its 403 would end the request.
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and getattr(user, "tenant_id", None) is None and not user.is_superuser:
            return None
        return user


class XhhtApi(NinjaAPI):
    """The API, whose schema documents the error answers of every operation and
    names every component uniquely (:mod:`core.api_names`)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        install_qualified_names()
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_errors(schema)
        return schema


api = XhhtApi(
    title="XHHT API",
    version="1",
    description=_("XHHT — learning-society recognition campaigns"),
    auth=[ActiveSessionAuth(), TokenAuth()],
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    return api.create_response(request, {"code": code, "detail": message}, status=status)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 403, "forbidden", _("You may only read here."))


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 401, "unauthorised", _("Sign in or send a valid API token."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja's own refusals; the one it raises is the CSRF check of a request
    # carrying a session cookie without the CSRF token.
    if exc.status_code == 403:
        return _error(
            request, 403, "csrf_failed", _("The request's CSRF check failed: reload the page.")
        )
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(DataError)
def _unstorable(request: HttpRequest, exc: DataError) -> HttpResponse:
    # The database refused a value the schema let through: a NUL character in
    # a text (PostgreSQL stores none) or a number out of its column's range.
    return _error(
        request,
        400,
        "invalid_value",
        _(
            "A value in the request cannot be stored: remove control characters "
            "and check that numbers are in range."
        ),
    )


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return _error(request, exc.http_status, exc.code, str(exc.message))


# Routers of every app; each later capability adds its own here.
from accounts.api import router as accounts_router  # noqa: E402
from core.api_jobs import router as jobs_router  # noqa: E402
from units.api import router as units_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/units", units_router)
api.add_router("/jobs", jobs_router)

from recognition.api import ROUTERS as recognition_routers  # noqa: E402

for _prefix, _router in recognition_routers:
    api.add_router(_prefix, _router)

from reports.api import router as reports_router  # noqa: E402

api.add_router("/reports", reports_router)

from campaigns.api import ROUTERS as campaign_routers  # noqa: E402

for _prefix, _router in campaign_routers:
    api.add_router(_prefix, _router)

from spreadsheets.api import exports_router as spreadsheet_exports_router  # noqa: E402
from spreadsheets.api import router as spreadsheet_imports_router  # noqa: E402
from spreadsheets.api import unit_router as spreadsheet_unit_router  # noqa: E402

api.add_router("/imports", spreadsheet_imports_router)
api.add_router("/exports", spreadsheet_exports_router)
api.add_router("/units", spreadsheet_unit_router)

from units.reorganisation.api import router as reorganisation_router  # noqa: E402

api.add_router("/reorganisations", reorganisation_router)

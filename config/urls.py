from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path, re_path

from core.api import api
from core.views import healthz
from recognition.views.decision import verify_view


def _not_offered(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Features of allauth we do not offer: e-mail addresses are set by the admin."""
    raise Http404


urlpatterns = [
    re_path(r"^accounts/email/", _not_offered, name="account-email-not-offered"),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("me/", include("accounts.urls")),
    path("units/", include("units.urls")),
    path("recognition/", include("recognition.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("reports/", include("reports.urls")),
    path("jobs/", include("core.urls_jobs")),
    path("data/", include("spreadsheets.urls")),
    # Public: the QR code of a printed certificate points here (no sign-in).
    path("verify/<str:token>", verify_view, name="verify"),
    path("", include("core.urls")),
]

# Uploaded files (evidence, generated documents) are never served as static
# files, not even in development: they go through scoped views only.

# Database or task queue down: a 503 page (or JSON for the API), not "server error".
handler500 = "core.views.server_error"

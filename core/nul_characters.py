"""Refuse requests carrying the NUL character (U+0000) in the query or a form (400),
or in the address (404, like any unknown id).

No text a user types contains NUL, and PostgreSQL refuses it in text columns and
query parameters ("A string literal cannot contain NUL"), so such a request
would otherwise end in a server error deep in a search box or a filter. It is
answered here, once for every view, with a 400 in the site's language.
The API validates its own parameters and answers a value the database refuses
with its documented 400 (``core.api``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

NUL = "\x00"
#: The API answers in its own format (query validation 422, refused values 400).
API_PREFIX = "/api/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _carries_nul(request: HttpRequest) -> bool:
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in value for value in values):
            return True
    if request.method == "POST" and request.content_type in FORM_TYPES:
        for key, values in request.POST.lists():
            if NUL in key or any(NUL in value for value in values):
                return True
    return False


class RejectNulCharactersMiddleware:
    """400 for a request whose query or form fields contain U+0000, 404 for its path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path:
            # No object has such an address: the same 404 as any unknown id.
            raise Http404
        if request.path.startswith(API_PREFIX) or not _carries_nul(request):
            return self.get_response(request)
        message = _("The request contains a character that is not allowed (NUL): remove it.")
        body = render_to_string("400.html", {"message": message}, request=None)
        return HttpResponse(body, status=400)

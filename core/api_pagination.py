"""Page-number pagination of the API lists, with a bounded page number.

django-ninja's own ``page`` has no upper bound: ``?page=10**30`` reached the
database as an OFFSET beyond 64 bits and answered 500. Here the page number is
capped (a page past the last one is still a valid, empty page), so such a
request is a 422 validation error.
"""

from __future__ import annotations

from ninja import Field, Schema, pagination

#: 10 million pages of up to 100 rows (ninja's maximum page size): every list
#: of the largest tenant fits, and offsets stay far inside 64-bit integers.
MAX_PAGE = 10_000_000


class PageNumberPagination(pagination.PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1)

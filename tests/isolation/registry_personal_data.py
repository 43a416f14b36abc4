"""Isolation registry of the personal-data screens (tests/test_isolation.py): a
person's export and erasure (tenant administrators only: 404 outside the tenant
or subtree, 403 for other roles) and the access log (403 for non-administrators,
rows only of the administrator's subtree)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.isolation.base import Entry
from tests.isolation.registry_subjects import citizen_ids, household_ids


def _erase_body(cast: Cast) -> dict[str, Any]:
    return {"reference": "Đơn thử", "reason": "Kiểm tra cách ly", "confirm": "on"}


HTML_REGISTRY: dict[str, Entry] = {
    "recognition:personal-data-access-log": Entry(),
}

for _kind, _ids_of in (("household", household_ids), ("citizen", citizen_ids)):
    HTML_REGISTRY.update(
        {
            f"recognition:{_kind}-personal-data-export": Entry(ids=_ids_of),
            f"recognition:{_kind}-personal-data-erase": Entry(
                writes=("POST",), ids=_ids_of, body=_erase_body
            ),
        }
    )

API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/personal-data/access-log": Entry(),
}

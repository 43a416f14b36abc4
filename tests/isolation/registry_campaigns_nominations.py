"""Isolation registry of the nomination screens and API (tests/test_isolation.py).

The world: a proposed nomination of the cast's ward (reviewed by the cast's
district), of the other ward (the other district) and of the other tenant's
ward. The actor is the cast's reviewer: the district's nominations are in
scope, the other district's are not.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import AwardForm, Nomination, NomineeKind
from campaigns.services import nominations as services
from tests.conftest import Cast
from tests.isolation.base import Entry, Ids, _pid

Three = tuple[Any, Any, Any]


def _propose(ward: Any) -> Nomination:
    return services.nomination_create(
        actor=None,
        nominating_unit=ward,
        year=2025,
        nominee_kind=NomineeKind.PERSON,
        award_form=AwardForm.DISTRICT_COMMENDATION,
        achievements="Tổ chức 12 buổi đọc sách",
        person_name="Trần Thị Bích",
    )


def _world(cast: Cast) -> Three:
    cached = getattr(cast, "_nomination_world", None)
    if cached is None:
        cached = tuple(_propose(w) for w in (cast.ward, cast.other_ward, cast.other_tenant_ward))
        cast._nomination_world = cached  # type: ignore[attr-defined]
    return cached  # type: ignore[no-any-return]


def nomination_ids(cast: Cast) -> Ids:
    world = _world(cast)
    return Ids(
        actor=cast.reviewer,
        in_scope=_pid(world[0]),
        other_subtree=_pid(world[1]),
        other_tenant=_pid(world[2]),
    )


def _form(cast: Cast) -> dict[str, Any]:
    return {
        "nominating_unit": _pid(cast.ward),
        "year": "2025",
        "nominee_kind": NomineeKind.PERSON,
        "award_form": AwardForm.DISTRICT_COMMENDATION,
        "person_name": "Lê Văn Cường",
        "achievements": "Vận động 300 hộ",
    }


def _note(cast: Cast) -> dict[str, Any]:
    return {"note": "Thành tích chưa tiêu biểu"}


def _post(**kwargs: Any) -> Entry:
    return Entry(reads=(), writes=("POST",), ids=nomination_ids, body=_note, **kwargs)


HTML_REGISTRY: dict[str, Entry] = {
    "campaigns:nomination-list": Entry(),
    "campaigns:nomination-create": Entry(writes=("POST",), body=_form),
    "campaigns:nomination-detail": Entry(ids=nomination_ids),
    "campaigns:nomination-edit": Entry(writes=("POST",), ids=nomination_ids, body=_form),
    "campaigns:nomination-review": _post(),
    "campaigns:nomination-approve": _post(),
    "campaigns:nomination-reject": _post(),
    "campaigns:nomination-award-decision": Entry(
        reads=(),
        writes=("POST",),
        body=lambda cast: {"unit": _pid(cast.district), "year": "2025"},
    ),
}


def _create_json(cast: Cast) -> dict[str, Any]:
    return {
        "nominating_unit": _pid(cast.ward),
        "year": 2025,
        "nominee_kind": NomineeKind.PERSON,
        "award_form": AwardForm.DISTRICT_COMMENDATION,
        "person_name": "Lê Văn Cường",
        "achievements": "Vận động 300 hộ",
    }


def _api_post(**kwargs: Any) -> Entry:
    return Entry(reads=(), writes=("POST",), ids=nomination_ids, body=_note, **kwargs)


API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/nominations": Entry(),
    "POST /api/v1/nominations": Entry(reads=(), writes=("POST",), body=_create_json),
    "POST /api/v1/nominations/approve-many": Entry(
        reads=(),
        writes=("POST",),
        body=lambda cast: {
            "reviewing_unit": _pid(cast.district),
            "nominations": [_pid(_world(cast)[0])],
        },
    ),
    "POST /api/v1/nominations/award-decision": Entry(
        reads=(),
        writes=("POST",),
        body=lambda cast: {"reviewing_unit": _pid(cast.district), "year": 2025},
    ),
    "GET /api/v1/nominations/{public_id}": Entry(ids=nomination_ids),
    "PATCH /api/v1/nominations/{public_id}": Entry(
        reads=(),
        writes=("PATCH",),
        ids=nomination_ids,
        body=lambda cast: {"achievements": "Vận động 400 hộ"},
    ),
    "POST /api/v1/nominations/{public_id}/review": _api_post(),
    "POST /api/v1/nominations/{public_id}/approve": _api_post(),
    "POST /api/v1/nominations/{public_id}/reject": _api_post(),
}

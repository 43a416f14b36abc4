"""Isolation registry: criteria sets (recognition/urls/criteria.py, recognition/api/criteria.py).

Criteria sets belong to a whole tenant, not to a subtree: everyone in the
tenant reads them (and the shipped national sets), only the root
administrator writes. So the "other subtree" object here is, like the other
tenant's, a set of the other tenant: there is no narrower scope to escape.
"""

from __future__ import annotations

from typing import Any

from recognition.models import CriteriaSet, Indicator
from recognition.services.criteria import criteria_set_import
from tests.conftest import Cast
from tests.isolation.base import Entry, Ids, _pid
from units.models import Tenant


def _draft_set(tenant: Tenant, code: str) -> CriteriaSet:
    """A small draft points set of ``tenant`` (made once per test)."""
    found = CriteriaSet.objects.filter(tenant=tenant, code=code).first()
    if found is not None:
        return found
    return criteria_set_import(
        tenant=tenant,
        data={
            "code": code,
            "title": "gia_dinh",
            "name": "Bộ tiêu chí kiểm thử cô lập",
            "legal_basis": "Bộ tiêu chí dùng cho kiểm thử",
            "year_from": 2025,
            "method": "points",
            "max_total": 20,
            "pass_thresholds": {"normal": 15},
            "criteria": [
                {
                    "code": "TC1",
                    "name": "Tiêu chí một",
                    "indicators": [
                        {"code": "1.1", "text": "Chỉ số một", "max_points": 10},
                        {"code": "1.2", "text": "Chỉ số hai", "max_points": 10},
                    ],
                },
                {
                    "code": "TC2",
                    "name": "Tiêu chí hai",
                    "indicators": [{"code": "2.1", "text": "Chỉ số ba", "max_points": 0}],
                },
            ],
        },
    )


def _sets(cast: Cast) -> tuple[CriteriaSet, CriteriaSet]:
    return _draft_set(cast.tenant, "ISO-OWN"), _draft_set(cast.other_tenant, "ISO-OTHER")


def criteria_set_ids(cast: Cast) -> Ids:
    """The root administrator asks for their tenant's set and the other tenant's."""
    own, other = _sets(cast)
    return Ids(
        actor=cast.admin,
        in_scope=_pid(own),
        other_subtree=_pid(other),
        other_tenant=_pid(other),
    )


def _first_indicator(cs: CriteriaSet) -> Indicator:
    return Indicator.objects.filter(criterion__criteria_set=cs).order_by(
        "criterion__order", "order"
    )[0]


def indicator_ids(cast: Cast) -> Ids:
    own, other = _sets(cast)
    return Ids(
        actor=cast.admin,
        in_scope=_pid(_first_indicator(own)),
        other_subtree=_pid(_first_indicator(other)),
        other_tenant=_pid(_first_indicator(other)),
    )


def _version(cast: Cast) -> int:
    return _sets(cast)[0].edit_version


def _set_body(cast: Cast) -> dict[str, Any]:
    return {
        "code": "ISO-NEW",
        "title": "gia_dinh",
        "name": "Bộ tiêu chí mới",
        "legal_basis": "Văn bản thử",
        "year_from": 2025,
        "method": "points",
        "version": _version(cast),
    }


def _indicator_body(cast: Cast) -> dict[str, Any]:
    return {
        "criterion": 1,
        "code": "1.9",
        "text": "Chỉ số mới",
        "max_points": "5",
        "version": _version(cast),
    }


PREVIEW = "the scoring preview computes a result and saves nothing: read-only users may use it"

HTML_REGISTRY: dict[str, Entry] = {
    "recognition:criteria-list": Entry(),
    "recognition:criteria-create": Entry(writes=("POST",), body=_set_body),
    "recognition:criteria-detail": Entry(ids=criteria_set_ids),
    "recognition:criteria-edit": Entry(writes=("POST",), ids=criteria_set_ids, body=_set_body),
    "recognition:criteria-clone": Entry(
        writes=("POST",),
        ids=criteria_set_ids,
        body=lambda cast: {"code": "ISO-CLONE", "name": "Bản sao"},
    ),
    "recognition:criteria-new-version": Entry(
        writes=("POST",), ids=criteria_set_ids, body=lambda cast: {"version": _version(cast)}
    ),
    "recognition:criteria-publish": Entry(
        writes=("POST",), ids=criteria_set_ids, body=lambda cast: {"version": _version(cast)}
    ),
    "recognition:criteria-retire": Entry(
        writes=("POST",), ids=criteria_set_ids, body=lambda cast: {"version": _version(cast)}
    ),
    "recognition:criteria-preview": Entry(
        reads=(),
        writes=("POST",),
        ids=criteria_set_ids,
        body=lambda cast: {"area_class": "normal"},
        read_only_status=200,
        read_only_reason=PREVIEW,
    ),
    "recognition:criteria-criterion-edit": Entry(
        writes=("POST",),
        ids=criteria_set_ids,
        body=lambda cast: {"code": "TC9", "name": "Tiêu chí mới", "version": _version(cast)},
    ),
    "recognition:criteria-criterion-remove": Entry(
        reads=(),
        writes=("POST",),
        ids=criteria_set_ids,
        body=lambda cast: {"n": 1, "version": _version(cast)},
    ),
    "recognition:criteria-criterion-move": Entry(
        reads=(),
        writes=("POST",),
        ids=criteria_set_ids,
        body=lambda cast: {"n": 1, "direction": "down", "version": _version(cast)},
    ),
    "recognition:criteria-indicator-add": Entry(
        writes=("POST",), ids=criteria_set_ids, body=_indicator_body
    ),
    "recognition:criteria-indicator-edit": Entry(
        writes=("POST",), ids=indicator_ids, body=_indicator_body
    ),
    "recognition:criteria-indicator-remove": Entry(
        reads=(),
        writes=("POST",),
        ids=indicator_ids,
        body=lambda cast: {"version": _version(cast)},
    ),
    "recognition:criteria-indicator-move": Entry(
        reads=(),
        writes=("POST",),
        ids=indicator_ids,
        body=lambda cast: {"direction": "down", "version": _version(cast)},
    ),
}

API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/criteria-sets": Entry(),
    "GET /api/v1/criteria-sets/{public_id}": Entry(ids=criteria_set_ids),
}

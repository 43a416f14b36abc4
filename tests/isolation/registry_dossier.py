"""Isolation registry of the dossier and review screens and API (tests/test_isolation.py).

The world: a submitted dossier of two self-assessed households in the ward
official's ward (reviewed by the cast's district reviewer), one in another
ward of another district of the same tenant, and one in the other tenant;
plus a review chain in each tenant.

API operations with two path ids (``…/items/{assessment_id}…``) vary the
dossier id (``{public_id}``) while ``other_params`` fills the item id with the
in-scope dossier's item: a foreign dossier answers 404 even with a valid item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recognition.models import Assessment, CriteriaSet, Dossier, ReviewChain
from recognition.services import dossier as dossier_services
from recognition.titles import Title
from tests.conftest import Cast
from tests.factories import make_unit
from tests.isolation.base import Entry, Ids, _pid
from tests.recognition.conftest import YEAR, make_household, make_points_set, register_household
from tests.recognition.dossier_factories import make_assessment
from units.models import AdministrativeUnit


@dataclass
class World:
    dossiers: tuple[Dossier, Dossier, Dossier]
    items: tuple[Assessment, Assessment, Assessment]
    chains: tuple[ReviewChain, ReviewChain, ReviewChain]


def _chain(tenant: Any) -> ReviewChain:
    return ReviewChain.objects.create(
        tenant=tenant,
        title=Title.CITIZEN,
        proposer_level="commune",
        reviewer_level="district",
        recogniser_level="commune",
        recogniser_label="Chủ tịch UBND phường",
    )


def _world(cast: Cast) -> World:
    """Built once per cast (the ids and bodies are asked for many times)."""
    cached = getattr(cast, "_dossier_world", None)
    if cached is not None:
        return cached
    points_set = (
        CriteriaSet.objects.filter(code="TEST-GDHT", tenant__isnull=True).first()
        or make_points_set()
    )
    other_kp = AdministrativeUnit.objects.filter(
        tenant=cast.other_tenant, code="ISO-DOSSIER-TDP"
    ).first() or make_unit(
        cast.other_tenant, cast.other_tenant_ward, "to_dan_pho", "Tổ dân phố 7", "ISO-DOSSIER-TDP"
    )
    dossiers, items = [], []
    for place in (cast.neighbourhood, cast.other_neighbourhood, other_kp):
        assessments = [
            make_assessment(register_household(cast, make_household(cast, unit=place)), points_set)
            for _ in range(2)
        ]
        dossier = dossier_services.dossier_for(
            actor=None, proposing_unit=place.parent, title=Title.FAMILY, year=YEAR
        )
        dossier_services.dossier_add_items(
            actor=None, dossier=dossier, assessment_ids=[a.public_id for a in assessments]
        )
        dossiers.append(dossier_services.dossier_submit(actor=None, dossier=dossier))
        items.append(assessments[0])
    world = World(
        dossiers=(dossiers[0], dossiers[1], dossiers[2]),
        items=(items[0], items[1], items[2]),
        chains=(_chain(cast.tenant), _chain(cast.other_tenant), _chain(cast.other_tenant)),
    )
    cast._dossier_world = world  # type: ignore[attr-defined]
    return world


def _ids(objects: tuple[Any, Any, Any], actor: Any) -> Ids:
    return Ids(
        actor=actor,
        in_scope=_pid(objects[0]),
        other_subtree=_pid(objects[1]),
        other_tenant=_pid(objects[2]),
    )


def ward_dossier_ids(cast: Cast) -> Ids:
    """The ward official asks for their ward's dossier, another ward's, another tenant's."""
    return _ids(_world(cast).dossiers, cast.ward_official)


def review_dossier_ids(cast: Cast) -> Ids:
    """The district reviewer asks for a dossier of a ward below, of a ward of another
    district, of another tenant."""
    return _ids(_world(cast).dossiers, cast.reviewer)


def review_item_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).items, cast.reviewer)


def chain_ids(cast: Cast) -> Ids:
    """Review chains are tenant-wide configuration: outside the tenant is the only
    "elsewhere" there is, so both foreign ids are the other tenant's."""
    return _ids(_world(cast).chains, cast.admin)


def ward_unit_ids(cast: Cast) -> Ids:
    _world(cast)
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(cast.ward),
        other_subtree=_pid(cast.other_ward),
        other_tenant=_pid(cast.other_tenant_ward),
    )


def _open_form(cast: Cast) -> dict[str, Any]:
    return {"proposing_unit": _pid(cast.ward), "title": Title.FAMILY, "year": YEAR - 1}


def _open_json(cast: Cast) -> dict[str, Any]:
    return {"proposing_unit": _pid(cast.ward), "title": Title.FAMILY, "year": YEAR - 1}


def _item_form(cast: Cast) -> dict[str, Any]:
    return {"item": _pid(_world(cast).items[0])}


def _in_scope_item(cast: Cast) -> dict[str, str]:
    """The second path id of item operations: the item of the in-scope dossier."""
    return {"assessment_id": _pid(_world(cast).items[0])}


def _items_json(cast: Cast) -> dict[str, Any]:
    return {"assessment_ids": [_pid(_world(cast).items[0])]}


def _decide_form(cast: Cast) -> dict[str, Any]:
    return {"action": "approve", "items": [_pid(_world(cast).items[0])]}


def _reason(cast: Cast) -> dict[str, Any]:
    return {"reason": "Thiếu biên bản họp xét"}


def _chain_form(cast: Cast) -> dict[str, Any]:
    return {
        "title": Title.CLAN,
        "scope_level": "",
        "valid_from": "01/01/2024",
        "proposer_level": "commune",
        "reviewer_level": "district",
        "recogniser_level": "commune",
        "recogniser_label": "Chủ tịch UBND xã",
    }


HTML_REGISTRY: dict[str, Entry] = {
    "recognition:dossier-list": Entry(writes=("POST",), body=_open_form),
    "recognition:dossier-detail": Entry(ids=ward_dossier_ids),
    "recognition:dossier-add": Entry(
        reads=(), writes=("POST",), ids=ward_dossier_ids, body=lambda cast: {"all": "1"}
    ),
    "recognition:dossier-remove": Entry(
        reads=(), writes=("POST",), ids=ward_dossier_ids, body=_item_form
    ),
    "recognition:dossier-submit": Entry(reads=(), writes=("POST",), ids=ward_dossier_ids),
    "recognition:dossier-timeline": Entry(ids=ward_dossier_ids),
    "recognition:review-queue": Entry(),
    "recognition:review-detail": Entry(ids=review_dossier_ids),
    "recognition:review-items": Entry(
        reads=(), writes=("POST",), ids=review_dossier_ids, body=_decide_form
    ),
    "recognition:review-return": Entry(
        reads=(), writes=("POST",), ids=review_dossier_ids, body=_reason
    ),
    "recognition:review-finish": Entry(reads=(), writes=("POST",), ids=review_dossier_ids),
    "recognition:review-score": Entry(writes=("POST",), ids=review_item_ids),
    "recognition:review-chain-list": Entry(writes=("POST",), body=_chain_form),
    "recognition:review-chain-defaults": Entry(reads=(), writes=("POST",)),
    "recognition:review-chain-end": Entry(
        reads=(), writes=("POST",), ids=chain_ids, body=lambda cast: {"valid_to": "31/12/2030"}
    ),
}

API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/dossiers": Entry(ids=ward_unit_ids, query="unit"),
    "POST /api/v1/dossiers": Entry(body=_open_json),
    "GET /api/v1/dossiers/{public_id}": Entry(ids=ward_dossier_ids),
    "POST /api/v1/dossiers/{public_id}/items": Entry(ids=ward_dossier_ids, body=_items_json),
    "DELETE /api/v1/dossiers/{public_id}/items/{assessment_id}": Entry(
        ids=ward_dossier_ids, other_params=_in_scope_item
    ),
    "POST /api/v1/dossiers/{public_id}/submit": Entry(ids=ward_dossier_ids),
    "POST /api/v1/dossiers/{public_id}/return": Entry(ids=review_dossier_ids, body=_reason),
    "POST /api/v1/dossiers/{public_id}/finish": Entry(ids=review_dossier_ids),
    "POST /api/v1/dossiers/{public_id}/items/{assessment_id}/approve": Entry(
        ids=review_dossier_ids, other_params=_in_scope_item
    ),
    "POST /api/v1/dossiers/{public_id}/items/{assessment_id}/return": Entry(
        ids=review_dossier_ids, other_params=_in_scope_item, body=_reason
    ),
    "POST /api/v1/dossiers/{public_id}/items/{assessment_id}/reject": Entry(
        ids=review_dossier_ids, other_params=_in_scope_item, body=_reason
    ),
    "POST /api/v1/dossiers/{public_id}/items/{assessment_id}/score": Entry(
        ids=review_dossier_ids, other_params=_in_scope_item, body=lambda cast: {"scores": {}}
    ),
}

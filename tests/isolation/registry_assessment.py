"""Isolation registry of the self-assessment screens and API (tests/test_isolation.py).

The world: a household assessment (with an evidence file) in the ward
official's ward, one in another ward of the same tenant and one in the other
tenant, plus a registration without an assessment in each (to start one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recognition.models import Assessment, CriteriaSet, Evidence, Registration
from recognition.services.assessment import assessment_start
from recognition.services.evidence import evidence_upload
from tests.conftest import Cast
from tests.factories import make_unit
from tests.isolation.base import Entry, Ids, _pid
from tests.recognition.assessment_support import PNG, ids_by_code, upload
from tests.recognition.conftest import make_household, make_points_set, register_household


@dataclass
class World:
    assessments: tuple[Assessment, Assessment, Assessment]
    evidence: tuple[Evidence, Evidence, Evidence]
    free: tuple[Registration, Registration, Registration]
    indicator: str
    evidence_indicator: str


def _world(cast: Cast) -> World:
    """Built once per cast (the ids and bodies below are asked for many times)."""
    cached = getattr(cast, "_assessment_world", None)
    if cached is not None:
        return cached
    if not CriteriaSet.objects.filter(code="TEST-GDHT", tenant__isnull=True).exists():
        make_points_set()
    other_kp = make_unit(
        cast.other_tenant, cast.other_tenant_ward, "to_dan_pho", "Tổ dân phố 9", "ISO-TDP09"
    )
    places = (cast.neighbourhood, cast.other_neighbourhood, other_kp)
    assessments, evidence, free = [], [], []
    for place in places:
        reg = register_household(cast, make_household(cast, unit=place))
        assessment = assessment_start(actor=None, registration=reg)
        ids = ids_by_code(assessment)
        evidence.append(
            evidence_upload(
                actor=None,
                assessment=assessment,
                indicator_public_id=ids["2.1"],
                file=upload("minh-chung.png", PNG),
            )
        )
        assessments.append(assessment)
        free.append(register_household(cast, make_household(cast, unit=place)))
    first = ids_by_code(assessments[0])
    world = World(
        assessments=(assessments[0], assessments[1], assessments[2]),
        evidence=(evidence[0], evidence[1], evidence[2]),
        free=(free[0], free[1], free[2]),
        indicator=first["1.1"],
        evidence_indicator=first["2.1"],
    )
    cast._assessment_world = world  # type: ignore[attr-defined]
    return world


def _ids(objects: tuple[Any, Any, Any], cast: Cast) -> Ids:
    """The ward official asks for their ward's object, another ward's, another tenant's."""
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(objects[0]),
        other_subtree=_pid(objects[1]),
        other_tenant=_pid(objects[2]),
    )


def assessment_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).assessments, cast)


def registration_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).free, cast)


def evidence_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).evidence, cast)


def ward_ids(cast: Cast) -> Ids:
    _world(cast)
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(cast.ward),
        other_subtree=_pid(cast.other_ward),
        other_tenant=_pid(cast.other_tenant_ward),
    )


def _scores_form(cast: Cast) -> dict[str, Any]:
    return {"version": 1, f"score_{_world(cast).indicator}": "30", "action": "save"}


def _upload_form(cast: Cast) -> dict[str, Any]:
    return {
        "indicator": _world(cast).evidence_indicator,
        "file": upload("them.png", PNG, "image/png"),
    }


def _scores_json(cast: Cast) -> dict[str, Any]:
    return {"version": 1, "values": {_world(cast).indicator: "30"}}


def _start_json(cast: Cast) -> dict[str, Any]:
    return {"registration": _pid(_world(cast).free[0])}


HTML_REGISTRY: dict[str, Entry] = {
    "recognition:assessment-list": Entry(),
    "recognition:assessment-start": Entry(reads=(), writes=("POST",), ids=registration_ids),
    "recognition:assessment-detail": Entry(writes=("POST",), ids=assessment_ids, body=_scores_form),
    "recognition:assessment-preview": Entry(
        reads=(), writes=("POST",), ids=assessment_ids, body=_scores_form
    ),
    "recognition:assessment-complete": Entry(
        reads=(), writes=("POST",), ids=assessment_ids, body=lambda cast: {"version": 1}
    ),
    "recognition:assessment-reopen": Entry(reads=(), writes=("POST",), ids=assessment_ids),
    "recognition:assessment-copy-previous": Entry(reads=(), writes=("POST",), ids=assessment_ids),
    "recognition:assessment-evidence-upload": Entry(
        reads=(), writes=("POST",), ids=assessment_ids, body=_upload_form
    ),
    "recognition:assessment-evidence-delete": Entry(reads=(), writes=("POST",), ids=evidence_ids),
    "recognition:assessment-evidence-download": Entry(ids=evidence_ids),
    "recognition:assessment-timeline": Entry(ids=assessment_ids),
}

API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/assessments": Entry(ids=ward_ids, query="unit"),
    "POST /api/v1/assessments": Entry(body=_start_json),
    "GET /api/v1/assessments/{public_id}": Entry(ids=assessment_ids),
    "PUT /api/v1/assessments/{public_id}/scores": Entry(ids=assessment_ids, body=_scores_json),
    "POST /api/v1/assessments/{public_id}/complete": Entry(ids=assessment_ids),
    "POST /api/v1/assessments/{public_id}/reopen": Entry(ids=assessment_ids),
    "POST /api/v1/assessments/{public_id}/copy-previous": Entry(ids=assessment_ids),
    "POST /api/v1/assessments/{public_id}/evidence": Entry(ids=assessment_ids),
    "GET /api/v1/assessments/{public_id}/timeline": Entry(ids=assessment_ids),
    "GET /api/v1/assessments/{public_id}/evidence/{evidence_id}": Entry(
        ids=assessment_ids,
        other_params=lambda cast: {"evidence_id": _pid(_world(cast).evidence[0])},
    ),
}

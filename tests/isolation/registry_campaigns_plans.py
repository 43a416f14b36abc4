"""Isolation registry of the plan screens and API (tests/test_isolation.py).

The world: in the cast's district (planned by the cast's reviewer), in the
other district of the same tenant and in the other tenant, one plan with a
section, a phase and a target. Sections, phases and targets are addressed
inside their plan: the HTML views take their id in the POST body, the API in a
second path parameter filled by ``other_params`` while the plan id varies — a
foreign plan answers 404 (the viewer 403) before the item is looked at.

Plans of the units *above* the user are visible to them (a ward reads the
district's plan); the other district's plan is not above the district's
reviewer, so it is out of sight.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from campaigns.models import Plan
from campaigns.services import plans as services
from recognition.titles import Title
from tests.conftest import Cast
from tests.isolation.base import Entry, Ids, _pid

Three = tuple[Any, Any, Any]


@dataclass
class World:
    plans: Three


def _plan(unit: Any) -> Plan:
    plan = services.plan_create(
        actor=None, issuing_unit=unit, title="Kế hoạch thử", start_year=2023, end_year=2030
    )
    services.section_add(actor=None, plan=plan, heading="MỤC ĐÍCH", body="Nội dung.")
    services.phase_save(
        actor=None,
        plan=plan,
        data={
            "name": "Giai đoạn 1",
            "start_year": 2023,
            "end_year": 2025,
            "review_kind": "so_ket",
            "review_due": dt.date(2025, 12, 1),
        },
    )
    services.target_save(
        actor=None, plan=plan, unit=unit, title=Title.FAMILY, year=2025, kind="rate", value=70
    )
    return plan


def _world(cast: Cast) -> World:
    cached = getattr(cast, "_plan_world", None)
    if cached is not None:
        return cached
    world = World(
        plans=tuple(  # type: ignore[arg-type]
            _plan(unit) for unit in (cast.district, cast.other_district, cast.other_tenant_ward)
        )
    )
    cast._plan_world = world  # type: ignore[attr-defined]
    return world


def plan_ids(cast: Cast) -> Ids:
    """The district reviewer asks for the district's plan, the other district's,
    the other tenant's."""
    plans = _world(cast).plans
    return Ids(
        actor=cast.reviewer,
        in_scope=_pid(plans[0]),
        other_subtree=_pid(plans[1]),
        other_tenant=_pid(plans[2]),
    )


def unit_ids(cast: Cast) -> Ids:
    _world(cast)
    return Ids(
        actor=cast.reviewer,
        in_scope=_pid(cast.district),
        other_subtree=_pid(cast.other_district),
        other_tenant=_pid(cast.other_tenant_ward),
    )


def _mine(cast: Cast) -> Plan:
    return _world(cast).plans[0]


def _section(cast: Cast) -> dict[str, str]:
    return {"section_id": str(_mine(cast).sections.get().pk)}


def _phase(cast: Cast) -> dict[str, str]:
    return {"phase_id": str(_mine(cast).phases.get().pk)}


def _target(cast: Cast) -> dict[str, str]:
    return {"target_id": str(_mine(cast).targets.get().pk)}


def _header_form(cast: Cast) -> dict[str, Any]:
    return {
        "version": _mine(cast).version,
        "title": "Kế hoạch đổi tên",
        "symbol": "KH-UBND",
        "start_year": 2023,
        "end_year": 2030,
        "agency": "ỦY BAN NHÂN DÂN QUẬN MỘT",
    }


def _create_form(cast: Cast) -> dict[str, Any]:
    return {
        "issuing_unit": _pid(cast.district),
        "title": "Kế hoạch mới",
        "symbol": "KH-UBND",
        "start_year": 2024,
        "end_year": 2026,
    }


def _phase_form(cast: Cast) -> dict[str, Any]:
    return {
        "name": "Giai đoạn 2",
        "start_year": 2026,
        "end_year": 2030,
        "review_kind": "tong_ket",
        "review_due": "15/12/2030",
    }


def _target_form(cast: Cast) -> dict[str, Any]:
    return {
        "unit": _pid(cast.district),
        "title": Title.CLAN,
        "year": 2025,
        "kind": "rate",
        "value": "65",
    }


def _post(body: Any = None) -> Entry:
    if body is None:
        return Entry(reads=(), writes=("POST",), ids=plan_ids)
    return Entry(reads=(), writes=("POST",), ids=plan_ids, body=body)


HTML_REGISTRY: dict[str, Entry] = {
    "campaigns:plan-list": Entry(),
    "campaigns:plan-create": Entry(writes=("POST",), body=_create_form),
    "campaigns:plan-detail": Entry(writes=("POST",), ids=plan_ids, body=_header_form),
    "campaigns:plan-derive": _post(lambda cast: {"issuing_unit": _pid(cast.ward)}),
    "campaigns:plan-section-save": _post(lambda cast: {"heading": "NỘI DUNG", "body": "Một."}),
    "campaigns:plan-section-delete": _post(lambda cast: {"section": _section(cast)["section_id"]}),
    "campaigns:plan-section-move": _post(
        lambda cast: {"section": _section(cast)["section_id"], "direction": "down"}
    ),
    "campaigns:plan-phase-save": _post(_phase_form),
    "campaigns:plan-phase-delete": _post(lambda cast: {"phase": _phase(cast)["phase_id"]}),
    "campaigns:plan-target-save": _post(_target_form),
    "campaigns:plan-target-delete": _post(lambda cast: {"target": _target(cast)["target_id"]}),
    "campaigns:plan-pdf": Entry(ids=plan_ids),
}


def _write(method: str, **kwargs: Any) -> Entry:
    return Entry(reads=(), writes=(method,), ids=plan_ids, **kwargs)


API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/plans": Entry(ids=unit_ids, query="unit"),
    "POST /api/v1/plans": Entry(reads=(), writes=("POST",), body=_create_form),
    "GET /api/v1/plans/effective-targets": Entry(ids=unit_ids, query="unit"),
    "GET /api/v1/plans/{public_id}": Entry(ids=plan_ids),
    "PATCH /api/v1/plans/{public_id}": _write(
        "PATCH", body=lambda cast: {"version": _mine(cast).version, "title": "Đổi tên"}
    ),
    "POST /api/v1/plans/{public_id}/derive": _write(
        "POST", body=lambda cast: {"issuing_unit": _pid(cast.ward)}
    ),
    "GET /api/v1/plans/{public_id}/pdf": Entry(ids=plan_ids),
    "GET /api/v1/plans/{public_id}/sections": Entry(ids=plan_ids),
    "POST /api/v1/plans/{public_id}/sections": _write(
        "POST", body=lambda cast: {"heading": "NỘI DUNG", "body": ""}
    ),
    "PATCH /api/v1/plans/{public_id}/sections/{section_id}": _write(
        "PATCH", body=lambda cast: {"heading": "MỤC ĐÍCH", "body": "Khác."}, other_params=_section
    ),
    "POST /api/v1/plans/{public_id}/sections/{section_id}/move": _write(
        "POST", body=lambda cast: {"offset": 1}, other_params=_section
    ),
    "DELETE /api/v1/plans/{public_id}/sections/{section_id}": _write(
        "DELETE", other_params=_section
    ),
    "GET /api/v1/plans/{public_id}/phases": Entry(ids=plan_ids),
    "POST /api/v1/plans/{public_id}/phases": _write(
        "POST", body=lambda cast: {**_phase_form(cast), "review_due": "2030-12-15"}
    ),
    "PUT /api/v1/plans/{public_id}/phases/{phase_id}": _write(
        "PUT",
        body=lambda cast: {**_phase_form(cast), "review_due": "2030-12-15"},
        other_params=_phase,
    ),
    "DELETE /api/v1/plans/{public_id}/phases/{phase_id}": _write("DELETE", other_params=_phase),
    "GET /api/v1/plans/{public_id}/targets": Entry(ids=plan_ids),
    "POST /api/v1/plans/{public_id}/targets": _write("POST", body=_target_form),
    "PATCH /api/v1/plans/{public_id}/targets/{target_id}": _write(
        "PATCH", body=lambda cast: {"value": "75"}, other_params=_target
    ),
    "DELETE /api/v1/plans/{public_id}/targets/{target_id}": _write("DELETE", other_params=_target),
}

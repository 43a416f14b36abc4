"""Isolation registry of the deadline screens, the calendar and the deadline API
(tests/test_isolation.py).

The world: a plan of the cast's district (the reviewer's), of the other
district, and of the other tenant's ward, each with a dossier deadline that
locks (so it can be extended) and one extension granted for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from campaigns.models import Deadline, DeadlineKind, Plan
from campaigns.services import deadlines as services
from recognition.titles import Title
from tests.conftest import Cast
from tests.isolation.base import Entry, Ids, _pid
from units.levels import Level

YEAR = 2026
Three = tuple[Any, Any, Any]


@dataclass
class World:
    plans: Three
    deadlines: Three


def _plan(unit: Any) -> Plan:
    return Plan.objects.create(
        tenant=unit.tenant,
        issuing_unit=unit,
        title=f"Kế hoạch {unit.name}",
        start_year=2025,
        end_year=2030,
    )


def _deadline(plan: Plan) -> Deadline:
    deadline = services.deadline_save(
        actor=None,
        plan=plan,
        data={
            "kind": DeadlineKind.DOSSIER,
            "title": Title.FAMILY,
            "year": YEAR,
            "level": plan.issuing_unit.level
            if plan.issuing_unit.level == Level.COMMUNE
            else Level.COMMUNE,
            "due_on": dt.date(YEAR, 11, 1),
            "label": "Nộp hồ sơ",
            "remind_days": 7,
        },
    )
    services.extension_grant(
        actor=None,
        deadline=deadline,
        unit=plan.issuing_unit,
        until=dt.date(YEAR + 1, 1, 31),
        reason="Gia hạn",
    )
    return deadline


def _world(cast: Cast) -> World:
    cached = getattr(cast, "_deadline_world", None)
    if cached is not None:
        return cached
    plans = tuple(_plan(u) for u in (cast.district, cast.other_district, cast.other_tenant_ward))
    world = World(plans=plans, deadlines=tuple(_deadline(p) for p in plans))  # type: ignore[arg-type]
    cast._deadline_world = world  # type: ignore[attr-defined]
    return world


def _ids(objects: Three, actor: Any) -> Ids:
    return Ids(
        actor=actor,
        in_scope=_pid(objects[0]),
        other_subtree=_pid(objects[1]),
        other_tenant=_pid(objects[2]),
    )


def plan_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).plans, cast.reviewer)


def deadline_ids(cast: Cast) -> Ids:
    return _ids(_world(cast).deadlines, cast.reviewer)


def calendar_unit_ids(cast: Cast) -> Ids:
    _world(cast)
    return Ids(
        actor=cast.ward_official,
        in_scope=_pid(cast.ward),
        other_subtree=_pid(cast.other_ward),
        other_tenant=_pid(cast.other_tenant_ward),
    )


def _deadline_form(cast: Cast) -> dict[str, Any]:
    return {
        "kind": DeadlineKind.REPORT,
        "title": "",
        "year": str(YEAR),
        "level": Level.COMMUNE,
        "due_on": "10/11/2026",
        "label": "Báo cáo",
        "remind_days": "3",
    }


def _edit_form(cast: Cast) -> dict[str, Any]:
    return {**_deadline_form(cast), "kind": DeadlineKind.DOSSIER, "title": Title.FAMILY}


def _extension_form(cast: Cast) -> dict[str, Any]:
    return {"unit": _pid(cast.ward), "until": "20/11/2026", "reason": "Gia hạn"}


def _revoke_form(cast: Cast) -> dict[str, Any]:
    deadline = _world(cast).deadlines[0]
    return {"extension": str(deadline.form_lock.extensions.first().pk)}


def _api_create(cast: Cast) -> dict[str, Any]:
    return {
        "plan": _pid(_world(cast).plans[0]),
        "kind": DeadlineKind.REPORT,
        "year": YEAR,
        "level": Level.COMMUNE,
        "due_on": "2026-11-10",
    }


def _api_extension(cast: Cast) -> dict[str, Any]:
    return {"unit": _pid(cast.ward), "until": "2026-11-20", "reason": "Gia hạn"}


def _api_revoke(cast: Cast) -> dict[str, Any]:
    return {"extension": int(_revoke_form(cast)["extension"])}


def _post(ids: Any, body: Any) -> Entry:
    return Entry(reads=(), writes=("POST",), ids=ids, body=body)


HTML_REGISTRY: dict[str, Entry] = {
    "campaigns:calendar": Entry(),
    "campaigns:deadline-list": Entry(writes=("POST",), ids=plan_ids, body=_deadline_form),
    "campaigns:deadline-detail": Entry(writes=("POST",), ids=deadline_ids, body=_edit_form),
    "campaigns:deadline-delete": _post(deadline_ids, lambda cast: {}),
    "campaigns:deadline-extend": _post(deadline_ids, _extension_form),
    "campaigns:deadline-extension-revoke": _post(deadline_ids, _revoke_form),
}

API_REGISTRY: dict[str, Entry] = {
    "GET /api/v1/deadlines": Entry(ids=plan_ids, query="plan"),
    "POST /api/v1/deadlines": Entry(reads=(), writes=("POST",), body=_api_create),
    "GET /api/v1/deadlines/calendar": Entry(ids=calendar_unit_ids, query="unit"),
    "GET /api/v1/deadlines/{public_id}": Entry(ids=deadline_ids),
    "PATCH /api/v1/deadlines/{public_id}": Entry(
        reads=(), writes=("PATCH",), ids=deadline_ids, body=lambda cast: {"label": "Đổi"}
    ),
    "DELETE /api/v1/deadlines/{public_id}": Entry(reads=(), writes=("DELETE",), ids=deadline_ids),
    "GET /api/v1/deadlines/{public_id}/extensions": Entry(ids=deadline_ids),
    "POST /api/v1/deadlines/{public_id}/extensions": Entry(
        reads=(), writes=("POST",), ids=deadline_ids, body=_api_extension
    ),
    "POST /api/v1/deadlines/{public_id}/extensions/revoke": Entry(
        reads=(), writes=("POST",), ids=deadline_ids, body=_api_revoke
    ),
}

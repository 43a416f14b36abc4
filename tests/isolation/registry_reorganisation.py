"""Isolation registry of the reorganisation screens and API (tests/test_isolation.py).

Plans are tenant-wide and seen by the tenant's administrators only: the cast's
admin reaches the own tenant's plan; "other subtree" and "other tenant" are
both the other tenant's plan (there is no part of a tenant its administrator
does not see). Everyone else, the read-only viewer included, gets 403. A role
flagged for reassignment is addressed the same way; a step is addressed inside
its plan (HTML: in the POST body; API: a second path parameter). The import
of the official code mapping creates a plan from a file: it has no id to
address, only the administrator's 403 for everyone else (its other-tenant
check, a code of another tenant refused as unknown, is in
tests/units/test_reorganisation_mapping_views.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import Cast
from tests.isolation.base import Entry, Ids, _pid
from tests.units.test_reorganisation_support import EFFECTIVE
from units.models import RoleAssignment
from units.reorganisation import services
from units.reorganisation.models import (
    ReassignmentReason,
    Reorganisation,
    ReorganisationStep,
    RoleReassignment,
)


@dataclass
class World:
    plans: tuple[Reorganisation, Reorganisation]
    steps: tuple[ReorganisationStep, ReorganisationStep]
    flags: tuple[RoleReassignment, RoleReassignment]


def _flag(plan: Reorganisation, user: Any) -> RoleReassignment:
    assignment = RoleAssignment.objects.filter(user=user).first()
    assert assignment is not None
    return RoleReassignment.objects.create(
        tenant=plan.tenant,
        plan=plan,
        assignment=assignment,
        user=user,
        role=assignment.role,
        unit=assignment.unit,
        reason=ReassignmentReason.SPLIT,
    )


def _world(cast: Cast) -> World:
    cached = getattr(cast, "_reorganisation_world", None)
    if cached is not None:
        return cached
    mine = services.reorganisation_create(
        actor=None, tenant=cast.tenant, name="Sắp xếp 2025", effective_on=EFFECTIVE
    )
    theirs = services.reorganisation_create(
        actor=None, tenant=cast.other_tenant, name="Sắp xếp khác", effective_on=EFFECTIVE
    )
    steps = (
        services.step_add(
            actor=None, plan=mine, kind="rename", sources=[cast.ward], targets=[{"name": "Mới"}]
        ),
        services.step_add(
            actor=None,
            plan=theirs,
            kind="rename",
            sources=[cast.other_tenant_ward],
            targets=[{"name": "Mới"}],
        ),
    )
    world = World(
        plans=(mine, theirs),
        steps=steps,
        flags=(_flag(mine, cast.ward_official), _flag(theirs, cast.other_tenant_official)),
    )
    cast._reorganisation_world = world  # type: ignore[attr-defined]
    return world


def plan_ids(cast: Cast) -> Ids:
    plans = _world(cast).plans
    return Ids(
        actor=cast.admin,
        in_scope=_pid(plans[0]),
        other_subtree=_pid(plans[1]),
        other_tenant=_pid(plans[1]),
    )


def flag_ids(cast: Cast) -> Ids:
    flags = _world(cast).flags
    return Ids(
        actor=cast.admin,
        in_scope=_pid(flags[0]),
        other_subtree=_pid(flags[1]),
        other_tenant=_pid(flags[1]),
    )


def _mine(cast: Cast) -> Reorganisation:
    plan = _world(cast).plans[0]
    plan.refresh_from_db()
    return plan


def _version(cast: Cast) -> dict[str, Any]:
    return {"version": _mine(cast).version}


def _create_form(cast: Cast) -> dict[str, Any]:
    return {"name": "Kế hoạch mới", "legal_basis": "NQ 1", "effective_on": "01/07/2025"}


def _mapping_csv() -> SimpleUploadedFile:
    """A clean mapping: Phường Bến Nghé renamed (were a guard missing, a plan lands)."""
    content = (
        "Mã xã cũ,Mã xã mới,Tên xã mới,Loại,Ngày hiệu lực\n"
        "27184,27184,Phường Bến Nghé Mới,phường,01/07/2025\n"
    )
    return SimpleUploadedFile("sap-xep.csv", content.encode("utf-8"), content_type="text/csv")


def _import_form(cast: Cast) -> dict[str, Any]:
    return {"name": "Sắp xếp theo bảng", "legal_basis": "NQ 1", "file": _mapping_csv()}


def _merge_form(cast: Cast) -> dict[str, Any]:
    return {
        "version": _mine(cast).version,
        "sources": [_pid(cast.ward), _pid(cast.other_ward)],
        "code": "27999",
        "name": "Phường Mới",
        "kind": "phuong",
    }


def _step_remove_form(cast: Cast) -> dict[str, Any]:
    return {**_version(cast), "step": str(_world(cast).steps[0].pk)}


def _resolve_form(cast: Cast) -> dict[str, Any]:
    return {"units": [_pid(cast.ward)]}


def _step(cast: Cast) -> dict[str, str]:
    return {"step_id": str(_world(cast).steps[0].pk)}


def _merge_body(cast: Cast) -> dict[str, Any]:
    return {
        "kind": "merge",
        "sources": [_pid(cast.ward), _pid(cast.other_ward)],
        "targets": [{"code": "27999", "name": "Phường Mới", "kind": "phuong"}],
    }


HTML_REGISTRY: dict[str, Entry] = {
    "units:reorganisation-list": Entry(),
    "units:reorganisation-create": Entry(writes=("POST",), body=_create_form),
    "units:reorganisation-import": Entry(writes=("POST",), body=_import_form),
    "units:reorganisation-import-template": Entry(),
    "units:reorganisation-detail": Entry(ids=plan_ids),
    "units:reorganisation-step-add": Entry(writes=("POST",), ids=plan_ids, body=_merge_form),
    "units:reorganisation-step-remove": Entry(
        reads=(), writes=("POST",), ids=plan_ids, body=_step_remove_form
    ),
    "units:reorganisation-preview": Entry(ids=plan_ids),
    "units:reorganisation-apply": Entry(reads=(), writes=("POST",), ids=plan_ids, body=_version),
    "units:reorganisation-cancel": Entry(reads=(), writes=("POST",), ids=plan_ids, body=_version),
    "units:reassignment-list": Entry(),
    "units:reassignment-resolve": Entry(writes=("POST",), ids=flag_ids, body=_resolve_form),
}

API = "/api/v1/reorganisations"

API_REGISTRY: dict[str, Entry] = {
    f"GET {API}": Entry(),
    f"POST {API}": Entry(
        reads=(),
        writes=("POST",),
        body=lambda cast: {"name": "Kế hoạch mới", "effective_on": "2025-07-01"},
    ),
    f"POST {API}/import": Entry(
        reads=(), writes=("POST",), body=lambda cast: {"name": "Sắp xếp theo bảng"}
    ),
    f"GET {API}/{{public_id}}": Entry(ids=plan_ids),
    f"GET {API}/{{public_id}}/preview": Entry(ids=plan_ids),
    f"POST {API}/{{public_id}}/steps": Entry(
        reads=(), writes=("POST",), ids=plan_ids, body=_merge_body
    ),
    f"DELETE {API}/{{public_id}}/steps/{{step_id}}": Entry(
        reads=(), writes=("DELETE",), ids=plan_ids, other_params=_step
    ),
    f"POST {API}/{{public_id}}/apply": Entry(
        reads=(), writes=("POST",), ids=plan_ids, body=_version
    ),
    f"POST {API}/{{public_id}}/cancel": Entry(
        reads=(), writes=("POST",), ids=plan_ids, body=_version
    ),
}

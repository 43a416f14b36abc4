"""API of the reorganisation plans (issue 9): other tenant 404, read-only and
non-admin 403, create → add a merge → preview → apply, conflicts answered 409
with nothing changed, a stale version refused, remove step and cancel."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from core.models import AuditEvent
from recognition.models import Household
from tests.conftest import Cast, client_for
from tests.units.test_reorganisation_support import EFFECTIVE, build_world
from units.models import AdministrativeUnit
from units.reorganisation import services as reorg
from units.reorganisation.models import Reorganisation, ReorganisationStatus, ReorganisationStep

BASE = "/api/v1/reorganisations"


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def _create(client: Client) -> dict[str, Any]:
    response = _post(
        client,
        BASE,
        {"name": "Sắp xếp 2025", "effective_on": "2025-07-01", "legal_basis": "NQ 1685"},
    )
    assert response.status_code == 201, response.content
    return response.json()


def _merge(cast: Cast, ward_b: AdministrativeUnit, code: str, version: int) -> dict[str, Any]:
    return {
        "kind": "merge",
        "sources": [str(cast.ward.public_id), str(ward_b.public_id)],
        "targets": [{"code": code, "name": "Phường Sài Gòn", "kind": "phuong"}],
        "version": version,
    }


def test_other_tenant_404_and_non_admins_403(cast: Cast) -> None:
    foreign = reorg.reorganisation_create(
        actor=None, tenant=cast.other_tenant, name="Khác", effective_on=EFFECTIVE
    )
    admin = client_for(cast.admin)
    assert admin.get(f"{BASE}/{foreign.public_id}").status_code == 404
    assert admin.get(f"{BASE}/{foreign.public_id}/preview").status_code == 404
    assert _post(admin, f"{BASE}/{foreign.public_id}/apply", {"version": 1}).status_code == 404
    assert _post(admin, f"{BASE}/{foreign.public_id}/cancel", {"version": 1}).status_code == 404
    assert [p["name"] for p in admin.get(BASE).json()] == []
    plan = reorg.reorganisation_create(actor=cast.admin, name="Của tôi", effective_on=EFFECTIVE)
    for user in (cast.reviewer, cast.ward_official):
        client = client_for(user)
        assert client.get(BASE).status_code == 403
        assert client.get(f"{BASE}/{plan.public_id}").status_code == 403
        assert client.get(f"{BASE}/{plan.public_id}/preview").status_code == 403
    viewer = client_for(cast.viewer)
    assert [p["name"] for p in viewer.get(BASE).json()] == ["Của tôi"]
    assert viewer.get(f"{BASE}/{plan.public_id}").status_code == 200
    assert viewer.get(f"{BASE}/{foreign.public_id}").status_code == 404
    for user in (cast.viewer, cast.reviewer, cast.ward_official):
        client = client_for(user)
        assert _post(client, BASE, {"name": "x", "effective_on": "2025-07-01"}).status_code == 403
        cancel = _post(client, f"{BASE}/{plan.public_id}/cancel", {"version": plan.version})
        assert cancel.status_code == 403
        apply = _post(client, f"{BASE}/{plan.public_id}/apply", {"version": plan.version})
        assert apply.status_code == 403
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.DRAFT
    assert Reorganisation.objects.filter(tenant=cast.tenant).count() == 1


def test_a_foreign_unit_in_a_step_is_404(cast: Cast) -> None:
    admin = client_for(cast.admin)
    plan = _create(admin)
    body = {
        "kind": "merge",
        "sources": [str(cast.ward.public_id), str(cast.other_tenant_ward.public_id)],
        "targets": [{"code": "1", "name": "X", "kind": "phuong"}],
    }
    assert _post(admin, f"{BASE}/{plan['public_id']}/steps", body).status_code == 404
    assert not ReorganisationStep.objects.exists()


def test_create_merge_preview_apply(cast: Cast) -> None:
    w = build_world(cast)
    admin = client_for(cast.admin)
    plan = _create(admin)
    assert plan["status"] == "draft" and plan["steps"] == []
    url = f"{BASE}/{plan['public_id']}"
    added = _post(admin, f"{url}/steps", _merge(cast, w.ward_b, "27184", plan["version"]))
    assert added.status_code == 201, added.content
    detail = added.json()
    assert detail["steps"][0]["kind"] == "merge"
    assert detail["steps"][0]["sources"] == ["27184", "27190"]

    preview = admin.get(f"{url}/preview").json()
    assert preview["can_apply"] is True and preview["conflicts"] == []
    assert preview["steps"][0]["closes"] == ["27184", "27190"]
    assert preview["steps"][0]["creates"][0]["code"] == "27184"
    assert preview["counts"]["households"] >= 6

    applied = _post(admin, f"{url}/apply", {"version": detail["version"]})
    assert applied.status_code == 200, applied.content
    body = applied.json()
    assert body["status"] == "applied"
    assert body["result"]["units_created"] >= 1
    cast.ward.refresh_from_db()
    assert cast.ward.valid_to is not None
    new = AdministrativeUnit.objects.get(code="27184", valid_to__isnull=True, kind="phuong")
    assert Household.objects.filter(unit=new).exists()
    assert not Household.objects.filter(unit=cast.ward).exists()


def test_conflicts_answer_409_and_nothing_changes(cast: Cast) -> None:
    w = build_world(cast)
    admin = client_for(cast.admin)
    plan = _create(admin)
    url = f"{BASE}/{plan['public_id']}"
    detail = _post(admin, f"{url}/steps", _merge(cast, w.ward_b, "27247", plan["version"])).json()
    preview = admin.get(f"{url}/preview").json()
    assert preview["can_apply"] is False
    assert any(
        c["code"] == "code_in_use" and c["unit_code"] == "27247" for c in preview["conflicts"]
    )
    units, events = AdministrativeUnit.objects.count(), AuditEvent.objects.count()
    response = _post(admin, f"{url}/apply", {"version": detail["version"]})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "reorganisation_conflicts"
    assert [c["code"] for c in body["conflicts"]] == [c["code"] for c in preview["conflicts"]]
    assert AdministrativeUnit.objects.count() == units
    assert AuditEvent.objects.count() == events
    assert Reorganisation.objects.get().status == ReorganisationStatus.DRAFT


def test_stale_version_409_then_remove_step_and_cancel(cast: Cast) -> None:
    w = build_world(cast)
    admin = client_for(cast.admin)
    plan = _create(admin)
    url = f"{BASE}/{plan['public_id']}"
    detail = _post(admin, f"{url}/steps", _merge(cast, w.ward_b, "27184", plan["version"])).json()
    stale = _post(admin, f"{url}/apply", {"version": plan["version"]})
    assert stale.status_code == 409
    assert stale.json()["code"] == "concurrent_edit"
    assert Reorganisation.objects.get().status == ReorganisationStatus.DRAFT
    step_id = detail["steps"][0]["id"]
    assert admin.delete(f"{url}/steps/{step_id}?version={plan['version']}").status_code == 409
    removed = admin.delete(f"{url}/steps/{step_id}?version={detail['version']}")
    assert removed.status_code == 200
    assert removed.json()["steps"] == []
    cancelled = _post(admin, f"{url}/cancel", {"version": removed.json()["version"]})
    assert cancelled.json()["status"] == "cancelled"
    again = _post(admin, f"{url}/cancel", {"version": cancelled.json()["version"]})
    assert again.status_code == 409
    assert again.json()["code"] == "reorganisation_state"

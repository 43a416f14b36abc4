"""Screens of the reorganisation plans (issue 9): access (other tenant 404, read-only
and non-admin 403), create → add a merge → preview → apply, conflicts shown with
nothing changed, a stale version refused, split and role reassignment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from recognition.models import Household
from tests.conftest import Cast, client_for
from tests.factories import make_unit
from tests.units.test_reorganisation_support import EFFECTIVE, build_world
from units.models import AdministrativeUnit, RoleAssignment
from units.reorganisation import services as reorg
from units.reorganisation.models import (
    Reorganisation,
    ReorganisationStatus,
    ReorganisationStep,
    RoleReassignment,
)
from units.roles import Role


def _plan(actor, **kwargs) -> Reorganisation:
    return reorg.reorganisation_create(
        actor=actor, name="Sắp xếp 2025", effective_on=EFFECTIVE, **kwargs
    )


def _url(name: str, plan: Reorganisation | None = None) -> str:
    return reverse(f"units:{name}", args=[plan.public_id] if plan else [])


def test_other_tenant_plan_is_404_and_non_admins_get_403(cast: Cast) -> None:
    other_admin_plan = reorg.reorganisation_create(
        actor=None, tenant=cast.other_tenant, name="Khác", effective_on=EFFECTIVE
    )
    admin = client_for(cast.admin)
    for name in ("reorganisation-detail", "reorganisation-preview", "reorganisation-step-add"):
        assert admin.get(_url(name, other_admin_plan)).status_code == 404
    response = admin.post(_url("reorganisation-apply", other_admin_plan), {"version": 1})
    assert response.status_code == 404
    plan = _plan(cast.admin)
    for user in (cast.reviewer, cast.ward_official):
        client = client_for(user)
        assert client.get(_url("reorganisation-list")).status_code == 403
        assert client.get(_url("reorganisation-detail", plan)).status_code == 403
        assert client.get(_url("reorganisation-preview", plan)).status_code == 403
    # The city's steering viewer reads plans but changes nothing.
    viewer = client_for(cast.viewer)
    assert viewer.get(_url("reorganisation-list")).status_code == 200
    page = viewer.get(_url("reorganisation-detail", plan)).content.decode()
    assert _url("reorganisation-cancel", plan) not in page
    assert _url("reorganisation-create") not in page
    preview = viewer.get(_url("reorganisation-preview", plan)).content.decode()
    assert 'data-testid="apply-form"' not in preview
    assert viewer.get(_url("reorganisation-preview", other_admin_plan)).status_code == 404
    for user in (cast.viewer, cast.reviewer, cast.ward_official):
        client = client_for(user)
        assert client.get(_url("reorganisation-step-add", plan)).status_code == 403
        assert client.post(_url("reorganisation-create"), {"name": "x"}).status_code == 403
        for name in ("reorganisation-cancel", "reorganisation-apply"):
            assert client.post(_url(name, plan), {"version": plan.version}).status_code == 403
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.DRAFT
    assert Reorganisation.objects.filter(tenant=cast.tenant).count() == 1


def test_nav_shows_reorganisations_to_tenant_admins_only(cast: Cast) -> None:
    link = _url("reorganisation-list")
    assert link in client_for(cast.admin).get(reverse("core:home")).content.decode()
    assert link not in client_for(cast.reviewer).get(reverse("core:home")).content.decode()


def test_create_merge_preview_apply(cast: Cast) -> None:
    w = build_world(cast)
    admin = client_for(cast.admin)
    assert admin.get(_url("reorganisation-create")).status_code == 200
    response = admin.post(
        _url("reorganisation-create"),
        {"name": "Sắp xếp phường 2025", "legal_basis": "NQ 1685", "effective_on": "01/07/2025"},
    )
    plan = Reorganisation.objects.get(tenant=cast.tenant)
    assert response.status_code == 302
    assert response["Location"] == _url("reorganisation-detail", plan)
    assert plan.effective_on == EFFECTIVE
    assert "Sắp xếp phường 2025" in admin.get(_url("reorganisation-list")).content.decode()

    form = admin.get(_url("reorganisation-step-add", plan) + "?kind=merge&q=Phường")
    assert form.status_code == 200
    assert str(w.ward_b.public_id) in form.content.decode()
    assert str(cast.neighbourhood.public_id) not in form.content.decode()  # the search narrows
    client_data = {
        "version": plan.version,
        "sources": [str(cast.ward.public_id), str(w.ward_b.public_id)],
        "code": "27184",
        "name": "Phường Sài Gòn",
        "parent": "",
    }
    missing_kind = admin.post(_url("reorganisation-step-add", plan) + "?kind=merge", client_data)
    assert missing_kind.status_code == 200  # the new unit's kind is required
    assert not ReorganisationStep.objects.filter(plan=plan).exists()
    add = admin.post(
        _url("reorganisation-step-add", plan) + "?kind=merge", {**client_data, "kind": "phuong"}
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    step = ReorganisationStep.objects.get(plan=plan)
    assert step.kind == "merge"
    assert sorted(step.sources) == sorted([cast.ward.pk, w.ward_b.pk])
    assert step.targets[0]["code"] == "27184"

    detail = admin.get(_url("reorganisation-detail", plan)).content.decode()
    assert "Phường Sài Gòn" in detail and "Phường Đa Kao (27190)" in detail

    preview = admin.get(_url("reorganisation-preview", plan))
    body = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-testid="conflicts"' not in body
    assert "Phường Bến Nghé (27184)" in body
    moving = Household.objects.filter(
        unit__path__regex=rf"^({cast.ward.path}|{w.ward_b.path})"
    ).count()
    assert moving >= 6
    assert preview.context["preview"].counts["households"] == moving

    plan.refresh_from_db()
    applied = admin.post(_url("reorganisation-apply", plan), {"version": plan.version})
    assert applied.status_code == 302
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.APPLIED
    cast.ward.refresh_from_db()
    w.ward_b.refresh_from_db()
    assert cast.ward.valid_to is not None and w.ward_b.valid_to is not None
    new = AdministrativeUnit.objects.get(code="27184", valid_to__isnull=True, kind="phuong")
    assert new.name == "Phường Sài Gòn"
    assert Household.objects.filter(unit=cast.ward).count() == 0
    assert Household.objects.filter(unit=new).count() >= 1
    copies = plan.result["neighbourhoods_copied"]
    assert copies == 2  # Khu phố 1 of each ward gets a copy under the new ward
    assert plan.result["units_created"] == 1 + copies
    assert plan.result["units_closed"] == 2 + copies
    result = admin.get(_url("reorganisation-detail", plan)).content.decode()
    assert 'data-testid="plan-result"' in result


def test_conflicts_are_shown_and_nothing_changes(cast: Cast) -> None:
    w = build_world(cast)
    plan = _plan(cast.admin)
    # 27247 is Phường Tân Định of Quận Hai: in force and not closed by the plan.
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, w.ward_b],
        targets=[{"code": "27247", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    admin = client_for(cast.admin)
    preview = admin.get(_url("reorganisation-preview", plan)).content.decode()
    assert 'data-testid="conflicts"' in preview and "27247" in preview
    units_before = AdministrativeUnit.objects.count()
    events_before = AuditEvent.objects.count()
    response = admin.post(_url("reorganisation-apply", plan), {"version": plan.version})
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="apply-error"' in body and "27247" in body
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.DRAFT
    assert AdministrativeUnit.objects.count() == units_before
    assert AuditEvent.objects.count() == events_before
    cast.ward.refresh_from_db()
    assert cast.ward.valid_to is None


def test_stale_version_is_refused(cast: Cast) -> None:
    w = build_world(cast)
    plan = _plan(cast.admin)
    stale = plan.version
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, w.ward_b],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    admin = client_for(cast.admin)
    response = admin.post(_url("reorganisation-apply", plan), {"version": stale}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert str(ConcurrentEditError.default_message) in shown
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.DRAFT
    removed = admin.post(
        _url("reorganisation-step-remove", plan),
        {"version": stale, "step": ReorganisationStep.objects.get(plan=plan).pk},
    )
    assert removed.status_code == 302
    assert ReorganisationStep.objects.filter(plan=plan).count() == 1


def test_remove_step_and_cancel(cast: Cast) -> None:
    w = build_world(cast)
    plan = _plan(cast.admin)
    step = reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="rename",
        sources=[w.ward_b],
        targets=[{"name": "Phường Đa Kao Mới"}],
    )
    admin = client_for(cast.admin)
    admin.post(_url("reorganisation-step-remove", plan), {"version": plan.version, "step": step.pk})
    assert not ReorganisationStep.objects.filter(plan=plan).exists()
    plan.refresh_from_db()
    admin.post(_url("reorganisation-cancel", plan), {"version": plan.version})
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.CANCELLED


@pytest.mark.parametrize("kind", ["rename", "recode", "move"])
def test_one_unit_steps_from_the_form(cast: Cast, kind: str) -> None:
    plan = _plan(cast.admin)
    data = {"kind": kind, "version": plan.version, "source": str(cast.ward.public_id)}
    data |= {
        "rename": {"name": "Phường Bến Nghé Mới"},
        "recode": {"code": "27999"},
        "move": {"parent": str(cast.other_district.public_id)},
    }[kind]
    response = client_for(cast.admin).post(
        _url("reorganisation-step-add", plan) + f"?kind={kind}", data
    )
    assert response.status_code == 302
    target = ReorganisationStep.objects.get(plan=plan).targets[0]
    expected = {
        "rename": ("name", "Phường Bến Nghé Mới"),
        "recode": ("code", "27999"),
        "move": ("parent", cast.other_district.pk),
    }[kind]
    assert target[expected[0]] == expected[1]


def test_split_from_the_form_then_reassign_the_flagged_role(cast: Cast) -> None:
    kp2 = make_unit(cast.tenant, cast.ward, "khu_pho", "Khu phố 2", "27184-KP02")
    plan = _plan(cast.admin)
    admin = client_for(cast.admin)
    page = admin.get(
        _url("reorganisation-step-add", plan) + f"?kind=split&source={cast.ward.public_id}"
    )
    assert str(kp2.public_id) in page.content.decode()
    data = {
        "kind": "split",
        "version": plan.version,
        "source": str(cast.ward.public_id),
        "t-TOTAL_FORMS": "4",
        "t-INITIAL_FORMS": "0",
        "t-MIN_NUM_FORMS": "0",
        "t-MAX_NUM_FORMS": "20",
        "t-0-code": "27184",
        "t-0-name": "Phường Bến Nghé A",
        "t-0-kind": "phuong",
        "t-0-default": "on",
        "t-1-code": "27185",
        "t-1-name": "Phường Bến Nghé B",
        "t-1-kind": "phuong",
        "t-1-neighbourhoods": [str(kp2.public_id)],
    }
    # Without a default the split is refused with a message.
    refused = admin.post(
        _url("reorganisation-step-add", plan) + "?kind=split",
        {k: v for k, v in data.items() if k != "t-0-default"},
    )
    assert refused.status_code == 200
    assert not ReorganisationStep.objects.filter(plan=plan).exists()
    response = admin.post(_url("reorganisation-step-add", plan) + "?kind=split", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    step = ReorganisationStep.objects.get(plan=plan)
    assert [t["default"] for t in step.targets] == [True, False]
    assert step.targets[1]["neighbourhoods"] == [kp2.pk]
    plan.refresh_from_db()
    assert (
        admin.post(_url("reorganisation-apply", plan), {"version": plan.version}).status_code == 302
    )

    flagged = RoleReassignment.objects.get(plan=plan, user=cast.ward_official)
    listing = admin.get(_url("reassignment-list")).content.decode()
    assert cast.ward.name in listing
    page = admin.get(reverse("units:reassignment-resolve", args=[flagged.public_id]))
    choices = list(page.context["form"].fields["units"].queryset)
    assert {u.code for u in choices} == {"27184", "27185"}
    b = next(u for u in choices if u.code == "27185")
    done = admin.post(
        reverse("units:reassignment-resolve", args=[flagged.public_id]),
        {"units": [str(b.public_id)]},
    )
    assert done.status_code == 302
    assert RoleAssignment.objects.filter(
        user=cast.ward_official, unit=b, role=Role.WARD_OFFICIAL
    ).exists()
    flagged.refresh_from_db()
    assert flagged.resolved_at is not None
    # Reviewers and viewers never see the page.
    assert client_for(cast.viewer).get(_url("reassignment-list")).status_code == 403

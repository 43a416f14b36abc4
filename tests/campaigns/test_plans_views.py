"""Plan screens: who sees which plans, creating, deriving in one step, the
tightening refusals shown beside the targets, scoping (404 other tenant, 403
read-only or not a planner there) and the PDF download."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from campaigns.models import Plan, Target
from campaigns.services import plans as services
from core.models import AuditEvent
from recognition.titles import Title
from tests.campaigns.test_plans_services import city_plan
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _url(name: str, plan: Plan | None = None) -> str:
    if plan is None:
        return reverse(f"campaigns:{name}")
    return reverse(f"campaigns:{name}", kwargs={"public_id": plan.public_id})


def test_the_list_shows_the_plans_above_and_below(cast: Cast, login) -> None:
    city = city_plan(cast)
    district = services.plan_derive(actor=cast.reviewer, parent=city, issuing_unit=cast.district)
    other = services.plan_derive(actor=cast.admin, parent=city, issuing_unit=cast.other_district)
    ward = login(cast.ward_official).get(_url("plan-list"))
    assert ward.status_code == 200
    shown = {row.record.pk for row in ward.context["table"].rows}
    assert shown == {city.pk, district.pk}
    viewer = login(cast.viewer).get(_url("plan-list"))
    assert {row.record.pk for row in viewer.context["table"].rows} == {
        city.pk,
        district.pk,
        other.pk,
    }
    assert not viewer.context["can_create"]
    foreign = login(cast.other_tenant_official).get(_url("plan-list"))
    assert not list(foreign.context["table"].rows)


def test_create_a_plan(cast: Cast, login) -> None:
    client = login(cast.admin)
    assert client.get(_url("plan-create")).status_code == 200
    response = client.post(
        _url("plan-create"),
        {
            "issuing_unit": str(cast.city.public_id),
            "number": "734",
            "symbol": "KH-UBND",
            "issued_on": "15/02/2024",
            "title": "Tổ chức thực hiện Phong trào thi đua",
            "start_year": "2023",
            "end_year": "2030",
        },
    )
    plan = Plan.objects.get()
    assert response.status_code == 302 and response["Location"] == _url("plan-detail", plan)
    assert plan.reference == "734/KH-UBND" and plan.issued_on.isoformat() == "2024-02-15"
    bad = client.post(
        _url("plan-create"),
        {
            "issuing_unit": str(cast.city.public_id),
            "symbol": "KH-UBND",
            "title": "Sai",
            "start_year": "2030",
            "end_year": "2023",
        },
    )
    assert bad.status_code == 400 and Plan.objects.count() == 1
    assert login(cast.viewer).get(_url("plan-create")).status_code == 403


def test_the_page_shows_years_unlocalised_and_what_the_user_may_do(cast: Cast, login) -> None:
    city = city_plan(cast)
    admin = login(cast.admin).get(_url("plan-detail", city))
    assert admin.status_code == 200 and admin.context["editable"]
    html = admin.content.decode()
    assert "2023–2030" in html and "2.023" not in html and "2.025" not in html
    assert 'data-testid="plan-header-form"' in html
    ward = login(cast.ward_official).get(_url("plan-detail", city))
    assert ward.status_code == 200 and not ward.context["editable"]
    assert 'data-testid="plan-header-form"' not in ward.content.decode()
    # The district's reviewer may make the district's plan from it.
    reviewer = login(cast.reviewer).get(_url("plan-detail", city))
    assert list(reviewer.context["derive_form"].fields["issuing_unit"].queryset) == [cast.district]
    assert login(cast.other_tenant_official).get(_url("plan-detail", city)).status_code == 404


def test_derive_then_tighten_on_the_page(cast: Cast, login) -> None:
    city = city_plan(cast)
    client = login(cast.reviewer)
    response = client.post(
        _url("plan-derive", city), {"issuing_unit": str(cast.district.public_id)}
    )
    child = Plan.objects.get(parent=city, issuing_unit=cast.district)
    assert response.status_code == 302 and response["Location"] == _url("plan-detail", child)
    page = client.get(_url("plan-detail", child))
    html = page.content.decode()
    assert f'data-testid="target-{Title.FAMILY}-2025-{cast.district.code}"' in html
    family = child.targets.get(title=Title.FAMILY)
    assert family.source.value == 70
    # Twice: the unit is no longer offered, so the derive form is gone.
    again = client.post(_url("plan-derive", city), {"issuing_unit": str(cast.district.public_id)})
    assert again.status_code == 403
    assert Plan.objects.filter(parent=city).count() == 1

    events = AuditEvent.objects.count()
    lower = client.post(_url("plan-target-save", child), {"target": family.pk, "value": "60"})
    assert lower.status_code == 400
    assert 'data-testid="targets-error"' in lower.content.decode()
    assert "70%" in lower.context["error_message"]
    family.refresh_from_db()
    assert family.value == 70 and AuditEvent.objects.count() == events
    higher = client.post(_url("plan-target-save", child), {"target": family.pk, "value": "75"})
    assert higher.status_code == 302
    family.refresh_from_db()
    assert family.value == 75


def test_phase_and_target_refusals_are_shown_and_nothing_saved(cast: Cast, login) -> None:
    city = city_plan(cast)
    client = login(cast.admin)
    phases = city.phases.count()
    outside = client.post(
        _url("plan-phase-save", city),
        {
            "name": "Sai",
            "start_year": "2022",
            "end_year": "2025",
            "review_kind": "so_ket",
            "review_due": "01/12/2025",
        },
    )
    assert outside.status_code == 400
    assert 'data-testid="phases-error"' in outside.content.decode()
    assert city.phases.count() == phases
    targets = Target.objects.count()
    above = client.post(
        _url("plan-target-save", city),
        {
            "unit": str(cast.city.public_id),
            "title": Title.CITIZEN,
            "year": "2025",
            "kind": "rate",
            "value": "120",
        },
    )
    assert above.status_code == 400 and Target.objects.count() == targets
    ok = client.post(
        _url("plan-target-save", city),
        {
            "unit": str(cast.district.public_id),
            "title": Title.CITIZEN,
            "year": "2025",
            "kind": "rate",
            "value": "40,5",
        },
    )
    assert ok.status_code == 302
    assert Target.objects.get(title=Title.CITIZEN).value == pytest.approx(40.5)


def test_sections_on_the_page(cast: Cast, login) -> None:
    city = city_plan(cast)
    client = login(cast.admin)
    client.post(_url("plan-section-save", city), {"heading": "TỔ CHỨC THỰC HIỆN", "body": "A\nB"})
    last = city.sections.order_by("position").last()
    assert last.heading == "TỔ CHỨC THỰC HIỆN" and last.body == "A\nB"
    client.post(_url("plan-section-move", city), {"section": last.pk, "direction": "up"})
    last.refresh_from_db()
    assert last.position == 1
    client.post(_url("plan-section-delete", city), {"section": last.pk})
    assert city.sections.count() == 2


def test_writes_need_a_planner_of_the_issuing_unit(cast: Cast, login) -> None:
    city = city_plan(cast)
    target = city.targets.first()
    for user in (cast.viewer, cast.ward_official, cast.reviewer):
        response = login(user).post(
            _url("plan-target-save", city), {"target": target.pk, "value": "99"}
        )
        assert response.status_code == 403, user
    target.refresh_from_db()
    assert target.value != 99
    foreign = login(cast.other_tenant_official).post(
        _url("plan-target-save", city), {"target": target.pk, "value": "99"}
    )
    assert foreign.status_code == 404


def test_the_pdf_download(cast: Cast, login) -> None:
    from pypdf import PdfReader

    city = city_plan(cast)
    response = login(cast.ward_official).get(_url("plan-pdf", city))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "KH-734-2024.pdf" in response["Content-Disposition"]
    text = " ".join(
        " ".join(
            (page.extract_text() or "") for page in PdfReader(io.BytesIO(response.content)).pages
        ).split()
    )
    assert "KẾ HOẠCH" in text and "734/KH-UBND" in text

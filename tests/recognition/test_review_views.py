"""The reviewer's screens: the queue with filters and counts, the review page
with per-item and bulk actions, return and finish, the changes panel, the
reviewer's score, and the review-chain screen."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recognition.models import (
    Assessment,
    AssessmentStatus,
    DossierStatus,
    IndicatorScore,
    ReviewChain,
)
from recognition.services import dossier as dossier_services
from recognition.services import review as review_services
from recognition.titles import Title
from tests.factories import grant, make_user
from tests.recognition.dossier_factories import indicators_of, ready_households, submitted_dossier
from units.roles import Role

A = AssessmentStatus


def _review(dossier) -> str:
    return reverse("recognition:review-detail", args=[dossier.public_id])


def test_queue_filters_and_counts(cycle, login) -> None:
    cast = cycle.cast
    mine, _ = submitted_dossier(cast, cycle.points_set, 1)
    elsewhere, _ = submitted_dossier(
        cast, cycle.points_set, 1, ward=cast.other_ward, unit=cast.other_neighbourhood
    )
    client = login(cast.reviewer)
    page = client.get(reverse("recognition:review-queue"))
    assert page.status_code == 200
    assert list(page.context["page"]) == [mine]
    assert dict((s, n) for s, _label, n in page.context["tabs"])[DossierStatus.SUBMITTED] == 1
    # The city admin reviews both districts; filters narrow the list.
    admin = login(cast.admin)
    assert len(admin.get(reverse("recognition:review-queue")).context["page"]) == 2
    assert list(
        admin.get(reverse("recognition:review-queue"), {"q": "tân định"}).context["page"]
    ) == [elsewhere]
    assert list(
        admin.get(reverse("recognition:review-queue"), {"q": cast.ward.code}).context["page"]
    ) == [mine]
    assert not admin.get(reverse("recognition:review-queue"), {"year": 2019}).context["page"]
    assert not admin.get(reverse("recognition:review-queue"), {"title": Title.CLAN}).context["page"]
    assert not admin.get(
        reverse("recognition:review-queue"), {"status": DossierStatus.APPROVED}
    ).context["page"]
    # Ward officials and other tenants see nothing in the queue.
    assert not login(cast.ward_official).get(reverse("recognition:review-queue")).context["page"]
    assert (
        not login(cast.other_tenant_official)
        .get(reverse("recognition:review-queue"))
        .context["page"]
    )


def test_review_page_per_item_and_bulk(cycle, login) -> None:
    cast = cycle.cast
    dossier, items = submitted_dossier(cast, cycle.points_set, 4)
    client = login(cast.reviewer)
    page = client.get(_review(dossier))
    assert page.status_code == 200
    assert page.context["can_review"]
    url = reverse("recognition:review-items", args=[dossier.public_id])
    client.post(url, {"item": str(items[0].public_id), "action": "approve"})
    client.post(url, {"item": str(items[1].public_id), "action": "return", "reason": "Bổ sung ảnh"})
    # Returning without a reason is refused and changes nothing.
    response = client.post(url, {"item": str(items[2].public_id), "action": "reject"}, follow=True)
    assert list(response.context["messages"])
    statuses = dict(Assessment.objects.filter(dossier=dossier).values_list("pk", "status"))
    assert statuses == {
        items[0].pk: A.APPROVED,
        items[1].pk: A.RETURNED,
        items[2].pk: A.SUBMITTED,
        items[3].pk: A.SUBMITTED,
    }
    client.post(url, {"action": "approve", "all_submitted": "1"})
    assert Assessment.objects.filter(dossier=dossier, status=A.SUBMITTED).count() == 0
    response = client.post(
        reverse("recognition:review-finish", args=[dossier.public_id]), follow=True
    )
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RETURNED  # one item went back to the ward
    assert list(response.context["messages"])


def test_bulk_with_checkboxes(cycle, login) -> None:
    cast = cycle.cast
    dossier, items = submitted_dossier(cast, cycle.points_set, 3)
    client = login(cast.reviewer)
    client.post(
        reverse("recognition:review-items", args=[dossier.public_id]),
        {
            "action": "reject",
            "reason": "Không đủ điều kiện",
            "items": [str(items[0].public_id), str(items[2].public_id)],
        },
    )
    rejected = set(
        Assessment.objects.filter(dossier=dossier, status=A.REJECTED).values_list("pk", flat=True)
    )
    assert rejected == {items[0].pk, items[2].pk}


def test_return_the_whole_dossier(cycle, login) -> None:
    cast = cycle.cast
    dossier, _items = submitted_dossier(cast, cycle.points_set, 2)
    client = login(cast.reviewer)
    url = reverse("recognition:review-return", args=[dossier.public_id])
    response = client.post(url, {"reason": "", "version": dossier.version})
    assert response.status_code == 400
    assert response.context["return_form"].errors["reason"]
    client.post(url, {"reason": "Thiếu báo cáo tổng hợp", "version": dossier.version})
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RETURNED
    assert dossier.return_reason == "Thiếu báo cáo tổng hợp"


def test_review_actions_refused_by_role_scope_and_read_only(cycle, login) -> None:
    cast = cycle.cast
    dossier, items = submitted_dossier(cast, cycle.points_set, 1)
    body = {"item": str(items[0].public_id), "action": "approve"}
    url = reverse("recognition:review-items", args=[dossier.public_id])
    assert login(cast.ward_official).post(url, body).status_code == 403
    assert login(cast.viewer).post(url, body).status_code == 403
    other_reviewer = grant(make_user(cast.tenant, "q2.rev"), cast.other_district, Role.REVIEWER)
    assert login(other_reviewer).post(url, body).status_code == 404
    assert login(other_reviewer).get(_review(dossier)).status_code == 404
    finish = reverse("recognition:review-finish", args=[dossier.public_id])
    assert login(cast.ward_official).post(finish).status_code == 403
    items[0].refresh_from_db()
    assert items[0].status == A.SUBMITTED
    # The ward may look at the review page, without actions.
    page = login(cast.ward_official).get(_review(dossier))
    assert page.status_code == 200 and not page.context["can_review"]


def test_changes_panel_after_resubmission(cycle, login) -> None:
    cast = cycle.cast
    dossier, (a, b) = submitted_dossier(cast, cycle.points_set, 2)
    review_services.item_approve(actor=cast.reviewer, item=a)
    review_services.item_return(actor=cast.reviewer, item=b, reason="Điểm 2.2 quá cao")
    review_services.dossier_finish(actor=cast.reviewer, dossier=dossier)
    IndicatorScore.objects.filter(
        assessment=b, indicator=indicators_of(cycle.points_set)[2]
    ).update(self_points=20)
    Assessment.objects.filter(pk=b.pk).update(status=A.READY, self_total=85)
    dossier_services.dossier_submit(actor=cast.ward_official, dossier=dossier)
    html = login(cast.reviewer).get(_review(dossier)).content.decode()
    assert 'data-testid="changes"' in html
    assert "2.2" in html and "25 → 20" in html


def test_score_page(cycle, login) -> None:
    cast = cycle.cast
    _dossier, (item,) = submitted_dossier(cast, cycle.points_set, 1)
    i1, _i2, _i3 = indicators_of(cycle.points_set)
    client = login(cast.reviewer)
    url = reverse("recognition:review-score", args=[item.public_id])
    page = client.get(url)
    assert page.status_code == 200
    field = f"ind_{i1.public_id.hex}"
    bad = client.post(url, {field: "45", "version": item.version})
    assert bad.status_code == 200 and bad.context["form"].errors[field]
    response = client.post(url, {field: "30", "version": item.version})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.final_total == 80  # 30 + 25 + 25
    assert login(cast.viewer).post(url, {field: "10"}).status_code == 403
    assert login(cast.ward_official).post(url, {field: "10"}).status_code == 403
    assert login(cast.other_tenant_official).get(url).status_code == 404, (
        "another tenant's item is invisible"
    )


def test_review_page_query_count_does_not_grow_with_items(cycle, login) -> None:
    cast = cycle.cast
    dossier, _ = submitted_dossier(cast, cycle.points_set, 3)
    client = login(cast.reviewer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_review(dossier)).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    more = ready_households(cast, cycle.points_set, 40)
    from recognition.models import Assessment as Model

    Model.objects.filter(pk__in=[m.pk for m in more]).update(dossier=dossier, status=A.SUBMITTED)
    assert queries() == few


def test_chain_screen_for_the_tenant_admin(cycle, login) -> None:
    cast = cycle.cast
    client = login(cast.admin)
    url = reverse("recognition:review-chain-list")
    assert client.get(url).status_code == 200
    body = {
        "title": Title.CLAN,
        "scope_level": "",
        "valid_from": "01/01/2024",
        "valid_to": "",
        "proposer_level": "commune",
        "reviewer_level": "district",
        "recogniser_level": "commune",
        "recogniser_label": "Chủ tịch UBND xã",
        "legal_basis": "Thực tiễn địa phương",
    }
    assert client.post(url, body).status_code == 302
    chain = ReviewChain.objects.get(tenant=cast.tenant)
    overlap = client.post(url, body)
    assert overlap.status_code == 200 and overlap.context["form"].non_field_errors()
    end = reverse("recognition:review-chain-end", args=[chain.public_id])
    assert client.post(end, {"valid_to": "31/12/2025"}).status_code == 302
    chain.refresh_from_db()
    assert str(chain.valid_to) == "2025-12-31"
    district_admin = grant(make_user(cast.tenant, "q1.adm"), cast.district, Role.TENANT_ADMIN)
    defaults = reverse("recognition:review-chain-defaults")
    for user in (district_admin, cast.reviewer, cast.ward_official, cast.viewer):
        assert login(user).get(url).status_code == 403
        assert login(user).post(end, {"valid_to": "01/06/2025"}).status_code == 403
        assert login(user).post(defaults).status_code == 403
    assert ReviewChain.objects.filter(tenant=cast.tenant).count() == 1
    # The clan chain set above stays; the other defaults are added.
    assert client.post(defaults).status_code == 302
    assert ReviewChain.objects.filter(tenant=cast.tenant).count() == 5
    assert ReviewChain.objects.get(tenant=cast.tenant, title=Title.CLAN).pk == chain.pk
    assert (
        login(cast.other_tenant_official).post(end, {"valid_to": "01/06/2025"}).status_code == 404
    )
    chain.refresh_from_db()
    assert str(chain.valid_to) == "2025-12-31"


def test_navigation_by_role(cycle, login) -> None:
    cast = cycle.cast
    names = {
        user.username: {i["name"] for i in login(user).get("/").context["nav_items"]}
        for user in (cast.ward_official, cast.reviewer, cast.viewer, cast.admin)
    }
    assert "dossiers" in names[cast.ward_official.username]
    assert "review" not in names[cast.ward_official.username]
    assert "review" in names[cast.reviewer.username]
    assert "dossiers" not in names[cast.reviewer.username]
    assert not {"dossiers", "review"} & names[cast.viewer.username]
    assert {"dossiers", "review"} <= names[cast.admin.username]

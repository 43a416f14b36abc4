"""The ward's dossier screens: list and open, builder with progress, add and
remove, submit (with the refusal list), deadline lock, timeline; scope (404),
read-only (403) and wrong role (403)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from recognition.models import AssessmentStatus, Dossier, DossierStatus, FormLock
from recognition.selectors.dossier import ACTION_LABELS
from recognition.services import review as review_services
from recognition.titles import Title
from tests.recognition.conftest import YEAR
from tests.recognition.dossier_factories import (
    make_assessment,
    ready_households,
    submitted_dossier,
    ward_dossier,
)

A = AssessmentStatus


def _detail(dossier: Dossier) -> str:
    return reverse("recognition:dossier-detail", args=[dossier.public_id])


def test_list_and_open_a_dossier(cycle, login) -> None:
    cast = cycle.cast
    client = login(cast.ward_official)
    page = client.get(reverse("recognition:dossier-list"))
    assert page.status_code == 200
    assert cast.ward.name in page.content.decode()  # the unit to choose
    response = client.post(
        reverse("recognition:dossier-list"),
        {"proposing_unit": cast.ward.public_id, "title": Title.FAMILY, "year": YEAR},
    )
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail(dossier)
    # Opening it again returns the same dossier.
    again = client.post(
        reverse("recognition:dossier-list"),
        {"proposing_unit": cast.ward.public_id, "title": Title.FAMILY, "year": YEAR},
    )
    assert again["Location"] == _detail(dossier)
    listed = client.get(reverse("recognition:dossier-list"), {"year": YEAR}).content.decode()
    assert _detail(dossier) in listed
    assert "2.025" not in listed and "2025" in listed


def test_open_refuses_units_outside_the_scope_and_read_only_users(cycle, login) -> None:
    cast = cycle.cast
    body = {"proposing_unit": cast.other_ward.public_id, "title": Title.FAMILY, "year": YEAR}
    response = login(cast.ward_official).post(reverse("recognition:dossier-list"), body)
    assert response.status_code == 200
    assert response.context["form"].errors["proposing_unit"]
    body["proposing_unit"] = cast.ward.public_id
    assert login(cast.viewer).post(reverse("recognition:dossier-list"), body).status_code == 403
    assert login(cast.reviewer).post(reverse("recognition:dossier-list"), body).status_code == 403
    assert not Dossier.objects.exists()


def test_builder_shows_progress_and_adds_everything_ready(cycle, login) -> None:
    cast = cycle.cast
    ready_households(cast, cycle.points_set, 3)
    ready_households(cast, cycle.points_set, 1, evidence=False)
    make_assessment(cycle.registration, cycle.points_set, status=A.DRAFT)
    dossier = ward_dossier(cast)
    client = login(cast.ward_official)
    page = client.get(_detail(dossier))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="progress-assessed">4 (80%)' in html
    assert 'data-testid="progress-missing">1 (20%)' in html
    assert 'data-testid="add-all"' in html
    response = client.post(
        reverse("recognition:dossier-add", args=[dossier.public_id]), {"all": "1"}
    )
    assert response.status_code == 302
    assert dossier.items.count() == 4
    html = client.get(_detail(dossier)).content.decode()
    assert 'data-testid="progress-in-dossier">4 (80%)' in html
    assert "missing evidence" in html or "thiếu minh chứng" in html.lower()


def test_add_chosen_and_remove(cycle, login) -> None:
    cast = cycle.cast
    a, b = ready_households(cast, cycle.points_set, 2)
    dossier = ward_dossier(cast)
    client = login(cast.ward_official)
    add = reverse("recognition:dossier-add", args=[dossier.public_id])
    client.post(add, {"items": [str(a.public_id)]})
    assert list(dossier.items.values_list("pk", flat=True)) == [a.pk]
    remove = reverse("recognition:dossier-remove", args=[dossier.public_id])
    client.post(remove, {"item": str(a.public_id)})
    assert not dossier.items.exists()
    # A refused add says why and adds nothing.
    response = client.post(add, {"items": [str(b.public_id), "not-an-id"]}, follow=True)
    assert not dossier.items.exists()
    assert list(response.context["messages"])


def test_submit_shows_the_refusal_list(cycle, login) -> None:
    cast = cycle.cast
    dossier = ward_dossier(cast)
    make_assessment(cycle.registration, cycle.points_set, status=A.READY)
    client = login(cast.ward_official)
    client.post(reverse("recognition:dossier-add", args=[dossier.public_id]), {"all": "1"})
    type(dossier.items.get()).objects.filter(dossier=dossier).update(status=A.DRAFT)
    dossier.refresh_from_db()
    response = client.post(
        reverse("recognition:dossier-submit", args=[dossier.public_id]),
        {"version": dossier.version},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="submit-refusal"' in html
    assert str(cycle.household) in html
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.DRAFT


def test_submit_and_the_items_lock(cycle, login) -> None:
    cast = cycle.cast
    ready_households(cast, cycle.points_set, 2)
    dossier = ward_dossier(cast)
    client = login(cast.ward_official)
    client.post(reverse("recognition:dossier-add", args=[dossier.public_id]), {"all": "1"})
    dossier.refresh_from_db()
    response = client.post(
        reverse("recognition:dossier-submit", args=[dossier.public_id]),
        {"version": dossier.version},
        follow=True,
    )
    assert response.status_code == 200
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    assert set(dossier.items.values_list("status", flat=True)) == {A.SUBMITTED}
    html = response.content.decode()
    assert 'data-testid="submit-dossier"' not in html
    assert 'data-testid="add-all"' not in html
    # A stale version (someone else submitted first) is refused.
    again = client.post(
        reverse("recognition:dossier-submit", args=[dossier.public_id]),
        {"version": 1},
        follow=True,
    )
    assert list(again.context["messages"])


def test_deadline_lock_closes_the_builder(cycle, login) -> None:
    cast = cycle.cast
    ready_households(cast, cycle.points_set, 1)
    dossier = ward_dossier(cast)
    FormLock.objects.create(
        tenant=cast.tenant,
        unit=cast.city,
        title=Title.FAMILY,
        year=YEAR,
        stage="dossier",
        locks_at=timezone.now() - dt.timedelta(minutes=5),
        label="Hạn nộp hồ sơ 01/11",
    )
    client = login(cast.ward_official)
    html = client.get(_detail(dossier)).content.decode()
    assert 'data-testid="deadline-lock"' in html
    assert 'data-testid="add-all"' not in html
    response = client.post(
        reverse("recognition:dossier-add", args=[dossier.public_id]), {"all": "1"}, follow=True
    )
    assert not dossier.items.exists()
    assert list(response.context["messages"])


def test_writes_refused_by_role_scope_and_read_only(cycle, login) -> None:
    cast = cycle.cast
    ready_households(cast, cycle.points_set, 1)
    dossier = ward_dossier(cast)
    add = reverse("recognition:dossier-add", args=[dossier.public_id])
    assert login(cast.viewer).post(add, {"all": "1"}).status_code == 403
    assert login(cast.reviewer).post(add, {"all": "1"}).status_code == 403
    assert login(cast.other_tenant_official).post(add, {"all": "1"}).status_code == 404
    other = ward_dossier(cast, ward=cast.other_ward, actor=cast.admin)
    assert login(cast.ward_official).get(_detail(other)).status_code == 404
    assert login(cast.ward_official).get(_detail(dossier)).status_code == 200
    assert login(cast.viewer).get(_detail(dossier)).status_code == 200
    assert not dossier.items.exists()


def test_returned_dossier_shows_each_reason_and_what_to_fix(cycle, login) -> None:
    cast = cycle.cast
    dossier, (a, b) = submitted_dossier(cast, cycle.points_set, 2)
    review_services.item_approve(actor=cast.reviewer, item=a)
    review_services.item_return(actor=cast.reviewer, item=b, reason="Thiếu ảnh minh chứng 2.1")
    review_services.dossier_finish(actor=cast.reviewer, dossier=dossier)
    html = login(cast.ward_official).get(_detail(dossier)).content.decode()
    assert 'data-testid="returned"' in html
    assert "Thiếu ảnh minh chứng 2.1" in html
    assert reverse("recognition:assessment-detail", args=[b.public_id]) in html
    assert 'data-testid="submit-dossier"' in html


def test_timeline_in_vietnamese_with_dates(cycle, login) -> None:
    cast = cycle.cast
    dossier, (a,) = submitted_dossier(cast, cycle.points_set, 1)
    review_services.item_return(actor=cast.reviewer, item=a, reason="Sai họ tên chủ hộ")
    response = login(cast.ward_official).get(
        reverse("recognition:dossier-timeline", args=[dossier.public_id])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sai họ tên chủ hộ" in html
    assert str(a.registration.subject) in html
    assert timezone.localtime().strftime("%d/%m/%Y") in html
    entries = response.context["entries"]
    assert len(entries) == 5  # create, add, item submit, dossier submit, item return
    with translation.override("vi"):
        assert entries[0].label == str(ACTION_LABELS["dossier.create"])
        assert entries[-1].label == str(ACTION_LABELS["assessment.return"])
    assert entries[0].label == "Tạo hồ sơ"


def test_builder_query_count_does_not_grow_with_items(cycle, login) -> None:
    cast = cycle.cast
    client = login(cast.ward_official)
    dossier = ward_dossier(cast)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_detail(dossier)).status_code == 200
        return len(ctx.captured_queries)

    ready_households(cast, cycle.points_set, 3)
    client.post(reverse("recognition:dossier-add", args=[dossier.public_id]), {"all": "1"})
    ready_households(cast, cycle.points_set, 2)  # candidates too
    few = queries()
    ready_households(cast, cycle.points_set, 40)
    client.post(reverse("recognition:dossier-add", args=[dossier.public_id]), {"all": "1"})
    ready_households(cast, cycle.points_set, 20)
    assert queries() == few

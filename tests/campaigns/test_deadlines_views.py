"""Deadline screens and API: scoping (404 outside, 403 read-only or set above),
the tightening refusal shown as a form error / 400, extensions by reviewers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Deadline, DeadlineKind
from campaigns.services import deadlines as services
from core.models import AuditEvent
from recognition.models import LockExtension
from recognition.titles import Title
from tests.campaigns.test_deadlines_services import deadline_data, make_plan
from tests.conftest import Cast
from units.levels import Level


@pytest.fixture
def setup(cast: Cast):
    city = make_plan(cast.city)
    district = make_plan(cast.district, parent=city)
    other = make_plan(cast.other_district, parent=city)
    parent = services.deadline_save(actor=None, plan=city, data=deadline_data())
    child = services.deadline_save(
        actor=None, plan=district, data=deadline_data(due_on=dt.date(2025, 11, 1))
    )
    foreign = services.deadline_save(actor=None, plan=other, data=deadline_data())
    return city, district, other, parent, child, foreign


def _form(**overrides):
    data = {
        "kind": DeadlineKind.DOSSIER,
        "title": Title.FAMILY,
        "year": "2025",
        "level": Level.COMMUNE,
        "due_on": "03/11/2025",
        "label": "Các phường nộp hồ sơ",
        "remind_days": "7",
    }
    data.update(overrides)
    return data


def test_the_plans_deadlines_page_lists_them_and_creates_one(cast: Cast, setup, login) -> None:
    _city, district, *_ = setup
    client = login(cast.reviewer)
    url = reverse("campaigns:deadline-list", args=[district.public_id])
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="deadline-form"' in page.content.decode()
    assert "01/11/2025" in page.content.decode()
    response = client.post(url, _form(kind=DeadlineKind.ASSESSMENT, due_on="15/10/2025"))
    assert response.status_code == 302
    created = Deadline.objects.get(plan=district, kind=DeadlineKind.ASSESSMENT)
    assert created.due_on == dt.date(2025, 10, 15)
    assert response["Location"] == reverse("campaigns:deadline-detail", args=[created.public_id])


def test_a_child_deadline_later_than_its_parents_is_a_form_error_and_saves_nothing(
    cast: Cast, setup, login
) -> None:
    _city, district, _other, _parent, child, _foreign = setup
    client = login(cast.reviewer)
    count, events = Deadline.objects.count(), AuditEvent.objects.count()
    response = client.post(
        reverse("campaigns:deadline-detail", args=[child.public_id]), _form(due_on="20/11/2025")
    )
    assert response.status_code == 400
    assert "05/11/2025" in response.content.decode()
    child.refresh_from_db()
    assert child.due_on == dt.date(2025, 11, 1)
    response = client.post(
        reverse("campaigns:deadline-list", args=[district.public_id]),
        _form(kind=DeadlineKind.REGISTRATION, due_on="20/11/2025", title=""),
    )
    # No parent registration deadline: nothing bounds it.
    assert response.status_code == 302
    assert (Deadline.objects.count(), AuditEvent.objects.count()) == (count + 1, events + 1)


def test_a_deadline_set_above_is_readable_but_not_writable(cast: Cast, setup, login) -> None:
    city, _district, _other, parent, _child, _foreign = setup
    client = login(cast.reviewer)
    assert (
        client.get(reverse("campaigns:deadline-detail", args=[parent.public_id])).status_code == 200
    )
    assert client.get(reverse("campaigns:deadline-list", args=[city.public_id])).status_code == 200
    for name, body in (
        ("campaigns:deadline-detail", _form()),
        ("campaigns:deadline-delete", {}),
        ("campaigns:deadline-extend", {"unit": str(cast.ward.public_id)}),
    ):
        assert client.post(reverse(name, args=[parent.public_id]), body).status_code == 403
    assert (
        client.post(reverse("campaigns:deadline-list", args=[city.public_id]), _form()).status_code
        == 403
    )


def test_out_of_scope_is_404_and_read_only_is_403(cast: Cast, setup, login) -> None:
    _city, district, other, _parent, child, foreign = setup
    reviewer = login(cast.reviewer)
    assert (
        reviewer.get(reverse("campaigns:deadline-detail", args=[foreign.public_id])).status_code
        == 404
    )
    assert (
        reviewer.get(reverse("campaigns:deadline-list", args=[other.public_id])).status_code == 404
    )
    ward = login(cast.ward_official)
    assert ward.get(reverse("campaigns:deadline-detail", args=[child.public_id])).status_code == 200
    assert (
        ward.get(reverse("campaigns:deadline-detail", args=[foreign.public_id])).status_code == 404
    )
    assert (
        login(cast.other_tenant_official)
        .get(reverse("campaigns:deadline-detail", args=[child.public_id]))
        .status_code
        == 404
    )
    viewer = login(cast.viewer)
    assert (
        viewer.get(reverse("campaigns:deadline-detail", args=[child.public_id])).status_code == 200
    )
    assert (
        viewer.post(
            reverse("campaigns:deadline-detail", args=[child.public_id]), _form()
        ).status_code
        == 403
    )
    assert (
        viewer.post(
            reverse("campaigns:deadline-list", args=[district.public_id]), _form()
        ).status_code
        == 403
    )


def test_a_reviewer_grants_and_ends_an_extension_on_the_deadline_page(
    cast: Cast, setup, login
) -> None:
    _city, district, *_rest = setup
    child = _future(district)
    until = (child.due_on + dt.timedelta(days=3)).strftime("%d/%m/%Y")
    client = login(cast.reviewer)
    url = reverse("campaigns:deadline-detail", args=[child.public_id])
    assert 'data-testid="extension-form"' in client.get(url).content.decode()
    response = client.post(
        reverse("campaigns:deadline-extend", args=[child.public_id]),
        {"unit": str(cast.ward.public_id), "until": until, "reason": "Ngập lụt"},
    )
    assert response.status_code == 302
    extension = LockExtension.objects.get(unit=cast.ward)
    assert AuditEvent.objects.filter(action="deadline.extend").count() == 1
    page = client.get(url).content.decode()
    assert until in page and "Ngập lụt" in page
    # Without a reason, or for a unit outside the plan: a form error, nothing saved.
    bad = client.post(
        reverse("campaigns:deadline-extend", args=[child.public_id]),
        {"unit": str(cast.other_ward.public_id), "until": "04/11/2025", "reason": "x"},
    )
    assert bad.status_code == 400
    assert LockExtension.objects.count() == 1
    # A ward official may not grant one.
    assert (
        login(cast.ward_official)
        .post(
            reverse("campaigns:deadline-extend", args=[child.public_id]),
            {"unit": str(cast.ward.public_id), "until": "04/11/2025", "reason": "x"},
        )
        .status_code
        == 403
    )
    revoke = client.post(
        reverse("campaigns:deadline-extension-revoke", args=[child.public_id]),
        {"extension": str(extension.pk)},
    )
    assert revoke.status_code == 302
    assert AuditEvent.objects.filter(action="deadline.extension_revoke").count() == 1


def test_deleting_a_deadline_goes_back_to_the_plan(cast: Cast, setup, login) -> None:
    _city, district, *_rest = setup
    extra = services.deadline_save(
        actor=None, plan=district, data=deadline_data(kind=DeadlineKind.REPORT)
    )
    response = login(cast.reviewer).post(
        reverse("campaigns:deadline-delete", args=[extra.public_id])
    )
    assert response["Location"] == reverse("campaigns:deadline-list", args=[district.public_id])
    assert not Deadline.objects.filter(pk=extra.pk).exists()


# --- API -------------------------------------------------------------------------------


def _future(district):
    """A self-assessment deadline of the district due in a few days (nothing above bounds it)."""
    today = timezone.localdate()
    return services.deadline_save(
        actor=None,
        plan=district,
        data=deadline_data(
            kind=DeadlineKind.ASSESSMENT, year=today.year, due_on=today + dt.timedelta(days=3)
        ),
    )


def _json(client, method: str, url: str, body: dict) -> object:
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def test_api_lists_creates_updates_and_refuses_a_looser_child(cast: Cast, setup, login) -> None:
    _city, district, _other, parent, child, foreign = setup
    client = login(cast.reviewer)
    listed = client.get("/api/v1/deadlines", {"plan": str(district.public_id)}).json()
    assert [d["public_id"] for d in listed] == [str(child.public_id)]
    assert listed[0]["source"] == str(parent.public_id)
    assert listed[0]["locks_at"]
    applying = client.get("/api/v1/deadlines", {"unit": str(cast.ward.public_id)}).json()
    assert {d["public_id"] for d in applying} == {str(child.public_id), str(parent.public_id)}
    refused = _json(
        client, "PATCH", f"/api/v1/deadlines/{child.public_id}", {"due_on": "2025-11-30"}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "loosened"
    ok = _json(client, "PATCH", f"/api/v1/deadlines/{child.public_id}", {"due_on": "2025-10-30"})
    assert ok.status_code == 200 and ok.json()["due_on"] == "2025-10-30"
    created = _json(
        client,
        "POST",
        "/api/v1/deadlines",
        {
            "plan": str(district.public_id),
            "kind": "report",
            "year": 2025,
            "level": "commune",
            "due_on": "2025-11-10",
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["locks_at"] is None
    assert client.get(f"/api/v1/deadlines/{foreign.public_id}").status_code == 404
    assert (
        _json(client, "PATCH", f"/api/v1/deadlines/{parent.public_id}", {"label": "x"}).status_code
        == 403
    )
    viewer = login(cast.viewer)
    assert viewer.get(f"/api/v1/deadlines/{child.public_id}").status_code == 200
    assert viewer.delete(f"/api/v1/deadlines/{child.public_id}").status_code == 403


def test_api_extensions_and_calendar(cast: Cast, setup, login) -> None:
    _city, district, *_rest = setup
    child = _future(district)
    until = (child.due_on + dt.timedelta(days=3)).isoformat()
    client = login(cast.reviewer)
    granted = _json(
        client,
        "POST",
        f"/api/v1/deadlines/{child.public_id}/extensions",
        {"unit": str(cast.ward.public_id), "until": until, "reason": "Ngập lụt"},
    )
    assert granted.status_code == 201, granted.content
    listed = client.get(f"/api/v1/deadlines/{child.public_id}/extensions").json()
    assert [e["id"] for e in listed] == [granted.json()["id"]]
    refused = _json(
        client,
        "POST",
        f"/api/v1/deadlines/{child.public_id}/extensions",
        {"unit": str(cast.ward.public_id), "until": until, "reason": ""},
    )
    assert refused.status_code == 400
    revoked = _json(
        client,
        "POST",
        f"/api/v1/deadlines/{child.public_id}/extensions/revoke",
        {"extension": granted.json()["id"]},
    )
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    calendar = client.get(
        "/api/v1/deadlines/calendar", {"unit": str(cast.district.public_id), "year": 2025}
    )
    assert calendar.status_code == 200
    (row,) = calendar.json()
    assert row["scope"] == "below" and row["total"] == 1
    assert (
        login(cast.ward_official)
        .get("/api/v1/deadlines/calendar", {"unit": str(cast.other_ward.public_id)})
        .status_code
        == 404
    )

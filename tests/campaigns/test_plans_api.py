"""Plan API: create, derive (once), tighten-not-loosen with the ``loosened``
code, sections, phases, effective targets, the PDF, and scoping."""

from __future__ import annotations

import pytest

from campaigns.models import Plan, Target
from recognition.titles import Title
from tests.campaigns.test_plans_services import city_plan
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

API = "/api/v1/plans"


def test_create_read_and_edit(cast: Cast, login) -> None:
    client = login(cast.admin)
    created = client.post(
        API,
        {
            "issuing_unit": str(cast.city.public_id),
            "title": "Kế hoạch thử",
            "start_year": 2023,
            "end_year": 2030,
            "number": 734,
            "issued_on": "2024-02-15",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["reference"] == "734/KH-UBND"
        and body["agency"] == "ỦY BAN NHÂN DÂN THÀNH PHỐ THỬ NGHIỆM"
    )
    url = f"{API}/{body['public_id']}"
    stale = client.patch(url, {"version": 99, "title": "X"}, content_type="application/json")
    assert stale.status_code == 409
    edited = client.patch(
        url, {"version": body["version"], "title": "Kế hoạch mới"}, content_type="application/json"
    )
    assert edited.status_code == 200 and edited.json()["title"] == "Kế hoạch mới"
    section = client.post(
        f"{url}/sections", {"heading": "MỤC ĐÍCH"}, content_type="application/json"
    )
    assert section.status_code == 201
    sid = section.json()["id"]
    moved = client.post(
        f"{url}/sections/{sid}/move", {"offset": 1}, content_type="application/json"
    )
    assert moved.status_code == 200
    outside = client.post(
        f"{url}/phases",
        {
            "name": "Sai",
            "start_year": 2022,
            "end_year": 2025,
            "review_kind": "so_ket",
            "review_due": "2025-12-01",
        },
        content_type="application/json",
    )
    assert outside.status_code == 400 and outside.json()["code"] == "campaign_error"
    above = client.post(
        f"{url}/targets",
        {
            "unit": str(cast.city.public_id),
            "title": Title.FAMILY,
            "year": 2025,
            "kind": "rate",
            "value": "101",
        },
        content_type="application/json",
    )
    assert above.status_code == 400 and not Target.objects.exists()
    assert client.delete(f"{url}/sections/{sid}").status_code == 204


def test_derive_once_and_tighten(cast: Cast, login) -> None:
    city = city_plan(cast)
    client = login(cast.reviewer)
    derived = client.post(
        f"{API}/{city.public_id}/derive",
        {"issuing_unit": str(cast.district.public_id)},
        content_type="application/json",
    )
    assert derived.status_code == 201, derived.content
    body = derived.json()
    assert body["parent"]["reference"] == "734/KH-UBND"
    assert body["legal_bases"].startswith("Thực hiện Kế hoạch số 734/KH-UBND")
    assert len(body["sections"]) == 2 and len(body["phases"]) == 2 and len(body["deadlines"]) == 1
    family = next(t for t in body["targets"] if t["title"] == Title.FAMILY)
    assert float(family["inherited_value"]) == 70
    again = client.post(
        f"{API}/{city.public_id}/derive",
        {"issuing_unit": str(cast.district.public_id)},
        content_type="application/json",
    )
    assert again.status_code == 400 and again.json()["code"] == "campaign_error"
    url = f"{API}/{body['public_id']}/targets/{family['id']}"
    lower = client.patch(url, {"value": "60"}, content_type="application/json")
    assert lower.status_code == 400
    assert lower.json()["code"] == "loosened" and "70%" in lower.json()["detail"]
    higher = client.patch(url, {"value": "75"}, content_type="application/json")
    assert higher.status_code == 200 and float(higher.json()["value"]) == 75
    drop = client.delete(url)
    assert drop.status_code == 400 and drop.json()["code"] == "loosened"

    effective = client.get(
        f"{API}/effective-targets", {"unit": str(cast.ward.public_id), "year": 2025}
    )
    assert effective.status_code == 200
    values = {row["title"]: float(row["value"]) for row in effective.json()}
    assert values == {Title.FAMILY: 75, Title.CLAN: 65}


def test_scoping(cast: Cast, login) -> None:
    city = city_plan(cast)
    ward = login(cast.ward_official)
    listed = ward.get(API)
    assert [row["public_id"] for row in listed.json()["items"]] == [str(city.public_id)]
    assert ward.get(f"{API}/{city.public_id}").status_code == 200
    # Reading the city's plan does not make the ward a planner of it.
    assert (
        ward.patch(
            f"{API}/{city.public_id}",
            {"version": city.version, "title": "X"},
            content_type="application/json",
        ).status_code
        == 403
    )
    viewer = login(cast.viewer)
    assert viewer.get(f"{API}/{city.public_id}/pdf").status_code == 200
    assert (
        viewer.post(
            f"{API}/{city.public_id}/sections", {"heading": "X"}, content_type="application/json"
        ).status_code
        == 403
    )
    foreign = login(cast.other_tenant_official)
    assert foreign.get(f"{API}/{city.public_id}").status_code == 404
    assert foreign.get(f"{API}/{city.public_id}/pdf").status_code == 404
    assert Plan.objects.get(pk=city.pk).title == city.title

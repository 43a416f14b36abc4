"""API: criteria sets (read-only), scoped to the shipped sets and the caller's tenant."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.services import api_token_create
from recognition.models import CriteriaSet
from recognition.services import criteria as services
from recognition.shipped import load_shipped_criteria
from tests.conftest import Cast

BASE = "/api/v1/criteria-sets"


def _own(cast: Cast, tenant: Any = None, code: str = "GDHT-HCM") -> CriteriaSet:
    return services.criteria_set_import(
        tenant=tenant or cast.tenant,
        data={
            "code": code,
            "title": "gia_dinh",
            "name": f"Bộ tiêu chí {code}",
            "legal_basis": "Dòng một\nDòng hai",
            "year_from": 2025,
            "method": "points",
            "max_total": 20,
            "pass_thresholds": {"normal": 15},
            "status": "published",
            "criteria": [
                {
                    "code": "TC1",
                    "name": "Học tập của trẻ em",
                    "indicators": [
                        {"code": "1.1", "text": "Trẻ em đến trường", "max_points": 10},
                        {
                            "code": "1.2",
                            "text": "Kết quả học tập",
                            "max_points": 10,
                            "min_points": "2.5",
                        },
                    ],
                }
            ],
        },
    )


def _codes(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["code"] for item in response.json()["items"]}


@pytest.mark.django_db
def test_list_is_scoped_and_filtered(cast: Cast, login: Any) -> None:
    load_shipped_criteria()
    _own(cast)
    _own(cast, tenant=cast.other_tenant, code="KHAC")
    client = login(cast.ward_official)
    everything = _codes(client.get(BASE))
    assert everything == {"QD244-CDHT", "TT25-CDHT-XA", "QD448-GDHT", "TT22-DVHT", "GDHT-HCM"}
    assert _codes(client.get(BASE, {"title": "gia_dinh"})) == {"QD448-GDHT", "GDHT-HCM"}
    assert _codes(client.get(BASE, {"status": "published"})) == {"GDHT-HCM"}
    assert _codes(client.get(BASE, {"year": 2018})) == {"QD448-GDHT"}
    assert _codes(client.get(BASE, {"q": "tt25"})) == {"TT25-CDHT-XA"}
    assert client.get(BASE, {"status": "bogus"}).status_code == 422
    item = next(i for i in client.get(BASE).json()["items"] if i["code"] == "TT25-CDHT-XA")
    assert item["shipped"] is True and item["needs_completion"] is True
    assert item["method"] == "levels" and item["scope_level"] == "commune"
    assert item["validity_years"] == 3 and item["upgrade_after_months"] == 12


@pytest.mark.django_db
def test_detail_has_criteria_and_indicators(cast: Cast, login: Any) -> None:
    cs = _own(cast)
    assert cs.status == "published"
    response = login(cast.viewer).get(f"{BASE}/{cs.public_id}")
    assert response.status_code == 200
    data = response.json()
    assert data["code"] == "GDHT-HCM" and data["status"] == "published" and not data["shipped"]
    assert data["legal_basis"] == ["Dòng một", "Dòng hai"]
    assert data["pass_thresholds"] == {"normal": 15}
    [criterion] = data["criteria"]
    assert criterion["code"] == "TC1"
    assert [i["code"] for i in criterion["indicators"]] == ["1.1", "1.2"]
    assert float(criterion["indicators"][1]["min_points"]) == 2.5


@pytest.mark.django_db
def test_other_tenant_malformed_and_anonymous(cast: Cast, login: Any) -> None:
    other = _own(cast, tenant=cast.other_tenant, code="KHAC")
    client = login(cast.admin)
    assert client.get(f"{BASE}/{other.public_id}").status_code == 404
    assert client.get(f"{BASE}/not-a-uuid").status_code == 404
    assert client.get(f"{BASE}/{other.pk}").status_code == 404
    assert Client().get(BASE).status_code == 401
    _token, raw = api_token_create(user=cast.other_tenant_official, name="script")
    own = _own(cast)
    bearer = Client().get(f"{BASE}/{own.public_id}", headers={"authorization": f"Bearer {raw}"})
    assert bearer.status_code == 404
    listed = Client().get(BASE, headers={"authorization": f"Bearer {raw}"})
    assert _codes(listed) == {"KHAC"}


@pytest.mark.django_db
def test_operations_are_read_only(cast: Cast, login: Any) -> None:
    cs = _own(cast)
    client = login(cast.admin)
    assert client.post(BASE, {}, content_type="application/json").status_code == 405
    assert client.generic("DELETE", f"{BASE}/{cs.public_id}").status_code == 405
    schema = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(schema[BASE]) == {"get"}
    assert set(schema[BASE + "/{public_id}"]) == {"get"}

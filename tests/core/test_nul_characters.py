"""A NUL character anywhere a user can type answers 400, never a server error."""

from __future__ import annotations

import pytest

from tests.factories import grant, make_tenant, make_unit, make_user
from units.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def official(client):
    tenant = make_tenant()
    city = make_unit(tenant, None, "tinh", "Tỉnh Thử")
    district = make_unit(tenant, city, "huyen", "Huyện Một")
    ward = make_unit(tenant, district, "xa", "Xã Một")
    user = grant(make_user(tenant), ward, Role.WARD_OFFICIAL)
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "url",
    [
        "/units/?q=a%00b",
        "/recognition/assessments/?q=%00",
        "/recognition/review/?q=x%00",
        "/recognition/criteria/?q%00=x",
    ],
)
def test_a_nul_in_the_query_is_a_400_page_in_vietnamese(client, official, url):
    response = client.get(url)
    assert response.status_code == 400
    text = response.content.decode()
    assert "NUL" in text
    assert '<html lang="vi">' in text


def test_a_nul_in_a_form_field_is_refused_before_the_view(client, official):
    response = client.post("/units/", {"name": "Khu phố\x001"})
    assert response.status_code == 400


def test_the_api_answers_in_its_own_format(client, official):
    # Validated by the API itself: a documented 4xx in JSON on PostgreSQL (which
    # refuses NUL), an empty list on SQLite; never a server error.
    response = client.get("/api/v1/units?code=%00")
    assert response.status_code in (200, 400)
    assert response["Content-Type"].startswith("application/json")


def test_a_nul_in_the_address_is_the_404_of_an_unknown_id(client, official):
    assert client.get("/units/%00/").status_code == 404


def test_ordinary_requests_pass(client, official):
    assert client.get("/units/?q=Ph%C6%B0%E1%BB%9Dng").status_code == 200

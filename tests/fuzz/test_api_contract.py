"""What the fuzzer found, pinned: API tokens write without a CSRF token,
sessions still need one, and ninja's own refusals answer ``{code, detail}``."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.services import api_token_create
from recognition.models import Clan
from tests.conftest import Cast, client_for

CLANS = "/api/v1/subjects/clans"


def _clan(cast: Cast, name: str) -> str:
    return json.dumps(
        {"name": name, "representative": "Lê Văn A", "unit": str(cast.ward.public_id)}
    )


def test_a_token_client_writes_without_a_csrf_token(cast: Cast) -> None:
    _token, raw = api_token_create(user=cast.ward_official, name="script")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        CLANS,
        _clan(cast, "Họ Lê"),
        content_type="application/json",
        headers={"authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201, response.content
    assert Clan.objects.filter(name="Họ Lê", unit=cast.ward).exists()


def test_a_session_write_without_its_csrf_token_is_refused_in_the_api_format(
    cast: Cast,
) -> None:
    client = client_for(cast.ward_official)
    client.handler.enforce_csrf_checks = True
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(CLANS, _clan(cast, "Họ Trần"), content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {
        "code": "csrf_failed",
        "detail": "The request's CSRF check failed: reload the page.",
    }
    assert not Clan.objects.filter(name="Họ Trần").exists()


def test_a_session_write_with_its_csrf_token_lands(cast: Cast) -> None:
    client = client_for(cast.ward_official)
    client.handler.enforce_csrf_checks = True
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        CLANS,
        _clan(cast, "Họ Phạm"),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201, response.content


def test_a_bogus_session_cookie_with_a_token_is_refused_not_a_server_error(cast: Cast) -> None:
    _token, raw = api_token_create(user=cast.ward_official, name="script")
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "forged"
    response = client.post(
        CLANS,
        _clan(cast, "Họ Võ"),
        content_type="application/json",
        headers={"authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert not Clan.objects.filter(name="Họ Võ").exists()


def test_a_year_no_date_can_have_is_a_validation_error(cast: Cast) -> None:
    client = client_for(cast.admin)
    assert client.get("/api/v1/events", {"year": 65536}).status_code == 422
    assert client.get("/api/v1/events", {"year": -5}).status_code == 422
    assert client.get("/api/v1/events", {"year": 2025}).status_code == 200


def test_a_page_number_beyond_any_list_is_a_validation_error(cast: Cast) -> None:
    client = client_for(cast.admin)
    for path in (
        "/api/v1/units",
        "/api/v1/events",
        "/api/v1/imports",
        "/api/v1/plans",
        "/api/v1/reports",
        "/api/v1/subjects/households",
    ):
        assert client.get(path, {"page": 10**30}).status_code == 422, path
        assert client.get(path, {"page": 10_000_000}).json()["items"] == [], path


def test_a_dossiers_item_page_past_the_end_is_its_last_page(cast: Cast) -> None:
    from tests.isolation.registry_dossier import ward_dossier_ids

    ids = ward_dossier_ids(cast)
    client = client_for(ids.actor)
    response = client.get(f"/api/v1/dossiers/{ids.in_scope}", {"page": 10**30})
    assert response.status_code == 200
    assert response.json()["items_page"] == response.json()["items_pages"]


def test_a_nul_character_is_a_bad_request_not_a_server_error(cast: Cast) -> None:
    """PostgreSQL stores no NUL character: its refusal is the client's error (400)."""
    client = client_for(cast.ward_official)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    created = client.post(CLANS, _clan(cast, "Họ\x00Lê"), content_type="application/json")
    searched = client.get("/api/v1/subjects/households", {"q": "Lê\x00"})
    if connection.vendor == "postgresql":
        for response in (created, searched):
            assert response.status_code == 400
            assert response.json()["code"] == "invalid_value"
            assert "cannot be stored" in response.json()["detail"]
    else:  # SQLite stores it
        assert (created.status_code, searched.status_code) == (201, 200)

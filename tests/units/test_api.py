"""The JSON API: /api/v1/me, /api/v1/units and token authentication."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test import Client

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke, hash_token, user_set_active
from tests.conftest import Cast, client_for
from tests.factories import make_unit, make_user

UNITS = "/api/v1/units"


def _get(client: Client, path: str, **params: Any) -> Any:
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return response.json()


def _codes(body: dict[str, Any]) -> list[str]:
    return [item["code"] for item in body["items"]]


def _bearer(raw: str) -> Client:
    return Client(headers={"authorization": f"Bearer {raw}"})


def test_me(cast: Cast) -> None:
    body = _get(client_for(cast.ward_official), "/api/v1/me")
    assert body["username"] == "ward"
    assert body["public_id"] == str(cast.ward_official.public_id)
    assert body["tenant"] == "TP. Thử Nghiệm"
    assert body["roles"] == [
        {
            "role": "ward_official",
            "unit_id": str(cast.ward.public_id),
            "unit_name": "Phường Bến Nghé",
        }
    ]


def test_a_session_without_a_tenant_is_refused(cast: Cast) -> None:
    stray = make_user(None, "stray")
    assert client_for(stray).get("/api/v1/me").status_code == 401


def test_list_units_in_scope_in_tree_order(cast: Cast) -> None:
    body = _get(client_for(cast.admin), UNITS)
    assert body["count"] == 7
    assert _codes(body)[:3] == ["79", "771", "27184"]
    assert _codes(_get(client_for(cast.ward_official), UNITS)) == ["27184", "27184-KP01"]
    assert _get(client_for(cast.other_tenant_official), UNITS)["count"] == 1


def test_list_units_filters(cast: Cast) -> None:
    admin = client_for(cast.admin)
    assert _codes(_get(admin, UNITS, parent=str(cast.district.public_id))) == ["27184"]
    assert sorted(_codes(_get(admin, UNITS, level="commune"))) == ["27184", "27247"]
    assert _codes(_get(admin, UNITS, code="27184")) == ["27184"]
    assert _codes(_get(admin, UNITS, q="ben nghe")) == ["27184"]
    assert _codes(_get(admin, UNITS, q="27184")) == ["27184", "27184-KP01"]
    assert _codes(_get(admin, UNITS, q="khu pho", parent=str(cast.other_ward.public_id))) == [
        "27247-KP01"
    ]
    assert admin.get(UNITS, {"level": "galaxy"}).status_code == 422


def test_list_units_current_only(cast: Cast) -> None:
    make_unit(
        cast.tenant, cast.ward, "khu_pho", "Khu phố Cũ", "KP-OLD", valid_to=dt.date(2020, 1, 1)
    )
    admin = client_for(cast.admin)
    assert "KP-OLD" in _codes(_get(admin, UNITS, page_size=100))
    assert "KP-OLD" not in _codes(_get(admin, UNITS, current="true", page_size=100))


def test_list_units_pagination(cast: Cast) -> None:
    admin = client_for(cast.admin)
    everything = _codes(_get(admin, UNITS))
    pages = [_get(admin, UNITS, page=n, page_size=3) for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    assert all(p["count"] == 7 for p in pages)
    assert [code for p in pages for code in _codes(p)] == everything
    assert admin.get(UNITS, {"page": 0}).status_code == 422


def test_unit_detail(cast: Cast) -> None:
    body = _get(client_for(cast.reviewer), f"{UNITS}/{cast.ward.public_id}")
    assert body == {
        "public_id": str(cast.ward.public_id),
        "name": "Phường Bến Nghé",
        "code": "27184",
        "kind": "phuong",
        "level": "commune",
        "depth": 2,
        "parent_id": str(cast.district.public_id),
        "valid_from": "1900-01-01",
        "valid_to": None,
        "child_count": 1,
    }


def test_unit_children(cast: Cast) -> None:
    admin = client_for(cast.admin)
    body = _get(admin, f"{UNITS}/{cast.city.public_id}/children")
    assert body["count"] == 2
    assert [(i["name"], i["child_count"]) for i in body["items"]] == [
        ("Quận Hai", 1),
        ("Quận Một", 1),
    ]
    assert _get(admin, f"{UNITS}/{cast.neighbourhood.public_id}/children") == {
        "items": [],
        "count": 0,
    }


# --- Tokens --------------------------------------------------------------------------------


def test_bearer_token_authenticates(cast: Cast) -> None:
    token, raw = api_token_create(user=cast.ward_official, name="script")
    client = _bearer(raw)
    assert client.get("/api/v1/me").json()["username"] == "ward"
    assert _codes(_get(client, UNITS)) == ["27184", "27184-KP01"]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_is_401(cast: Cast) -> None:
    token, raw = api_token_create(user=cast.ward_official, name="script")
    client = _bearer(raw)
    assert client.get("/api/v1/me").status_code == 200
    api_token_revoke(user=cast.ward_official, token=token)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorised"


def test_token_of_a_disabled_user_is_401(cast: Cast) -> None:
    _token, raw = api_token_create(user=cast.ward_official, name="script")
    user_set_active(actor=cast.admin, user=cast.ward_official, active=False)
    assert _bearer(raw).get("/api/v1/me").status_code == 401


def test_tampered_tokens_are_401(cast: Cast) -> None:
    _token, raw = api_token_create(user=cast.ward_official, name="script")
    for bad in (raw[:-1], raw + "x", raw.upper(), raw.replace("xhht_", "xxxx_"), ""):
        assert _bearer(bad).get("/api/v1/me").status_code == 401, bad
    assert Client(headers={"authorization": raw}).get("/api/v1/me").status_code == 401


def test_tokens_are_stored_hashed(cast: Cast) -> None:
    token, raw = api_token_create(user=cast.ward_official, name="script")
    secret = raw.split("_", 2)[2]  # the secret itself may contain "_"
    assert raw.startswith(f"xhht_{token.prefix}_") and len(secret) >= 40
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["key_hash"] == hash_token(raw) != raw
    assert not any(secret in str(value) for value in row.values())
    # Nowhere else in the database either (the audit trail included).
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 — table names from introspection
            for record in cursor.fetchall():
                assert not any(secret in str(value) for value in record), table

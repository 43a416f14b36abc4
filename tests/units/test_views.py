"""Unit browser, search, tree partial, detail and the unit edit pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from core.exceptions import ConcurrentEditError
from core.models import AuditEvent
from tests.conftest import Cast, client_for
from tests.factories import make_unit
from tests.units.test_services import db_state
from units.exceptions import CodeClashError, TreeCycleError
from units.models import AdministrativeUnit


def _vi(message: Any, **params: Any) -> str:
    """The message as a Vietnamese page shows it (HTML-escaped), checked to be translated."""
    with translation.override("en"):
        english = str(message) % params if params else str(message)
    with translation.override("vi"):
        vietnamese = str(message) % params if params else str(message)
    assert vietnamese != english, f"no Vietnamese translation for {english!r}"
    return escape(vietnamese)


def _names(response: Any) -> list[str]:
    return [row.record.name for row in response.context["table"].paginated_rows]


def _browse(cast: Cast, user: Any = None, **params: str) -> Any:
    return client_for(user or cast.admin).get(reverse("units:browser"), params)


# --- Browser and search ------------------------------------------------------------


def test_browser_starts_from_the_users_top_units(cast: Cast) -> None:
    response = _browse(cast)
    assert response.status_code == 200
    assert [u.code for u in response.context["roots"]] == ["79"]
    assert response.context["table"] is None
    ward = _browse(cast, cast.ward_official)
    assert [u.code for u in ward.context["roots"]] == ["27184"]
    assert "Phường Bến Nghé" in ward.content.decode()


def test_search_is_accent_and_case_insensitive(cast: Cast) -> None:
    for q in ("ben nghe", "Bến Nghé", "BẾN NGHÉ", "  ben   nghe "):
        response = _browse(cast, q=q)
        assert _names(response) == ["Phường Bến Nghé"], q
    content = _browse(cast, q="ben nghe").content.decode()
    assert "Phường Bến Nghé" in content and "Phường Tân Định" not in content


def test_search_by_code_prefix(cast: Cast) -> None:
    assert _names(_browse(cast, q="27247")) == ["Phường Tân Định", "Khu phố 1"]
    assert [r.record.code for r in _browse(cast, q="27184-kp").context["table"].paginated_rows] == [
        "27184-KP01"
    ]


def test_search_stays_inside_the_users_scope(cast: Cast) -> None:
    assert _names(_browse(cast, cast.ward_official, q="tan dinh")) == []
    assert _names(_browse(cast, cast.ward_official, q="27247")) == []
    assert _names(_browse(cast, q="ha ly")) == []  # the other tenant's ward


def test_filter_by_level(cast: Cast) -> None:
    names = _names(_browse(cast, level="commune"))
    assert sorted(names) == ["Phường Bến Nghé", "Phường Tân Định"]
    # An unknown level is ignored rather than an error.
    assert _browse(cast, level="galaxy").context["table"] is None


def test_htmx_children_partial(cast: Cast) -> None:
    client = client_for(cast.admin)
    response = client.get(
        reverse("units:children", args=[cast.district.public_id]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Phường Bến Nghé" in content
    assert "Phường Tân Định" not in content
    assert "<html" not in content
    leaf = client.get(reverse("units:children", args=[cast.neighbourhood.public_id]))
    assert list(leaf.context["children"]) == []


def test_children_list_current_units_before_ended_ones(cast: Cast) -> None:
    make_unit(
        cast.tenant,
        cast.district,
        "phuong",
        "Phường A Cũ",
        "27100",
        valid_to=dt.date(2020, 12, 31),
    )
    response = client_for(cast.admin).get(reverse("units:children", args=[cast.district.public_id]))
    assert [u.name for u in response.context["children"]] == ["Phường Bến Nghé", "Phường A Cũ"]


# --- Detail ------------------------------------------------------------------------------


def test_detail_for_the_admin(cast: Cast) -> None:
    response = client_for(cast.admin).get(cast.ward.get_absolute_url())
    assert response.status_code == 200
    assert response.context["unit"] == cast.ward
    assert [a.code for a in response.context["breadcrumb"]] == ["79", "771"]
    assert [c.code for c in response.context["children"]] == ["27184-KP01"]
    assert response.context["can_admin"] and response.context["can_write"]
    content = response.content.decode()
    assert reverse("units:edit", args=[cast.ward.public_id]) in content
    assert reverse("units:create-child", args=[cast.ward.public_id]) in content


def test_detail_breadcrumb_shows_only_units_in_scope(cast: Cast) -> None:
    response = client_for(cast.ward_official).get(cast.neighbourhood.get_absolute_url())
    assert [a.code for a in response.context["breadcrumb"]] == ["27184"]
    assert cast.district.get_absolute_url() not in response.content.decode()


def test_detail_for_the_read_only_viewer_offers_no_edits(cast: Cast) -> None:
    response = client_for(cast.viewer).get(cast.ward.get_absolute_url())
    assert response.status_code == 200
    assert not response.context["can_write"] and not response.context["can_admin"]
    content = response.content.decode()
    assert reverse("units:edit", args=[cast.ward.public_id]) not in content
    assert reverse("units:move", args=[cast.ward.public_id]) not in content


# --- Create a child --------------------------------------------------------------------


def _create(cast: Cast, parent: AdministrativeUnit, **data: str) -> Any:
    body = {
        "name": "Khu phố 2",
        "code": "27184-KP02",
        "kind": "khu_pho",
        "valid_from": "05/06/2025",
    }
    body.update(data)
    return client_for(cast.admin).post(reverse("units:create-child", args=[parent.public_id]), body)


def test_create_child(cast: Cast) -> None:
    assert (
        client_for(cast.admin)
        .get(reverse("units:create-child", args=[cast.ward.public_id]))
        .status_code
        == 200
    )
    response = _create(cast, cast.ward)
    unit = AdministrativeUnit.objects.get(code="27184-KP02")
    assert response.status_code == 302
    assert response["Location"] == unit.get_absolute_url()
    assert unit.parent == cast.ward and unit.level == "neighbourhood"
    assert unit.valid_from == dt.date(2025, 6, 5)  # dd/mm/yyyy: 5 June, not 6 May
    assert AuditEvent.objects.filter(action="unit.create", object_id=str(unit.public_id)).exists()


def test_create_child_code_clash_shows_the_vietnamese_message(cast: Cast) -> None:
    before = db_state()
    response = _create(cast, cast.other_ward, code="27184-KP01")
    assert response.status_code == 200
    message = _vi(CodeClashError.default_message, code="27184-KP01", other="Khu phố 1")
    assert message in response.content.decode()
    assert db_state() == before


def test_create_child_bad_input_changes_nothing(cast: Cast) -> None:
    before = db_state()
    for data in (
        {"valid_from": "31/02/2025"},
        {"valid_from": "2025/13/01"},
        {"name": ""},
        {"kind": "phuong"},  # a ward under a ward is not offered
        {"valid_from": "05/06/2025", "valid_to": "04/06/2025"},
    ):
        response = _create(cast, cast.ward, **data)
        assert response.status_code == 200, data
        form = response.context["form"]
        assert form.errors, data
    assert db_state() == before


# --- Edit ----------------------------------------------------------------------------------


def _edit(cast: Cast, unit: AdministrativeUnit, **data: Any) -> Any:
    body = {
        "name": unit.name,
        "code": unit.code,
        "kind": unit.kind,
        "valid_from": unit.valid_from.strftime("%d/%m/%Y"),
        "valid_to": "",
        "version": unit.version,
    }
    body.update(data)
    return client_for(cast.admin).post(reverse("units:edit", args=[unit.public_id]), body)


def test_edit_unit(cast: Cast) -> None:
    page = client_for(cast.admin).get(reverse("units:edit", args=[cast.ward.public_id]))
    assert page.status_code == 200
    assert page.context["form"].initial["version"] == 1
    response = _edit(cast, cast.ward, name="Phường Bến Nghé Mới")
    assert response.status_code == 302
    cast.ward.refresh_from_db()
    assert (cast.ward.name, cast.ward.version) == ("Phường Bến Nghé Mới", 2)


def test_edit_with_a_stale_version_changes_nothing(cast: Cast) -> None:
    _edit(cast, cast.ward, name="Phường Một")
    before = db_state()
    response = _edit(cast, cast.ward, name="Phường Hai", version=1)
    assert response.status_code == 200
    assert _vi(ConcurrentEditError.default_message) in response.content.decode()
    assert db_state() == before


def test_edit_code_clash_changes_nothing(cast: Cast) -> None:
    before = db_state()
    response = _edit(cast, cast.ward, code="27247")
    assert _vi(CodeClashError.default_message, code="27247", other="Phường Tân Định") in (
        response.content.decode()
    )
    assert db_state() == before


def test_the_root_cannot_be_edited_or_moved(cast: Cast) -> None:
    client = client_for(cast.admin)
    assert client.get(reverse("units:edit", args=[cast.city.public_id])).status_code == 403
    assert client.get(reverse("units:move", args=[cast.city.public_id])).status_code == 403


# --- Move ----------------------------------------------------------------------------------


def _move(cast: Cast, unit: AdministrativeUnit, to: Any, **data: Any) -> Any:
    body = {"new_parent": str(getattr(to, "public_id", to)), "version": unit.version}
    body.update(data)
    return client_for(cast.admin).post(reverse("units:move", args=[unit.public_id]), body)


def test_move_unit(cast: Cast) -> None:
    page = client_for(cast.admin).get(reverse("units:move", args=[cast.neighbourhood.public_id]))
    assert page.status_code == 200
    assert cast.other_ward in page.context["candidates"]
    assert cast.ward not in page.context["candidates"]  # already its parent
    response = _move(cast, cast.neighbourhood, cast.other_ward)
    assert response.status_code == 302
    cast.neighbourhood.refresh_from_db()
    assert cast.neighbourhood.parent == cast.other_ward
    assert cast.neighbourhood.path.startswith(cast.other_ward.path)


def test_move_to_another_tenant_is_404_and_changes_nothing(cast: Cast) -> None:
    before = db_state()
    assert _move(cast, cast.neighbourhood, cast.other_tenant_ward).status_code == 404
    assert db_state() == before


def test_move_into_its_own_subtree_shows_the_error(cast: Cast) -> None:
    before = db_state()
    response = _move(cast, cast.district, cast.ward)
    assert response.status_code == 200
    assert _vi(TreeCycleError.default_message) in response.content.decode()
    assert db_state() == before


def test_move_bad_input_changes_nothing(cast: Cast) -> None:
    before = db_state()
    for data in ({"new_parent": "not-a-uuid"}, {"version": ""}):
        response = _move(cast, cast.neighbourhood, cast.other_ward, **data)
        assert response.status_code == 200
        assert response.context["form"].errors
    assert _move(cast, cast.neighbourhood, cast.other_ward, version=9).status_code == 200
    assert db_state() == before

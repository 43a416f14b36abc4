"""A ward official's journey through the demo, in a real browser.

``ward.q10.p1`` held a role over Phường 1 of Quận 10; since the 2025 reform
(``units/demo/reform.py``) it is over Phường Vườn Lài, its successor directly
under the city. They see that ward and its khu phố, and nothing of another
ward: Phường Minh Phụng, where the old Phường 1 of Quận 11 went.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext

from units.models import AdministrativeUnit

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - dev dependency missing
    if os.environ.get("XHHT_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

pytestmark = [
    pytest.mark.browser,
    # WhiteNoise warns that STATIC_ROOT does not exist; the live server serves
    # static files through the staticfiles finders instead.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

WARD_OFFICIAL = "ward.q10.p1"
WARD_CODE = "27190"  # Phường Vườn Lài (the code of the old Phường 2, Quận 10)
WARD_NAME = "Phường Vườn Lài"
OTHER_WARD_CODE = "27238"  # Phường Minh Phụng (the code of the old Phường 7, Quận 11)
MOJIBAKE = re.compile("[\ufffd]|Ã.|Ä.|Æ.|áº|á»")


def _unit(code: str) -> AdministrativeUnit:
    """The unit in force (codes are reused across the reform)."""
    return AdministrativeUnit.objects.get(tenant__slug="hcm", code=code, valid_to__isnull=True)


def test_ward_official_sees_own_ward_and_not_another_ward(
    new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    ward = _unit(WARD_CODE)
    neighbourhoods = list(
        AdministrativeUnit.objects.filter(parent=ward, valid_to__isnull=True)
        .order_by("path")
        .values_list("name", flat=True)
    )
    # Quận 10's khu phố continued under the new ward, numbered 1…n.
    assert len(neighbourhoods) > 30 and len(set(neighbourhoods)) == len(neighbourhoods)
    other_ward = _unit(OTHER_WARD_CODE)

    page = new_page()
    sign_in(page, WARD_OFFICIAL)
    expect(page.get_by_test_id("whoami")).to_contain_text("Phạm Văn Phường")

    # The unit browser starts from the official's ward, opened: its khu phố load
    # with the page; the ward's button hides them and shows them again.
    page.goto("/units/")
    tree = page.get_by_test_id("unit-tree")
    expect(tree.get_by_role("link", name=WARD_NAME, exact=True)).to_have_count(1)
    expect(tree).not_to_contain_text("Minh Phụng")
    expect(tree).not_to_contain_text("Quận")  # no districts, not even closed ones
    expect(tree).not_to_contain_text(OTHER_WARD_CODE)
    toggle = tree.get_by_role("button").first
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for name in neighbourhoods:
        expect(tree.get_by_role("link", name=name, exact=True)).to_be_visible()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(tree.get_by_role("link", name=neighbourhoods[0], exact=True)).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for name in neighbourhoods:
        link = tree.get_by_role("link", name=name, exact=True)
        expect(link).to_have_count(1)
        expect(link).to_be_visible()

    # The ward's page lists the same khu phố.
    tree.get_by_role("link", name=WARD_NAME, exact=True).click()
    expect(page.get_by_test_id("unit-name")).to_have_text(WARD_NAME)
    expect(page).to_have_url(re.compile(rf"/units/{ward.public_id}/$"))
    children = page.get_by_test_id("children")
    for name in neighbourhoods:
        expect(children.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.locator("body")).to_contain_text(WARD_CODE)

    # Phường Minh Phụng, by its URL: the 404 page, nothing of the unit.
    response = page.goto(f"/units/{other_ward.public_id}/")
    assert response is not None and response.status == 404
    # The application's own 404 page (in the site layout), not a bare error.
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_test_id("unit-name")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(OTHER_WARD_CODE)
    children_response = page.request.get(f"/units/{other_ward.public_id}/children/")
    assert children_response.status == 404

    # And through the API, with the same session.
    listing = page.request.get(f"/api/v1/units?code={OTHER_WARD_CODE}")
    assert listing.status == 200
    assert listing.json()["count"] == 0
    own = page.request.get(f"/api/v1/units?code={WARD_CODE}")
    assert own.json()["count"] == 1
    detail = page.request.get(f"/api/v1/units/{other_ward.public_id}")
    assert detail.status == 404


def _visible_text(page: Any) -> str:
    return str(page.locator("body").inner_text())


def test_vietnamese_ui_has_diacritics_and_english_switch_works(
    new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    with translation.override("vi"):
        heading_vi = gettext("Administrative units")
        sign_out_vi = gettext("Sign out")
    assert heading_vi != "Administrative units", "the vi catalogue translates the UI"

    page = new_page("vi-VN")
    sign_in(page, WARD_OFFICIAL)
    page.goto("/units/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading_vi)
    expect(page.get_by_test_id("whoami")).to_contain_text("Phạm Văn Phường")
    expect(page.get_by_test_id("whoami")).to_contain_text("TP. Hồ Chí Minh")
    text = _visible_text(page)
    assert unicodedata.is_normalized("NFC", text), "the page text is NFC"
    assert not MOJIBAKE.search(text), f"mojibake in: {MOJIBAKE.search(text)}"
    assert re.search("[ăâđêôơưĂÂĐÊÔƠƯ]", heading_vi + sign_out_vi + text)
    # "Sign out" may sit in the user menu: open it (the whoami button) if hidden.
    sign_out = page.get_by_role("button", name=sign_out_vi, exact=True)
    if not sign_out.is_visible():
        page.get_by_test_id("whoami").click()
    expect(sign_out).to_be_visible()

    # The language switch: English, then back to Vietnamese, on the same page.
    with page.expect_navigation():
        page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/units/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Administrative units")
    sign_out = page.get_by_role("button", name="Sign out", exact=True)
    if not sign_out.is_visible():
        page.get_by_test_id("whoami").click()
    expect(sign_out).to_be_visible()
    # Data stays Vietnamese, whatever the interface language.
    expect(page.get_by_test_id("whoami")).to_contain_text("Phạm Văn Phường")

    with page.expect_navigation():
        page.get_by_role("button", name="Tiếng Việt", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading_vi)

"""The city admin merges two wards in a real browser (issue 9, tests).

``admin.hcm`` opens the reorganisation screen from the menu, creates a plan
effective 01/07/2026, adds a merge of Phường Hòa Bình and Phường Phú Thọ — two of
the wards the demo's 2025 plan put directly under the city, which no other
journey uses — into a new ward that reuses Hòa Bình's code, reads the preview
(two units closed, one created, no conflict), applies it and finds the two wards
closed the day before and the new ward in force under the city. It runs in the
test database only (the names are the test's, not a real plan).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from units.models import AdministrativeUnit, UnitSuccession
from units.reorganisation.models import Reorganisation, ReorganisationStatus

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - dev dependency missing
    if os.environ.get("XHHT_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

ADMIN = "admin.hcm"
WARD_7, WARD_8 = "27211", "27226"  # Phường Hòa Bình and Phường Phú Thọ (since 2025)
NAME_7, NAME_8 = "Phường Hòa Bình", "Phường Phú Thọ"
NEW_NAME = "Phường Hòa Thọ (thử nghiệm)"


def test_admin_merges_two_wards_of_the_city(
    new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    ward_7 = AdministrativeUnit.objects.get(code=WARD_7, valid_to__isnull=True)
    ward_8 = AdministrativeUnit.objects.get(code=WARD_8, valid_to__isnull=True)
    city = ward_7.parent
    assert city is not None and city.code == "79" and ward_8.parent_id == city.pk
    assert (ward_7.name, ward_8.name) == (NAME_7, NAME_8)

    page = new_page()
    sign_in(page, ADMIN)

    # The menu leads to the plans; a new plan effective 01/07/2026.
    page.goto("/")
    page.locator(f'a[href="{reverse("units:reorganisation-list")}"]').first.dispatch_event("click")
    page.wait_for_url(re.compile(r"/reorganisations/$"))
    page.get_by_test_id("plan-new").click()
    page.locator('input[name="name"]').fill("Sắp xếp phường năm 2026")
    page.locator('input[name="legal_basis"]').fill("Nghị quyết thử nghiệm")
    page.locator('input[name="effective_on"]').fill("01/07/2026")
    with page.expect_navigation():
        page.get_by_test_id("plan-submit").click()
    plan = Reorganisation.objects.get(name="Sắp xếp phường năm 2026")
    assert plan.effective_on == dt.date(2026, 7, 1)
    expect(page.get_by_test_id("plan-status")).to_be_visible()

    # A merge: the search narrows the units, two wards are ticked, the new ward named.
    page.get_by_test_id("add-merge").click()
    search = page.get_by_test_id("unit-search")
    search.locator('input[name="q"]').fill("Phường")
    with page.expect_navigation():
        search.locator('button[type="submit"]').click()
    form = page.get_by_test_id("step-form")
    form.locator(f'input[name="sources"][value="{ward_7.public_id}"]').check()
    form.locator(f'input[name="sources"][value="{ward_8.public_id}"]').check()
    form.locator('input[name="code"]').fill(WARD_7)
    form.locator('input[name="name"]').fill(NEW_NAME)
    form.locator('select[name="kind"]').select_option("phuong")
    with page.expect_navigation():
        page.get_by_test_id("step-submit").click()
    steps = page.get_by_test_id("step-table").locator("tbody tr")
    expect(steps).to_have_count(1)
    expect(steps.first).to_contain_text(NEW_NAME)
    expect(steps.first).to_contain_text(f"{NAME_8} ({WARD_8})")

    # The preview: two wards closed, one created, no conflict.
    page.get_by_test_id("plan-preview-link").click()
    expect(page.get_by_test_id("conflicts")).to_have_count(0)
    step = page.get_by_test_id("preview-step")
    expect(step).to_have_count(1)
    expect(step).to_contain_text(f"{NAME_7} ({WARD_7})")
    expect(step).to_contain_text(f"{NAME_8} ({WARD_8})")
    expect(step).to_contain_text(f"{NEW_NAME} ({WARD_7})")
    assert AdministrativeUnit.objects.get(pk=ward_7.pk).valid_to is None  # nothing yet

    # Apply: the plan is applied, the old wards closed, the new one in force.
    with page.expect_navigation():
        page.get_by_test_id("apply").click()
    expect(page.get_by_test_id("plan-result")).to_be_visible()
    plan.refresh_from_db()
    assert plan.status == ReorganisationStatus.APPLIED
    for old in (ward_7, ward_8):
        old.refresh_from_db()
        assert old.valid_to == dt.date(2026, 6, 30)
    new = AdministrativeUnit.objects.get(code=WARD_7, valid_to__isnull=True)
    assert new.name == NEW_NAME and new.parent_id == city.pk
    assert new.valid_from == dt.date(2026, 7, 1)
    assert set(
        UnitSuccession.objects.filter(successor=new).values_list("predecessor_id", flat=True)
    ) == {ward_7.pk, ward_8.pk}

    # The unit pages say so: the old ward points to its successor, the new one is in force.
    page.goto(ward_8.get_absolute_url())
    expect(page.locator("body")).to_contain_text("30/06/2026")
    expect(page.locator("body")).to_contain_text(NEW_NAME)
    page.goto(new.get_absolute_url())
    expect(page.locator("h1").first).to_contain_text(NEW_NAME)

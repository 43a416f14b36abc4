"""A cascading plan in a real browser, on the demo.

``admin.hcm`` creates the city's 734/KH-UBND for 2023–2030 through the screens,
with its phases (2023–2025 sơ kết, 2026–2030 tổng kết) and a 70 % "Gia đình
học tập" target for 2025. ``reviewer.q10`` — the city's reviewer since the 2025
reform, when the districts ended — opens it from the plan list and makes the
plan of Phường Vườn Lài (a ward directly under the city) from it in one step,
sees the inherited target with the city's value beside it, tries to lower it to
60 % (refused, the message on screen, nothing saved) and raises it to 75 %
(saved). The PDF of the ward's plan reads back with "Thực hiện Kế hoạch số
734/KH-UBND".
"""

from __future__ import annotations

import datetime as dt
import io
import os
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from campaigns.models import Phase, Plan, Target
from recognition.titles import Title
from tests.browser.conftest import chromium, demo_site, new_page, sign_in  # noqa: F401

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

TITLE = (
    "Tổ chức thực hiện Phong trào thi đua “Cả nước thi đua xây dựng xã hội học tập, đẩy mạnh "
    "học tập suốt đời giai đoạn 2023 - 2030” trên địa bàn Thành phố Hồ Chí Minh"
)
WARD = "27190"  # Phường Vườn Lài (since 01/07/2025)


def _add_phase(page: Any, name: str, start: str, end: str, kind: str, due: str) -> None:
    page.get_by_test_id("add-phase").locator("summary").click()
    form = page.get_by_test_id("phase-form")
    form.locator('[name="name"]').fill(name)
    form.locator('[name="start_year"]').fill(start)
    form.locator('[name="end_year"]').fill(end)
    form.locator('[name="review_kind"]').select_option(kind)
    form.locator('[name="review_due"]').fill(due)
    form.get_by_test_id("save-phase").click()
    expect(page.get_by_test_id("phases")).to_contain_text(name)


def test_the_city_plans_and_a_ward_derives_and_tightens(
    demo_site: str,  # noqa: F811
    new_page: Callable[..., Any],  # noqa: F811
    sign_in: Callable[..., None],  # noqa: F811
) -> None:
    # --- admin.hcm: the city's plan through the screens -------------------------------
    admin = new_page()
    sign_in(admin, "admin.hcm")
    admin.goto("/campaigns/plans/")
    admin.get_by_test_id("new-plan").click()
    form = admin.get_by_test_id("plan-create-form")
    form.locator('[name="issuing_unit"]').select_option(label="Thành phố Hồ Chí Minh (79)")
    form.locator('[name="number"]').fill("734")
    form.locator('[name="issued_on"]').fill("15/02/2024")
    form.locator('[name="title"]').fill(TITLE)
    form.locator('[name="start_year"]').fill("2023")
    form.locator('[name="end_year"]').fill("2030")
    admin.get_by_test_id("create-plan").click()
    expect(admin.get_by_test_id("plan-title")).to_contain_text("734/KH-UBND")
    city = Plan.objects.get(issuing_unit__code="79", number=734)
    assert (city.start_year, city.end_year) == (2023, 2030)
    assert city.issued_on == dt.date(2024, 2, 15)

    _add_phase(admin, "Giai đoạn 2023 – 2025", "2023", "2025", "so_ket", "15/12/2025")
    _add_phase(admin, "Giai đoạn 2026 – 2030", "2026", "2030", "tong_ket", "15/12/2030")
    admin.get_by_test_id("add-target").locator("summary").click()
    target_form = admin.get_by_test_id("target-form")
    target_form.locator('[name="unit"]').select_option(label="Thành phố Hồ Chí Minh")
    target_form.locator('[name="title"]').select_option(Title.FAMILY)
    target_form.locator('[name="year"]').fill("2025")
    target_form.locator('[name="kind"]').select_option("rate")
    target_form.locator('[name="value"]').fill("70")
    target_form.get_by_test_id("add-target-submit").click()
    city_row = admin.get_by_test_id(f"target-{Title.FAMILY}-2025-79")
    expect(city_row.get_by_test_id("target-value")).to_have_text("70%")
    assert [(p.review_kind, p.review_due) for p in city.phases.order_by("start_year")] == [
        ("so_ket", dt.date(2025, 12, 15)),
        ("tong_ket", dt.date(2030, 12, 15)),
    ]

    # --- reviewer.q10: Phường Vườn Lài's plan in one step -------------------------------
    reviewer = new_page()
    sign_in(reviewer, "reviewer.q10")
    reviewer.goto("/campaigns/plans/")
    reviewer.get_by_test_id("plans").get_by_role("link", name="734/KH-UBND").click()
    derive = reviewer.get_by_test_id("derive-form")
    derive.locator('[name="issuing_unit"]').select_option(label=f"Phường Vườn Lài ({WARD})")
    reviewer.get_by_test_id("derive-plan").click()
    expect(reviewer.get_by_test_id("plan-parent")).to_contain_text("734/KH-UBND")
    district = Plan.objects.get(parent=city, issuing_unit__code=WARD)
    assert district.title.endswith("trên địa bàn Phường Vườn Lài")
    assert Phase.objects.filter(plan=district, source__plan=city).count() == 2

    row = reviewer.get_by_test_id(f"target-{Title.FAMILY}-2025-{WARD}")
    expect(row.get_by_test_id("target-inherited")).to_have_text("70%")
    expect(row.get_by_test_id("target-value")).to_have_text("70%")

    # Lower than the city: refused, the message beside the targets, nothing saved.
    row.get_by_test_id("target-input").fill("60")
    row.get_by_test_id("save-target").click()
    error = reviewer.get_by_test_id("targets-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("70%")
    target = Target.objects.get(plan=district, title=Title.FAMILY, year=2025)
    assert target.value == 70

    # Higher: saved.
    row = reviewer.get_by_test_id(f"target-{Title.FAMILY}-2025-{WARD}")
    row.get_by_test_id("target-input").fill("75")
    row.get_by_test_id("save-target").click()
    expect(
        reviewer.get_by_test_id(f"target-{Title.FAMILY}-2025-{WARD}").get_by_test_id("target-value")
    ).to_have_text("75%")
    expect(reviewer.get_by_test_id("targets-error")).to_have_count(0)
    target.refresh_from_db()
    assert target.value == 75 and target.source.value == 70

    with reviewer.expect_download() as download:
        reviewer.get_by_test_id("plan-pdf").click()
    from pypdf import PdfReader

    with open(download.value.path(), "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    text = unicodedata.normalize("NFC", " ".join(p.extract_text() or "" for p in reader.pages))
    flat = " ".join(text.split())
    assert "KẾ HOẠCH" in flat and "PHƯỜNG VƯỜN LÀI" in flat
    assert "Thực hiện Kế hoạch số 734/KH-UBND ngày 15 tháng 02 năm 2024" in flat
    assert "75%" in flat

"""The steering dashboard in a real browser, on the demo.

``viewer.hcm`` (steering viewer of the city) opens the dashboard from the
menu, sees the city's 2026 figures with the charts drawn, drills down to
Phường Vườn Lài — directly under the city since the 2025 reform — and sees the
ward's household numbers, equal to its rollup, then exports the table of its
khu phố to XLSX.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from recognition.titles import Title
from reports.models import Rollup
from reports.services import rollups_rebuild
from tests.browser.conftest import chromium, demo_site, new_page, sign_in  # noqa: F401
from units.models import AdministrativeUnit, Tenant

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

YEAR = 2026
WARD = "27190"  # Phường Vườn Lài (since 01/07/2025)


@pytest.fixture
def cycle_site(demo_site: str) -> str:  # noqa: F811
    """The demo with its live 2026 cycle, and the rollups built from it."""
    from recognition.demo.cycle import seed_cycle_demo

    seed_cycle_demo(Tenant.objects.get(slug="hcm"))
    rollups_rebuild()
    return demo_site


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def test_viewer_drills_down_to_a_ward(
    cycle_site: str,
    new_page: Callable[..., Any],  # noqa: F811
    sign_in: Callable[..., None],  # noqa: F811
) -> None:
    ward = AdministrativeUnit.objects.get(tenant__slug="hcm", code=WARD, valid_to__isnull=True)
    figures = Rollup.objects.get(unit=ward, year=YEAR, title=Title.FAMILY, scope_level="")
    assert figures.registered > 10
    assert figures.eligible_base >= figures.registered

    # The ward's yearly report, built by its job (as the daily schedule or an
    # official would), so the viewer can download it from the dashboard.
    from core.jobs import job_run
    from reports.report_models import ReportKind
    from reports.report_services import report_build_start, report_create

    report = report_create(actor=None, unit=ward, kind=ReportKind.YEARLY, year=YEAR)
    job_run(report_build_start(actor=None, report=report).pk)

    page = new_page()
    sign_in(page, "viewer.hcm")
    page.locator(f'#nav a[href="{reverse("reports:dashboard")}"]').click()
    expect(page.get_by_test_id("dashboard-unit")).to_contain_text("Hồ Chí Minh")
    page.get_by_label("Năm", exact=True).select_option(str(YEAR))
    page.get_by_role("button", name="Xem").click()
    expect(page.locator('[data-chart="children"][data-chart-ready="1"]')).to_be_visible()
    expect(page.locator('[data-chart="trend"][data-chart-ready="1"]')).to_be_visible()

    children = page.get_by_test_id("children-table")
    expect(children).not_to_contain_text("Quận 10")  # no districts in 2026
    children.get_by_role("link", name="Phường Vườn Lài", exact=True).click()
    expect(page.get_by_test_id("dashboard-unit")).to_contain_text("Phường Vườn Lài")
    expect(page.get_by_test_id("dashboard-breadcrumb")).to_contain_text("Hồ Chí Minh")

    # The ward's household numbers, equal to its rollup.
    expect(page.get_by_test_id("summary-registered")).to_have_text(_number(figures.registered))
    expect(page.get_by_test_id("summary-base")).to_have_text(_number(figures.eligible_base))
    expect(page.get_by_test_id("summary-recognised")).to_have_text(_number(figures.recognised))
    expect(page.get_by_test_id("total-base")).to_have_text(_number(figures.eligible_base))

    # Sorting the table by the eligible base puts the largest khu phố first.
    table = page.get_by_test_id("children-table")
    header = table.locator("thead th").nth(1).get_by_role("button")
    header.click()
    header.click()
    expect(table.locator("thead th").nth(1)).to_have_attribute("aria-sort", "descending")
    largest = max(
        Rollup.objects.filter(unit__parent=ward, year=YEAR, title=Title.FAMILY, scope_level=""),
        key=lambda r: r.eligible_base,
    )
    expect(table.get_by_test_id("child-base").first).to_have_text(_number(largest.eligible_base))

    # Export the table and read it back.
    with page.expect_download() as download:
        page.get_by_test_id("export-children").click()
    workbook = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    rows = [r for r in workbook.active.iter_rows(values_only=True) if r[0]]
    assert "Phường Vườn Lài" in rows[0][0]
    assert rows[-1][1] == figures.eligible_base

    # The ward's yearly report is downloaded from the dashboard and read back.
    with page.expect_download() as download:
        page.get_by_test_id("unit-reports").get_by_test_id("report-pdf").first.click()
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in pdf.pages)
    assert "BÁO CÁO" in text and "Phường Vườn Lài" in text
    assert "Khu phố 1" in text or "KP01" in text  # its child units are in the tables

"""A ward official imports a household list in a real browser (issue 8, tests).

``ward.q10.p1`` — since the 2025 reform the official of Phường Vườn Lài, where
the khu phố of the old Phường 1 (Quận 10) continue with their codes — downloads
the household template, fills it in with two mistakes, reads both errors (row,
column, message) in the preview, uploads the corrected file, confirms it and
finds the new households in the list.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from recognition.models import Household
from spreadsheets.models import ImportRun, ImportStatus

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

WARD_OFFICIAL = "ward.q10.p1"
KP01, KP02 = "27184-KP01", "27184-KP02"
PHUONG_8_KP = "27187-KP01"  # the old Phường 8's khu phố, now in Phường Diên Hồng

ROWS = [
    ["P1-KP01-0001", "Nguyễn Thị Lan", "12 Ba Tháng Hai", 4, KP01],
    ["P1-KP01-0002", "", "25 Sư Vạn Hạnh", 3, KP01],  # mistake: no head of household
    ["P1-KP02-0001", "Trần Văn Dũng", "8 Thành Thái", 5, KP02],
    ["P1-KP02-0002", "Lê Thị Thu Hà", "40 Hòa Hảo", 2, PHUONG_8_KP],  # mistake: another ward
]


def _filled(template: bytes, rows: list[list[Any]]) -> bytes:
    """The downloaded template with the rows typed into its data sheet."""
    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(page: Any, name: str, content: bytes) -> None:
    page.get_by_test_id("upload-form").locator('input[type="file"]').set_input_files(
        files=[
            {
                "name": name,
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": content,
            }
        ]
    )
    with page.expect_navigation():
        page.get_by_test_id("upload-submit").click()


def test_ward_official_imports_households_after_fixing_two_errors(
    new_page: Callable[..., Any], sign_in: Callable[..., None], tmp_path: Path
) -> None:
    page = new_page()
    sign_in(page, WARD_OFFICIAL)

    # The menu leads to the import page; the household template downloads.
    page.goto("/")
    page.locator('a[href="/data/"]').first.dispatch_event("click")
    page.wait_for_url(re.compile(r"/data/$"))
    kinds = page.get_by_test_id("import-kinds")
    with page.expect_download() as download_info:
        kinds.get_by_test_id("template-households").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    template = Path(download.path()).read_bytes()
    headers = [c.value for c in load_workbook(io.BytesIO(template)).worksheets[0][1]]
    assert headers[:2] == ["Mã hộ", "Chủ hộ"]

    # First upload: two mistakes, nothing written, both errors named by row and column.
    kinds.get_by_test_id("import-households").click()
    expect(page.get_by_test_id("upload-form")).to_be_visible()
    _upload(page, "ho-gia-dinh-p1.xlsx", _filled(template, ROWS))
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "invalid")
    errors = page.get_by_test_id("import-errors").locator("tbody tr")
    expect(errors).to_have_count(2)
    first, second = errors.nth(0).locator("td"), errors.nth(1).locator("td")
    expect(first.nth(0)).to_have_text("3")
    expect(first.nth(1)).to_have_text("Chủ hộ (B)")
    assert first.nth(2).inner_text().strip()
    expect(second.nth(0)).to_have_text("5")
    expect(second.nth(1)).to_have_text("Mã khu phố/ấp (E)")
    expect(second.nth(2)).to_contain_text(PHUONG_8_KP)
    expect(second.nth(2)).to_contain_text("Phường Vườn Lài")
    expect(page.get_by_test_id("import-confirm")).to_have_count(0)
    assert not Household.objects.filter(code__startswith="P1-").exists()

    # The corrected file: ready, confirmed, imported.
    page.get_by_test_id("import-again").click()
    fixed = [row[:] for row in ROWS]
    fixed[1][1] = "Phạm Minh Tuấn"
    fixed[3][4] = KP02
    _upload(page, "ho-gia-dinh-p1-da-sua.xlsx", _filled(template, fixed))
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "ready")
    expect(page.get_by_test_id("import-counts").locator('[data-count="new"]')).to_have_text("4")
    with page.expect_navigation():
        page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "applied")
    run = ImportRun.objects.get(file_name="ho-gia-dinh-p1-da-sua.xlsx")
    assert run.status == ImportStatus.APPLIED and run.created_by.username == WARD_OFFICIAL

    # The households list shows them.
    page.get_by_test_id("import-list-link").click()
    page.wait_for_url(re.compile(r"/households/"))
    body = page.locator("body")
    for name in ("Nguyễn Thị Lan", "Phạm Minh Tuấn", "Trần Văn Dũng", "Lê Thị Thu Hà"):
        expect(body).to_contain_text(name)
    assert (
        Household.objects.filter(
            code__startswith="P1-",
            unit__code=KP02,
            unit__valid_to__isnull=True,
            unit__parent__name="Phường Vườn Lài",
        ).count()
        == 2
    )

"""The assessment form in a real browser: the result follows the typing (htmx,
no inline script), evidence uploads in place, save-and-complete lands."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.urls import reverse

from recognition.models import Assessment, AssessmentStatus, Evidence, IndicatorScore
from tests.browser.conftest import TIMEOUT_MS, _sign_in, chromium  # noqa: F401 (fixture)
from tests.factories import PASSWORD
from tests.recognition.assessment_support import PDF, ids_by_code, start

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


@pytest.fixture
def page(chromium: Any, live_server: Any, transactional_db: None) -> Any:  # noqa: F811
    context = chromium.new_context(base_url=str(live_server.url), locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def test_live_result_evidence_upload_and_complete(page, cycle, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    a = start(cycle.cast, cycle.registration)
    ids = ids_by_code(a)
    _sign_in(page, cycle.cast.ward_official.username, PASSWORD)
    page.goto(reverse("recognition:assessment-detail", args=[a.public_id]))

    page.locator(f'input[name="score_{ids["1.1"]}"]').fill("40")
    page.locator(f'input[name="score_{ids["2.1"]}"]').fill("30")
    page.locator(f'input[name="score_{ids["2.2"]}"]').press_sequentially("10,5")
    result = page.get_by_test_id("result-total")
    expect(result).to_contain_text("80,5")
    expect(page.get_by_test_id("result-verdict")).to_contain_text("Đạt tiêu chí")
    # Computed, not saved.
    assert not IndicatorScore.objects.filter(assessment=a, self_points__isnull=False).exists()

    pdf = tmp_path / "Biên bản họp.pdf"
    pdf.write_bytes(PDF)
    row = page.locator(f"#evidence-{ids['2.1']}")
    row.locator('input[type="file"]').set_input_files(str(pdf))
    row.get_by_role("button", name="Tải lên").click()
    expect(page.locator(f"#evidence-{ids['2.1']}")).to_contain_text("Biên bản họp.pdf")
    assert Evidence.objects.filter(assessment=a).count() == 1
    # The typed scores survived the upload (no page reload).
    expect(page.locator(f'input[name="score_{ids["2.2"]}"]')).to_have_value("10,5")

    with page.expect_navigation():
        page.get_by_role("button", name="Lưu và hoàn thành").click()
    expect(page.locator(".alert-success")).to_contain_text("Đã hoàn thành")
    a.refresh_from_db()
    assert a.status == AssessmentStatus.READY
    assert str(a.self_total) == "80.50"
    assert Assessment.objects.count() == 1

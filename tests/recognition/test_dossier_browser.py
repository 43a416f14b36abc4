"""The dossier and its review in a real browser, on the demo.

``ward.q10.p1`` finishes the self-assessment of a household still being
assessed in the demo, opens the 2026 family dossier of Phường Vườn Lài (the
successor of Phường 1, Quận 10), adds every ready item and submits it to the
city (the post-reform review chain); ``reviewer.q10`` returns one item with a reason,
approves the others and finishes the review; the ward sees the reason, opens
the returned assessment, corrects a score, marks it complete and resubmits;
the reviewer sees what changed, approves and finishes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from recognition.models import Assessment, AssessmentStatus, Dossier, DossierStatus
from recognition.titles import Title
from tests.browser.conftest import chromium, demo_site, new_page, sign_in  # noqa: F401
from units.models import Tenant

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

REASON = "Thiếu ảnh chụp giấy khen học sinh giỏi năm học 2025–2026."
WARD = "27190"  # Phường Vườn Lài (since 01/07/2025)


@pytest.fixture
def cycle_site(demo_site: str) -> str:  # noqa: F811
    """The demo with its live 2026 cycle (Vườn Lài's households self-assessed)."""
    from recognition.demo.cycle import seed_cycle_demo

    seed_cycle_demo(Tenant.objects.get(slug="hcm"))
    return demo_site


def test_submit_return_fix_resubmit_approve(
    cycle_site: str,
    new_page: Callable[..., Any],  # noqa: F811
    sign_in: Callable[..., None],  # noqa: F811
) -> None:
    ward = new_page()
    sign_in(ward, "ward.q10.p1")
    # Assess: a household of Vườn Lài whose self-assessment is not finished.
    draft = Assessment.objects.filter(
        registration__proposing_unit__code=WARD,
        registration__year=2026,
        registration__title=Title.FAMILY,
        status=AssessmentStatus.DRAFT,
    ).first()
    assert draft is not None
    ward.goto(cycle_site + reverse("recognition:assessment-detail", args=[draft.public_id]))
    inputs = ward.locator('input[name^="score_"]')
    for n in range(inputs.count()):
        inputs.nth(n).fill("10")
    expect(ward.get_by_test_id("result-total")).to_contain_text("100")
    ward.get_by_role("button", name="Lưu và hoàn thành").click()
    expect(ward.locator(".alert-success")).to_contain_text("Đã hoàn thành")
    assert Assessment.objects.get(pk=draft.pk).status == AssessmentStatus.READY
    ward.get_by_role("link", name="Hồ sơ", exact=True).click()
    form = ward.get_by_test_id("open-dossier")
    form.get_by_label("Danh hiệu").select_option(Title.FAMILY)
    form.get_by_label("Năm").fill("2026")
    form.get_by_role("button", name="Mở hồ sơ").click()
    expect(ward.get_by_test_id("dossier-title")).to_contain_text("Gia đình học tập")
    ward.get_by_test_id("add-all").click()
    expect(ward.locator(".alert-success")).to_be_visible()
    ward.get_by_test_id("submit-dossier").click()
    expect(ward.locator(".alert-success")).to_contain_text("Thành phố Hồ Chí Minh")
    dossier = Dossier.objects.get(proposing_unit__code=WARD, title=Title.FAMILY, year=2026)
    assert dossier.status == DossierStatus.SUBMITTED
    items = list(dossier.items.order_by("registration__household__code"))
    assert len(items) > 10
    first = items[0]

    reviewer = new_page()
    sign_in(reviewer, "reviewer.q10")
    reviewer.get_by_role("link", name="Thẩm định", exact=True).click()
    reviewer.get_by_test_id("queue").locator("tr", has_text="Gia đình học tập").get_by_role(
        "link", name="Phường Vườn Lài", exact=True
    ).click()
    row = reviewer.get_by_test_id("items").locator("tr", has_text=str(first.registration.subject))
    row.locator("summary").click()
    row.get_by_label("Lý do").fill(REASON)
    row.get_by_role("button", name="Trả lại để bổ sung").click()
    expect(reviewer.locator(".alert-success")).to_be_visible()
    reviewer.get_by_label("Hoặc:").check()
    reviewer.get_by_test_id("bulk-submit").click()
    expect(reviewer.locator(".alert-success")).to_be_visible()
    reviewer.get_by_test_id("finish-review").click()
    expect(reviewer.locator(".alert-warning").first).to_be_visible()
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RETURNED

    ward.reload()
    expect(ward.get_by_test_id("returned")).to_contain_text(REASON)
    first = Assessment.objects.get(pk=first.pk)
    assert first.status == AssessmentStatus.RETURNED
    # Fix: the ward corrects the returned assessment in its form and completes it.
    dossier_page = ward.url
    ward.goto(cycle_site + reverse("recognition:assessment-detail", args=[first.public_id]))
    ward.locator('input[name^="score_"]').first.fill("9")
    ward.get_by_role("button", name="Lưu và hoàn thành").click()
    expect(ward.locator(".alert-success")).to_contain_text("Đã hoàn thành")
    assert Assessment.objects.get(pk=first.pk).status == AssessmentStatus.READY
    ward.goto(dossier_page)
    ward.get_by_test_id("submit-dossier").click()
    expect(ward.locator(".alert-success")).to_be_visible()

    reviewer.reload()
    expect(reviewer.get_by_test_id("changes")).to_be_visible()
    row = reviewer.get_by_test_id("items").locator("tr", has_text=str(first.registration.subject))
    row.get_by_role("button", name="Duyệt đạt").click()
    reviewer.get_by_test_id("finish-review").click()
    expect(reviewer.locator(".alert-success")).to_be_visible()
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.APPROVED
    assert not dossier.items.exclude(
        status__in=[AssessmentStatus.APPROVED, AssessmentStatus.REJECTED]
    ).exists()

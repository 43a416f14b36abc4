"""A recognition decision in a real browser, on the demo.

``reviewer.q10`` (the city's reviewer since the 2025 reform) opens *Quyết định
công nhận*, creates the 2026 "Gia đình học tập" decision of UBND phường Diên Hồng
(the post-reform recogniser of families), adds every approved household of its
reviewed dossier, watches the live preview follow the signer's name, enters the
date and signer, issues it, watches the progress bar until the decision is
issued, and downloads the PDF (read back: number, date, signer, every name). The
ward official of Phường Diên Hồng then sees a household recognised by it.
"""

from __future__ import annotations

import io
import os
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_ensure
from config.celery import app
from recognition.models import Assessment, AssessmentStatus, Decision, DecisionStatus
from recognition.titles import Title
from tests.browser.conftest import chromium, demo_site, new_page, sign_in  # noqa: F401
from tests.integration.conftest import celery_worker, redis_url  # noqa: F401
from units.demo.seed import DEMO_PASSWORD
from units.models import AdministrativeUnit, Tenant
from units.roles import Role
from units.services import role_assign

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

SIGNER = "Trần Thị Ký Thử"
WARD = "27169"  # Phường Diên Hồng (since 01/07/2025; the code of the old Phường 14)


@pytest.fixture
def cycle_site(demo_site: str) -> str:  # noqa: F811
    """The demo with its live 2026 cycle (Phường Diên Hồng reviewed, no decision)."""
    from recognition.demo.cycle import seed_cycle_demo

    seed_cycle_demo(Tenant.objects.get(slug="hcm"))
    return demo_site


@pytest.fixture
def jobs(request: pytest.FixtureRequest) -> Iterator[str]:
    """Where the issuing job runs: on a real Celery worker when ``REDIS_URL`` is
    set (CI), so the page polls a job that is really in progress; in-process
    otherwise (``make test`` on a bare machine)."""
    if not os.environ.get("REDIS_URL"):
        yield "eager"
        return
    worker = request.getfixturevalue("celery_worker")
    saved = app.conf.task_default_queue
    app.conf.task_default_queue = worker.queue
    try:
        yield "worker"
    finally:
        app.conf.task_default_queue = saved


def test_reviewer_issues_a_decision_and_the_ward_sees_it(
    jobs: str,
    cycle_site: str,
    new_page: Callable[..., Any],  # noqa: F811
    sign_in: Callable[..., None],  # noqa: F811
) -> None:
    approved = Assessment.objects.filter(
        dossier__proposing_unit__code=WARD,
        dossier__title=Title.FAMILY,
        status=AssessmentStatus.APPROVED,
    )
    expected = approved.count()
    assert expected > 10
    names = sorted(approved.values_list("registration__household__head_name", flat=True))

    reviewer = new_page()
    sign_in(reviewer, "reviewer.q10")
    reviewer.get_by_role("link", name="Quyết định công nhận", exact=True).click()
    new = reviewer.get_by_role("region", name="Quyết định mới")
    new.get_by_label("Đơn vị ban hành").select_option(label=f"Phường Diên Hồng ({WARD})")
    new.get_by_label("Danh hiệu").select_option(Title.FAMILY)
    new.get_by_label("Năm công nhận").select_option("2026")
    new.get_by_test_id("create-decision").click()
    expect(reviewer.get_by_test_id("decision-title")).to_be_visible()
    decision = Decision.objects.get(issuing_unit__code=WARD, year=2026)

    # The annex: every approved household of Phường Diên Hồng.
    add = reviewer.get_by_test_id("add-items")
    add.get_by_label("Đơn vị đề nghị").select_option(label="Phường Diên Hồng")
    add.get_by_role("button", name="Lọc").click()
    reviewer.get_by_test_id("add-all").click()
    expect(reviewer.get_by_test_id("annex-count")).to_have_text(f"{expected:,}".replace(",", "."))

    # The header: date and signer; the live preview follows what is typed.
    form = reviewer.get_by_test_id("decision-form")
    form.get_by_label("Họ tên người ký").fill(SIGNER)
    preview = reviewer.frame_locator("iframe")
    expect(preview.locator("body")).to_contain_text(SIGNER)
    today = timezone.localdate()
    form.get_by_label("Ngày ban hành").fill(today.strftime("%d/%m/%Y"))
    reviewer.get_by_test_id("save-decision").click()
    expect(reviewer.get_by_test_id("issue-ready")).to_be_visible()

    # Issue it and watch the progress bar until the page shows it issued.
    reviewer.get_by_test_id("issue-decision").click()
    expect(reviewer.get_by_test_id("job-progress").first).to_be_visible()
    expect(reviewer.get_by_test_id("decision-reference")).to_contain_text(
        "01/QĐ-UBND", timeout=60_000
    )
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.ISSUED and decision.number == 1
    assert decision.item_count == expected
    assert approved.count() == 0  # all recognised now

    with reviewer.expect_download() as download:
        reviewer.get_by_test_id("decision-pdf").click()
    content = open(download.value.path(), "rb").read()  # noqa: SIM115 - read once
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages]
    text = unicodedata.normalize("NFC", "\n".join(pages))
    flat = " ".join(text.split())
    assert "Số: 01/QĐ-UBND" in flat
    assert f"ngày {today:%d} tháng" in flat and SIGNER in flat
    for name in names:
        assert name in flat, name

    # The ward of Phường Diên Hồng sees its households recognised by the decision.
    ward_unit = AdministrativeUnit.objects.get(code=WARD, valid_to__isnull=True)
    official = user_ensure(
        tenant=ward_unit.tenant,
        username="ward.dienhong",
        email="ward.dienhong@demo.xhht.vn",
        full_name="Đỗ Thị Diên Hồng",
        password=DEMO_PASSWORD,
    )
    role_assign(actor=None, user=official, unit=ward_unit, role=Role.WARD_OFFICIAL)
    household = Assessment.objects.filter(
        dossier__proposing_unit=ward_unit, status=AssessmentStatus.RECOGNISED
    ).first()
    assert household is not None
    ward = new_page()
    sign_in(ward, "ward.dienhong")
    ward.goto(cycle_site + reverse("recognition:assessment-detail", args=[household.public_id]))
    expect(ward.get_by_test_id("recognised-by")).to_contain_text("01/QĐ-UBND")

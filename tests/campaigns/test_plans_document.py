"""The plan PDF in the state format, read back with pypdf."""

from __future__ import annotations

import io
import os
import time
import unicodedata

import pytest

from campaigns.documents import pdf_file_name, plan_html, render_plan_pdf
from campaigns.services import plans as services
from tests.campaigns.test_plans_services import city_plan
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _text(content: bytes) -> str:
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages]
    return " ".join(unicodedata.normalize("NFC", "\n".join(pages)).split())


def test_the_plan_pdf_reads_back(cast: Cast) -> None:
    plan = city_plan(cast)
    plan = services.plan_update(
        actor=cast.admin,
        plan=plan,
        expected_version=plan.version,
        data={
            "legal_bases": "Căn cứ Luật Thi đua, khen thưởng",
            "signer_title": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
            "signer_name": "Trần Thị Diệu Thúy",
            "recipients": "Bộ Giáo dục và Đào tạo\nLưu: VT",
        },
    )
    render_plan_pdf(plan)  # fonts loaded once per process
    started = time.perf_counter()
    content = render_plan_pdf(plan)
    elapsed = time.perf_counter() - started
    assert content.startswith(b"%PDF")
    assert elapsed < 1.5, f"a plan renders in {elapsed:.2f} s"
    if os.environ.get("XHHT_KEEP_PDF"):
        with open(os.environ["XHHT_KEEP_PDF"], "wb") as out:
            out.write(content)
    text = _text(content)
    assert "KẾ HOẠCH" in text
    assert "Số: 734/KH-UBND" in text
    assert "ngày 15 tháng 02 năm 2024" in text
    assert "Cả nước thi đua xây dựng xã hội học tập" in text
    assert "I. MỤC ĐÍCH, YÊU CẦU" in text and "II. NỘI DUNG" in text
    assert "III. TIẾN ĐỘ THỰC HIỆN" in text and "IV. CHỈ TIÊU" in text
    assert "V. THỜI HẠN BÁO CÁO" in text and "01/11/2025" in text
    assert "Gia đình học tập" in text and "70%" in text
    assert "Căn cứ Luật Thi đua, khen thưởng." in text
    assert "TM. ỦY BAN NHÂN DÂN" in text and "PHÓ CHỦ TỊCH" in text
    assert "Trần Thị Diệu Thúy" in text and "Nơi nhận:" in text
    assert pdf_file_name(plan) == "KH-734-2024.pdf"


def test_a_derived_plan_starts_with_thuc_hien(cast: Cast) -> None:
    child = services.plan_derive(
        actor=cast.reviewer, parent=city_plan(cast), issuing_unit=cast.district
    )
    html = plan_html(child)
    assert "Thực hiện Kế hoạch số 734/KH-UBND ngày 15 tháng 02 năm 2024" in html
    text = _text(render_plan_pdf(child))
    assert "ỦY BAN NHÂN DÂN" in text and "QUẬN MỘT" in text
    # No number yet: the number is left blank for the pen.
    assert "Số:" in text and "/KH-UBND" in text


def test_headings_the_user_numbered_are_continued_by_the_tables() -> None:
    """Sections written "I. …", "II. …", "III. …" are followed by "IV. TIẾN ĐỘ …"."""
    from campaigns.documents import _written_number

    assert _written_number("III. TỔ CHỨC THỰC HIỆN") == 3
    assert _written_number("IX. KHEN THƯỞNG") == 9
    assert _written_number("Mục đích") is None
    assert _written_number("1. Mục đích") == 0

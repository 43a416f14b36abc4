"""The decision and certificate renderers (recognition/documents/): every PDF is
read back with pypdf — the number, the date, the signer, every annex name with
its diacritics, the annex row count, the page count and the page numbers."""

from __future__ import annotations

import dataclasses
import datetime
import io
import re
import unicodedata

import pytest
from django.conf import settings
from pypdf import PdfReader

from recognition.documents.annex import COLUMNS, TEXT_WIDTH_MM
from recognition.documents.certificates import render_certificates_pdf
from recognition.documents.decision_pdf import (
    render_body,
    render_decision_html,
    render_decision_pdf,
)
from recognition.documents.fonts import FACES
from recognition.documents.samples import FIXED_NAMES, sample_certificates, sample_decision
from recognition.documents.snapshot import (
    AnnexRow,
    agency_in_sentence,
    agency_lines,
    article_parts,
    decision_doc_from,
    legal_basis_lines,
    recipient_lines,
    reference,
    signature_lines,
    vn_long_date,
)

MM = 72 / 25.4
ROWS = 120


def _reader(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def _flat(text: str) -> str:
    """Whitespace collapsed (a wrapped name spans two lines), no-break spaces too."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


def _top_margin_text(page) -> str:
    """Text drawn in the top margin (above the 20 mm line): the page number."""
    height = float(page.mediabox.height)
    hits: list[str] = []

    def visit(text, cm, tm, _font, _size) -> None:
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip() and y > height - 20 * MM:
            hits.append(text.strip())

    page.extract_text(visitor_text=visit)
    return " ".join(hits)


@pytest.fixture(scope="module")
def decision_pdf() -> tuple[bytes, int, int]:
    doc = sample_decision(ROWS)
    rendered = render_decision_pdf(doc)
    return rendered.content, rendered.page_count, render_body(doc).page_count


def test_decision_page_one_has_the_header_and_signature(decision_pdf) -> None:
    content, _pages, _body = decision_pdf
    first = _flat(_reader(content).pages[0].extract_text())
    assert "Số: 05/QĐ-UBND" in first
    assert "Quận 10, ngày 05 tháng 01 năm 2026" in first
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first
    assert "Độc lập - Tự do - Hạnh phúc" in first
    assert "QUYẾT ĐỊNH" in first and "QUYẾT ĐỊNH:" in first
    assert "KT. CHỦ TỊCH" in first and "PHÓ CHỦ TỊCH" in first
    assert "Nguyễn Văn Mẫu" in first
    assert "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 02 năm 2025;" in first
    assert "Xét đề nghị của Trưởng Phòng Giáo dục và Đào tạo Quận 10." in first
    assert "Nơi nhận:" in first and "- Lưu: VT, PGDĐT." in first
    assert "chịu trách nhiệm thi hành Quyết định này./." in first
    assert "DỰ THẢO" not in first


def test_annex_has_every_name_and_row_and_its_header_on_every_page(decision_pdf) -> None:
    content, pages, body_pages = decision_pdf
    reader = _reader(content)
    assert len(reader.pages) == pages
    assert body_pages == 1 and pages > 3  # the body, then an annex of several pages
    annex_pages = [page.extract_text() for page in reader.pages[body_pages:]]
    annex = _flat(" ".join(annex_pages))
    assert "DANH SÁCH HỘ GIA ĐÌNH ĐẠT DANH HIỆU “GIA ĐÌNH HỌC TẬP” NĂM 2025" in annex
    assert (
        "(Kèm theo Quyết định số 05/QĐ-UBND ngày 05 tháng 01 năm 2026 "
        "của Ủy ban nhân dân Quận 10)" in annex
    )
    for name in {row.name for row in sample_decision(ROWS).rows}:
        assert name in annex, name
    for name in FIXED_NAMES:
        assert unicodedata.is_normalized("NFC", name) and name in annex
    # A long code breaks after a hyphen: join it back before counting.
    codes = re.findall(r"HGD-27199-\d{5}", re.sub(r"-\s+", "-", " ".join(annex_pages)))
    assert len(codes) == ROWS
    assert len(set(codes)) == ROWS
    for text in annex_pages:
        assert "Họ và tên chủ hộ" in text and "Kết quả" in text  # header row repeated


def test_page_numbers_from_page_two_in_the_top_margin(decision_pdf) -> None:
    content, pages, _body = decision_pdf
    reader = _reader(content)
    assert _top_margin_text(reader.pages[0]) == ""
    for number in range(2, pages + 1):
        assert _top_margin_text(reader.pages[number - 1]) == str(number)


def test_a_long_body_numbers_its_second_page_and_the_annex_follows() -> None:
    base = sample_decision(30)
    doc = dataclasses.replace(base, legal_bases=base.legal_bases * 4, articles=base.articles * 2)
    rendered = render_decision_pdf(doc)
    body_pages = render_body(doc).page_count
    assert body_pages == 2
    reader = _reader(rendered.content)
    assert [_top_margin_text(p) for p in reader.pages] == [""] + [
        str(n) for n in range(2, rendered.page_count + 1)
    ]
    assert "Nguyễn Văn Mẫu" in reader.pages[1].extract_text()


def test_a_decision_without_annex_is_one_page() -> None:
    doc = dataclasses.replace(
        sample_decision(0),
        summary="Về việc thu hồi Quyết định số 05/QĐ-UBND ngày 05 tháng 01 năm 2026",
        articles=["Điều 1. Thu hồi Quyết định số 05/QĐ-UBND.", "Điều 2. Hiệu lực từ ngày ký."],
        annex_title="",
        rows=[],
    )
    progress: list[int] = []
    rendered = render_decision_pdf(doc, progress=progress.append)
    assert rendered.page_count == 1
    reader = _reader(rendered.content)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "DANH SÁCH" not in text and "Kèm theo" not in text
    assert progress[-1] == 100 and len(progress) <= 5


def test_progress_is_reported_a_handful_of_times() -> None:
    progress: list[int] = []
    render_decision_pdf(sample_decision(ROWS), progress=progress.append)
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert 3 <= len(progress) <= 15


def test_nfd_input_comes_out_nfc_and_markup_is_escaped() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    assert nfd != "Nguyễn Thị Ánh Tuyết"
    row = AnnexRow(
        code="A&B-1", name=nfd, address="Số 1 <b>đường</b> & hẻm", unit_name="Ấp 1", result="Đạt"
    )
    doc = dataclasses.replace(
        sample_decision(0),
        summary=unicodedata.normalize("NFD", "Về việc công nhận “Gia đình học tập” & <khác>"),
        signer_name=unicodedata.normalize("NFD", "Đặng Văn Ưng"),
        rows=[row],
    )
    text = _flat(
        " ".join(p.extract_text() for p in _reader(render_decision_pdf(doc).content).pages)
    )
    assert "Nguyễn Thị Ánh Tuyết" in text
    assert "Đặng Văn Ưng" in text
    assert "Về việc công nhận “Gia đình học tập” & <khác>" in text
    assert "Số 1 <b>đường</b> & hẻm" in text and "A&B-1" in text
    html = render_decision_html(doc)
    assert "Nguyễn Thị Ánh Tuyết" in html
    assert "&lt;b&gt;đường&lt;/b&gt; &amp; hẻm" in html
    assert "<b>đường" not in html


def test_a_draft_has_a_discreet_mark_and_a_blank_number() -> None:
    doc = dataclasses.replace(sample_decision(5, draft=True), issued_on=None)
    reader = _reader(render_decision_pdf(doc).content)
    first = reader.pages[0].extract_text()
    assert "DỰ THẢO" in first
    assert re.search(r"Số:\s+/QĐ-UBND", first)
    assert "05/QĐ-UBND" not in first
    assert "Quận 10, ngày" in _flat(first)


def test_html_preview_shows_the_body_and_the_first_rows() -> None:
    doc = sample_decision(45)
    html = render_decision_html(doc, preview_rows=30)
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "/static/css/decision-document.css" in html
    # The fonts come from a style sheet (no <style> element, for the CSP) that
    # names every face the PDFs embed, each file present.
    assert "/static/css/document-fonts.css" in html
    fonts_css = (settings.BASE_DIR / "static" / "css" / "document-fonts.css").read_text()
    for stem, _name, weight, style in FACES:
        assert f"liberation-serif/{stem}.ttf" in fonts_css
        assert (
            settings.BASE_DIR / "static" / "fonts" / "liberation-serif" / f"{stem}.ttf"
        ).exists()
        face = next(line for line in fonts_css.splitlines() if f"{stem}.ttf" in line)
        assert f"font-weight: {weight}" in face and f"font-style: {style}" in face
    assert "file://" not in html
    assert "Số: 05/QĐ-UBND" in html
    assert "Nguyễn Văn Mẫu" in html
    annex = html.split('class="annex-table"', 1)[1]
    assert annex.count("<tr>") == 1 + 30  # the header row and 30 rows
    assert "… và 15 dòng nữa" in html
    assert "Kèm theo Quyết định số 05/QĐ-UBND" in html


def test_certificates_one_page_each_with_name_link_and_qr() -> None:
    certs = sample_certificates(3)
    progress: list[int] = []
    rendered = render_certificates_pdf(
        certs, verify_base_url="https://xhht.example.gov.vn/", progress=progress.append
    )
    reader = _reader(rendered.content)
    assert rendered.page_count == 3 and len(reader.pages) == 3
    assert progress[-1] == 100
    for cert, page in zip(certs, reader.pages, strict=True):
        text = page.extract_text()
        assert cert.subject_name in _flat(text)
        assert f"https://xhht.example.gov.vn/verify/{cert.token}" in text
        assert "GIẤY CÔNG NHẬN" in text
        assert "Đạt danh hiệu “Gia đình học tập” năm 2025" in text
        assert "Theo Quyết định số 05/QĐ-UBND ngày 05 tháng 01 năm 2026" in _flat(text)
        width, height = page.mediabox.width, page.mediabox.height
        assert width > height  # landscape
        # The QR code is drawn as filled rectangles (one per run of dark modules).
        assert page.get_contents().get_data().count(b" re") > 100


def test_vn_long_date_leading_zeros() -> None:
    assert vn_long_date(datetime.date(2026, 1, 5)) == "ngày 05 tháng 01 năm 2026"
    assert vn_long_date(datetime.date(2024, 4, 2)) == "ngày 02 tháng 4 năm 2024"
    assert vn_long_date(datetime.date(2025, 2, 28)) == "ngày 28 tháng 02 năm 2025"
    assert vn_long_date(datetime.date(2025, 12, 10)) == "ngày 10 tháng 12 năm 2025"


def test_reference_leading_zero_and_blank_number() -> None:
    assert reference(5, "QĐ-UBND") == "05/QĐ-UBND"
    assert reference(12, "QĐ-UBND") == "12/QĐ-UBND"
    assert reference(1014, "QĐ-UBND") == "1014/QĐ-UBND"
    assert reference(None, "QĐ-UBND").strip() == "/QĐ-UBND"
    assert reference(None, "QĐ-UBND").startswith("\u00a0")


def test_text_rules_of_the_state_format() -> None:
    assert legal_basis_lines(["Căn cứ A;", " Căn cứ B.", "", "Xét đề nghị của C;"]) == [
        "Căn cứ A;",
        "Căn cứ B;",
        "Xét đề nghị của C.",
    ]
    assert recipient_lines(["Như Điều 3", "- Sở GD&ĐT;", "Lưu: VT, PGDĐT"]) == [
        "- Như Điều 3;",
        "- Sở GD&ĐT;",
        "- Lưu: VT, PGDĐT.",
    ]
    assert article_parts(["Điều 1. Công nhận.", "Điều 2. Thi hành"]) == [
        ("Điều 1.", "Công nhận."),
        ("Điều 2.", "Thi hành./."),
    ]
    assert article_parts(["Điều 1. Xong./."]) == [("Điều 1.", "Xong./.")]
    assert signature_lines("TM.", "Ủy ban nhân dân", "Chủ tịch") == [
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
    ]
    assert signature_lines("KT.", "CHỦ TỊCH", "PHÓ CHỦ TỊCH") == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    assert signature_lines("TM.", "ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH", "PHÓ CHỦ TỊCH") == [
        "TM. ỦY BAN NHÂN DÂN",
        "KT. CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
    ]
    assert signature_lines("", "", "TRƯỞNG PHÒNG") == ["TRƯỞNG PHÒNG"]
    assert signature_lines("TL.", "CHỦ TỊCH", "CHÁNH VĂN PHÒNG") == [
        "TL. CHỦ TỊCH",
        "CHÁNH VĂN PHÒNG",
    ]
    assert agency_lines("Ủy ban nhân dân Quận 10") == ["ỦY BAN NHÂN DÂN", "QUẬN\u00a010"]
    assert agency_lines("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO") == ["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"]
    assert agency_in_sentence("ỦY BAN NHÂN DÂN QUẬN 10") == "Ủy ban nhân dân Quận 10"
    assert agency_in_sentence("ỦY BAN NHÂN DÂN TỈNH ĐỒNG NAI") == "Ủy ban nhân dân tỉnh Đồng Nai"
    assert (
        agency_in_sentence("CHỦ TỊCH ỦY BAN NHÂN DÂN PHƯỜNG BẾN NGHÉ")
        == "Chủ tịch Ủy ban nhân dân phường Bến Nghé"
    )


def test_every_annex_table_spans_the_text_width() -> None:
    for kind, cols in COLUMNS.items():
        assert sum(c.width_mm for c in cols) == pytest.approx(TEXT_WIDTH_MM), kind
        assert cols[0].header == "STT"


@pytest.mark.django_db
def test_decision_doc_from_a_decision_reads_its_annex_in_one_query(
    cycle, django_assert_num_queries
) -> None:
    from recognition.models import Decision, DecisionItem
    from recognition.titles import Title
    from tests.recognition.dossier_factories import make_assessment

    cast = cycle.cast
    decision = Decision.objects.create(
        tenant=cast.tenant,
        issuing_unit=cast.district,
        title=Title.FAMILY,
        year=2025,
        agency="ỦY BAN NHÂN DÂN QUẬN MỘT",
        symbol="QĐ-UBND",
        place_name="Quận Một",
        issued_on=datetime.date(2026, 1, 5),
        summary="Về việc công nhận {số lượng} hộ “Gia đình học tập” năm 2025",
        authority="ỦY BAN NHÂN DÂN QUẬN MỘT",
        legal_bases="Căn cứ Luật Tổ chức chính quyền địa phương\n\nXét đề nghị của Phường",
        articles=["Điều 1. Công nhận {số lượng} hộ gia đình.", "Điều 2. Thi hành."],
        signing_form="TM.",
        signer_collective="ỦY BAN NHÂN DÂN",
        signer_title="CHỦ TỊCH",
        signer_name="Lê Văn Ký",
        recipients="Như Điều 2\nLưu: VT",
        annex_title="DANH SÁCH {số lượng} HỘ GIA ĐÌNH",
    )
    first = make_assessment(cycle.registration, cycle.points_set)
    second = make_assessment(cycle.other_registration, cycle.points_set)
    DecisionItem.objects.bulk_create(
        [
            DecisionItem(
                decision=decision,
                assessment=second,
                position=2,
                subject_kind="household",
                subject_code="HH-2",
                subject_name="Đặng Văn Ưng",
                address="2 Đường Thử",
                unit_name="Khu phố 1",
                result="Đạt 90 điểm",
            ),
            DecisionItem(
                decision=decision,
                assessment=first,
                position=1,
                subject_kind="household",
                subject_code="HH-1",
                subject_name=unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết"),
                address="1 Đường Thử",
                unit_name="Khu phố 1",
                result="Đạt 95 điểm",
            ),
        ]
    )
    with django_assert_num_queries(1):
        doc = decision_doc_from(decision)
    assert doc.draft is True and doc.number is None
    assert doc.annex_kind == "household"
    assert [r.name for r in doc.rows] == ["Nguyễn Thị Ánh Tuyết", "Đặng Văn Ưng"]
    assert doc.summary == "Về việc công nhận 2 hộ “Gia đình học tập” năm 2025"
    assert doc.articles[0] == "Điều 1. Công nhận 2 hộ gia đình."
    assert doc.annex_title == "DANH SÁCH 2 HỘ GIA ĐÌNH"
    assert doc.legal_bases == [
        "Căn cứ Luật Tổ chức chính quyền địa phương",
        "Xét đề nghị của Phường",
    ]
    assert doc.recipients == ["Như Điều 2", "Lưu: VT"]

    issuing = decision_doc_from(decision, number=7, draft=False)
    assert issuing.number == 7 and issuing.draft is False
    rendered = render_decision_pdf(issuing)
    text = _flat(" ".join(p.extract_text() for p in _reader(rendered.content).pages))
    assert "Số: 07/QĐ-UBND" in text
    assert "Lê Văn Ký" in text and "TM. ỦY BAN NHÂN DÂN" in text
    assert "Nguyễn Thị Ánh Tuyết" in text and "Đặng Văn Ưng" in text
    assert rendered.page_count == 2

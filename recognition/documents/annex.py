"""The annex of a decision ("DANH SÁCH … Kèm theo Quyết định số …"), drawn by
ReportLab.

Why not WeasyPrint like the body: its table layout made a plain 5,000-row
table take ~23 s here (≈ 215 rows/s); a platypus ``LongTable`` with Paragraph
cells lays out the same rows in ~3 s. The annex uses the same font, sizes and
margins as the body (RULES.md §6.2) and numbers its pages after the body's.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from recognition.documents import fonts
from recognition.documents.snapshot import AnnexRow, DecisionDoc, annex_note

MM = 72 / 25.4
PAGE_WIDTH = 210 * MM
PAGE_HEIGHT = 297 * MM
MARGIN_TOP = 20 * MM
MARGIN_BOTTOM = 20 * MM
MARGIN_LEFT = 30 * MM
MARGIN_RIGHT = 15 * MM
TEXT_WIDTH_MM = 165
#: The page number is centred in the top margin, 13 pt (like WeasyPrint's
#: ``@top-center`` box, which centres its line vertically in the 20 mm margin).
PAGE_NUMBER_SIZE = 13
PAGE_NUMBER_BASELINE = PAGE_HEIGHT - MARGIN_TOP / 2 - 0.33 * PAGE_NUMBER_SIZE
#: Body text 14 pt; the table 12 pt (Phụ lục I allows a smaller size in tables).
HEADING_SIZE = 14
TABLE_SIZE = 12
LEADING = 1.15
CELL_PADDING = 2
CELL_PADDING_TOP = 2
CELL_PADDING_BOTTOM = 3
#: Points left free at the foot of each page in case of rounding.
SAFETY = 2


@dataclass(frozen=True)
class Column:
    header: str
    width_mm: float
    value: Callable[[int, AnnexRow], str]
    centred: bool = False


def _stt(i: int, _row: AnnexRow) -> str:
    return str(i)


STT = Column("STT", 10, _stt, centred=True)  # fits "5000" at 12 pt
RESULT = Column("Kết quả", 24, lambda _i, r: r.result, centred=True)  # "Đạt 92,5 điểm"

COLUMNS: dict[str, tuple[Column, ...]] = {
    "household": (
        STT,
        Column("Mã hộ", 35, lambda _i, r: r.code),  # "27199-KP01-H001" on one line
        Column("Họ và tên chủ hộ", 40, lambda _i, r: r.name),
        Column("Địa chỉ", 34, lambda _i, r: r.address),
        Column("Khu phố/Ấp", 22, lambda _i, r: r.unit_name),
        RESULT,
    ),
    "citizen": (
        STT,
        Column("Họ và tên", 44, lambda _i, r: r.name),
        Column("Năm sinh", 18, lambda _i, r: r.code, centred=True),
        Column("Địa chỉ", 40, lambda _i, r: r.address),
        Column("Khu phố/Ấp", 29, lambda _i, r: r.unit_name),
        RESULT,
    ),
    "clan": (
        STT,
        Column("Tên dòng họ", 50, lambda _i, r: r.name),
        Column("Người đại diện", 45, lambda _i, r: r.address),
        Column("Khu phố/Ấp", 36, lambda _i, r: r.unit_name),
        RESULT,
    ),
    "organisation": (
        STT,
        Column("Tên cơ quan, đơn vị, tổ chức", 56, lambda _i, r: r.name),
        Column("Địa chỉ", 48, lambda _i, r: r.address),
        Column("Địa bàn", 27, lambda _i, r: r.unit_name),
        RESULT,
    ),
    "unit": (
        STT,
        Column("Mã đơn vị", 25, lambda _i, r: r.code, centred=True),
        Column("Tên đơn vị", 97, lambda _i, r: r.name),
        Column("Kết quả", 33, lambda _i, r: r.result, centred=True),
    ),
}
#: Award decisions (khen thưởng, campaigns): one row per nominee.
COLUMNS["nomination"] = (
    STT,
    Column("Tên tập thể, cá nhân", 50, lambda _i, r: r.name),
    Column("Chức vụ, đơn vị công tác", 45, lambda _i, r: r.address),
    Column("Đơn vị đề nghị", 25, lambda _i, r: r.unit_name),
    Column("Hình thức khen thưởng", 35, lambda _i, r: r.result),
)
COLUMNS[""] = (
    STT,
    Column("Mã", 22, lambda _i, r: r.code),
    Column("Tên", 45, lambda _i, r: r.name),
    Column("Địa chỉ", 38, lambda _i, r: r.address),
    Column("Đơn vị", 26, lambda _i, r: r.unit_name),
    RESULT,
)

assert all(  # noqa: S101 — a module invariant: every table spans the text width
    abs(sum(c.width_mm for c in cols) - TEXT_WIDTH_MM) < 0.01 for cols in COLUMNS.values()
)


def columns_for(kind: str) -> tuple[Column, ...]:
    return COLUMNS.get(kind, COLUMNS[""])


def annex_cells(doc: DecisionDoc, limit: int | None = None) -> list[list[tuple[str, str]]]:
    """(text, css class) cells of the first ``limit`` rows (the HTML preview)."""
    cols = columns_for(doc.annex_kind)
    rows = doc.rows if limit is None else doc.rows[:limit]
    return [
        [(c.value(i, row), "c-center" if c.centred else "") for c in cols]
        for i, row in enumerate(rows, start=1)
    ]


def _page_decorator(first_number: int, draft: bool) -> Callable[..., None]:
    def decorate(canvas: Any, doc_template: Any) -> None:
        page = canvas.getPageNumber()
        canvas.saveState()
        canvas.setFont(fonts.REGULAR, PAGE_NUMBER_SIZE)
        canvas.drawCentredString(
            MARGIN_LEFT + (PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / 2,
            PAGE_NUMBER_BASELINE,
            str(first_number + page - 1),
        )
        if draft:
            canvas.setFont(fonts.REGULAR, 10)
            width = canvas.stringWidth("DỰ THẢO", fonts.REGULAR, 10)
            top = PAGE_HEIGHT - 7 * MM
            canvas.setLineWidth(0.75)
            canvas.rect(MARGIN_LEFT, top - 14, width + 8.5, 14, stroke=1, fill=0)
            canvas.drawString(MARGIN_LEFT + 4, top - 10.5, "DỰ THẢO")
        canvas.restoreState()

    return decorate


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (words first; a word
    too long for the column is broken between characters)."""
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if not text:
        return [""]
    if "\n" not in text and stringWidth(text, font, size) <= width:
        return [text]  # the common case: one line
    lines: list[str] = []
    for line in simpleSplit(text, font, size, width):
        while stringWidth(line, font, size) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and stringWidth(line[:cut], font, size) > width:
                cut -= 1
            # Prefer a break after a hyphen or slash ("HGD-27199-" / "00001").
            soft = max(line.rfind("-", 0, cut), line.rfind("/", 0, cut))
            if soft > 0:
                cut = soft + 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines or [""]


def _heading(doc: DecisionDoc) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Spacer
    from reportlab.platypus.flowables import HRFlowable

    title_style = ParagraphStyle(
        "annex-title",
        fontName=fonts.BOLD,
        fontSize=HEADING_SIZE,
        leading=HEADING_SIZE * 1.25,
        alignment=TA_CENTER,
    )
    note_style = ParagraphStyle("annex-note", parent=title_style, fontName=fonts.ITALIC)
    story: list[Any] = []
    if doc.annex_title:
        story.append(Paragraph(escape(doc.annex_title.upper()), title_style))
    story.append(Paragraph(escape(annex_note(doc)), note_style))
    story.append(HRFlowable(width="30%", thickness=0.75, color=colors.black, spaceBefore=3))
    story.append(Spacer(1, 9))
    return story


def render_annex_pdf(
    doc: DecisionDoc,
    *,
    first_page_number: int,
    rows: Sequence[AnnexRow] | None = None,
    start_index: int = 1,
    with_heading: bool = True,
    on_page: Callable[[int], None] | None = None,
) -> tuple[bytes, int]:
    """The annex pages as a PDF (bytes, page count), numbered from ``first_page_number``.

    The heading ("DANH SÁCH …", "(Kèm theo Quyết định số …)") on the first
    page, then the bordered table with its header row on every page.
    ``rows``/``start_index``/``with_heading`` render a slice of the table (STT
    continuing from ``start_index``). ``on_page(n)`` is called as each page is
    finished (for progress reports).

    The rows are measured and packed into pages here, one small ``Table`` per
    page: ReportLab's ``LongTable`` re-creates and re-measures the rest of the
    table at every page break, which made a 5,000-row annex quadratic (~8 s);
    packing it ourselves is linear (~2 s). Each cell is plain text wrapped
    with the font's metrics, so a row's height is known exactly.
    """
    from reportlab.lib import colors
    from reportlab.platypus import (
        BaseDocTemplate,
        Frame,
        PageBreak,
        PageTemplate,
        Table,
        TableStyle,
    )

    fonts.register_reportlab_fonts()
    rows = doc.rows if rows is None else rows
    cols = columns_for(doc.annex_kind)
    widths = [c.width_mm * MM for c in cols]
    room = [w - 2 * CELL_PADDING - 0.25 for w in widths]
    leading = TABLE_SIZE * LEADING
    pad_v = CELL_PADDING_TOP + CELL_PADDING_BOTTOM

    header = [
        "\n".join(wrap_text(c.header, fonts.BOLD, TABLE_SIZE, w))
        for c, w in zip(cols, room, strict=True)
    ]
    header_height = max(h.count("\n") + 1 for h in header) * leading + pad_v

    frame_width = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    frame_height = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    story: list[Any] = _heading(doc) if with_heading else []
    used = 0.0
    for flowable in story:
        _w, h = flowable.wrap(frame_width, frame_height)
        used += h + flowable.getSpaceBefore() + flowable.getSpaceAfter()

    style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), fonts.REGULAR, TABLE_SIZE, leading),
            ("FONT", (0, 0), (-1, 0), fonts.BOLD, TABLE_SIZE, leading),
            ("GRID", (0, 0), (-1, -1), 0.75, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
            ("ALIGN", (0, 0), (-1, 0), "CENTER"),
            *[("ALIGN", (n, 1), (n, -1), "CENTER") for n, c in enumerate(cols) if c.centred],
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("TOPPADDING", (0, 0), (-1, -1), CELL_PADDING_TOP),
            ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PADDING_BOTTOM),
        ]
    )

    def table(page_rows: list[list[str]]) -> Any:
        # repeatRows=1: should a page still overflow, ReportLab splits it and
        # repeats the header row.
        return Table([header, *page_rows], colWidths=widths, repeatRows=1, style=style)

    available = frame_height - used - header_height - SAFETY
    page_rows: list[list[str]] = []
    height = 0.0
    for i, row in enumerate(rows, start=start_index):
        cells = [
            wrap_text(c.value(i, row), fonts.REGULAR, TABLE_SIZE, w)
            for c, w in zip(cols, room, strict=True)
        ]
        row_height = max(len(lines) for lines in cells) * leading + pad_v
        if page_rows and height + row_height > available:
            story.extend([table(page_rows), PageBreak()])
            page_rows, height = [], 0.0
            available = frame_height - header_height - SAFETY
        page_rows.append(["\n".join(lines) for lines in cells])
        height += row_height
    if page_rows or not rows:
        story.append(table(page_rows))

    buffer = io.BytesIO()
    template = BaseDocTemplate(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=doc.annex_title,
        author=doc.agency,
        invariant=True,
    )
    frame = Frame(
        MARGIN_LEFT,
        MARGIN_BOTTOM,
        frame_width,
        frame_height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="annex",
    )
    template.addPageTemplates(
        [PageTemplate("annex", [frame], onPage=_page_decorator(first_page_number, doc.draft))]
    )
    if on_page is not None:
        callback = on_page

        def report(kind: str, value: int) -> None:
            if kind == "PAGE":
                callback(value)

        template.setProgressCallBack(report)
    template.build(story)
    return buffer.getvalue(), template.page

"""A report as files: the PDF in the state format and the XLSX of its tables.

The PDF follows Nghị định 30/2020/NĐ-CP like the plans and decisions
(campaigns/documents.py): agency block and national title, "Số: …/BC-UBND",
place and date, "BÁO CÁO" and the heading, the narrative sections numbered
I., II., … and then one statistical table per title (every child unit, a
totals row), the signature and nơi nhận. WeasyPrint with the bundled fonts,
stylesheet and process-wide lock of the decisions.

Under the heading both say which units the figures are shown under
(``Report.view``: as they were then, or mapped onto today's units on the
build's date; :mod:`reports.report_mapped`).

The XLSX has a summary sheet and one sheet per title: every child unit, the
totals row, counts stored as numbers (thousands format) and rates as numbers.
Both render from the ``figures`` dict of :func:`reports.report_services.report_figures`.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from campaigns.documents import roman
from recognition.documents import fonts
from recognition.documents.snapshot import (
    agency_lines,
    format_count,
    nfc,
    place_date_line,
    recipient_lines,
    signature_lines,
)
from reports.report_mapped import view_line
from reports.report_models import Report
from reports.report_services import NO_DATA, format_rate, report_heading

TEMPLATE = "reports/report_document.html"
HEADERS = (
    "TT",
    "Đơn vị",
    "Đối tượng",
    "Đăng ký",
    "Đã đánh giá",
    "Đã duyệt",
    "Được công nhận",
    "Tỷ lệ (%)",
    "Chỉ tiêu",
    "Kết quả",
)
COUNT_FIELDS = ("eligible", "registered", "assessed", "approved", "recognised")


def _verdict(met: bool | None) -> str:
    return "" if met is None else ("Đạt" if met else "Chưa đạt")


def _agency(report: Report) -> str:
    return f"ỦY BAN NHÂN DÂN\n{nfc(report.unit.name).upper()}"


def _view_line(report: Report, figures: dict[str, Any]) -> str:
    """Which units the figures are shown under (the build's, else the report's)."""
    return figures.get("view_line") or view_line(report.view, figures.get("mapped_on"))


def report_context(report: Report, figures: dict[str, Any]) -> dict[str, Any]:
    sections = []
    for i, section in enumerate(report.section_list(), start=1):
        paragraphs = [
            line.strip() for line in nfc(section.get("body", "")).splitlines() if line.strip()
        ]
        sections.append(
            {"heading": f"{roman(i)}. {nfc(section['heading']).upper()}", "paragraphs": paragraphs}
        )
    tables = []
    start = len(sections)
    for j, title in enumerate(figures.get("titles", []), start=1):
        rows = [
            {
                "unit": row["unit"],
                "counts": [format_count(row[f]) for f in COUNT_FIELDS],
                "rate": format_rate(row["rate"]),
                "target": row["target"],
                "verdict": _verdict(row["met"]),
            }
            for row in [*title["children"], title["total"]]
        ]
        tables.append(
            {
                "heading": f"Biểu {j}. {title['label']} năm {figures['year']}",
                "rows": rows[:-1],
                "total": rows[-1],
            }
        )
    finalised_on = report.finalised_at.date() if report.finalised_at else None
    return {
        "title": report_heading(report),
        "agency": agency_lines(_agency(report)),
        "reference": "/BC-UBND",
        "place_date": place_date_line(nfc(report.unit.name), finalised_on),
        "heading": report_heading(report),
        "view_line": _view_line(report, figures),
        "unit": nfc(report.unit.name),
        "sections": sections,
        "tables_heading": f"{roman(start + 1)}. BIỂU THỐNG KÊ",
        "tables": tables,
        "headers": HEADERS,
        "has_data": figures.get("has_data", False),
        "no_data": f"{NO_DATA} năm {figures.get('year', report.year)}.",
        "signature_lines": signature_lines("TM.", "ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
        "signer_name": "",
        "recipients": recipient_lines(["UBND cấp trên", "Lưu: VT"]),
    }


def report_html(report: Report, figures: dict[str, Any]) -> str:
    return render_to_string(TEMPLATE, report_context(report, figures))


def render_report_pdf(report: Report, figures: dict[str, Any]) -> bytes:
    """The report as PDF bytes (WeasyPrint, serialised per process)."""
    from weasyprint import HTML

    config, sheets = fonts.weasyprint_resources()
    html = report_html(report, figures)
    with fonts.WEASYPRINT_LOCK:
        content = (
            HTML(string=html, base_url=str(settings.BASE_DIR))
            .render(font_config=config, stylesheets=sheets)
            .write_pdf()
        )
    assert content is not None  # noqa: S101 — write_pdf without a target returns bytes
    return content


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WIDTHS = (6, 36, 12, 12, 12, 12, 14, 10, 12, 12)


def _sheet_rows(sheet: Any, start: int, rows: list[dict[str, Any]], *, total: bool) -> int:
    for offset, row in enumerate(rows):
        r = start + offset
        values: list[Any] = [
            "" if total else offset + 1,
            row["unit"],
            *(row[f] for f in COUNT_FIELDS),
            row["rate"],
            row["target"],
            _verdict(row["met"]),
        ]
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c, value=value if value != "" else None)
            cell.border = _BOX
            if 3 <= c <= 7:
                cell.number_format = "#,##0"
            elif c == 8:
                cell.number_format = "0.0"
            if total:
                cell.font = Font(bold=True)
    return start + len(rows)


def render_report_xlsx(report: Report, figures: dict[str, Any]) -> bytes:
    """A summary sheet, then one sheet per title with every child unit and the totals."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Tổng hợp"
    heading = report_heading(report)
    summary["A1"] = f"BÁO CÁO {heading}".upper()
    summary["A1"].font = Font(bold=True, size=12)
    summary["A2"] = nfc(report.unit.name)
    summary["A3"] = _view_line(report, figures)
    summary["A3"].font = Font(italic=True)
    row = 5
    if not figures.get("has_data"):
        summary.cell(row=row, column=1, value=f"{NO_DATA} năm {figures.get('year', report.year)}.")
        row += 2
    for c, header in enumerate(("TT", "Danh hiệu", *HEADERS[2:]), start=1):
        cell = summary.cell(row=row, column=c, value=header)
        cell.font = Font(bold=True)
        cell.border = _BOX
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        summary.column_dimensions[get_column_letter(c)].width = _WIDTHS[c - 1]
    titles = figures.get("titles", [])
    for i, title in enumerate(titles, start=1):
        _sheet_rows(summary, row + i, [{**title["total"], "unit": title["label"]}], total=False)
        summary.cell(row=row + i, column=1, value=i)
    for title in titles:
        sheet = workbook.create_sheet(title["label"][:31])
        sheet["A1"] = f"{title['label']} năm {figures['year']}".upper()
        sheet["A1"].font = Font(bold=True, size=12)
        sheet["A2"] = f"{nfc(report.unit.name)} — {heading} ({_view_line(report, figures)})"
        for c, header in enumerate(HEADERS, start=1):
            cell = sheet.cell(row=4, column=c, value=header)
            cell.font = Font(bold=True)
            cell.border = _BOX
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            sheet.column_dimensions[get_column_letter(c)].width = _WIDTHS[c - 1]
        end = _sheet_rows(sheet, 5, title["children"], total=False)
        _sheet_rows(sheet, end, [title["total"]], total=True)
        sheet.freeze_panes = "C5"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

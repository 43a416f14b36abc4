"""Tables to XLSX with openpyxl: one sheet per table, numbers stored as numbers.

Shared by the dashboard's "Xuất Excel" links and the reports. A table is a
list of :class:`Column` and rows of plain values (``int``, ``Decimal``,
``str`` or ``None``); counts get a thousands format, rates one decimal, so
Excel shows them in the reader's locale (``1.234`` and ``72,1`` in Vietnamese).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Column kinds and their number formats.
TEXT, COUNT, RATE, DECIMAL, INTEGER = "text", "count", "rate", "decimal", "integer"
NUMBER_FORMATS = {COUNT: "#,##0", RATE: "0.0", DECIMAL: "#,##0.0", INTEGER: "0"}
#: Characters Excel refuses in a sheet title.
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: int = 14


@dataclass(frozen=True)
class Table:
    """One sheet: a caption above the headers, the rows, an optional totals row."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    caption: str = ""
    totals: Sequence[Any] | None = None


def _cell_value(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind == TEXT:
        return str(value)
    if isinstance(value, Decimal):
        return int(value) if kind in (COUNT, INTEGER) else float(value)
    return value


def sheet_title(text: str) -> str:
    """A valid, unique-enough sheet title (31 characters, no []:*?/\\)."""
    return _BAD_TITLE.sub(" ", text).strip()[:31] or "Sheet"


def add_table(workbook: Workbook, table: Table) -> None:
    """Append ``table`` as a new sheet (the first sheet is reused while empty)."""
    first = workbook.worksheets[0]
    fresh = first.max_row == 1 and first.max_column == 1 and first["A1"].value is None
    sheet = first if fresh and first.title == "Sheet" else workbook.create_sheet()
    sheet.title = sheet_title(table.title)
    row = 1
    if table.caption:
        sheet.cell(row=row, column=1, value=table.caption).font = Font(bold=True, size=12)
        row += 2
    for col, column in enumerate(table.columns, start=1):
        cell = sheet.cell(row=row, column=col, value=column.header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(col)].width = column.width
    header_row = row
    body: Iterable[tuple[Sequence[Any], bool]] = [(r, False) for r in table.rows]
    if table.totals is not None:
        body = [*body, (table.totals, True)]
    for values, is_total in body:
        row += 1
        for col, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            cell = sheet.cell(row=row, column=col, value=_cell_value(value, column.kind))
            if column.kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[column.kind]
            if is_total:
                cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)


def workbook_bytes(tables: Sequence[Table]) -> bytes:
    workbook = Workbook()
    for table in tables:
        add_table(workbook, table)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(tables: Sequence[Table], *, filename: str) -> HttpResponse:
    """An attachment download of ``tables`` (one sheet each)."""
    response = HttpResponse(workbook_bytes(tables), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

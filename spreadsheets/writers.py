"""Write tables out as XLSX (exports and import templates) or CSV, streaming.

Both writers neutralise formula injection: a text that a spreadsheet would run
as a formula (it starts with ``= + - @``, a tab or a CR) is written as text —
an XLSX string cell with Excel's "quote prefix", a CSV cell with a leading
apostrophe that :mod:`spreadsheets.readers` removes again — so export ->
import gives back exactly what was exported. Numbers stay numbers and dates
real dates, shown ``dd/mm/yyyy``.

The headers sit in row 1 of the data sheet so that
:func:`spreadsheets.readers.open_table` reads an exported file or a filled-in
template back as it is.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO, TextIO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from spreadsheets.readers import FORMULA_TRIGGERS

INSTRUCTIONS_SHEET = "Hướng dẫn"
LISTS_SHEET = "Danh mục"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
#: Rows of a template that get the drop-down lists.
TEMPLATE_ROWS = 10_000
#: Excel refuses an inline list formula longer than this.
INLINE_LIST_LIMIT = 255

_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")
_WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an export or a template."""

    header: str
    width: int = 18
    #: One line for the instructions sheet.
    help: str = ""
    required: bool = False
    #: Allowed labels: a drop-down list in the template.
    choices: Sequence[str] = ()
    #: Excel number format, e.g. ``"DD/MM/YYYY"`` or ``"#,##0"``.
    number_format: str | None = None


def neutralise(value: str) -> str:
    """Prefix an apostrophe when a spreadsheet would run ``value`` as a formula.

    Inverse of :func:`spreadsheets.readers.strip_neutraliser`; a text that
    already starts with apostrophes before such a character gets one more, so
    it too comes back unchanged.
    """
    if value.lstrip("'")[:1] in FORMULA_TRIGGERS and value.lstrip("'"):
        return "'" + value
    return value


def _naive(value: datetime.datetime) -> datetime.datetime:
    """Excel has no time zones: aware datetimes are written in the local time."""
    if timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


# --- XLSX ---------------------------------------------------------------------------------


def _xlsx_cell(sheet: Any, value: Any, number_format: str | None) -> Any:
    """A plain value, or a styled write-only cell when it needs a format or is risky text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value[:1] in FORMULA_TRIGGERS:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # never a formula, whatever it starts with
            cell.quotePrefix = True
            return cell
        return value
    if isinstance(value, datetime.datetime):
        value = _naive(value)
        number_format = number_format or DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        number_format = number_format or DATE_FORMAT
    elif not isinstance(value, (int, float, Decimal)):
        return _xlsx_cell(sheet, str(value), None)
    if number_format is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _list_formula(column: ColumnSpec, index: int, lists: list[tuple[int, Sequence[str]]]) -> str:
    """The data-validation source: inline when Excel allows it, else a range of "Danh mục"."""
    inline = ",".join(column.choices)
    if len(inline) + 2 <= INLINE_LIST_LIMIT and not any(
        "," in label or '"' in label for label in column.choices
    ):
        return f'"{inline}"'
    lists.append((index, column.choices))
    letter = get_column_letter(len(lists))
    return f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(column.choices) + 1}"


def _add_lists(
    workbook: Workbook, data_sheet: Any, columns: Sequence[ColumnSpec], last: int
) -> None:
    lists: list[tuple[int, Sequence[str]]] = []
    for index, column in enumerate(columns, start=1):
        if not column.choices:
            continue
        validation = DataValidation(
            type="list",
            formula1=_list_formula(column, index, lists),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=column.header[:32],
            error=_("Choose one of the values in the list."),
        )
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{last}")
        data_sheet.data_validations.append(validation)
    if not lists:
        return
    sheet = workbook.create_sheet(LISTS_SHEET)
    sheet.sheet_state = "hidden"
    longest = max(len(choices) for _index, choices in lists)
    sheet.append([columns[index - 1].header for index, _choices in lists])
    for row in range(longest):
        sheet.append([choices[row] if row < len(choices) else None for _index, choices in lists])


def _add_instructions(
    workbook: Workbook,
    columns: Sequence[ColumnSpec],
    instructions: Sequence[str],
    title: str | None,
) -> None:
    sheet = workbook.create_sheet(INSTRUCTIONS_SHEET)
    for letter, width in zip("ABCD", (30, 12, 60, 50), strict=True):
        sheet.column_dimensions[letter].width = width

    def styled(value: Any, **style: Any) -> Any:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    if title:
        sheet.append([styled(title, font=Font(bold=True, size=14))])
        sheet.append([])
    for line in instructions:
        sheet.append([styled(line, alignment=_WRAP)])
    sheet.append([])
    sheet.append(
        [
            styled(text, font=_HEADER_FONT)
            for text in (_("Column"), _("Required"), _("How to fill it in"), _("Allowed values"))
        ]
    )
    for column in columns:
        sheet.append(
            [
                styled(column.header, font=_HEADER_FONT),
                styled(_("yes") if column.required else ""),
                styled(column.help, alignment=_WRAP),
                styled("; ".join(column.choices), alignment=_WRAP),
            ]
        )


def write_xlsx(
    out: BinaryIO,
    *,
    columns: Sequence[ColumnSpec],
    rows: Iterable[Sequence[Any]],
    sheet_title: str = "Dữ liệu",
    instructions: Sequence[str] | None = None,
    title: str | None = None,
) -> int:
    """Write a workbook to ``out`` and return the number of data rows written.

    The data sheet comes first: bold header in row 1 (required columns shaded),
    frozen, filterable, with the columns' widths; choice columns get a
    drop-down list (long lists sit on a hidden "Danh mục" sheet), over the rows
    written or the first 10.000 rows of an empty template. ``instructions``
    adds a "Hướng dẫn" sheet with ``title``, the paragraphs and a table of the
    columns. Rows are streamed (openpyxl write-only mode).
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", column.header))
        cell.data_type = "s"
        cell.font = _HEADER_FONT
        cell.alignment = _HEADER_ALIGNMENT
        if column.required:
            cell.fill = _REQUIRED_FILL
        header.append(cell)
    sheet.append(header)
    formats = [column.number_format for column in columns]
    written = 0
    for row in rows:
        sheet.append(
            [_xlsx_cell(sheet, value, fmt) for value, fmt in zip(row, formats, strict=False)]
        )
        written += 1
    if columns:
        last_letter = get_column_letter(len(columns))
        sheet.auto_filter.ref = f"A1:{last_letter}{written + 1}"
    if any(column.choices for column in columns):
        _add_lists(workbook, sheet, columns, max(TEMPLATE_ROWS, written) + 1)
    if instructions is not None:
        _add_instructions(workbook, columns, instructions, title)
    workbook.save(out)
    return written


# --- CSV ----------------------------------------------------------------------------------


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return _naive(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        return format(number, "f").replace(".", ",")
    return neutralise(str(value))


def write_csv(out: TextIO, *, columns: Sequence[ColumnSpec], rows: Iterable[Sequence[Any]]) -> int:
    """Write a comma-separated file with a header row; return the number of data rows.

    The caller opens ``out`` with ``encoding="utf-8-sig", newline=""`` so that
    Excel recognises UTF-8 (the BOM) and the ``\\r\\n`` line ends are kept.
    Dates are ``dd/mm/yyyy``, decimals use a decimal comma without thousands
    separators (``1234,5``), booleans the translated "yes"/"no" ("có"/"không").
    """
    writer = csv.writer(out)
    writer.writerow([column.header for column in columns])
    written = 0
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
        written += 1
    return written

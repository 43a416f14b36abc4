from __future__ import annotations

import csv
import datetime
import io
import os
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from openpyxl import load_workbook

from spreadsheets import cleaners
from spreadsheets.readers import open_table
from spreadsheets.writers import ColumnSpec, neutralise, write_csv, write_xlsx

NAME = "Nguyễn Thị Hương"
COLUMNS = [
    ColumnSpec("Họ và tên", width=30, required=True, help="Đầy đủ, có dấu."),
    ColumnSpec("Ngày sinh", number_format="DD/MM/YYYY"),
    ColumnSpec("Số thành viên", number_format="#,##0"),
    ColumnSpec("Ghi chú"),
    ColumnSpec("Xếp loại", choices=["Xuất sắc", "Hoàn thành tốt", "Hoàn thành"]),
]
ROWS: list[list[Any]] = [
    [NAME, datetime.date(1990, 2, 1), 4, "=1+1", "Xuất sắc"],
    ["Trần Văn Đức", datetime.date(2001, 12, 31), 1234, "+84 90 123", "Hoàn thành"],
    ["Lê Thị Ánh", None, 0, "'=already quoted", None],
    ["Phạm Minh", datetime.date(2024, 2, 29), -5, "@mention", "Hoàn thành tốt"],
    ["Võ An", datetime.date(2000, 1, 1), 7, "-giảm", None],
    ["Đỗ Bình", datetime.date(2000, 1, 2), 8, "'plain apostrophe", None],
]


def xlsx_bytes(**kwargs: Any) -> io.BytesIO:
    out = io.BytesIO()
    kwargs.setdefault("columns", COLUMNS)
    kwargs.setdefault("rows", ROWS)
    write_xlsx(out, **kwargs)
    out.seek(0)
    return out


def read_back(data: io.BytesIO, filename: str) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    with open_table(data, filename=filename) as table:
        return table.headers, list(table.rows)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@a", "'=x", "''+y", "=", "'"])
def test_neutralise_round_trips_through_the_reader(text: str) -> None:
    from spreadsheets.readers import strip_neutraliser

    assert strip_neutraliser(neutralise(text)) == text
    assert neutralise(text)[:1] not in ("=", "+", "-", "@")


def test_xlsx_round_trip_gives_identical_values() -> None:
    headers, rows = read_back(xlsx_bytes(), "export.xlsx")
    assert headers == [column.header for column in COLUMNS]
    assert rows == [(n, row) for n, row in enumerate(ROWS, start=2)]
    # Numbers are numbers, dates are dates, "=1+1" is text, not a formula.
    assert type(rows[0][1][1]) is datetime.date
    assert type(rows[1][1][2]) is int
    assert rows[0][1][3] == "=1+1"


def test_xlsx_cells_are_typed_and_formatted() -> None:
    book = load_workbook(xlsx_bytes())
    sheet = book["Dữ liệu"]
    assert book.sheetnames[0] == "Dữ liệu"
    assert sheet["A1"].value == "Họ và tên"
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E7"
    assert sheet.column_dimensions["A"].width == 30
    assert sheet["B2"].number_format == "DD/MM/YYYY"
    assert sheet["B2"].is_date
    assert sheet["C3"].value == 1234
    assert sheet["C3"].number_format == "#,##0"
    formula_text = sheet["D2"]
    assert formula_text.data_type == "s"
    assert formula_text.value == "=1+1"
    assert formula_text.quotePrefix


def test_xlsx_datetimes_decimals_and_aware_times() -> None:
    aware = datetime.datetime(2025, 3, 1, 1, 30, tzinfo=datetime.UTC)
    columns = [ColumnSpec("Lúc"), ColumnSpec("Điểm"), ColumnSpec("Đạt")]
    data = xlsx_bytes(columns=columns, rows=[[aware, Decimal("8.5"), True]])
    _headers, rows = read_back(data, "x.xlsx")
    # Asia/Ho_Chi_Minh is UTC+7.
    assert rows == [(2, [datetime.datetime.fromisoformat("2025-03-01T08:30"), 8.5, True])]


def test_template_has_instructions_and_drop_downs() -> None:
    long_choices = [f"Phường {n} Quận Mười" for n in range(1, 40)]
    columns = [*COLUMNS, ColumnSpec("Phường", choices=long_choices, help="Chọn trong danh sách.")]
    data = xlsx_bytes(
        columns=columns,
        rows=[],
        instructions=["Điền mỗi hộ trên một dòng.", "=Không phải công thức"],
        title="Mẫu nhập hộ gia đình",
    )
    book = load_workbook(data)
    assert book.sheetnames == ["Dữ liệu", "Danh mục", "Hướng dẫn"]
    assert book["Danh mục"].sheet_state == "hidden"
    guide = book["Hướng dẫn"]
    texts = [cell.value for row in guide.iter_rows() for cell in row if cell.value]
    assert "Mẫu nhập hộ gia đình" in texts
    assert "Điền mỗi hộ trên một dòng." in texts
    assert "=Không phải công thức" in texts
    assert "Đầy đủ, có dấu." in texts
    assert "Xuất sắc; Hoàn thành tốt; Hoàn thành" in texts
    assert "Chọn trong danh sách." in texts

    validations = {str(dv.sqref): dv for dv in book["Dữ liệu"].data_validations.dataValidation}
    assert set(validations) == {"E2:E10001", "F2:F10001"}
    assert validations["E2:E10001"].type == "list"
    assert validations["E2:E10001"].formula1 == '"Xuất sắc,Hoàn thành tốt,Hoàn thành"'
    assert validations["F2:F10001"].formula1 == "'Danh mục'!$A$2:$A$40"
    lists = book["Danh mục"]
    assert [lists.cell(row=n, column=1).value for n in range(2, 41)] == long_choices

    # An empty template reads back as headers without rows.
    data.seek(0)
    headers, rows = read_back(data, "template.xlsx")
    assert headers == [column.header for column in columns]
    assert rows == []


def test_filled_template_reads_back_and_cleans() -> None:
    book = load_workbook(xlsx_bytes(rows=[]))
    sheet = book["Dữ liệu"]
    sheet.append([NAME, datetime.datetime.fromisoformat("1990-02-01T00:00"), 4, None, "xuat sac"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    _headers, rows = read_back(out, "filled.xlsx")
    number, values = rows[0]
    assert number == 2
    assert cleaners.date(values[1]) == datetime.date(1990, 2, 1)
    choices = [(label, label) for label in COLUMNS[4].choices]
    assert cleaners.choice(values[4], choices) == "Xuất sắc"


def test_csv_round_trip_gives_identical_values() -> None:
    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="", write_through=True)
    assert write_csv(text, columns=COLUMNS, rows=ROWS) == len(ROWS)
    text.flush()
    raw = buffer.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"'=1+1" in raw
    assert b"01/02/1990" in raw
    buffer.seek(0)
    with open_table(buffer, filename="export.csv") as table:
        assert table.encoding == "utf-8-sig"
        rows = list(table.rows)
    # CSV has no types: values come back as text and the cleaners restore them.
    assert [values[0] for _n, values in rows] == [row[0] for row in ROWS]
    assert [values[3] for _n, values in rows] == [row[3] for row in ROWS]
    assert [cleaners.date(values[1]) for _n, values in rows] == [row[1] for row in ROWS]
    assert [cleaners.integer(values[2]) for _n, values in rows] == [row[2] for row in ROWS]


def test_csv_numbers_use_a_decimal_comma_that_the_cleaners_read() -> None:
    out = io.StringIO()
    values = [Decimal("1234.5"), 0.1, Decimal("1.234"), True, None]
    write_csv(out, columns=[ColumnSpec(str(n)) for n in range(5)], rows=[values])
    line = out.getvalue().splitlines()[1]
    assert line.startswith('"1234,5","0,1","1,234",')
    assert line.endswith(",")
    cells = next(csv.reader([line]))
    assert cleaners.decimal(cells[0]) == Decimal("1234.5")
    assert cleaners.decimal(cells[1]) == Decimal("0.1")
    assert cleaners.decimal(cells[2]) == Decimal("1.234")
    assert cleaners.boolean(cells[3]) is True


#: Run in a fresh interpreter: its peak resident memory before and after writing.
BIG_WRITE = """
import datetime, resource, sys
import django
django.setup()
from spreadsheets.writers import ColumnSpec, write_xlsx

def rows():
    for n in range(100_000):
        yield [f"Nguyễn Thị Hương {n}", datetime.date(2000, 1, 1 + n % 28), n]

columns = [ColumnSpec("Họ và tên"), ColumnSpec("Ngày sinh"), ColumnSpec("Số")]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(sys.argv[1], "wb") as out:
    written = write_xlsx(out, columns=columns, rows=rows())
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(written, after - before)
"""


def test_large_xlsx_is_written_in_bounded_memory(tmp_path: Path) -> None:
    # tracemalloc would slow openpyxl's writer down tenfold; the peak RSS of a
    # child process measures the same thing (kilobytes on Linux).
    path = tmp_path / "big.xlsx"
    result = subprocess.run(
        [sys.executable, "-c", BIG_WRITE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        timeout=300,
    )
    written, grown_kb = (int(x) for x in result.stdout.split())
    assert written == 100_000
    # 100.000 rows held in memory as openpyxl cells would take several hundred MB.
    assert grown_kb < 30 * 1024
    with zipfile.ZipFile(path) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
    assert sheet.file_size > 100_000 * 60

from __future__ import annotations

import datetime
import io
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from spreadsheets.exceptions import FileRejected
from spreadsheets.readers import Formula, open_table, strip_neutraliser
from tests.spreadsheets import files

NAME = "Nguyễn Thị Hương"
WARD = "Phường Bến Thành"


def read(data: bytes | io.BytesIO, filename: str, **limits: Any) -> tuple[Any, list]:
    stream = data if isinstance(data, io.BytesIO) else io.BytesIO(data)
    with open_table(stream, filename=filename, **limits) as table:
        return table, list(table.rows)


def rejected(data: bytes | io.BytesIO, filename: str, **limits: Any) -> str:
    with pytest.raises(FileRejected) as caught:
        read(data, filename, **limits)
    return str(caught.value)


# --- refusals -----------------------------------------------------------------------------


def test_size_over_the_limit_is_refused_with_both_sizes() -> None:
    message = rejected(b"a,b\n" * 600_000, "big.csv", max_bytes=1024 * 1024)
    assert "2,3 MB" in message
    assert "1,0 MB" in message


@override_settings(IMPORT_MAX_BYTES=10)
def test_size_limit_defaults_to_the_setting() -> None:
    assert "MB" in rejected(b"Name\nAn\nBinh\n", "x.csv")


def test_old_xls_extension_asks_for_xlsx() -> None:
    message = rejected(files.OLE2_HEADER, "danh-sach.xls")
    assert "save it as .xlsx (Excel Workbook)" in message


def test_unknown_extension_is_refused() -> None:
    message = rejected(b"Name\nAn\n", "notes.txt")
    assert "notes.txt" in message
    assert ".xlsx" in message


def test_xls_renamed_xlsx_is_refused() -> None:
    assert ".xls" in rejected(files.OLE2_HEADER, "renamed.xlsx")


def test_xlsx_named_csv_is_refused() -> None:
    message = rejected(files.xlsx([["A"], ["1"]]), "export.csv")
    assert "Excel workbook" in message
    assert ".xlsx" in message


@pytest.mark.parametrize("filename", ["scan.csv", "scan.xlsx"])
def test_pdf_is_refused_whatever_its_name(filename: str) -> None:
    assert "PDF" in rejected(files.PDF, filename)


@pytest.mark.parametrize("filename", ["photo.csv", "photo.xlsx"])
def test_image_is_refused(filename: str) -> None:
    assert "image" in rejected(files.PNG, filename)


def test_nul_bytes_in_csv_are_refused() -> None:
    assert "NUL" in rejected(b"Name,Age\nAn,\x00\x01\x02\n", "data.csv")


def test_nul_bytes_after_the_sniffed_part_name_the_line() -> None:
    data = b"Name\n" + b"An\n" * 600_000 + b"B\x00b\n"
    assert "600002" in rejected(data, "data.csv")


def test_utf16_text_export_is_refused_with_advice() -> None:
    data = "Tên\tTuổi\nAn\t3\n".encode("utf-16")
    assert "CSV UTF-8" in rejected(data, "data.csv")


def test_zip_that_is_not_a_workbook_is_refused() -> None:
    data = files.plain_zip({"readme.txt": b"hello"})
    assert "not an Excel workbook" in rejected(data, "archive.xlsx")


def test_truncated_zip_is_refused() -> None:
    data = files.xlsx([["A"], ["1"]]).getvalue()
    assert "damaged" in rejected(data[: len(data) // 2], "broken.xlsx")


def test_zip_bomb_by_compression_ratio_is_refused() -> None:
    message = rejected(files.bomb_by_ratio(), "bomb.xlsx")
    assert "zip bomb" in message
    assert "100" in message


def test_zip_bomb_by_declared_size_is_refused() -> None:
    data = files.xlsx([["A"], ["1"]])
    # Accepted with the default limit, refused when the unpacked size is over the limit.
    assert read(io.BytesIO(data.getvalue()), "ok.xlsx")[1] == [(2, ["1"])]
    message = rejected(data, "big.xlsx", max_unpacked_bytes=1000)
    assert "unpacks to" in message


def test_member_lying_about_its_size_is_refused() -> None:
    data = files.xlsx([["Name"], *[[f"row {n}"] for n in range(2000)]])
    lying = files.lying_sizes(data, "xl/worksheets/sheet1.xml", 100)
    assert "damaged" in rejected(lying, "liar.xlsx")


def test_too_many_zip_members_are_refused() -> None:
    members = {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}
    members.update({f"xl/parts/p{n}.xml": b"" for n in range(10_001)})
    assert "10000" in rejected(files.plain_zip(members), "many.xlsx")


def test_merged_cells_are_refused_naming_the_ranges() -> None:
    data = files.xlsx(
        [["Name", "Ward", "Phone"], ["An", "P1", "1"], ["Bình", "P2", "2"]],
        merged=["B2:C2", "A3:A4"],
    )
    message = rejected(data, "merged.xlsx")
    assert "B2:C2" in message
    assert "A3:A4" in message
    assert "Dữ liệu" in message


def test_merged_cells_on_another_sheet_do_not_matter() -> None:
    workbook = files.xlsx([["Name"], ["An"]], before=["Hướng dẫn"])
    # Merge on the instructions sheet only: rebuild with openpyxl.
    from openpyxl import load_workbook

    book = load_workbook(workbook)
    book["Hướng dẫn"].merge_cells("A1:D1")
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    table, rows = read(out, "ok.xlsx")
    assert table.headers == ["Name"]
    assert rows == [(2, ["An"])]


def test_more_rows_than_the_limit_are_refused_while_streaming() -> None:
    data = files.csv_bytes([["Name"], *[[f"P{n}"] for n in range(6)]])
    with open_table(io.BytesIO(data), filename="x.csv", max_rows=5) as table:
        seen = []
        with pytest.raises(FileRejected) as caught:
            for number, _values in table.rows:
                seen.append(number)
    assert seen == [2, 3, 4, 5, 6]
    assert "more than 5 data rows" in str(caught.value)
    assert "row 7" in str(caught.value)


def test_exactly_max_rows_is_accepted() -> None:
    data = files.csv_bytes([["Name"], *[[f"P{n}"] for n in range(5)]])
    assert len(read(data, "x.csv", max_rows=5)[1]) == 5


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n ,  , \r\n"])
def test_csv_without_header_is_refused(data: bytes) -> None:
    assert rejected(data, "empty.csv")


def test_xlsx_without_header_is_refused() -> None:
    assert "header" in rejected(files.xlsx([]), "empty.xlsx")


def test_value_right_of_the_last_header_is_refused_naming_the_cell() -> None:
    data = files.csv_bytes([["Name", "Age"], ["An", "3", ""], ["Bình", "4", "x"]])
    assert "C3" in rejected(data, "x.csv")


def test_undecodable_line_after_the_sample_is_named() -> None:
    data = files.csv_bytes([["Tên"], *[["Nguyễn"] for _ in range(120_000)]]) + b"\xff\xfe\n"
    assert len(data) > 1024 * 1024  # past the part the encoding is detected on
    message = rejected(data, "x.csv")
    assert "120002" in message
    assert "UTF-8" in message


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_values_formulas_dates_and_row_numbers() -> None:
    data = files.xlsx(
        [
            [],
            [" Họ tên ", "Ngày sinh", "Số", None, "Tổng"],
            [NAME, datetime.datetime.fromisoformat("2024-05-01T00:00"), 3, None, "=SUM(C3:C5)"],
            [],
            [None, None, None],
            ["  An  ", datetime.datetime.fromisoformat("2024-05-01T10:30"), 2.5, True, None],
            ["=1+1", None, None],
        ],
        string_cells=["A7"],
    )
    table, rows = read(data, "people.xlsx")
    assert table.format == "xlsx"
    assert table.encoding is None
    assert table.header_row == 2
    assert table.headers == ["Họ tên", "Ngày sinh", "Số", "", "Tổng"]
    assert rows == [
        (3, [NAME, datetime.date(2024, 5, 1), 3, None, Formula("=SUM(C3:C5)")]),
        (6, ["An", datetime.datetime.fromisoformat("2024-05-01T10:30"), 2.5, True, None]),
        (7, ["=1+1", None, None, None, None]),
    ]
    assert type(rows[0][1][1]) is datetime.date


def test_xlsx_reads_the_data_sheet_not_the_instructions() -> None:
    data = files.xlsx([["Name"], ["An"]], title="Dữ liệu", before=["Hướng dẫn"])
    assert read(data, "t.xlsx")[1] == [(2, ["An"])]
    data = files.xlsx([["Name"], ["Bình"]], title="Data", before=["Notes"])
    assert read(data, "t.xlsx")[1] == [(2, ["Bình"])]
    data = files.xlsx([["Name"], ["Chi"]], title="Trang 1")
    assert read(data, "t.xlsx")[1] == [(2, ["Chi"])]


def test_xlsx_nfd_text_comes_back_nfc() -> None:
    import unicodedata

    data = files.xlsx([["Tên"], [unicodedata.normalize("NFD", NAME)]])
    assert read(data, "t.xlsx")[1] == [(2, [NAME])]


def test_xlsx_numeric_headers_become_text() -> None:
    table, _rows = read(files.xlsx([["Code", 2024, None, None], ["a", 1]]), "t.xlsx")
    assert table.headers == ["Code", "2024"]


# --- CSV ----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1258"])
def test_csv_encodings_read_back_vietnamese_nfc(encoding: str) -> None:
    data = files.csv_bytes(
        [["Họ và tên", "Phường"], [NAME, WARD], ["Trần Văn Đức", "Phường Đa Kao"]],
        encoding=encoding,
    )
    if encoding == "cp1258":
        assert "ễ".encode("cp1258", errors="ignore") == b""  # really decomposed bytes
    table, rows = read(data, "people.csv")
    assert table.encoding == encoding
    assert table.headers == ["Họ và tên", "Phường"]
    assert rows == [(2, [NAME, WARD]), (3, ["Trần Văn Đức", "Phường Đa Kao"])]
    assert rows[0][1][0] == NAME  # NFC-equal, not just similar-looking


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_delimiter_is_sniffed(delimiter: str) -> None:
    data = files.csv_bytes(
        [["Tên", "Số tiền"], [NAME, "1.234,5"]], delimiter=delimiter, encoding="utf-8-sig"
    )
    table, rows = read(data, "x.csv")
    assert table.headers == ["Tên", "Số tiền"]
    assert rows == [(2, [NAME, "1.234,5"])]


def test_csv_row_numbers_count_blank_lines_and_multiline_cells() -> None:
    data = b'Name,Address\n\nAn,"12 Le Loi\nQuan 1"\n,\nBinh,\n'
    table, rows = read(data, "x.csv")
    assert table.header_row == 1
    assert rows == [(3, ["An", "12 Le Loi\nQuan 1"]), (6, ["Binh", None])]


def test_csv_short_rows_are_padded_and_empty_cells_are_none() -> None:
    table, rows = read(b"\n\nA,B,C,,\n1\n 2 , ,3\n", "x.csv")
    assert table.header_row == 3
    assert table.headers == ["A", "B", "C"]
    assert rows == [(4, ["1", None, None]), (5, ["2", None, "3"])]


def test_csv_text_starting_with_equals_is_text_and_neutraliser_is_removed() -> None:
    data = b"A,B,C\n=1+1,'=2+2,'plain\n"
    assert read(data, "x.csv")[1] == [(2, ["=1+1", "=2+2", "'plain"])]


def test_strip_neutraliser_is_exact() -> None:
    assert strip_neutraliser("'=x") == "=x"
    assert strip_neutraliser("''=x") == "'=x"
    assert strip_neutraliser("'-5") == "-5"
    assert strip_neutraliser("'abc") == "'abc"
    assert strip_neutraliser("'") == "'"


def test_large_csv_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as out:
        out.write("Họ tên,Ngày sinh,Địa chỉ,Số\r\n".encode())
        line = f"{NAME},01/02/1990,{WARD} số {{n}},{{n}}\r\n"
        for n in range(200_000):
            out.write(line.format(n=n).encode())
    assert path.stat().st_size > 12 * 1024 * 1024
    count = 0
    last: tuple[int, list] | None = None
    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            with open_table(stream, filename="big.csv") as table:
                for row in table.rows:
                    count += 1
                    last = row
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == 200_000
    assert last == (200_001, [NAME, "01/02/1990", f"{WARD} số 199999", "199999"])
    assert peak < 20 * 1024 * 1024

"""Read an uploaded spreadsheet (XLSX or CSV) as a header row and a stream of rows.

This layer knows no model: it checks the file (size, format, zip bomb, merged
cells, encoding) and yields plain values; the import kinds turn them into
domain values with :mod:`spreadsheets.cleaners`.

Everything streams: XLSX through openpyxl's read-only mode, CSV line by line,
so a file of a million rows is read in bounded memory. Every refusal raises
:class:`~spreadsheets.exceptions.FileRejected` with a translated message that
says what is wrong and, where there is one, the row and column.

Text cells are NFC-normalised and stripped (Windows-1258 "CSV" files from
Vietnamese Excel use combining tone marks). A leading apostrophe that the
writers add to neutralise formula injection (``'=1+1``) is removed again, so
export -> import changes nothing; see :func:`spreadsheets.writers.neutralise`.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO
from xml.etree import ElementTree

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser

from core.text import fold, nfc
from spreadsheets.exceptions import FileRejected

#: Names of the data sheet in our templates (compared accent- and case-insensitively).
DATA_SHEET_NAMES = ("du lieu", "data")
#: Characters that make a spreadsheet evaluate a text as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Zip bomb limits besides the unpacked size.
MAX_ZIP_MEMBERS = 10_000
MAX_COMPRESSION_RATIO = 100
#: Members this small may compress well (an XML of empty cells) without being a bomb.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
#: Encoding and delimiter are detected on this much of a CSV.
SNIFF_BYTES = 1024 * 1024
#: A CSV line longer than this is not a table row.
MAX_LINE_BYTES = 1024 * 1024
#: How many merged ranges the refusal lists.
MERGED_LISTED = 10

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_MERGE_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref=\"([^\"]+)\"")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Formula:
    """A cell that holds a formula; imports report it instead of guessing its value."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Table:
    """The data sheet of a file: its header row and a lazy stream of data rows."""

    format: str
    encoding: str | None
    headers: list[str]
    header_row: int
    #: ``(row number as the spreadsheet shows it, values)``; values padded to ``len(headers)``.
    rows: Iterator[tuple[int, list[Any]]]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",")


def cell_name(row: int, column: int) -> str:
    """Excel notation of a cell: ``cell_name(7, 2) == "B7"``."""
    return f"{get_column_letter(column)}{row}"


def strip_neutraliser(value: str) -> str:
    """Remove the apostrophe the writers put before a text Excel would run as a formula.

    Exactly the inverse of :func:`spreadsheets.writers.neutralise`: one apostrophe
    goes when the rest (apostrophes skipped) starts with ``= + - @`` or a tab/CR.
    """
    if value.startswith("'") and value[1:].lstrip("'")[:1] in FORMULA_TRIGGERS and len(value) > 1:
        return value[1:]
    return value


def _text(value: str) -> str | None:
    cleaned = unicodedata.normalize("NFC", value).strip()
    return cleaned or None


def _size(file: BinaryIO) -> int:
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _reject_foreign(head: bytes, *, expected: str) -> None:
    """Refuse content that is plainly not what the extension promises."""
    if head.startswith(b"%PDF"):
        raise FileRejected(
            _("The file is a PDF document, not a spreadsheet; upload the %(format)s file itself.")
            % {"format": expected}
        )
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        raise FileRejected(
            _("The file is an image, not a spreadsheet; upload the %(format)s file itself.")
            % {"format": expected}
        )


def _check_upload(file: BinaryIO, *, filename: str, max_bytes: int) -> str:
    """Extension, size and magic bytes; returns ``"xlsx"`` or ``"csv"``."""
    extension = _extension(filename)
    if extension in ("xls", "xlsm", "xlsb", "ods"):
        raise FileRejected(
            _(
                "Files of type .%(extension)s cannot be imported: open the file in Excel and "
                "save it as .xlsx (Excel Workbook)."
            )
            % {"extension": extension}
        )
    if extension not in ("xlsx", "csv"):
        raise FileRejected(
            _("Only .xlsx (Excel Workbook) and .csv files can be imported; this file is %(name)s.")
            % {"name": filename}
        )
    size = _size(file)
    if size > max_bytes:
        raise FileRejected(
            _("The file is %(size)s MB; files of at most %(limit)s MB can be imported.")
            % {"size": _mb(size), "limit": _mb(max_bytes)}
        )
    if size == 0:
        raise FileRejected(_("The file is empty."))
    head = file.read(8)
    file.seek(0)
    if extension == "xlsx":
        if head.startswith(_OLE2):
            raise FileRejected(
                _(
                    "The file is an old Excel 97-2003 workbook (.xls) or a workbook protected "
                    "by a password: open it in Excel, remove the password if there is one and "
                    "save it as .xlsx (Excel Workbook)."
                )
            )
        _reject_foreign(head, expected=".xlsx")
        if not head.startswith(_ZIP):
            raise FileRejected(
                _("The file is named .xlsx but is not an Excel workbook; save it again from Excel.")
            )
    else:
        if head.startswith(_ZIP):
            raise FileRejected(
                _(
                    "The file is named .csv but is an Excel workbook (or another zipped file): "
                    "rename it to .xlsx, or save it from Excel as CSV UTF-8."
                )
            )
        if head.startswith(_OLE2):
            raise FileRejected(
                _(
                    "The file is named .csv but is an old Excel workbook (.xls): save it from "
                    "Excel as .xlsx (Excel Workbook) or as CSV UTF-8."
                )
            )
        _reject_foreign(head, expected=".csv")
    return extension


# --- rows -------------------------------------------------------------------------------


def _shape(values: list[Any], width: int, row: int) -> list[Any] | None:
    """Pad or cut ``values`` to ``width``; ``None`` when the row is empty.

    An empty cell right of the last header is ignored; a filled one is refused,
    because its value would be silently lost.
    """
    for index in range(width, len(values)):
        if values[index] is not None:
            raise FileRejected(
                _(
                    "Cell %(cell)s holds a value but its column has no header; add the header "
                    "or delete the value."
                )
                % {"cell": cell_name(row, index + 1)}
            )
    shaped = values[:width]
    if all(value is None for value in shaped):
        return None
    if len(shaped) < width:
        shaped.extend([None] * (width - len(shaped)))
    return shaped


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def _headers(values: list[Any]) -> list[str]:
    headers = [_header_text(value) for value in values]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def _data_rows(
    records: Iterable[tuple[int, list[Any]]], *, width: int, max_rows: int
) -> Iterator[tuple[int, list[Any]]]:
    count = 0
    for number, values in records:
        shaped = _shape(values, width, number)
        if shaped is None:
            continue
        count += 1
        if count > max_rows:
            raise FileRejected(
                _(
                    "The file has more than %(limit)s data rows (row %(row)s is over the limit); "
                    "split it into several files."
                )
                % {"limit": f"{max_rows:,}".replace(",", "."), "row": number}
            )
        yield number, shaped


def _split_header(
    records: Iterator[tuple[int, list[Any]]],
) -> tuple[int, list[str]]:
    for number, values in records:
        if any(value is not None for value in values):
            headers = _headers(values)
            return number, headers
    raise FileRejected(
        _("The file has no header row: it is empty, or its first sheet holds no data.")
    )


# --- XLSX -------------------------------------------------------------------------------


def _check_zip(file: BinaryIO, *, max_unpacked_bytes: int) -> zipfile.ZipFile:
    """Refuse zip bombs and zips that are not workbooks before openpyxl opens them.

    Python's zipfile never decompresses a member beyond its declared size (a
    member whose header lies fails its CRC check), so checking the declared
    sizes bounds what openpyxl can unpack.
    """
    try:
        archive = zipfile.ZipFile(file)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRejected(
            _("The file is named .xlsx but is damaged or not an Excel workbook.")
        ) from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise FileRejected(
            _("The workbook holds %(count)s parts; at most %(limit)s are allowed.")
            % {"count": len(infos), "limit": MAX_ZIP_MEMBERS}
        )
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRejected(
            _(
                "The file is a zip archive but not an Excel workbook; save the spreadsheet "
                "from Excel as .xlsx (Excel Workbook)."
            )
        )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > max_unpacked_bytes:
        raise FileRejected(
            _("The workbook unpacks to %(size)s MB; at most %(limit)s MB are allowed.")
            % {"size": _mb(unpacked), "limit": _mb(max_unpacked_bytes)}
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileRejected(_("The workbook is encrypted; save it again without a password."))
        if info.file_size > RATIO_CHECK_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise FileRejected(
                _(
                    "The workbook is refused: one of its parts unpacks more than %(ratio)s "
                    "times its size, as zip bombs do."
                )
                % {"ratio": MAX_COMPRESSION_RATIO}
            )
    return archive


def _merged_ranges(archive: zipfile.ZipFile, member: str, *, cap: int) -> list[str]:
    """The ``<mergeCell ref=…>`` ranges of a sheet, scanned as a byte stream.

    openpyxl's read-only mode does not expose merged cells; the sheet XML is
    decompressed in chunks (never more than ``cap`` bytes) and searched.
    """
    found: list[str] = []
    total = 0
    tail = b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > cap:
                    raise FileRejected(
                        _("The workbook unpacks to more than %(limit)s MB.") % {"limit": _mb(cap)}
                    )
                data = tail + chunk
                end = 0
                for match in _MERGE_CELL.finditer(data):
                    found.append(match.group(1).decode("ascii", "replace"))
                    end = match.end()
                # Keep an unfinished tag for the next chunk.
                start = max(end, data.rfind(b"<"))
                tail = data[start:] if start >= 0 and len(data) - start < 4096 else b""
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FileRejected(_("The workbook is damaged; save it again from Excel.")) from exc
    return found


def _xlsx_value(value: Any, data_type: str) -> Any:
    if value is None:
        return None
    if data_type == "f":
        text = getattr(value, "text", value)
        return Formula(str(text) if str(text).startswith("=") else f"={text}")
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date()
        return value
    return value


def _pick_sheet(workbook: Any) -> Any:
    for sheet in workbook.worksheets:
        if fold(sheet.title) in DATA_SHEET_NAMES:
            return sheet
    if not workbook.worksheets:
        raise FileRejected(_("The workbook has no sheet."))
    return workbook.worksheets[0]


def _xlsx_records(workbook: Any, sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    """The sheet's rows as (row number, values), parsed in one pass.

    openpyxl's ``iter_rows`` first asks the sheet for its width; when the
    <dimension> element is missing or wrong (often) that is a second full pass
    over the XML. Its own row parser gives each row's cells with their column,
    so one pass is enough (openpyxl is pinned: this parser is part of 3.1).
    """
    try:
        with sheet._get_source() as source:
            parser = WorkSheetParser(
                source,
                sheet._shared_strings,
                data_only=False,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            for number, cells in parser.parse():
                if not cells:
                    continue
                values: list[Any] = [None] * cells[-1]["column"]
                for cell in cells:
                    values[cell["column"] - 1] = _xlsx_value(cell["value"], cell["data_type"])
                yield number, values
    except (zipfile.BadZipFile, EOFError, ElementTree.ParseError) as exc:
        raise FileRejected(_("The workbook is damaged; save it again from Excel.")) from exc


@contextmanager
def _open_xlsx(file: BinaryIO, *, max_unpacked_bytes: int, max_rows: int) -> Iterator[Table]:
    archive = _check_zip(file, max_unpacked_bytes=max_unpacked_bytes)
    file.seek(0)
    try:
        workbook = load_workbook(file, read_only=True, data_only=False)
    except zipfile.BadZipFile as exc:
        raise FileRejected(_("The workbook is damaged; save it again from Excel.")) from exc
    except Exception as exc:  # openpyxl raises many kinds on a broken workbook
        raise FileRejected(
            _("The workbook cannot be read (%(error)s); save it again from Excel.")
            % {"error": exc.__class__.__name__}
        ) from exc
    try:
        sheet = _pick_sheet(workbook)
        path = str(getattr(sheet, "_worksheet_path", "")).lstrip("/")
        if path:
            merged = _merged_ranges(archive, path, cap=max_unpacked_bytes)
            if merged:
                raise FileRejected(
                    _(
                        "The sheet “%(sheet)s” has merged cells (%(ranges)s); unmerge them so "
                        "that every value sits in its own cell."
                    )
                    % {
                        "sheet": sheet.title,
                        "ranges": ", ".join(merged[:MERGED_LISTED])
                        + (" …" if len(merged) > MERGED_LISTED else ""),
                    }
                )
        records = _xlsx_records(workbook, sheet)
        header_row, headers = _split_header(records)
        yield Table(
            format="xlsx",
            encoding=None,
            headers=headers,
            header_row=header_row,
            rows=_data_rows(records, width=len(headers), max_rows=max_rows),
        )
    finally:
        workbook.close()
        archive.close()


# --- CSV --------------------------------------------------------------------------------


def _detect_encoding(sample: bytes, *, complete: bool) -> tuple[str, int]:
    """``(encoding, bytes to skip)``: UTF-8 with BOM, UTF-8, else Windows-1258."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", len(codecs.BOM_UTF8)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample:
        raise FileRejected(
            _(
                "The file is not a text CSV file (it holds NUL bytes: perhaps Unicode Text or "
                "a binary file); save it from Excel as CSV UTF-8 (Comma delimited)."
            )
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", 0
    try:
        sample.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise FileRejected(
            _(
                "The text encoding of the file is not recognised; save it from Excel as "
                "CSV UTF-8 (Comma delimited)."
            )
        ) from exc
    return "cp1258", 0


def _sniff_delimiter(sample: str) -> str:
    """The most frequent of , ; TAB outside quotes on the first non-empty line."""
    line = next((x for x in sample.splitlines() if x.strip()), "")
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda key: counts[key])
    return best if counts[best] else ","


def _csv_lines(file: BinaryIO, *, codec: str, label: str) -> Iterator[str]:
    line = 0
    while raw := file.readline(MAX_LINE_BYTES + 1):
        line += 1
        if len(raw) > MAX_LINE_BYTES:
            raise FileRejected(
                _("Line %(line)s of the file is longer than 1 MB; the file is not a table.")
                % {"line": line}
            )
        if b"\x00" in raw:
            raise FileRejected(
                _("Line %(line)s holds NUL bytes; the file is not a text CSV file.")
                % {"line": line}
            )
        try:
            yield raw.decode(codec)
        except UnicodeDecodeError as exc:
            raise FileRejected(
                _(
                    "Line %(line)s holds bytes that are not %(encoding)s text; save the whole "
                    "file from Excel as CSV UTF-8 (Comma delimited)."
                )
                % {"line": line, "encoding": label}
            ) from exc


def _csv_records(lines: Iterator[str], *, delimiter: str) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(lines, delimiter=delimiter)
    previous = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileRejected(
                _("Line %(line)s cannot be read as CSV (%(error)s).")
                % {"line": reader.line_num, "error": exc}
            ) from exc
        start = previous + 1
        previous = reader.line_num
        values: list[Any] = [_text(strip_neutraliser(value.strip())) for value in record]
        yield start, values


_ENCODING_LABELS = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1258": "Windows-1258"}


@contextmanager
def _open_csv(file: BinaryIO, *, max_rows: int) -> Iterator[Table]:
    sample = file.read(SNIFF_BYTES)
    complete = len(sample) < SNIFF_BYTES
    encoding, skip = _detect_encoding(sample, complete=complete)
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    text_sample = sample[skip:].decode(codec, errors="ignore")
    delimiter = _sniff_delimiter(text_sample)
    file.seek(skip)
    records = _csv_records(
        _csv_lines(file, codec=codec, label=_ENCODING_LABELS[encoding]), delimiter=delimiter
    )
    header_row, headers = _split_header(records)
    yield Table(
        format="csv",
        encoding=encoding,
        headers=headers,
        header_row=header_row,
        rows=_data_rows(records, width=len(headers), max_rows=max_rows),
    )


@contextmanager
def open_table(
    file: BinaryIO,
    *,
    filename: str,
    max_bytes: int | None = None,
    max_unpacked_bytes: int | None = None,
    max_rows: int | None = None,
) -> Iterator[Table]:
    """Check ``file`` and open its data sheet; iterate ``table.rows`` inside the block.

    ``file`` is a seekable binary file (a Django ``File`` or ``io.BytesIO``);
    ``filename`` (the user's name) decides the format. The limits default to
    the ``IMPORT_MAX_*`` settings. Raises ``FileRejected`` here or while the
    rows are read (too many rows, an undecodable line, a value without header).
    """
    max_bytes = settings.IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    if max_unpacked_bytes is None:
        max_unpacked_bytes = settings.IMPORT_MAX_UNPACKED_BYTES
    max_rows = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
    file.seek(0)
    kind = _check_upload(file, filename=filename, max_bytes=max_bytes)
    if kind == "xlsx":
        with _open_xlsx(file, max_unpacked_bytes=max_unpacked_bytes, max_rows=max_rows) as table:
            yield table
    else:
        with _open_csv(file, max_rows=max_rows) as table:
            yield table

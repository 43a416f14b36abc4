"""Build the files the spreadsheet tests upload: workbooks, CSVs in legacy encodings, bombs."""

from __future__ import annotations

import io
import struct
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

#: Vietnamese tone marks: Windows-1258 writes them as separate combining characters.
TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}

OLE2_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20


def xlsx(
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Dữ liệu",
    before: Sequence[str] = (),
    merged: Sequence[str] = (),
    string_cells: Sequence[str] = (),
) -> io.BytesIO:
    """A workbook whose sheet ``title`` holds ``rows`` (``None`` = empty cell, ``[]`` = empty row).

    ``before`` adds sheets in front of it; ``merged`` merges ranges;
    ``string_cells`` forces those cells to be stored as text even if they start with ``=``.
    """
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    sheets = [*before, title]
    first.title = sheets[0]
    for name in sheets[1:]:
        workbook.create_sheet(name)
    sheet = workbook[title]
    for row in rows:
        sheet.append(list(row))
    for ref in merged:
        sheet.merge_cells(ref)
    for ref in string_cells:
        sheet[ref].data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def to_cp1258(value: str) -> bytes:
    """Encode like Vietnamese Windows: precomposed base letters, tone marks as combining bytes."""
    out = []
    for char in unicodedata.normalize("NFC", value):
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            tones = "".join(c for c in parts if c in TONE_MARKS)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def csv_bytes(
    rows: Iterable[Sequence[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\r\n",
) -> bytes:
    """A CSV with simple (unquoted) cells in ``encoding``: "utf-8", "utf-8-sig" or "cp1258"."""
    text = newline.join(delimiter.join(row) for row in rows) + newline
    if encoding == "cp1258":
        return to_cp1258(text)
    return text.encode(encoding)


def with_member(data: io.BytesIO, name: str, content: bytes) -> io.BytesIO:
    """A copy of the zip ``data`` with one more (deflated) member."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(data) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr(name, content)
    out.seek(0)
    return out


def plain_zip(members: dict[str, bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in members.items():
            target.writestr(name, content)
    out.seek(0)
    return out


def bomb_by_ratio(size: int = 8 * 1024 * 1024) -> io.BytesIO:
    """A valid workbook carrying a part of ``size`` zero bytes (compresses ~1000 times)."""
    return with_member(xlsx([["A"], ["1"]]), "xl/media/padding.bin", b"\x00" * size)


def lying_sizes(data: io.BytesIO, member: str, declared: int) -> io.BytesIO:
    """Rewrite the uncompressed size of ``member`` in both zip headers to ``declared``."""
    raw = bytearray(data.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        info = archive.getinfo(member)
    local = info.header_offset
    assert raw[local : local + 4] == b"PK\x03\x04"
    raw[local + 22 : local + 26] = struct.pack("<I", declared)
    encoded = member.encode()
    position = 0
    while True:
        position = raw.index(b"PK\x01\x02", position)
        name_length = struct.unpack("<H", raw[position + 28 : position + 30])[0]
        if bytes(raw[position + 46 : position + 46 + name_length]) == encoded:
            raw[position + 24 : position + 28] = struct.pack("<I", declared)
            break
        position += 4
    return io.BytesIO(bytes(raw))

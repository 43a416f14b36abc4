"""Text helpers shared by every service (core/text.py)."""

from __future__ import annotations

import unicodedata
import uuid

from core.text import nfc_lines
from units.selectors import public_id_or_none


def test_nfc_lines_keeps_one_entry_per_line_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Căn cứ Luật Tổ chức")
    assert nfc_lines(f"  {decomposed}  \n\n\r\n Như Điều 3 \n") == "Căn cứ Luật Tổ chức\nNhư Điều 3"
    assert nfc_lines(None) == ""


def test_public_id_or_none_reads_uuids_and_refuses_the_rest() -> None:
    value = uuid.uuid4()
    assert public_id_or_none(value) is value
    assert public_id_or_none(str(value)) == value
    assert public_id_or_none("không-phải-uuid") is None
    assert public_id_or_none(None) is None

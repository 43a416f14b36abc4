"""Vietnamese text hygiene: every piece of user text is stored NFC-normalised.

Vietnamese can be typed in composed (NFC) or decomposed (NFD) form; the two
look identical but compare, sort and search differently, and fonts may drop
combining marks. We normalise on the way in.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = re.compile(r"\d+")


def nfc(value: str | None) -> str:
    """Return ``value`` NFC-normalised with surrounding whitespace removed."""
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFC", value).split())


def nfc_lines(value: str | None) -> str:
    """Multi-line text with one entry per line (căn cứ, nơi nhận): each line NFC
    and trimmed, empty lines dropped."""
    return "\n".join(line for line in (nfc(x) for x in str(value or "").splitlines()) if line)


def fold(value: str) -> str:
    """Lower-case, accent-free form for search ("Phú Nhuận" -> "phu nhuan")."""
    decomposed = unicodedata.normalize("NFD", nfc(value).lower()).replace("đ", "d")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def natural_key(value: str) -> str:
    """Sort key that orders "Phường 2" before "Phường 10" in plain SQL ORDER BY."""
    return _DIGITS.sub(lambda m: m.group(0).zfill(8), fold(value))

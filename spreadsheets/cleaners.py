"""Turn one cell read by :mod:`spreadsheets.readers` into a Python value, or say why not.

Each cleaner takes the raw value (``str``, ``int``, ``float``, ``date``,
``datetime``, ``bool``, ``None`` or a :class:`~spreadsheets.readers.Formula`)
and returns the clean value, ``None`` for an empty optional cell, or raises
:class:`CellError` with a translated message written for the person who
filled in the sheet ("31/02/2025 is not a date: month 2 of 2025 has 28 days.").

Numbers follow the Vietnamese way of writing them: a dot between thousands and
a decimal comma (``1.234,5``); a dot not followed by exactly three digits is
read as the decimal point of an English Excel (``12.5``). Dates are
``dd/mm/yyyy``.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from openpyxl.utils.datetime import from_excel

from core.text import fold, nfc, nfc_lines
from spreadsheets.readers import Formula

#: Excel serial numbers accepted in a date column (1 = 01/01/1900, 100000 = year 2173).
EXCEL_SERIAL_RANGE = (1, 100_000)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_VN_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+$")
_VN_DECIMAL = re.compile(r"^(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+),\d+$")
_EN_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DOT_DECIMAL = re.compile(r"^\d*\.\d+$")
_DIGITS = re.compile(r"^\d+$")
_DMY = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_SHORT_YEAR = re.compile(r"^\d{1,2}([/.-])\d{1,2}\1\d{2}$")
_TRUE = frozenset({"co", "c", "x", "yes", "y", "1", "true", "dung"})
_FALSE = frozenset({"khong", "k", "no", "n", "0", "false", "sai"})


class CellError(Exception):
    """A cell cannot be used; ``message`` is translated and meant for the user."""

    def __init__(self, message: str) -> None:
        self.message = str(message)
        super().__init__(self.message)


def _empty(value: Any, required: bool) -> bool:
    """``True`` for an empty optional cell; refuses formulas and empty required cells."""
    if isinstance(value, Formula):
        raise CellError(
            _("The cell holds a formula (%(formula)s); paste the values only.")
            % {"formula": value.text}
        )
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CellError(_("This cell is required."))
        return True
    return False


def _number_text(value: Any) -> str:
    """How a cell looks, for messages."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _group(value: int | Decimal) -> str:
    """``1234567 -> "1.234.567"``, ``Decimal("1234.5") -> "1.234,5"``."""
    text = f"{value:,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def _check_range(value: Any, min_value: Any, max_value: Any) -> None:
    if min_value is not None and value < min_value:
        raise CellError(
            _("%(value)s is too small: the smallest allowed value is %(min)s.")
            % {"value": _group(value), "min": _group(min_value)}
        )
    if max_value is not None and value > max_value:
        raise CellError(
            _("%(value)s is too large: the largest allowed value is %(max)s.")
            % {"value": _group(value), "max": _group(max_value)}
        )


def text(
    value: Any, *, required: bool = False, max_length: int | None = None, multiline: bool = False
) -> str:
    """Text, NFC and with whitespace collapsed (``multiline``: one entry per line).

    Numbers that Excel stored for a code typed as a number come back as the code
    (``1234.0 -> "1234"``). Empty optional cells give ``""``.
    """
    if _empty(value, required):
        return ""
    if isinstance(value, bool):
        result = _("yes") if value else _("no")
    elif isinstance(value, (int, float, Decimal, datetime.date)):
        result = _number_text(value)
    else:
        result = nfc_lines(str(value)) if multiline else nfc(str(value))
    if not result and required:
        raise CellError(_("This cell is required."))
    if max_length is not None and len(result) > max_length:
        raise CellError(
            _("The text is %(length)s characters long; at most %(max)s are allowed.")
            % {"length": len(result), "max": max_length}
        )
    return result


def _parse_decimal(value: Any) -> Decimal:
    """A number cell or a text in Vietnamese (or plain English-Excel) notation."""
    if isinstance(value, bool):
        raise CellError(_("%(value)s is not a number.") % {"value": _number_text(value)})
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, (float, Decimal)):
        cell = Decimal(repr(value)) if isinstance(value, float) else value
        if not cell.is_finite():  # NaN or infinity: no cell of a sheet means that
            raise CellError(_("%(value)s is not a number.") % {"value": _number_text(value)})
        return cell
    if isinstance(value, datetime.date):
        raise CellError(_("%(value)s is a date, not a number.") % {"value": _number_text(value)})
    shown = str(value).strip()
    raw = _SPACES.sub("", shown).replace("\u2212", "-")
    sign = ""
    if raw[:1] in "+-":
        sign, raw = ("-" if raw[0] == "-" else ""), raw[1:]
    if _DIGITS.match(raw):
        number = raw
    elif _VN_THOUSANDS.match(raw):
        number = raw.replace(".", "")
    elif _VN_DECIMAL.match(raw):
        number = raw.replace(".", "").replace(",", ".")
    elif _EN_GROUPED.match(raw):
        raise CellError(
            _(
                "%(value)s is written the English way; write numbers with a dot between "
                "thousands and a decimal comma, e.g. 1.234,5."
            )
            % {"value": shown}
        )
    elif _DOT_DECIMAL.match(raw):
        number = raw
    else:
        raise CellError(_("%(value)s is not a number.") % {"value": shown})
    return Decimal(sign + number)


def integer(
    value: Any,
    *,
    required: bool = False,
    min_value: int | None = None,
    max_value: int | None = None,
) -> int | None:
    """A whole number: ``12``, ``12.0`` from Excel, ``"1.234"`` or ``"1 234"``."""
    if _empty(value, required):
        return None
    if isinstance(value, str) and "," in value:
        raise CellError(
            _(
                "%(value)s is not a whole number; write whole numbers without a decimal comma, "
                "with dots or spaces between thousands, e.g. 1.234."
            )
            % {"value": value.strip()}
        )
    number = _parse_decimal(value)
    if number != number.to_integral_value():
        raise CellError(_("%(value)s is not a whole number.") % {"value": _number_text(value)})
    result = int(number)
    _check_range(result, min_value, max_value)
    return result


def decimal(
    value: Any,
    *,
    required: bool = False,
    min_value: Decimal | int | None = None,
    max_value: Decimal | int | None = None,
    places: int | None = None,
) -> Decimal | None:
    """A number: ``"1.234,5"``, ``"1234,5"``, ``"1.234"`` (= 1234), ``"12.5"`` or a number cell.

    ``places`` is the most digits allowed after the decimal comma; a number cell
    that only differs by floating-point noise is rounded to it.
    """
    if _empty(value, required):
        return None
    number = _parse_decimal(value)
    if places is not None:
        quantum = Decimal(1).scaleb(-places)
        try:
            rounded = number.quantize(quantum)
        except InvalidOperation:  # more digits than any amount the sheets hold
            raise CellError(
                _("%(value)s has too many digits.") % {"value": _number_text(value)}
            ) from None
        noise = isinstance(value, float) and abs(rounded - number) < Decimal("1e-9")
        if rounded != number and not noise:
            raise CellError(
                _("%(value)s has too many digits after the decimal comma; at most %(places)s.")
                % {"value": _number_text(value), "places": places}
            )
        number = rounded
    _check_range(number, min_value, max_value)
    return number


def _make_date(day: int, month: int, year: int, shown: str) -> datetime.date:
    if year < 1900 or year > 2100:
        raise CellError(
            _("%(value)s is not a plausible date: the year must be between 1900 and 2100.")
            % {"value": shown}
        )
    if not 1 <= month <= 12:
        if 1 <= day <= 12 and 1 <= month <= 31:
            example = f"{month:02d}/{day:02d}/{year}"
        else:
            example = "25/12/2024"
        raise CellError(
            _(
                "%(value)s: month %(month)s does not exist: dates are written dd/mm/yyyy, "
                "e.g. %(example)s."
            )
            % {"value": shown, "month": month, "example": example}
        )
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise CellError(
            _("%(value)s is not a date: month %(month)s of %(year)s has %(days)s days.")
            % {"value": shown, "month": month, "year": year, "days": days}
        )
    return datetime.date(year, month, day)


def date(value: Any, *, required: bool = False) -> datetime.date | None:
    """A date cell, an Excel serial number, or text ``dd/mm/yyyy`` (also ``-`` and ``.``)
    or ``yyyy-mm-dd``."""
    if _empty(value, required):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = EXCEL_SERIAL_RANGE
        if low <= value <= high:
            return from_excel(int(value)).date()
        raise CellError(
            _("%(value)s is not a date; write dates as dd/mm/yyyy, e.g. 25/12/2024.")
            % {"value": _number_text(value)}
        )
    shown = str(value).strip()
    if match := _DMY.match(shown):
        return _make_date(int(match[1]), int(match[3]), int(match[4]), shown)
    if match := _ISO.match(shown):
        return _make_date(int(match[3]), int(match[2]), int(match[1]), shown)
    if _SHORT_YEAR.match(shown):
        raise CellError(
            _("%(value)s: write the year with four digits, e.g. 25/12/2024.") % {"value": shown}
        )
    raise CellError(
        _("%(value)s is not a date; write dates as dd/mm/yyyy, e.g. 25/12/2024.") % {"value": shown}
    )


def year(
    value: Any, *, required: bool = False, min_value: int = 1900, max_value: int = 2100
) -> int | None:
    """A four-digit year (a number cell or text)."""
    if _empty(value, required):
        return None
    shown = _number_text(value)
    if isinstance(value, bool) or not _DIGITS.match(shown):
        raise CellError(
            _("%(value)s is not a year; write it with four digits, e.g. 2025.") % {"value": shown}
        )
    result = int(shown)
    if not min_value <= result <= max_value:
        raise CellError(
            _("%(value)s is not a year between %(min)s and %(max)s.")
            % {"value": shown, "min": min_value, "max": max_value}
        )
    return result


def boolean(value: Any, *, required: bool = False) -> bool | None:
    """Yes/no: có/không, x, yes/no, 1/0, true/false, đúng/sai (any case, with or without accents)."""
    if _empty(value, required):
        return None
    if isinstance(value, bool):
        return value
    key = fold(_number_text(value))
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError(
        _("“%(value)s” is not yes or no; write “có” or “không” (or x for yes).")
        % {"value": _number_text(value)}
    )


def choice(value: Any, choices: Sequence[tuple[str, str]], *, required: bool = False) -> str | None:
    """One of ``choices`` (``[(code, label)]``) given by its label or its code; returns the code."""
    if _empty(value, required):
        return None
    key = fold(_number_text(value))
    for code, label in choices:
        if key in (fold(str(code)), fold(str(label))):
            return code
    raise CellError(
        _("“%(value)s” is not one of the allowed values: %(allowed)s.")
        % {
            "value": _number_text(value),
            "allowed": "; ".join(str(label) for _code, label in choices),
        }
    )

from __future__ import annotations

import datetime
import unicodedata
from decimal import Decimal
from typing import Any

import pytest

from spreadsheets import cleaners
from spreadsheets.cleaners import CellError
from spreadsheets.readers import Formula

FORMULA = Formula("=SUM(A1:A3)")
EVERY_CLEANER = [
    cleaners.text,
    cleaners.integer,
    cleaners.decimal,
    cleaners.date,
    cleaners.year,
    cleaners.boolean,
    lambda value, **kw: cleaners.choice(value, [("a", "A")], **kw),
]


def error(function: Any, value: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(CellError) as caught:
        function(value, *args, **kwargs)
    return caught.value.message


@pytest.mark.parametrize("clean", EVERY_CLEANER)
def test_formula_is_refused_everywhere(clean: Any) -> None:
    message = error(clean, FORMULA)
    assert "=SUM(A1:A3)" in message
    assert "paste the values only" in message


@pytest.mark.parametrize("clean", EVERY_CLEANER)
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_required_and_optional_empty_cells(clean: Any, empty: Any) -> None:
    assert error(clean, empty, required=True) == "This cell is required."
    assert clean(empty) in (None, "")


# --- text ---------------------------------------------------------------------------------


def test_text_is_nfc_and_collapsed() -> None:
    assert cleaners.text(unicodedata.normalize("NFD", "  Nguyễn   Thị Hương ")) == (
        "Nguyễn Thị Hương"
    )
    assert cleaners.text("12 Lê Lợi\n  Quận 1 ", multiline=True) == "12 Lê Lợi\nQuận 1"


def test_text_from_numbers_keeps_codes() -> None:
    assert cleaners.text(1234.0) == "1234"
    assert cleaners.text(79) == "79"
    assert cleaners.text(12.5) == "12.5"
    assert cleaners.text(datetime.date(2024, 12, 25)) == "25/12/2024"


def test_text_max_length() -> None:
    assert cleaners.text("abc", max_length=3) == "abc"
    message = error(cleaners.text, "abcd", max_length=3)
    assert "4" in message and "3" in message


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        (12.0, 12),
        ("12", 12),
        ("1.234", 1234),
        ("1.234.567", 1234567),
        ("1 234", 1234),
        ("1\u00a0234", 1234),
        ("-7", -7),
        ("0", 0),
    ],
)
def test_integer_accepts(value: Any, expected: int) -> None:
    assert cleaners.integer(value) == expected


@pytest.mark.parametrize("value", ["1,5", "1,000", 2.5, "1.5", "abc", "12a", True])
def test_integer_refuses(value: Any) -> None:
    error(cleaners.integer, value)


def test_integer_messages() -> None:
    assert "not a whole number" in error(cleaners.integer, "1,5")
    assert "not a whole number" in error(cleaners.integer, 2.5)
    assert "1.000" in error(cleaners.integer, 5000, max_value=1000)
    assert "too small" in error(cleaners.integer, -1, min_value=0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.234,5", Decimal("1234.5")),
        ("1234,5", Decimal("1234.5")),
        ("1.234", Decimal("1234")),
        ("12.5", Decimal("12.5")),
        ("0.125", Decimal("0.125")),
        ("1.234.567,89", Decimal("1234567.89")),
        ("-1.234,5", Decimal("-1234.5")),
        ("1 234,5", Decimal("1234.5")),
        (12.5, Decimal("12.5")),
        (3, Decimal(3)),
        (0.1, Decimal("0.1")),
    ],
)
def test_decimal_accepts_vietnamese_notation(value: Any, expected: Decimal) -> None:
    assert cleaners.decimal(value) == expected


def test_decimal_refuses_english_grouping_with_advice() -> None:
    message = error(cleaners.decimal, "1,234.5")
    assert "1.234,5" in message
    assert "English" in message
    assert "not a number" in error(cleaners.decimal, "12,3,4")
    assert "not a number" in error(cleaners.decimal, "abc")


def test_decimal_places_and_range() -> None:
    assert cleaners.decimal("1,25", places=2) == Decimal("1.25")
    assert "too many digits" in error(cleaners.decimal, "1,255", places=2)
    assert cleaners.decimal(0.1 + 0.2, places=2) == Decimal("0.30")
    assert "too large" in error(cleaners.decimal, "100,5", max_value=100)
    assert cleaners.decimal("100", max_value=100) == Decimal(100)


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "25/12/2024",
        "25-12-2024",
        "25.12.2024",
        "2024-12-25",
        " 25/12/2024 ",
        "25/12/2024 00:00",
        datetime.date(2024, 12, 25),
        datetime.datetime.fromisoformat("2024-12-25T08:30"),
        45651,
        45651.0,
    ],
)
def test_date_accepts(value: Any) -> None:
    assert cleaners.date(value) == datetime.date(2024, 12, 25)


def test_date_short_forms() -> None:
    assert cleaners.date("5/3/2025") == datetime.date(2025, 3, 5)


def test_month_day_order_is_refused_with_the_right_example() -> None:
    message = error(cleaners.date, "12/25/2024")
    assert "month 25 does not exist" in message
    assert "dd/mm/yyyy" in message
    assert "25/12/2024" in message


def test_impossible_day_names_the_month_length() -> None:
    assert error(cleaners.date, "31/02/2025") == (
        "31/02/2025 is not a date: month 2 of 2025 has 28 days."
    )
    assert "29 days" in error(cleaners.date, "30/02/2024")
    assert cleaners.date("29/02/2024") == datetime.date(2024, 2, 29)


@pytest.mark.parametrize("value", ["25/12/24", "1/1/99"])
def test_two_digit_years_are_refused(value: str) -> None:
    assert "four digits" in error(cleaners.date, value)


@pytest.mark.parametrize("value", ["25/12", "hôm qua", "25/12-2024", 0, 200000, True, "01/01/1800"])
def test_date_refuses(value: Any) -> None:
    error(cleaners.date, value)


def test_year() -> None:
    assert cleaners.year(2025) == 2025
    assert cleaners.year(2025.0) == 2025
    assert cleaners.year("2025") == 2025
    assert "between 1900 and 2100" in error(cleaners.year, 1800)
    assert cleaners.year("2030", max_value=2030) == 2030
    assert "four digits" in error(cleaners.year, "năm nay")
    error(cleaners.year, 2025.5)


# --- yes/no and choices -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["có", "Có", "CO", "x", "X", "yes", "1", 1, 1.0, "true", "TRUE", "đúng", "Dung", True]
)
def test_boolean_true(value: Any) -> None:
    assert cleaners.boolean(value) is True


@pytest.mark.parametrize("value", ["không", "Khong", "no", "0", 0, "false", "sai", "SAI", False])
def test_boolean_false(value: Any) -> None:
    assert cleaners.boolean(value) is False


def test_boolean_refuses_other_words() -> None:
    message = error(cleaners.boolean, "có thể")
    assert "có thể" in message
    assert "không" in message
    error(cleaners.boolean, 2)


CHOICES = [("excellent", "Xuất sắc"), ("good", "Hoàn thành tốt"), ("done", "Hoàn thành")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Xuất sắc", "excellent"),
        ("xuat sac", "excellent"),
        ("XUẤT SẮC", "excellent"),
        (unicodedata.normalize("NFD", "hoàn thành tốt"), "good"),
        ("hoan thanh", "done"),
        ("done", "done"),
        ("GOOD", "good"),
    ],
)
def test_choice_by_label_or_code_without_accents(value: str, expected: str) -> None:
    assert cleaners.choice(value, CHOICES) == expected


def test_choice_numeric_codes_typed_as_numbers() -> None:
    assert cleaners.choice(2.0, [("1", "Một"), ("2", "Hai")]) == "2"


def test_choice_error_lists_the_labels() -> None:
    message = error(cleaners.choice, "Tốt", CHOICES)
    assert "Tốt" in message
    assert "Xuất sắc; Hoàn thành tốt; Hoàn thành" in message


def test_messages_are_translated_into_vietnamese() -> None:
    from django.utils import translation

    with translation.override("vi"):
        assert error(cleaners.date, "31/02/2025").startswith(
            "31/02/2025 không phải là ngày có thật"
        )
        assert error(cleaners.text, None, required=True) == "Ô này bắt buộc phải điền."

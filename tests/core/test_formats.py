"""Vietnamese formats (STYLE.md, "Vietnamese, done right")."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import formats, translation


def test_short_date_is_day_month_year() -> None:
    with translation.override("vi"):
        assert formats.date_format(dt.date(2025, 6, 5), "SHORT_DATE_FORMAT") == "05/06/2025"


def test_thousands_are_grouped_with_dots() -> None:
    with translation.override("vi"):
        assert formats.number_format(1234567, force_grouping=True) == "1.234.567"
        assert formats.number_format(1234567.5, decimal_pos=1, force_grouping=True) == "1.234.567,5"


def test_date_input_is_read_day_first() -> None:
    field = forms.DateField()
    with translation.override("vi"):
        assert field.clean("05/06/2025") == dt.date(2025, 6, 5)
        assert field.clean("05-06-2025") == dt.date(2025, 6, 5)
        assert field.clean("2025-06-05") == dt.date(2025, 6, 5)


def test_first_day_of_week_is_monday() -> None:
    with translation.override("vi"):
        assert formats.get_format("FIRST_DAY_OF_WEEK") == 1

"""The readers' and cleaners' tests read their messages in English (the msgids);
one test per module checks the Vietnamese translation explicitly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

ENGLISH_MODULES = {"test_cleaners", "test_readers", "test_writers"}


@pytest.fixture(autouse=True)
def _messages_in_english(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.module.__name__.rsplit(".", 1)[-1] in ENGLISH_MODULES:
        with translation.override("en"):
            yield
    else:
        yield

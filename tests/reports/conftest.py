"""Every reports test starts with an empty cache (the dashboard keeps rendered
figure fragments there; the locmem cache outlives a test's rolled-back rows)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()

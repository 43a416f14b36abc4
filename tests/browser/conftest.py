"""Browser tests: Debian's chromium driven through Playwright's sync API.

Without chromium the tests skip, unless ``XHHT_REQUIRE_BROWSER=1`` (set by
``.ci/run``), when a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from units.demo.seed import DEMO_PASSWORD, seed_demo

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def _chromium_path() -> str | None:
    for candidate in (os.environ.get("XHHT_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def _unavailable(reason: str) -> None:
    if os.environ.get("XHHT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (XHHT_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless chromium, started per test and closed afterwards."""
    executable = _chromium_path()
    if executable is None:
        _unavailable("Debian chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    # Playwright's sync API keeps an asyncio loop running in this thread, so
    # Django's async-safety check would refuse the ORM calls the test makes.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Django keeps connections in context variables, and Playwright's
            # loop gives this block its own context: close what it opened here,
            # or the session's test database cannot be dropped at the end.
            connections.close_all()


@pytest.fixture
def demo_site(live_server: Any, transactional_db: None) -> str:
    """The demo tenants, units and users — after the 2025 reform plan, so the HCMC
    tenant is two-tier — behind a live server; returns its URL."""
    seed_demo(with_cycle=False)
    return str(live_server.url)


@pytest.fixture
def new_page(chromium: Any, demo_site: str) -> Callable[..., Any]:
    """Open a page in a fresh browser context (its own cookies) at ``locale``."""

    def open_page(locale: str = "vi-VN") -> Any:
        context = chromium.new_context(base_url=demo_site, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        return context.new_page()

    return open_page


def _sign_in(page: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.locator('input[name="login"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        page.locator('input[name="password"]').press("Enter")
    assert "/accounts/login/" not in page.url, f"sign-in as {username} failed: {page.url}"


@pytest.fixture
def sign_in() -> Callable[..., None]:
    """Sign a page in through the allauth form (fields ``login`` and ``password``)."""
    return _sign_in

"""Two-factor sign-in in a real browser (issue 10 §1).

The Hải Phòng demo tenant requires two-factor sign-in of reviewers and
administrators. A reviewer of that tenant signs in with the password, is taken
to the authenticator set-up and can open nothing else, scans (here: reads) the
secret, types the code an authenticator app would show (computed in the test
with allauth's TOTP functions), is offered recovery codes, signs out, and signs
in again with password and code.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from accounts.services import user_ensure
from units.demo.seed import DEMO_PASSWORD
from units.models import AdministrativeUnit, Tenant
from units.roles import Role
from units.services import role_assign

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - dev dependency missing
    if os.environ.get("XHHT_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

REVIEWER = "reviewer.hp"
SET_UP = "/accounts/2fa/totp/activate/"


def _code(secret: str) -> str:
    """The code an authenticator app shows now for ``secret``."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _hp_reviewer() -> None:
    tenant = Tenant.objects.get(slug="hai-phong")
    assert set(tenant.mfa_required_roles) == {Role.REVIEWER, Role.TENANT_ADMIN}
    user = user_ensure(
        tenant=tenant,
        username=REVIEWER,
        email="reviewer.hp@demo.xhht.vn",
        full_name="Phạm Thị Thẩm Định",
        password=DEMO_PASSWORD,
    )
    root = AdministrativeUnit.objects.get(tenant=tenant, parent__isnull=True)
    role_assign(actor=None, user=user, unit=root, role=Role.REVIEWER)


def _password_step(page: Any) -> None:
    page.goto("/accounts/login/")
    page.locator('input[name="login"]').fill(REVIEWER)
    page.locator('input[name="password"]').fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator('input[name="password"]').press("Enter")


def _sign_out(page: Any) -> None:
    page.get_by_test_id("whoami").click()
    with page.expect_navigation():
        page.locator('form[action="/accounts/logout/"] button[type="submit"]').click()


def test_reviewer_sets_up_an_authenticator_and_signs_in_with_a_code(
    new_page: Callable[..., Any],
) -> None:
    _hp_reviewer()
    page = new_page()
    _password_step(page)

    # Sent to the set-up, and kept there.
    assert page.url.endswith(SET_UP), page.url
    expect(page.get_by_test_id("mfa-setup-required")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.goto("/units/")
    assert page.url.endswith(SET_UP), "nothing else opens before the set-up"

    secret = page.locator("#authenticator_secret").input_value()
    assert len(secret) >= 16
    expect(page.locator(".qr-code svg")).to_be_visible()
    page.locator('input[name="code"]').fill(_code(secret))
    with page.expect_navigation():
        page.locator('input[name="code"]').press("Enter")

    # Recovery codes are offered once the app is set up.
    assert "/accounts/2fa/recovery-codes/" in page.url, page.url
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10
    page.get_by_test_id("mfa-continue").click()
    page.goto("/units/")
    assert page.url.endswith("/units/"), page.url
    expect(page.get_by_test_id("whoami")).to_be_visible()

    _sign_out(page)
    assert "/accounts/login/" in page.url, page.url

    # Password, then the code from the app.
    _password_step(page)
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    page.locator('input[name="code"]').fill(_code(secret))
    with page.expect_navigation():
        page.locator('input[name="code"]').press("Enter")
    assert "/accounts/" not in page.url, page.url
    expect(page.get_by_test_id("whoami")).to_be_visible()
    page.goto("/units/")
    assert page.url.endswith("/units/"), page.url

"""Brute force (issue 10 §1): django-axes locks an account from one address after
AXES_FAILURE_LIMIT wrong passwords, for AXES_COOLOFF_TIME; success resets the
count; a tenant administrator (or a superuser in the Django admin) unlocks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.lockout import lockout_message
from accounts.models import User
from core.models import AuditEvent
from tests.conftest import Cast, client_for
from tests.factories import PASSWORD, grant, make_user
from units.roles import Role

OFFICE = "203.0.113.10"
HOME = "198.51.100.7"


@pytest.fixture(autouse=True)
def _clean_counters() -> Any:
    """allauth's rate limits live in the cache; axes' attempts in the database
    (rolled back after each test)."""
    cache.clear()
    yield
    cache.clear()


def _sign_in(login: str, password: str, ip: str = OFFICE, client: Client | None = None) -> Any:
    return (client or Client()).post(
        reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=ip
    )


def _fail(times: int, login: str = "reviewer", ip: str = OFFICE) -> list[int]:
    return [_sign_in(login, "wrong password", ip).status_code for _ in range(times)]


def test_settings_lock_after_five_failures_for_thirty_minutes() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert dt.timedelta(minutes=30) == settings.AXES_COOLOFF_TIME
    assert settings.AUTHENTICATION_BACKENDS[0] == "accounts.backends.RequestAxesBackend"
    assert "axes.middleware.AxesMiddleware" in settings.MIDDLEWARE


def test_fifth_wrong_password_locks_the_account_from_that_address(cast: Cast) -> None:
    assert _fail(4) == [200, 200, 200, 200]
    locked = _sign_in("reviewer", "wrong password")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert 'data-testid="lockout"' in page
    with translation.override("vi"):
        assert str(lockout_message()) in page

    client = Client()
    again = _sign_in("reviewer", PASSWORD, client=client)
    assert again.status_code == 429, "locked: even the right password is refused"
    assert "_auth_user_id" not in client.session

    # The lock holds the pair (account, address) only.
    assert _sign_in("ward", PASSWORD).status_code == 302
    assert _sign_in("reviewer", PASSWORD, ip=HOME).status_code == 302


def test_lockout_page_in_english(cast: Cast) -> None:
    _fail(5)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _sign_in("reviewer", PASSWORD, client=client).content.decode()
    assert "Too many wrong passwords" in page
    assert "30 minutes" in page


def test_username_and_email_count_towards_the_same_account(cast: Cast) -> None:
    email = User.objects.get(username="reviewer").email
    assert email
    _fail(3, login="reviewer")
    _fail(1, login=email.upper())
    assert _sign_in(email, "wrong password").status_code == 429
    assert _sign_in("reviewer", PASSWORD).status_code == 429


def test_success_resets_the_count(cast: Cast) -> None:
    _fail(4)
    assert _sign_in("reviewer", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="reviewer").exists()
    assert _fail(4) == [200, 200, 200, 200]


def test_lock_lifts_after_the_cool_off(cast: Cast) -> None:
    _fail(5)
    assert _sign_in("reviewer", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=31))
    assert _sign_in("reviewer", PASSWORD).status_code == 302


def test_api_style_requests_get_json(cast: Cast) -> None:
    _fail(5)
    response = Client().post(
        reverse("account_login"),
        {"login": "reviewer", "password": PASSWORD},
        REMOTE_ADDR=OFFICE,
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


def test_tenant_admin_sees_and_lifts_the_lock(cast: Cast) -> None:
    _fail(5)
    admin = client_for(cast.admin)
    url = reverse("accounts:user-detail", kwargs={"public_id": cast.reviewer.public_id})
    page = admin.get(url).content.decode()
    assert 'data-testid="locked-out"' in page
    unlock = reverse("accounts:user-unlock", kwargs={"public_id": cast.reviewer.public_id})
    assert admin.post(unlock).status_code == 302
    assert _sign_in("reviewer", PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="user.unlock")
    assert event.actor == cast.admin
    assert 'data-testid="locked-out"' not in admin.get(url).content.decode()


def test_unlock_is_for_the_users_administrators_only(cast: Cast) -> None:
    _fail(5)
    unlock = reverse("accounts:user-unlock", kwargs={"public_id": cast.reviewer.public_id})
    # Read-only and non-admin roles: forbidden; another tenant's admin: not found.
    assert client_for(cast.viewer).post(unlock).status_code == 403
    assert client_for(cast.ward_official).post(unlock).status_code == 403
    hp_admin = grant(make_user(cast.other_tenant, "admin.hp"), cast.other_city, Role.TENANT_ADMIN)
    assert client_for(hp_admin).post(unlock).status_code == 404
    # A district administrator may not unlock the city administrator.
    district_admin = grant(
        make_user(cast.tenant, "district.admin"), cast.district, Role.TENANT_ADMIN
    )
    _fail(5, login="admin", ip=HOME)  # (another address: allauth limits 10 failures/min per IP)
    city_unlock = reverse("accounts:user-unlock", kwargs={"public_id": cast.admin.public_id})
    client_for(district_admin).post(city_unlock)
    assert _sign_in("admin", PASSWORD, ip=HOME).status_code == 429
    assert _sign_in("reviewer", PASSWORD).status_code == 429


def test_superuser_unlocks_in_the_django_admin(cast: Cast) -> None:
    _fail(5)
    attempt = AccessAttempt.objects.get(username="reviewer")
    root = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    client.force_login(root)
    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert _sign_in("reviewer", PASSWORD).status_code == 302


def test_django_admin_login_goes_through_the_site_sign_in() -> None:
    response = Client().get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=%2Fadmin%2F" in response["Location"]
    # Its old password form is gone: a POST is no way round the lock-out or 2FA.
    post = Client().post(reverse("admin:login"), {"username": "x", "password": "y"})
    assert post.status_code == 302

"""Two-factor sign-in per tenant (issue 10 §1): who must use it, the set-up that
blocks everything else, sign-in with a code, recovery codes, turning it off."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.middleware import MFA_REQUIRED_CODE
from accounts.models import User
from accounts.security import tenant_set_mfa_roles
from accounts.two_factor import mfa_required
from core.models import AuditEvent
from tests.conftest import Cast, client_for
from tests.factories import PASSWORD, grant, make_user
from units import services as unit_services
from units.models import Tenant
from units.roles import Role

#: A fixed instant, so the codes of the test are computed for a known period.
NOW = 1_790_000_000.0
PERIOD = 30


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def strict(cast: Cast) -> Cast:
    """The cast's tenant with the production default: reviewers and admins need 2FA."""
    tenant_set_mfa_roles(actor=None, tenant=cast.tenant, roles=[Role.REVIEWER, Role.TENANT_ADMIN])
    for user in cast.users.values():
        user.refresh_from_db()
    return cast


def _code(secret: str, at: float) -> str:
    return format_hotp_value(hotp_value(secret, int(at) // PERIOD))


def _at(instant: float) -> Any:
    return mock.patch("allauth.mfa.totp.internal.auth.time.time", return_value=instant)


def _sign_in(client: Client, login: str, password: str = PASSWORD) -> Any:
    return client.post(reverse("account_login"), {"login": login, "password": password})


def _set_up_totp(client: Client, at: float = NOW) -> str:
    """Open the set-up page, type the code of the secret it shows; the secret."""
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    assert secret in page.content.decode(), "the secret is shown for typing by hand"
    with _at(at):
        done = client.post(reverse("mfa_activate_totp"), {"code": _code(secret, at)})
    assert done.status_code == 302, done.content.decode()[:500]
    assert done["Location"] == reverse("mfa_view_recovery_codes")
    return secret


# --- Who must ---------------------------------------------------------------------------


def test_new_tenants_require_it_of_reviewers_and_admins(db: None) -> None:
    tenant = unit_services.tenant_create(name="Tỉnh Mới", slug="moi", code="99")
    assert Tenant.objects.get(pk=tenant.pk).mfa_required_roles == ["reviewer", "tenant_admin"]


def test_required_by_role_in_the_users_tenant(strict: Cast) -> None:
    assert mfa_required(strict.reviewer)
    assert mfa_required(strict.admin)
    assert not mfa_required(strict.ward_official)
    assert not mfa_required(strict.viewer)
    # The other tenant (tests' default: off) requires it of nobody.
    hp_admin = grant(
        make_user(strict.other_tenant, "admin.hp"), strict.other_city, Role.TENANT_ADMIN
    )
    assert not mfa_required(hp_admin)


# --- Enforcement -------------------------------------------------------------------------


def test_sign_in_without_an_authenticator_leads_to_its_set_up(strict: Cast) -> None:
    client = Client()
    signed_in = _sign_in(client, "reviewer")
    assert signed_in.status_code == 302
    home = client.get(reverse("core:home"))
    assert home.status_code == 302
    assert home["Location"] == reverse("mfa_activate_totp")
    for url in (reverse("accounts:token-list"), "/units/", reverse("admin:index")):
        assert client.get(url)["Location"] == reverse("mfa_activate_totp")
    # POSTs are refused the same way (nothing is written).
    assert client.post(reverse("accounts:token-list"), {"name": "x"}).status_code == 302
    assert not strict.reviewer.api_tokens.exists()
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    assert 'data-testid="mfa-setup-required"' in page.content.decode()


def test_what_stays_reachable_during_set_up(strict: Cast) -> None:
    client = client_for(strict.reviewer)
    assert client.get(reverse("mfa_index")).status_code == 200
    # (Static files are served by WhiteNoise before any of this; here: not redirected.)
    assert client.get(settings.STATIC_URL + "css/xhht.css").status_code != 302
    switched = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert switched.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    out = client.post(reverse("account_logout"))
    assert out.status_code == 302
    assert "_auth_user_id" not in client.session


def test_api_calls_answer_403_with_a_message(strict: Cast) -> None:
    client = client_for(strict.reviewer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/api/v1/me")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == MFA_REQUIRED_CODE
    assert "two-factor" in body["detail"]
    # A ward official of the same tenant is not concerned.
    assert client_for(strict.ward_official).get("/api/v1/me").status_code == 200


def test_a_token_made_before_the_requirement_opens_nothing_until_set_up(cast: Cast) -> None:
    from accounts.services import api_token_create

    _token, raw = api_token_create(user=cast.reviewer, name="Máy chủ báo cáo")
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/me", **auth).status_code == 200
    tenant_set_mfa_roles(actor=None, tenant=cast.tenant, roles=[Role.REVIEWER])
    with translation.override("en"):
        refused = client.get("/api/v1/me", **auth)
    assert refused.status_code == 403
    assert refused.json()["code"] == MFA_REQUIRED_CODE
    Authenticator.objects.create(
        user=cast.reviewer, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    assert client.get("/api/v1/me", **auth).status_code == 200


def test_api_message_follows_the_chosen_language(strict: Cast) -> None:
    client = client_for(strict.reviewer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "authenticator app" in client.get("/api/v1/me").json()["detail"]


def test_htmx_requests_are_sent_to_the_set_up(strict: Cast) -> None:
    response = client_for(strict.admin).get(reverse("core:home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response["HX-Redirect"] == reverse("mfa_activate_totp")


def test_roles_not_listed_are_not_held_up(strict: Cast) -> None:
    assert client_for(strict.ward_official).get(reverse("core:home")).status_code == 200
    assert client_for(strict.viewer).get(reverse("core:home")).status_code == 200


# --- The full sign-in ---------------------------------------------------------------------


def test_set_up_then_sign_in_with_a_code(strict: Cast) -> None:
    client = Client()
    _sign_in(client, "reviewer")
    secret = _set_up_totp(client)
    codes = Authenticator.objects.get(user=strict.reviewer, type=Authenticator.Type.RECOVERY_CODES)
    shown = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    unused = codes.wrap().get_unused_codes()
    assert len(unused) == 10
    assert all(code in shown for code in unused), "recovery codes are offered"
    assert client.get(reverse("core:home")).status_code == 200
    client.post(reverse("account_logout"))

    # The password alone no longer signs in: allauth asks for the code.
    again = Client()
    step = _sign_in(again, "reviewer")
    assert step.status_code == 302
    assert step["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in again.session
    assert again.get(reverse("core:home"))["Location"].startswith(reverse("account_login"))
    later = NOW + PERIOD
    with _at(later):
        wrong = again.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert wrong.status_code == 200
        assert "_auth_user_id" not in again.session
        done = again.post(reverse("mfa_authenticate"), {"code": _code(secret, later)})
    assert done.status_code == 302
    assert again.session["_auth_user_id"] == str(strict.reviewer.pk)
    assert again.get(reverse("core:home")).status_code == 200
    assert again.get("/api/v1/me").status_code == 200


def test_a_recovery_code_signs_in_once(strict: Cast) -> None:
    client = Client()
    _sign_in(client, "admin")
    _set_up_totp(client)
    client.post(reverse("account_logout"))
    rc = Authenticator.objects.get(user=strict.admin, type=Authenticator.Type.RECOVERY_CODES)
    code = rc.wrap().get_unused_codes()[0]

    first = Client()
    _sign_in(first, "admin")
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert first.session["_auth_user_id"] == str(strict.admin.pk)

    second = Client()
    _sign_in(second, "admin")
    assert second.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200
    assert "_auth_user_id" not in second.session


def test_authenticator_cannot_be_turned_off_while_required(strict: Cast) -> None:
    client = Client()
    _sign_in(client, "reviewer")
    _set_up_totp(client)
    index = client.get(reverse("mfa_index")).content.decode()
    assert reverse("mfa_deactivate_totp") not in index
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    refused = client.post(reverse("mfa_deactivate_totp"))
    assert refused.status_code == 200
    assert "cannot be turned off" in refused.content.decode()
    assert Authenticator.objects.filter(user=strict.reviewer, type=Authenticator.Type.TOTP).exists()


# --- The tenant's setting --------------------------------------------------------------------


def test_tenant_admin_turns_it_off_and_on(strict: Cast) -> None:
    admin = Client()
    _sign_in(admin, "admin")
    _set_up_totp(admin)
    url = reverse("accounts:tenant-security")
    page = admin.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["mfa_required_roles"] == ["reviewer", "tenant_admin"]

    assert admin.post(url, {"mfa_required_roles": ["tenant_admin"]}).status_code == 302
    strict.tenant.refresh_from_db()
    assert strict.tenant.mfa_required_roles == ["tenant_admin"]
    event = AuditEvent.objects.filter(action="tenant.mfa_roles").latest("pk")
    assert event.actor == strict.admin
    assert event.before == {"mfa_required_roles": ["reviewer", "tenant_admin"]}
    assert event.after == {"mfa_required_roles": ["tenant_admin"]}
    # Reviewers now work with a password only.
    assert client_for(strict.reviewer).get(reverse("core:home")).status_code == 200

    admin.post(url, {"mfa_required_roles": ["reviewer", "tenant_admin"]})
    assert client_for(strict.reviewer).get(reverse("core:home")).status_code == 302


def test_turning_it_off_for_all_roles(strict: Cast) -> None:
    tenant_set_mfa_roles(actor=None, tenant=strict.tenant, roles=[])
    for user in (strict.admin, strict.reviewer):
        assert client_for(User.objects.get(pk=user.pk)).get(reverse("core:home")).status_code == 200


def test_only_root_admins_change_the_setting(strict: Cast) -> None:
    url = reverse("accounts:tenant-security")
    district_admin = grant(
        make_user(strict.tenant, "district.admin"), strict.district, Role.TENANT_ADMIN
    )
    tenant_set_mfa_roles(actor=None, tenant=strict.tenant, roles=[Role.REVIEWER])
    assert client_for(district_admin).post(url, {}).status_code == 403
    assert client_for(strict.viewer).get(url).status_code == 403
    assert client_for(strict.ward_official).get(url).status_code == 403
    strict.tenant.refresh_from_db()
    assert strict.tenant.mfa_required_roles == ["reviewer"]
    # Another tenant's administrator edits only their own tenant.
    hp_admin = grant(
        make_user(strict.other_tenant, "admin.hp"), strict.other_city, Role.TENANT_ADMIN
    )
    client_for(hp_admin).post(url, {"mfa_required_roles": ["ward_official"]})
    strict.tenant.refresh_from_db()
    assert strict.tenant.mfa_required_roles == ["reviewer"]
    assert Tenant.objects.get(pk=strict.other_tenant.pk).mfa_required_roles == ["ward_official"]


def test_unknown_roles_are_refused(strict: Cast) -> None:
    from accounts.exceptions import AccountError

    with pytest.raises(AccountError) as err:
        tenant_set_mfa_roles(actor=strict.admin, tenant=strict.tenant, roles=["president"])
    assert err.value.code == "unknown_role"
    strict.tenant.refresh_from_db()
    assert strict.tenant.mfa_required_roles == ["reviewer", "tenant_admin"]


def test_the_form_rejects_an_invented_role(strict: Cast) -> None:
    tenant_set_mfa_roles(actor=None, tenant=strict.tenant, roles=[])
    admin = client_for(strict.admin)
    response = admin.post(reverse("accounts:tenant-security"), {"mfa_required_roles": ["god"]})
    assert response.status_code == 200
    assert response.context["form"].errors
    strict.tenant.refresh_from_db()
    assert strict.tenant.mfa_required_roles == []


def test_superuser_edits_it_in_the_django_admin(strict: Cast) -> None:
    root = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    client.force_login(root)
    url = reverse("admin:units_tenant_change", args=[strict.tenant.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="tenant_admin"' in page.content.decode()


def test_demo_seed_turns_it_on_in_hai_phong_only(db: None) -> None:
    from units.demo.seed import seed_demo

    seed_demo(with_cycle=False)
    assert Tenant.objects.get(slug="hcm").mfa_required_roles == []
    assert Tenant.objects.get(slug="hai-phong").mfa_required_roles == ["reviewer", "tenant_admin"]
    client = Client()
    _sign_in(client, "admin.hp", "xhht-demo-2025")
    assert client.get(reverse("core:home"))["Location"] == reverse("mfa_activate_totp")
    hcm = Client()
    _sign_in(hcm, "admin.hcm", "xhht-demo-2025")
    assert hcm.get(reverse("core:home")).status_code == 200

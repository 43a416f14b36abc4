"""User and role management pages, API token pages and the sign-in rate limit."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from accounts.exceptions import DuplicateUserError
from accounts.models import ApiToken, User
from core.models import AuditEvent
from tests.accounts.test_services import db_state
from tests.conftest import Cast, client_for
from tests.factories import PASSWORD, grant, make_user
from units.models import RoleAssignment
from units.roles import Role


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> Any:
    """allauth keeps its rate-limit counters in the cache."""
    cache.clear()
    yield
    cache.clear()


def _vi(message: Any) -> str:
    with translation.override("vi"):
        return escape(str(message))


def _usernames(response: Any) -> set[str]:
    return {u.username for u in response.context["users"]}


@pytest.fixture
def hp_admin(cast: Cast) -> User:
    """Hải Phòng's administrator (the other tenant)."""
    return grant(make_user(cast.other_tenant, "admin.hp"), cast.other_city, Role.TENANT_ADMIN)


@pytest.fixture
def district_admin(cast: Cast) -> User:
    return grant(make_user(cast.tenant, "district.admin"), cast.district, Role.TENANT_ADMIN)


# --- User list -------------------------------------------------------------------------


def test_user_list_is_scoped_to_the_tenant(cast: Cast, hp_admin: User) -> None:
    hcmc = {"admin", "reviewer", "ward", "viewer"}
    hp = _usernames(client_for(hp_admin).get(reverse("accounts:user-list")))
    assert hp == {"admin.hp", "other"}
    page = client_for(hp_admin).get(reverse("accounts:user-list")).content.decode()
    assert not any(f">{name}<" in page for name in hcmc)
    assert _usernames(client_for(cast.admin).get(reverse("accounts:user-list"))) == hcmc


def test_user_list_of_a_district_admin_is_their_district(cast: Cast, district_admin: User) -> None:
    grant(make_user(cast.tenant, "tan.dinh"), cast.other_ward, Role.WARD_OFFICIAL)
    invited = make_user(cast.tenant, "just.invited")  # no role yet: any admin may place them
    make_user(cast.other_tenant, "hp.invited")
    response = client_for(district_admin).get(reverse("accounts:user-list"))
    assert _usernames(response) == {"district.admin", "reviewer", "ward", invited.username}


def test_user_list_search(cast: Cast) -> None:
    client = client_for(cast.admin)
    assert _usernames(client.get(reverse("accounts:user-list"), {"q": "view"})) == {
        "viewer",
        "reviewer",
    }
    assert _usernames(client.get(reverse("accounts:user-list"), {"q": "WARD"})) == {"ward"}
    assert _usernames(client.get(reverse("accounts:user-list"), {"q": "khác"})) == set()


def test_user_pages_are_for_admins_only(cast: Cast) -> None:
    for user in (cast.ward_official, cast.reviewer, cast.viewer):
        client = client_for(user)
        assert client.get(reverse("accounts:user-list")).status_code == 403
        assert client.get(reverse("accounts:user-invite")).status_code == 403


# --- Invitations -----------------------------------------------------------------------


def _invite_body(**changes: str) -> dict[str, str]:
    body = {
        "username": "tran.binh",
        "email": "binh@example.vn",
        "full_name": "Trần Bình",
        "position": "Cán bộ phường",
        "unit_code": "27184",
        "role": Role.WARD_OFFICIAL,
    }
    body.update(changes)
    return body


def test_invite_through_the_page(cast: Cast, django_capture_on_commit_callbacks: Any) -> None:
    client = client_for(cast.admin)
    assert client.get(reverse("accounts:user-invite")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:user-invite"), _invite_body())
    user = User.objects.get(username="tran.binh")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:user-detail", args=[user.public_id])
    assert not user.has_usable_password()
    assert RoleAssignment.objects.get(user=user).unit == cast.ward
    assert [m.to for m in mail.outbox] == [["binh@example.vn"]]


def test_invite_with_a_taken_username_changes_nothing(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    before = db_state()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.admin).post(
            reverse("accounts:user-invite"), _invite_body(username="Reviewer")
        )
    assert response.status_code == 200
    assert _vi(DuplicateUserError.default_message) in response.content.decode()
    assert db_state() == before and mail.outbox == []


@pytest.mark.parametrize(
    "changes",
    [
        {"unit_code": "11308"},  # the other tenant's ward
        {"unit_code": "27247"},  # outside the district admin's area
        {"unit_code": "nope"},
        {"username": "có dấu"},
        {"email": "not-an-email"},
        {"role": "superuser"},
    ],
)
def test_invite_bad_input_changes_nothing(
    cast: Cast, district_admin: User, django_capture_on_commit_callbacks: Any, changes: Any
) -> None:
    before = db_state()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(district_admin).post(
            reverse("accounts:user-invite"), _invite_body(**changes)
        )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {next(iter(changes))}
    assert db_state() == before and mail.outbox == []


# --- Roles ---------------------------------------------------------------------------------


def test_grant_and_revoke_a_role_through_the_pages(cast: Cast) -> None:
    client = client_for(cast.admin)
    detail = reverse("accounts:user-detail", args=[cast.reviewer.public_id])
    response = client.post(detail, {"unit_code": "27247", "role": Role.REVIEWER})
    assert response.status_code == 302 and response["Location"] == detail
    assignment = RoleAssignment.objects.get(user=cast.reviewer, unit=cast.other_ward)
    assert assignment.granted_by == cast.admin
    page = client.get(detail)
    assert assignment in page.context["assignments"]
    assert reverse("accounts:role-revoke", args=[assignment.public_id]) in page.content.decode()

    response = client.post(reverse("accounts:role-revoke", args=[assignment.public_id]))
    assert response.status_code == 302 and response["Location"] == detail
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEvent.objects.filter(
        action="role.revoke", object_id=str(assignment.public_id), actor=cast.admin
    ).exists()


def test_grant_outside_the_admins_area_changes_nothing(cast: Cast, district_admin: User) -> None:
    before = db_state()
    response = client_for(district_admin).post(
        reverse("accounts:user-detail", args=[cast.ward_official.public_id]),
        {"unit_code": "27247", "role": Role.NEIGHBOURHOOD_LEAD},
    )
    assert response.status_code == 200
    assert "unit_code" in response.context["form"].errors
    assert db_state() == before


def test_an_admin_cannot_withdraw_their_own_admin_role(cast: Cast) -> None:
    own = RoleAssignment.objects.get(user=cast.admin)
    before = db_state()
    response = client_for(cast.admin).post(
        reverse("accounts:role-revoke", args=[own.public_id]), follow=True
    )
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert db_state() == before


def test_disable_an_account_through_the_page(cast: Cast) -> None:
    client = client_for(cast.admin)
    response = client.post(
        reverse("accounts:user-toggle-active", args=[cast.ward_official.public_id])
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=cast.ward_official.pk).is_active
    assert not Client().login(username="ward", password=PASSWORD)
    before = db_state()
    own = client.post(
        reverse("accounts:user-toggle-active", args=[cast.admin.public_id]), follow=True
    )
    assert [m.level_tag for m in own.context["messages"]] == ["error"]
    assert db_state() == before


# --- API tokens ----------------------------------------------------------------------------


def test_create_a_token_through_the_page(cast: Cast) -> None:
    client = client_for(cast.viewer)
    response = client.post(reverse("accounts:token-list"), {"name": "dashboard"})
    assert response.status_code == 200
    raw = response.context["new_secret"]
    assert raw.startswith("xhht_") and raw in response.content.decode()
    token = ApiToken.objects.get(user=cast.viewer)
    assert token.key_hash != raw and raw not in token.key_hash
    api = Client(headers={"authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/me").json()["username"] == "viewer"
    # The secret is shown once: the list page no longer has it.
    again = client.get(reverse("accounts:token-list"))
    assert raw not in again.content.decode()
    assert list(again.context["tokens"]) == [token]


def test_revoke_a_token_through_the_page(cast: Cast) -> None:
    client = client_for(cast.viewer)
    raw = client.post(reverse("accounts:token-list"), {"name": "dashboard"}).context["new_secret"]
    token = ApiToken.objects.get(user=cast.viewer)
    response = client.post(reverse("accounts:token-revoke", args=[token.public_id]))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:token-list")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert Client(headers={"authorization": f"Bearer {raw}"}).get("/api/v1/me").status_code == 401


def test_token_list_shows_only_ones_own_tokens(cast: Cast) -> None:
    client_for(cast.admin).post(reverse("accounts:token-list"), {"name": "admin script"})
    page = client_for(cast.viewer).get(reverse("accounts:token-list"))
    assert list(page.context["tokens"]) == []
    assert "admin script" not in page.content.decode()


# --- Sign-in rate limit ------------------------------------------------------------------------


def _sign_in(client: Client, login: str, password: str) -> Any:
    return client.post(reverse("account_login"), {"login": login, "password": password})


def test_sign_in_works(cast: Cast) -> None:
    response = _sign_in(Client(), "reviewer", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")

"""Invitations, account switches and API tokens (accounts/services.py)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from django.core import mail
from django.urls import resolve
from django.utils import translation

from accounts import services
from accounts.exceptions import AccountError, DuplicateUserError, TokenError
from accounts.models import ApiToken, User
from accounts.tasks import send_invitation_email
from core.models import AuditEvent
from tests.conftest import Cast
from tests.factories import grant, make_user
from units.exceptions import RoleGrantError
from units.models import RoleAssignment
from units.roles import Role
from units.selectors import units_for_user


def db_state() -> tuple[Any, ...]:
    return (
        list(User.objects.order_by("pk").values_list("pk", "username", "is_active", "password")),
        list(RoleAssignment.objects.order_by("pk").values_list("pk", "user_id", "unit_id", "role")),
        list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")),
        AuditEvent.objects.count(),
    )


def invite(cast: Cast, **kwargs: Any) -> User:
    fields: dict[str, Any] = {
        "actor": cast.admin,
        "username": "nguyen.an",
        "email": "an@example.vn",
        "full_name": "Nguyễn An",
        "position": "Cán bộ phường",
        "unit": cast.ward,
        "role": Role.WARD_OFFICIAL,
        "base_url": "https://xhht.example.vn/",
    }
    fields.update(kwargs)
    return services.user_invite(**fields)


# --- Invitations -------------------------------------------------------------------


def test_invite_creates_a_user_with_a_role_and_no_password(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = invite(
            cast, username="Nguyen.An", full_name=unicodedata.normalize("NFD", "Nguyễn An")
        )
    user.refresh_from_db()
    assert user.username == "nguyen.an"
    assert user.full_name == "Nguyễn An"
    assert user.tenant == cast.tenant
    assert not user.has_usable_password()
    assert RoleAssignment.objects.get(user=user).role == Role.WARD_OFFICIAL
    assert set(units_for_user(user).values_list("code", flat=True)) == {"27184", "27184-KP01"}
    actions = set(
        AuditEvent.objects.filter(object_id=str(user.public_id)).values_list("action", flat=True)
    )
    assert actions == {"user.invite", "user.invitation_sent"}
    assert len(mail.outbox) == 1


def test_invitation_mail_is_sent_after_commit_with_a_working_link(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user = invite(cast)
    assert mail.outbox == [] and len(callbacks) == 1  # nothing leaves before the commit
    callbacks[0]()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["an@example.vn"]
    assert message.subject.startswith("[XHHT] ")
    assert "nguyen.an" in message.body
    link = next(
        word for word in message.body.split() if word.startswith("https://xhht.example.vn/")
    )
    match = resolve(link.removeprefix("https://xhht.example.vn"))
    assert match.url_name == "account_reset_password_from_key"
    assert match.kwargs["uidb36"]
    assert user.username in message.body


def test_invitation_task_sends_exactly_one_mail_even_if_run_twice(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = invite(cast)
    assert len(mail.outbox) == 1
    send_invitation_email.delay(user.pk, "https://xhht.example.vn/again")
    send_invitation_email.apply(args=(user.pk, "https://xhht.example.vn/again"))
    assert services.invitation_email_send(user_id=user.pk, link="x") is False
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="user.invitation_sent").count() == 1


def test_invitation_task_ignores_missing_users_and_users_without_email(cast: Cast) -> None:
    assert services.invitation_email_send(user_id=999_999, link="x") is False
    no_mail = make_user(cast.tenant, "no.mail", email="")
    assert services.invitation_email_send(user_id=no_mail.pk, link="x") is False
    assert mail.outbox == []


@pytest.mark.parametrize(
    "clash",
    [{"username": "ward"}, {"username": "WARD"}, {"email": "Ward@Example.VN"}],
)
def test_duplicate_user_is_refused_with_nothing_created(
    cast: Cast, django_capture_on_commit_callbacks: Any, clash: dict[str, str]
) -> None:
    before = db_state()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DuplicateUserError):
        invite(cast, **clash)
    assert db_state() == before
    assert mail.outbox == []


def test_a_refused_role_leaves_no_user(cast: Cast, django_capture_on_commit_callbacks: Any) -> None:
    district_admin = grant(make_user(cast.tenant), cast.district, Role.TENANT_ADMIN)
    before = db_state()
    for actor, unit in [
        (district_admin, cast.other_ward),  # outside the actor's subtree
        (cast.admin, cast.other_tenant_ward),  # another tenant
        (cast.viewer, cast.ward),  # read-only
    ]:
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RoleGrantError):
            invite(cast, actor=actor, unit=unit)
    assert db_state() == before
    assert not User.objects.filter(username="nguyen.an").exists()
    assert mail.outbox == []


# --- Enabling and disabling accounts -----------------------------------------------------


def test_disable_and_enable_are_audited(cast: Cast) -> None:
    services.user_set_active(actor=cast.admin, user=cast.ward_official, active=False)
    assert not User.objects.get(pk=cast.ward_official.pk).is_active
    event = AuditEvent.objects.filter(action="user.set_active").latest("id")
    assert (event.actor, event.before, event.after) == (
        cast.admin,
        {"is_active": True},
        {"is_active": False},
    )
    services.user_set_active(actor=cast.admin, user=cast.ward_official, active=True)
    assert User.objects.get(pk=cast.ward_official.pk).is_active


def test_nobody_disables_themselves(cast: Cast) -> None:
    before = db_state()
    with pytest.raises(AccountError) as caught:
        services.user_set_active(actor=cast.admin, user=cast.admin, active=False)
    assert caught.value.code == "cannot_deactivate_self"
    with translation.override("en"):
        assert "own account" in str(caught.value)
    assert db_state() == before


def test_a_district_admin_cannot_disable_users_beyond_their_area(cast: Cast) -> None:
    district_admin = grant(make_user(cast.tenant), cast.district, Role.TENANT_ADMIN)
    # The city admin also holds a role inside the district: still out of reach.
    grant(cast.admin, cast.ward, Role.WARD_OFFICIAL)
    before = db_state()
    for target in (cast.admin, cast.viewer, cast.other_tenant_official):
        with pytest.raises(AccountError) as caught:
            services.user_set_active(actor=district_admin, user=target, active=False)
        assert caught.value.code == "cannot_manage_user"
    with pytest.raises(AccountError):
        services.user_set_active(actor=cast.reviewer, user=cast.ward_official, active=False)
    assert db_state() == before
    services.user_set_active(actor=district_admin, user=cast.ward_official, active=False)
    assert not User.objects.get(pk=cast.ward_official.pk).is_active


# --- API tokens ------------------------------------------------------------------------------


def test_token_create_returns_the_secret_once_and_stores_a_hash(cast: Cast) -> None:
    token, raw = services.api_token_create(user=cast.reviewer, name="  báo cáo  ")
    assert token.name == "báo cáo"
    assert token.key_hash == services.hash_token(raw) and raw not in token.key_hash
    assert services.api_token_authenticate(raw) == cast.reviewer
    event = AuditEvent.objects.get(action="api_token.create")
    assert raw not in str(event.after) and event.after["prefix"] == token.prefix


def test_token_revoke_is_personal_and_idempotent(cast: Cast) -> None:
    token, raw = services.api_token_create(user=cast.reviewer, name="script")
    before = db_state()
    with pytest.raises(TokenError):
        services.api_token_revoke(user=cast.admin, token=token)
    assert db_state() == before
    services.api_token_revoke(user=cast.reviewer, token=token)
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    services.api_token_revoke(user=cast.reviewer, token=token)
    assert first is not None and ApiToken.objects.get(pk=token.pk).revoked_at == first
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1
    assert services.api_token_authenticate(raw) is None


@pytest.mark.parametrize("raw", ["", "xhht_", "Bearer", "abc", "xhht_00000000_nothing"])
def test_unknown_tokens_authenticate_nobody(cast: Cast, raw: str) -> None:
    services.api_token_create(user=cast.reviewer, name="script")
    assert services.api_token_authenticate(raw) is None

"""allauth adapters: accounts are created by invitation only; an authenticator
app stays on while the user's role requires two-factor sign-in."""

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.utils.translation import gettext_lazy as _

from accounts.two_factor import mfa_required


class InvitationOnlyAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: Any) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A sign-in of the last few minutes counts as re-authentication.

        allauth asks for the password again before account-sensitive steps
        (setting up an authenticator app) unless the user *re*-authenticated
        recently; a user sent to the set-up straight from the sign-in form
        would type it twice in a row. The sign-in proves the same thing.
        """
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = context.request
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return True
        records = get_authentication_records(request, user)
        if not records:
            return True
        return time.time() - records[-1]["at"] >= account_settings.REAUTHENTICATION_TIMEOUT


class TenantPolicyMFAAdapter(DefaultMFAAdapter):
    """Refuses to remove the authenticator app of a user whose tenant requires
    two-factor sign-in for one of their roles (issue 10 §1); allauth's
    deactivation form then shows why."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _(
            "Your role requires two-factor sign-in, so the authenticator app cannot be turned off."
        ),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        if authenticator.type == Authenticator.Type.TOTP and mfa_required(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)

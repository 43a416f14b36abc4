from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError


class AccountError(ApplicationError):
    code = "account_error"


class DuplicateUserError(AccountError):
    code = "duplicate_user"
    default_message = _("A user with this username or e-mail address already exists.")


class TokenError(AccountError):
    code = "token_error"
    default_message = _("This API token cannot be used.")


class TwoFactorSetupRequiredError(AccountError):
    """A token of a user whose tenant now requires two-factor sign-in for their
    role, and who has not set up an authenticator app yet."""

    code = "mfa_required"
    default_message = _(
        "Your role requires two-factor sign-in: set up an authenticator app first "
        "(Two-factor authentication in your account menu)."
    )
    http_status = 403

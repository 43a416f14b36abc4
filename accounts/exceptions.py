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

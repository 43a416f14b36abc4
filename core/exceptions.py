"""One base error for the whole application.

Every domain error carries a machine-readable ``code`` and a translated
message; views turn it into a form error or a 400/409 answer, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    code: str = "application_error"
    default_message: Any = _("The request could not be completed.")
    http_status: int = 400

    def __init__(self, message: Any = None, *, code: str | None = None, **params: Any) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.params = params
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class ConcurrentEditError(ApplicationError):
    code = "concurrent_edit"
    default_message = _(
        "Someone else changed this record while you were editing it. "
        "Reload the page and apply your change again."
    )
    http_status = 409


class AuditImmutableError(ApplicationError):
    """An audit event was about to be changed or deleted: the log is append-only."""

    code = "audit_immutable"
    default_message = _("Audit events are append-only: they cannot be changed or deleted.")
    http_status = 409

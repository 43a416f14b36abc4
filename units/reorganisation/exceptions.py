"""Errors of the reorganisation plans, each with a code and a translated message."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.exceptions import ApplicationError


class ReorganisationError(ApplicationError):
    code = "reorganisation_error"


class ReorganisationStateError(ReorganisationError):
    """The plan is no longer a draft (applied or cancelled, often by someone else)."""

    code = "reorganisation_state"
    http_status = 409
    default_message = _(
        "This plan is “%(status)s”: it can no longer be changed, applied or cancelled."
    )


class StepError(ReorganisationError):
    """A step as entered cannot be part of a plan (wrong number of units, unknown kind…)."""

    code = "reorganisation_step_invalid"
    default_message = _("This step is not valid.")


class ReorganisationConflictError(ReorganisationError):
    """The plan has conflicts: it is refused whole and nothing changes."""

    code = "reorganisation_conflicts"
    http_status = 409

    def __init__(self, conflicts: list[Any]) -> None:
        count = len(conflicts)
        message = ngettext(
            "The plan has %(count)d conflict: nothing was changed. Resolve it and apply again.",
            "The plan has %(count)d conflicts: nothing was changed. Resolve them and apply again.",
            count,
        ) % {"count": count}
        super().__init__(message, conflicts=[c.as_dict() for c in conflicts])
        self.conflicts = conflicts

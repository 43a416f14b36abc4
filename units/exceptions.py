"""Errors of the units domain, each with a code and a Vietnamese/English message."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError


class UnitError(ApplicationError):
    code = "unit_error"


class TreeCycleError(UnitError):
    code = "tree_cycle"
    default_message = _("A unit cannot be placed under itself or one of its own sub-units.")


class CodeClashError(UnitError):
    code = "code_clash"
    default_message = _(
        "Code %(code)s is already used by %(other)s during the same period. "
        "Official codes must be unique among units valid at the same date."
    )


class ValidityError(UnitError):
    code = "validity_outside_parent"
    default_message = _("The validity period of a unit must lie within that of its parent unit.")


class PeriodError(UnitError):
    code = "invalid_period"
    default_message = _("The end of the validity period cannot be before its start.")


class LevelError(UnitError):
    code = "level_mismatch"
    default_message = _("This kind of unit cannot be placed at this position in the tree.")


class LevelPeriodError(UnitError):
    code = "level_ended"
    default_message = _(
        "This level of units is in use only until %(end)s: the unit must end by that date."
    )


class RoleGrantError(ApplicationError):
    code = "role_grant_refused"
    default_message = _("You cannot grant this role at this unit.")

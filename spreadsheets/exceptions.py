"""Errors of imports and exports (codes are machine-readable, messages translated)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError


class ImportError_(ApplicationError):
    """Base of the import errors (named with a trailing underscore: ``ImportError`` is a builtin)."""

    code = "import_error"
    default_message = _("The file could not be imported.")


class FileRejected(ImportError_):
    """The whole file is refused before any row is read (format, size, encoding, zip bomb…)."""

    code = "import_file_rejected"
    default_message = _("The file cannot be read.")


class ImportStateError(ImportError_):
    """The import is not in a state that allows the action (e.g. confirming twice)."""

    code = "import_state"
    default_message = _("This import cannot do that now.")
    http_status = 409

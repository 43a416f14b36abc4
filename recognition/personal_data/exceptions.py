"""Errors of personal-data requests (export, erasure, retention), each with a code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from recognition.exceptions import RecognitionError


class PersonalDataError(RecognitionError):
    code = "personal_data_error"


class SubjectErasedError(PersonalDataError):
    """The person's data was erased on request: the record only keeps the legal trace."""

    code = "subject_erased"
    http_status = 409
    default_message = _(
        "This person's data was erased on request: the record can no longer be changed."
    )


class ErasureNotAllowedError(PersonalDataError):
    code = "erasure_not_allowed"
    http_status = 403
    default_message = _("Only the tenant administrator erases a person's data.")


class ErasureRequestError(PersonalDataError):
    code = "erasure_request_invalid"
    default_message = _("Give the reason and the reference of the person's request.")

"""Errors of the recognition domain, each with a code and a translated message."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError


class RecognitionError(ApplicationError):
    code = "recognition_error"


class TransitionError(RecognitionError):
    """The object is not in a state that allows the action (often: someone else
    acted on it first)."""

    code = "invalid_transition"
    http_status = 409
    default_message = _(
        "This action is no longer possible: the record is now “%(status)s”. "
        "Someone may have acted on it before you; reload the page."
    )


class RoleNotAllowedError(RecognitionError):
    code = "role_not_allowed"
    http_status = 403
    default_message = _("Your role does not allow this action here.")


class CriteriaSetError(RecognitionError):
    code = "criteria_set_error"


class PublishedSetImmutableError(CriteriaSetError):
    code = "published_set_immutable"
    default_message = _(
        "A published criteria set cannot be changed. Create a new version to edit it."
    )


class IncompleteSetError(CriteriaSetError):
    code = "criteria_set_incomplete"
    default_message = _("This criteria set cannot be published yet: %(problems)s")


class CriteriaSetReadOnlyError(CriteriaSetError):
    code = "criteria_set_read_only"
    http_status = 403
    default_message = _(
        "The national criteria sets shipped with the system cannot be changed here. "
        "Clone the set into your organisation and edit the copy."
    )


class CriteriaCodeTakenError(CriteriaSetError):
    code = "criteria_code_taken"
    default_message = _(
        "Code %(code)s is already used by another criteria set of your organisation. "
        "Choose another code."
    )


class CriteriaDraftExistsError(CriteriaSetError):
    code = "criteria_draft_exists"
    http_status = 409
    default_message = _(
        "A draft of this set (version %(version)s) already exists: edit that draft "
        "instead of starting another one."
    )


class ScoreError(RecognitionError):
    code = "invalid_score"
    default_message = _("Score %(value)s is outside the range 0–%(max)s of indicator %(code)s.")


class EvidenceError(RecognitionError):
    code = "invalid_evidence"


class DeadlineLockedError(RecognitionError):
    code = "deadline_locked"
    http_status = 409
    default_message = _("The deadline has passed: this form is locked.")


# --- Subjects and registration ---------------------------------------------------


class SubjectError(RecognitionError):
    """A household, clan, organisation or citizen record breaks a rule."""

    code = "invalid_subject"
    default_message = _("This record cannot be saved as entered.")


class SubjectUnitError(SubjectError):
    """The subject cannot sit at the chosen unit (e.g. a household at a ward)."""

    code = "subject_unit"
    default_message = _("This unit cannot hold this kind of record.")


class DuplicateSubjectError(SubjectError):
    code = "duplicate_subject"
    http_status = 409
    default_message = _("A record with the same code or name already exists.")


class RegistrationError(RecognitionError):
    code = "invalid_registration"
    default_message = _("This registration is not possible.")


class DuplicateRegistrationError(RegistrationError):
    code = "duplicate_registration"
    http_status = 409
    default_message = _("%(subject)s is already registered for “%(title)s” %(year)s.")


class RegistrationClosedError(RegistrationError):
    """The registration's assessment is already submitted (or further along)."""

    code = "registration_in_review"
    http_status = 409
    default_message = _(
        "The assessment has already been submitted (“%(status)s”): "
        "the registration can no longer be withdrawn."
    )


# --- Dossiers, review and review chains -------------------------------------------


class DossierError(RecognitionError):
    code = "dossier_error"
    default_message = _("This dossier action is not possible.")


class NoReviewingUnitError(DossierError):
    code = "no_reviewing_unit"
    default_message = _(
        "No reviewing unit is configured above %(unit)s for “%(title)s” in %(year)s. "
        "Ask the administrator to set up the review chain."
    )


class DossierItemsError(DossierError):
    """Some assessments cannot be added to or removed from the dossier; nothing changed."""

    code = "dossier_items_refused"
    default_message = _("Nothing was changed: %(problems)s")

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(self.default_message % {"problems": "; ".join(problems)})


class DossierIncompleteError(DossierError):
    """The dossier cannot be submitted; ``problems`` lists what to fix."""

    code = "dossier_incomplete"
    http_status = 409
    default_message = _("The dossier cannot be submitted yet: %(problems)s")

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(self.default_message % {"problems": "; ".join(problems)})


class ReasonRequiredError(DossierError):
    code = "reason_required"
    default_message = _("Give a reason: the ward sees it and needs it to know what to fix.")


class ReviewNotFinishedError(DossierError):
    code = "review_not_finished"
    http_status = 409
    default_message = _(
        "%(count)s items still await a decision: approve, return or reject each of them "
        "before finishing the review."
    )


class ReviewChainError(RecognitionError):
    code = "review_chain_error"
    default_message = _("This review chain is not valid.")


# --- Self-assessment and evidence ---------------------------------------------------


class AssessmentError(RecognitionError):
    code = "assessment_error"
    default_message = _("This assessment action is not possible.")


class NoCriteriaSetError(AssessmentError):
    code = "no_criteria_set"
    default_message = _(
        "No published criteria set applies to “%(title)s” in %(year)s. "
        "Ask the administrator to publish one."
    )


class AssessmentYearNotStartedError(AssessmentError):
    """TT 25/2023: the self-assessment covers 01/01–31/12 of the year assessed."""

    code = "assessment_year_not_started"
    default_message = _(
        "The self-assessment of %(year)s covers 01/01/%(year)s–31/12/%(year)s: "
        "it cannot start before the year has begun."
    )


class AssessmentNotEditableError(AssessmentError):
    code = "assessment_not_editable"
    http_status = 409
    default_message = _(
        "This assessment is “%(status)s”: its scores and evidence can no longer be changed."
    )


class AssessmentIncompleteError(AssessmentError):
    """The self-assessment cannot be marked complete; the lists say what is missing."""

    code = "assessment_incomplete"
    default_message = _("The self-assessment is not complete: %(problems)s")


class CopyPreviousError(AssessmentError):
    code = "copy_previous_impossible"


class DecisionError(RecognitionError):
    """A recognition decision cannot be edited, issued or revoked as asked."""

    code = "decision_error"

"""Errors of campaigns, each with a code and a translated message."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError


class CampaignError(ApplicationError):
    code = "campaign_error"


class LoosenedError(CampaignError):
    """A derived plan may tighten what it inherits, never loosen it."""

    code = "loosened"
    default_message = _("A plan may tighten what it inherits from its parent, not loosen it.")

"""Reads on users and tokens. User lists are scoped in units.selectors."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import ApiToken, User
from units.selectors import parse_public_id


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def get_api_token_of(user: User, public_id: object) -> ApiToken:
    token = api_tokens_of(user).filter(public_id=parse_public_id(public_id)).first()
    if token is None:
        raise Http404
    return token

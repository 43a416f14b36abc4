"""Who proposes, reviews and recognises a title (configuration per tenant and period).

RULES.md §4.2 (family, clan, neighbourhood: organised per province, NOT FOUND
nationally) and §8 (after 1 July 2025 the district tier is gone; who now
recognises commune CĐHT is UNCERTAIN): the chain is data. Without a configured
row, the default is the nearest ancestor of the proposing unit one level up
that is in use on the date (the district before the reform, the province
after it).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from recognition.models import ReviewChain
from units.levels import level_rank
from units.models import AdministrativeUnit
from units.selectors import ancestors


def chain_for(*, tenant_id: int, title: str, scope_level: str, on: dt.date) -> ReviewChain | None:
    return (
        ReviewChain.objects.filter(
            tenant_id=tenant_id, title=title, scope_level=scope_level, valid_from__lte=on
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("-valid_from")
        .first()
    )


def reviewing_unit_for(
    *, proposing_unit: AdministrativeUnit, title: str, scope_level: str, on: dt.date
) -> AdministrativeUnit | None:
    """The unit whose reviewers receive the proposing unit's dossier."""
    chain = chain_for(
        tenant_id=proposing_unit.tenant_id, title=title, scope_level=scope_level, on=on
    )
    candidates = [a for a in ancestors(proposing_unit) if a.is_valid_on(on)]
    if chain is not None:
        wanted = chain.reviewer_level
        for unit in reversed(candidates):
            if unit.level == wanted:
                return unit
        return None
    above = [a for a in candidates if level_rank(a.level) < level_rank(proposing_unit.level)]
    if not above:
        return None
    # Nearest ancestor (the district, or the province where districts are gone).
    return above[-1]

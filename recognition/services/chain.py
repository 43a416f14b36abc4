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
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.text import nfc
from recognition.exceptions import ReviewChainError, RoleNotAllowedError
from recognition.models import ReviewChain
from recognition.titles import Title
from units.levels import Level, level_rank
from units.models import AdministrativeUnit, Tenant, TenantLevel
from units.roles import ADMIN_ROLES
from units.selectors import ancestors, roles_at


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


# --- Configuration: default chains and the administrator's edits ------------------

#: The two-tier reform: districts are gone from this day (RULES.md §7.2, §8).
REFORM_DATE = dt.date(2025, 7, 1)
FAR_PAST = dt.date(1900, 1, 1)

#: Recognising authority of commune-level Cộng đồng học tập before the reform:
#: Trưởng Phòng GD&ĐT (TT 25/2023, RULES.md §0 and §2.2, SEEN).
COMMUNE_CDHT_RECOGNISER = "Trưởng Phòng Giáo dục và Đào tạo"
COMMUNE_CDHT_BASIS = "Thông tư 25/2023/TT-BGDĐT (RULES.md §2.2)"
#: Family, clan, neighbourhood community and citizen: who signs is organised by
#: each province (RULES.md §4.2, NOT FOUND nationally; §4.4 UNCERTAIN). Default
#: to the commune chairman, the most common provincial practice, and say so.
LOCAL_RECOGNISER = "Chủ tịch UBND phường/xã"
LOCAL_BASIS = (
    "Theo thực tiễn của tỉnh/thành phố (RULES.md §4.2: chưa tìm thấy văn bản quy định "
    "chung, cần quản trị viên xác nhận)"
)
#: After the reform nobody knows yet who recognises commune CĐHT (RULES.md §8).
POST_REFORM_BASIS = (
    "Sau 01/07/2025 (RULES.md §8): chưa tìm thấy văn bản sửa đổi TT 25/2023; "
    "quản trị viên cần điền cơ quan công nhận"
)


@dataclass(frozen=True)
class ChainDefault:
    title: str
    scope_level: str
    recogniser_level: str
    recogniser_label: str
    legal_basis: str


DEFAULT_CHAINS: tuple[ChainDefault, ...] = (
    ChainDefault(
        Title.COMMUNITY, Level.COMMUNE, Level.DISTRICT, COMMUNE_CDHT_RECOGNISER, COMMUNE_CDHT_BASIS
    ),
    ChainDefault(Title.FAMILY, "", Level.COMMUNE, LOCAL_RECOGNISER, LOCAL_BASIS),
    ChainDefault(Title.CLAN, "", Level.COMMUNE, LOCAL_RECOGNISER, LOCAL_BASIS),
    ChainDefault(
        Title.COMMUNITY, Level.NEIGHBOURHOOD, Level.COMMUNE, LOCAL_RECOGNISER, LOCAL_BASIS
    ),
    ChainDefault(Title.CITIZEN, "", Level.COMMUNE, LOCAL_RECOGNISER, LOCAL_BASIS),
)


def district_tier_end(tenant: Tenant) -> dt.date | None:
    """The last day the tenant uses the district level (``None``: still in use)."""
    rows = list(TenantLevel.objects.filter(tenant=tenant, level=Level.DISTRICT))
    if not rows or any(r.valid_to is None for r in rows):
        return None
    return max(r.valid_to for r in rows if r.valid_to is not None)


@transaction.atomic
def ensure_default_chains(tenant: Tenant, *, actor: Any = None) -> int:
    """Give ``tenant`` the default review chains it lacks; returns how many were added.

    Communes propose and the district (Phòng GD&ĐT) reviews while the tenant
    has districts. A tenant that records the reform (its district level ends,
    on 30/06/2025 for the July 2025 reform) gets a second period from the next
    day in which the province (Sở GD&ĐT) reviews; the recogniser of commune
    CĐHT is left empty for the administrator (RULES.md §8, UNCERTAIN). A
    (title, level) that already has any chain is left as the administrator set it.
    """
    end = district_tier_end(tenant)
    created = 0
    for spec in DEFAULT_CHAINS:
        if ReviewChain.objects.filter(
            tenant=tenant, title=spec.title, scope_level=spec.scope_level
        ).exists():
            continue
        rows = [
            ReviewChain(
                tenant=tenant,
                title=spec.title,
                scope_level=spec.scope_level,
                valid_from=FAR_PAST,
                valid_to=end,
                proposer_level=Level.COMMUNE,
                reviewer_level=Level.DISTRICT,
                recogniser_level=spec.recogniser_level,
                recogniser_label=spec.recogniser_label,
                legal_basis=spec.legal_basis,
            )
        ]
        if end is not None:
            commune_cdht = spec.title == Title.COMMUNITY and spec.scope_level == Level.COMMUNE
            rows.append(
                ReviewChain(
                    tenant=tenant,
                    title=spec.title,
                    scope_level=spec.scope_level,
                    valid_from=end + dt.timedelta(days=1),
                    valid_to=None,
                    proposer_level=Level.COMMUNE,
                    reviewer_level=Level.PROVINCE,
                    recogniser_level=Level.PROVINCE if commune_cdht else spec.recogniser_level,
                    recogniser_label="" if commune_cdht else spec.recogniser_label,
                    legal_basis=POST_REFORM_BASIS if commune_cdht else spec.legal_basis,
                )
            )
        for row in rows:
            row.save()
            _audit_chain(actor, "review_chain.create", row)
            created += 1
    return created


def _audit_chain(actor: Any, action: str, chain: ReviewChain) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=chain,
        tenant=chain.tenant,
        after={
            "title": chain.title,
            "scope_level": chain.scope_level,
            "valid_from": chain.valid_from.isoformat(),
            "valid_to": chain.valid_to.isoformat() if chain.valid_to else None,
            "proposer_level": chain.proposer_level,
            "reviewer_level": chain.reviewer_level,
            "recogniser_level": chain.recogniser_level,
            "recogniser_label": chain.recogniser_label,
        },
    )


def _require_tenant_admin(actor: Any, tenant: Tenant) -> None:
    root = AdministrativeUnit.objects.filter(tenant=tenant, parent__isnull=True).first()
    if root is None or not (roles_at(actor, root) & ADMIN_ROLES):
        raise RoleNotAllowedError(
            _("Only an administrator of the whole %(tenant)s may change review chains.")
            % {"tenant": tenant.name}
        )


def _overlapping(
    *, tenant: Tenant, title: str, scope_level: str, valid_from: dt.date, valid_to: dt.date | None
) -> ReviewChain | None:
    qs = ReviewChain.objects.filter(tenant=tenant, title=title, scope_level=scope_level).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from)
    )
    if valid_to is not None:
        qs = qs.filter(valid_from__lte=valid_to)
    return qs.order_by("valid_from").first()


@transaction.atomic
def review_chain_create(
    *,
    actor: Any,
    tenant: Tenant,
    title: str,
    scope_level: str,
    valid_from: dt.date,
    valid_to: dt.date | None,
    proposer_level: str,
    reviewer_level: str,
    recogniser_level: str,
    recogniser_label: str,
    legal_basis: str = "",
) -> ReviewChain:
    """Add who proposes, reviews and recognises ``title`` over a period.

    Periods of one (title, level) may not overlap: end the current chain
    first. The reviewer sits above the proposer.
    """
    _require_tenant_admin(actor, tenant)
    if title not in Title.values:
        raise ReviewChainError(_("Choose a title."))
    levels = set(Level.values)
    if scope_level and scope_level not in levels:
        raise ReviewChainError(_("Choose a level."))
    if not {proposer_level, reviewer_level, recogniser_level} <= levels:
        raise ReviewChainError(_("Choose a level."))
    if level_rank(reviewer_level) >= level_rank(proposer_level):
        raise ReviewChainError(_("The reviewing level must be above the proposing level."))
    if valid_to is not None and valid_to < valid_from:
        raise ReviewChainError(_("The end date cannot be before the start date."))
    # Serialise concurrent edits of the tenant's chains.
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    clash = _overlapping(
        tenant=tenant,
        title=title,
        scope_level=scope_level,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    if clash is not None:
        raise ReviewChainError(
            _(
                "This period overlaps the chain in force from %(start)s: "
                "end that chain first (set its last day)."
            )
            % {"start": clash.valid_from.strftime("%d/%m/%Y")}
        )
    chain = ReviewChain.objects.create(
        tenant=tenant,
        title=title,
        scope_level=scope_level,
        valid_from=valid_from,
        valid_to=valid_to,
        proposer_level=proposer_level,
        reviewer_level=reviewer_level,
        recogniser_level=recogniser_level,
        recogniser_label=nfc(recogniser_label),
        legal_basis=nfc(legal_basis),
    )
    _audit_chain(actor, "review_chain.create", chain)
    return chain


@transaction.atomic
def review_chain_end(*, actor: Any, chain: ReviewChain, valid_to: dt.date) -> ReviewChain:
    """Set the last day of a chain (it stays in the history for earlier years)."""
    _require_tenant_admin(actor, chain.tenant)
    locked = ReviewChain.objects.select_for_update().get(pk=chain.pk)
    if valid_to < locked.valid_from:
        raise ReviewChainError(
            _("The last day cannot be before the chain starts (%(start)s).")
            % {"start": locked.valid_from.strftime("%d/%m/%Y")}
        )
    if locked.valid_to is not None and locked.valid_to <= valid_to:
        raise ReviewChainError(
            _("This chain already ends on %(end)s.") % {"end": locked.valid_to.strftime("%d/%m/%Y")}
        )
    before = locked.valid_to
    locked.valid_to = valid_to
    locked.save(update_fields=["valid_to"])
    audit_record(
        actor=actor,
        action="review_chain.end",
        obj=locked,
        tenant=locked.tenant,
        before={"valid_to": before.isoformat() if before else None},
        after={"valid_to": valid_to.isoformat()},
    )
    return locked

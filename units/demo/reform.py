"""The demo's 2025 administrative reorganisation (issue 9 §6): TP. Hồ Chí Minh goes two-tier.

One plan, built and applied through the engine's services (``reorganisation_create``,
``steps_add``, ``reorganisation_apply`` with ``abolish_level="district"``,
``role_reassignment_resolve``), reorganises the whole demo tenant from 01/07/2025
("Nghị quyết 1685/NQ-UBTVQH15 ngày 16/6/2025", RULES.md §7.2, §8):

- Quận 10's 14 wards merge into Phường Diên Hồng, Vườn Lài and Hòa Hưng;
- Quận 11's 16 wards into Phường Minh Phụng, Bình Thới, Hòa Bình and Phú Thọ;
- Quận Phú Nhuận's 13 wards into Phường Đức Nhuận, Cầu Kiệu and Phú Nhuận;
- the three districts close on 30/06/2025 without successor (the district level
  ends), the ten new wards sit directly under the city, Quận 10's 79 khu phố are
  continued under the new wards (same codes, renumbered Khu phố 1…n per new
  ward), and every subject moves with them.

Paths are history: the old wards and districts keep their place in the tree,
with what was decided under them (the 2023–2025 registrations, Quận 10's 2025
decision 01/QĐ-UBND). The roles move as the engine moves them: a ward
official's role follows the ward into its successor; the district reviewer's
role is flagged ("abolished") and resolved here to the city, because after the
reform the city (Sở GD&ĐT) reviews the wards' dossiers (see :data:`REVIEWER_AFTER`).

Sources, and what is simplified:

- **Membership, SEEN** in Nghị quyết 1685/NQ-UBTVQH15, Điều 1 khoản 25–31 and
  53–55 (text of the resolution as published in the open dataset dvhcvn/20250701,
  ``input/docs/1685_NQ-UBTVQH15.md``, RULES.md §7.3); **codes, SEEN** in Cục
  Thống kê công văn 1027/CTK-CSCL (25/6/2025), Phụ lục I: each new ward reuses the
  5-digit code of one of the wards it merges (RULES.md §7.2).
- **UNCERTAIN (illustrative):** the demo's units are the official list of
  01/02/2024 (``units.json``), which still has wards merged in the 2024 round
  (effective 01/01/2025) that the 2025 resolution no longer names: Quận 10's
  Phường 5, 7 and 11, Quận 11's Phường 2, 4, 6, 9, 12 and 13, Phú Nhuận's
  Phường 3 and 17. The demo puts each into a plausible successor (marked
  ``UNCERTAIN`` in :data:`MERGES`; for Quận 11's Phường 9 and 13, the wards whose
  codes the new Bình Thới and Phú Thọ reuse).
- **Simplified:** the resolution splits Phường 14 (Quận 10), Phường 8 (Quận 11)
  and Phường 15 (Phú Nhuận) between two new wards; the demo merges each whole
  into the first one named (a ward split needs its khu phố, which those wards
  do not have in the demo).

Idempotent: a tenant whose plan is applied is left as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from units import services
from units.levels import Level
from units.models import AdministrativeUnit, Tenant
from units.reorganisation import services as reorg
from units.reorganisation.models import (
    Reorganisation,
    ReorganisationStatus,
    RoleReassignment,
)
from units.reorganisation.services import StepInput, TargetInput

PLAN_NAME = "Sắp xếp đơn vị hành chính cấp xã Thành phố Hồ Chí Minh năm 2025"
LEGAL_BASIS = "Nghị quyết 1685/NQ-UBTVQH15 ngày 16/6/2025"
EFFECTIVE_ON = dt.date(2025, 7, 1)
#: The districts the plan closes (the district level ends with them).
DISTRICTS = {"771": "Quận 10", "772": "Quận 11", "768": "Quận Phú Nhuận"}
CITY_CODE = "79"

#: New ward (official code, name) -> the old wards' codes it merges, per district.
MERGES: list[tuple[str, str, list[str]]] = [
    # Quận 10 (NQ 1685 khoản 25–27).
    # Diên Hồng: P.6, P.8, P.14 (part; whole here); P.7 UNCERTAIN.
    ("27169", "Phường Diên Hồng", ["27202", "27187", "27169", "27196"]),
    # Vườn Lài: P.1, P.2, P.4, P.9, P.10; P.5 and P.11 UNCERTAIN.
    ("27190", "Phường Vườn Lài", ["27184", "27190", "27193", "27181", "27178", "27199", "27175"]),
    # Hòa Hưng: P.12, P.13, P.15 (and the rest of P.14).
    ("27163", "Phường Hòa Hưng", ["27172", "27166", "27163"]),
    # Quận 11 (khoản 28–31).
    # Minh Phụng: P.1, P.7, P.16; P.2 and P.4 UNCERTAIN.
    ("27238", "Phường Minh Phụng", ["27247", "27238", "27253", "27250", "27244"]),
    # Bình Thới: P.3, P.10, P.8 (part; whole here); P.9 UNCERTAIN (its code is reused).
    ("27232", "Phường Bình Thới", ["27220", "27223", "27229", "27232"]),
    # Hòa Bình: P.5, P.14; P.6 UNCERTAIN.
    ("27211", "Phường Hòa Bình", ["27211", "27214", "27241"]),
    # Phú Thọ: P.11, P.15 (and the rest of P.8); P.13 (its code) and P.12 UNCERTAIN.
    ("27226", "Phường Phú Thọ", ["27217", "27208", "27226", "27235"]),
    # Quận Phú Nhuận (khoản 53–55).
    # Đức Nhuận: P.4, P.5, P.9.
    ("27043", "Phường Đức Nhuận", ["27043", "27046", "27049"]),
    # Cầu Kiệu: P.1, P.2, P.7, P.15 (part; whole here).
    ("27058", "Phường Cầu Kiệu", ["27058", "27061", "27052", "27067"]),
    # Phú Nhuận: P.8, P.10, P.11, P.13; P.3 and P.17 UNCERTAIN.
    ("27073", "Phường Phú Nhuận", ["27064", "27070", "27073", "27085", "27055", "27076"]),
]

#: Who reviews after the reform (RULES.md §8: UNCERTAIN, configurable per tenant in
#: the review chains): the wards propose, the city (Sở GD&ĐT) reviews, the ward's
#: chairman recognises families; commune "Cộng đồng học tập" is recognised at the
#: city, its authority left for the administrator (``ensure_default_chains``).
#: The district reviewer's flagged role is therefore resolved to the city.
REVIEWER_AFTER = {"reviewer.q10": CITY_CODE}


def applied_plan(tenant: Tenant) -> Reorganisation | None:
    return Reorganisation.objects.filter(
        tenant=tenant, name=PLAN_NAME, status=ReorganisationStatus.APPLIED
    ).first()


def in_force(tenant: Tenant, code: str) -> AdministrativeUnit:
    """The unit of ``code`` in force today (codes are reused across the reform)."""
    return AdministrativeUnit.objects.get(tenant=tenant, code=code, valid_to__isnull=True)


def new_ward_codes() -> list[str]:
    return [code for code, _name, _sources in MERGES]


def _plan(tenant: Tenant) -> Reorganisation:
    wards = {
        u.code: u
        for u in AdministrativeUnit.objects.filter(
            tenant=tenant, parent__code__in=list(DISTRICTS), valid_to=None, level=Level.COMMUNE
        )
    }
    plan = reorg.reorganisation_create(
        actor=None,
        tenant=tenant,
        name=PLAN_NAME,
        effective_on=EFFECTIVE_ON,
        legal_basis=LEGAL_BASIS,
        abolish_level=Level.DISTRICT,
    )
    reorg.steps_add(
        actor=None,
        plan=plan,
        steps=[
            StepInput(
                kind="merge",
                sources=[wards[code] for code in sources],
                # No parent: the nearest surviving ancestor, the city.
                targets=[TargetInput(code=code, name=name, kind="phuong")],
            )
            for code, name, sources in MERGES
        ],
    )
    plan.refresh_from_db()
    preview = reorg.reorganisation_preview(plan=plan)
    if preview.conflicts:  # the demo's own data: a conflict is a bug in MERGES
        raise RuntimeError("; ".join(f"{c.unit_code}: {c.message}" for c in preview.conflicts))
    return reorg.reorganisation_apply(actor=None, plan=plan, expected_version=plan.version)


def _resolve_roles(tenant: Tenant, plan: Reorganisation) -> int:
    """Resolve the roles the engine flagged (the district reviewer's) as
    :data:`REVIEWER_AFTER` says; an unexpected flag is a bug in the demo."""
    resolved = 0
    for flag in RoleReassignment.objects.filter(plan=plan, resolved_at__isnull=True).select_related(
        "user"
    ):
        code = REVIEWER_AFTER.get(flag.user.username)
        if code is None:
            raise RuntimeError(f"Unexpected flagged role: {flag.user.username} ({flag.reason})")
        reorg.role_reassignment_resolve(
            actor=None, reassignment=flag, units=[in_force(tenant, code)]
        )
        resolved += 1
    return resolved


def _renumber_neighbourhoods(tenant: Tenant) -> int:
    """Number each new ward's khu phố 1…n (the engine continues them with their
    old names, so Vườn Lài would show seven "Khu phố 1"); their tenant-assigned
    codes stay (``27184-KP03``: Khu phố 3 of the old Phường 1). Through
    ``unit_update``, audited; the old khu phố keep their names (paths are history)."""
    renamed = 0
    for code in new_ward_codes():
        ward = in_force(tenant, code)
        for n, kp in enumerate(ward.children.filter(valid_to__isnull=True).order_by("code"), 1):
            name = f"Khu phố {n}"
            if kp.name == name:
                continue
            services.unit_update(
                actor=None,
                unit=kp,
                expected_version=kp.version,
                name=name,
                code=kp.code,
                kind=kp.kind,
                valid_from=kp.valid_from,
                valid_to=kp.valid_to,
            )
            renamed += 1
    return renamed


@transaction.atomic
def apply_reform(tenant: Tenant) -> dict[str, Any]:
    """Apply the plan once, resolve the flagged roles, give the tenant its review
    chains of both periods. Returns the plan's result counts."""
    from recognition.services.chain import ensure_default_chains

    done = applied_plan(tenant)
    if done is not None:
        return dict(done.result)
    plan = _plan(tenant)
    resolved = _resolve_roles(tenant, plan)
    renumbered = _renumber_neighbourhoods(tenant)
    # The district level ended on 30/06/2025: the default chains get both periods
    # (district reviews until then, the city from 01/07/2025; RULES.md §8).
    ensure_default_chains(tenant)
    return {**plan.result, "roles_resolved": resolved, "neighbourhoods_renamed": renumbered}

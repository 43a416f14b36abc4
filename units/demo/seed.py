"""Demo data: HCMC (Quận 10, Quận 11, Phú Nhuận, then their ten successor wards) and
Hải Phòng, with demo users.

Units come from ``units.json`` (official GSO codes of 01/02/2024, see its
``_source``). The 79 neighbourhoods of Quận 10 are those its 2018 plan invites
("Trưởng Ban điều hành 79 Khu phố", seeds/000; RULES.md §9); their codes are
tenant-assigned. The order is the calendar's: the three-tier tree and its
2023–2025 history, the 2025 reform plan (``units/demo/reform.py``: the HCMC
tenant is two-tier from 01/07/2025), then the live 2026 cycle, campaigns and
decision in the new wards. The users are granted their roles on the units of
01/02/2024; the reform moves them (a ward official's follows the ward; the
district reviewer's is resolved to the city). Idempotent: running it twice
changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction

from accounts.security import tenant_set_mfa_roles
from accounts.services import user_ensure
from recognition.shipped import load_shipped_criteria
from units import services
from units.models import AdministrativeUnit, Tenant
from units.roles import Role

DATA = Path(__file__).with_name("units.json")
DEMO_PASSWORD = "xhht-demo-2025"  # noqa: S105 — documented demo password
Q10_NEIGHBOURHOODS = 79

DEMO_USERS: list[dict[str, str]] = [
    {
        "username": "admin.hcm",
        "tenant": "hcm",
        "unit": "79",
        "role": Role.TENANT_ADMIN,
        "full_name": "Nguyễn Văn Quản",
        "position": "Quản trị hệ thống, Sở GD&ĐT",
    },
    {
        "username": "viewer.hcm",
        "tenant": "hcm",
        "unit": "79",
        "role": Role.STEERING_VIEWER,
        "full_name": "Trần Thị Chỉ Đạo",
        "position": "Ban Chỉ đạo XDXHHT Thành phố",
    },
    {
        "username": "reviewer.q10",
        "tenant": "hcm",
        "unit": "771",
        "role": Role.REVIEWER,
        "full_name": "Lê Thị Thẩm Định",
        "position": "Chuyên viên Sở GD&ĐT (đến 30/06/2025: Phòng GD&ĐT Quận 10)",
    },
    {
        "username": "ward.q10.p1",
        "tenant": "hcm",
        "unit": "27184",
        "role": Role.WARD_OFFICIAL,
        "full_name": "Phạm Văn Phường",
        "position": "Cán bộ phụ trách XHHT, Phường Vườn Lài (trước đây Phường 1, Quận 10)",
    },
    {
        "username": "ward.q11.p1",
        "tenant": "hcm",
        "unit": "27247",
        "role": Role.WARD_OFFICIAL,
        "full_name": "Võ Thị Mười Một",
        "position": "Cán bộ phụ trách XHHT, Phường Minh Phụng (trước đây Phường 1, Quận 11)",
    },
    {
        "username": "admin.hp",
        "tenant": "hai-phong",
        "unit": "31",
        "role": Role.TENANT_ADMIN,
        "full_name": "Đỗ Văn Hải",
        "position": "Quản trị hệ thống, Sở GD&ĐT Hải Phòng",
    },
]


def _ensure_unit(
    tenant: Tenant, parent: AdministrativeUnit | None, node: dict[str, Any]
) -> AdministrativeUnit:
    existing = AdministrativeUnit.objects.filter(tenant=tenant, code=node["code"]).first()
    if existing is not None:
        return existing
    return services.unit_create(
        actor=None,
        tenant=tenant,
        parent=parent,
        kind=node["kind"],
        name=node["name"],
        code=node["code"],
    )


def _ensure_tree(tenant: Tenant, parent: AdministrativeUnit | None, node: dict[str, Any]) -> None:
    unit = _ensure_unit(tenant, parent, node)
    for child in node.get("children", []):
        _ensure_tree(tenant, unit, child)


def _quận10_neighbourhoods(tenant: Tenant) -> None:
    """Spread 79 khu phố over Quận 10's wards, in ward order."""
    district = AdministrativeUnit.objects.get(tenant=tenant, code="771")
    wards = list(AdministrativeUnit.objects.filter(parent=district).order_by("code"))
    base, extra = divmod(Q10_NEIGHBOURHOODS, len(wards))
    for index, ward in enumerate(wards):
        for n in range(1, base + (1 if index < extra else 0) + 1):
            _ensure_unit(
                tenant,
                ward,
                {"code": f"{ward.code}-KP{n:02d}", "name": f"Khu phố {n}", "kind": "khu_pho"},
            )


def seed_base() -> dict[str, Tenant]:
    """Tenants, units, users and the national criteria sets. The users get their
    roles on the units of 01/02/2024 until the reform plan is applied; afterwards
    the reform has moved them and they are left as they are."""
    from units.demo.reform import applied_plan

    data = json.loads(DATA.read_text(encoding="utf-8"))
    tenants: dict[str, Tenant] = {}
    for spec in data["tenants"]:
        tenant = Tenant.objects.filter(slug=spec["slug"]).first() or services.tenant_create(
            name=spec["name"], slug=spec["slug"], code=spec["root"]["code"]
        )
        tenants[spec["slug"]] = tenant
        # Two-factor sign-in (issue 10 §1): off in the HCMC demo, whose demo
        # logins and browser journeys use a password only; on in Hải Phòng,
        # so admin.hp sets up an authenticator app at the first sign-in.
        tenant_set_mfa_roles(
            actor=None,
            tenant=tenant,
            roles=[Role.REVIEWER, Role.TENANT_ADMIN] if spec["slug"] == "hai-phong" else [],
        )
        _ensure_tree(tenant, None, spec["root"])
    hcm = tenants["hcm"]
    before_reform = applied_plan(hcm) is None
    if before_reform:
        _quận10_neighbourhoods(hcm)
    for spec in DEMO_USERS:
        tenant = tenants[spec["tenant"]]
        user = user_ensure(
            tenant=tenant,
            username=spec["username"],
            email=f"{spec['username']}@demo.xhht.vn",
            full_name=spec["full_name"],
            position=spec["position"],
            password=DEMO_PASSWORD,
        )
        if tenant != hcm or before_reform:
            unit = AdministrativeUnit.objects.get(tenant=tenant, code=spec["unit"])
            services.role_assign(actor=None, user=user, unit=unit, role=spec["role"])
    load_shipped_criteria()  # the national criteria sets (recognition/shipped/)
    return tenants


@transaction.atomic
def seed_demo(*, with_cycle: bool = True) -> dict[str, int]:
    """Units, users, criteria sets and the reform plan; with ``with_cycle`` also the
    2023–2025 history (loaded only while the plan is not applied yet), the live
    2026 cycle, the decisions and the campaigns."""
    from units.demo.reform import applied_plan, apply_reform

    hcm = seed_base()["hcm"]
    if with_cycle and applied_plan(hcm) is None:
        from recognition.demo.decisions import seed_decision_demo
        from recognition.demo.history import seed_history_demo
        from reports.services import rollups_rebuild

        seed_history_demo(hcm)  # 2023–2025 in the old wards
        seed_decision_demo(hcm)  # Phường 5's 2025 and UBND Quận 10's decision
        # The history's bulk writes bypass the rollup hooks: make the rollups
        # current, as they are in use, so the plan keeps the old wards' bases.
        rollups_rebuild(tenant=hcm)
    apply_reform(hcm)  # two-tier from 01/07/2025
    if with_cycle:
        from campaigns.demo import seed_campaigns_demo
        from recognition.demo.cycle import seed_cycle_demo
        from recognition.demo.decisions import seed_recent_decision_demo
        from recognition.demo.personal_data import seed_personal_data_demo
        from reports.services import rollups_rebuild

        seed_cycle_demo(hcm)  # the live 2026 cycle of the new wards
        seed_recent_decision_demo(hcm)  # UBND phường Đức Nhuận's 2026 decision
        seed_campaigns_demo(hcm)  # the city's plan, Quận 11's, events, awards
        seed_personal_data_demo(hcm)  # Vườn Lài's citizens and the access log
        rollups_rebuild()  # the demos' bulk writes bypass the rollup hooks
    return {
        "tenants": Tenant.objects.count(),
        "units": AdministrativeUnit.objects.count(),
        "users": len(DEMO_USERS),
    }

"""Review chain by period across the two-tier reform (issue 9 §4).

After the districts are abolished on 01/07/2025, one tenant holds both chains:
a 2024 dossier of a ward that no longer exists is still reviewed by its
district (the chain in force then), a 2026 dossier of the successor ward goes
to the province (the chain in force now) — side by side, nothing reconfigured.
"""

from __future__ import annotations

import datetime as dt

from recognition.services import chain as chain_services
from recognition.services.dossier import dossier_for
from recognition.titles import Title
from tests.conftest import Cast
from tests.units.test_reorganisation_support import DAY_BEFORE, EFFECTIVE
from units.models import AdministrativeUnit
from units.reorganisation import services as reorg


def _abolish_districts(cast: Cast) -> AdministrativeUnit:
    plan = reorg.reorganisation_create(
        actor=cast.admin,
        name="Sắp xếp đơn vị hành chính 2025",
        legal_basis="Nghị quyết 1685/NQ-UBTVQH15",
        effective_on=EFFECTIVE,
        abolish_level="district",
    )
    reorg.step_add(
        actor=cast.admin,
        plan=plan,
        kind="merge",
        sources=[cast.ward, cast.other_ward],
        targets=[{"code": "27184", "name": "Phường Sài Gòn", "kind": "phuong"}],
    )
    reorg.reorganisation_apply(actor=cast.admin, plan=plan, expected_version=plan.version)
    return AdministrativeUnit.objects.get(code="27184", valid_to__isnull=True)


def test_2024_dossiers_go_to_the_district_and_2026_dossiers_to_the_province(cast: Cast) -> None:
    new_ward = _abolish_districts(cast)
    # The default chains follow the recorded reform: district until 30/06/2025,
    # province from 01/07/2025.
    assert chain_services.ensure_default_chains(cast.tenant) > 0
    before = chain_services.chain_for(
        tenant_id=cast.tenant.pk, title=Title.FAMILY, scope_level="", on=dt.date(2024, 12, 1)
    )
    after = chain_services.chain_for(
        tenant_id=cast.tenant.pk, title=Title.FAMILY, scope_level="", on=dt.date(2026, 1, 15)
    )
    assert before is not None and before.reviewer_level == "district"
    assert before.valid_to == DAY_BEFORE
    assert after is not None and after.reviewer_level == "province"

    old_dossier = dossier_for(
        actor=cast.admin,
        proposing_unit=cast.ward,
        title=Title.FAMILY,
        year=2024,
        on=dt.date(2024, 12, 1),
    )
    new_dossier = dossier_for(
        actor=cast.admin,
        proposing_unit=new_ward,
        title=Title.FAMILY,
        year=2026,
        on=dt.date(2026, 1, 15),
    )
    assert old_dossier.reviewing_unit == cast.district
    assert new_dossier.reviewing_unit == cast.city
    assert old_dossier.proposing_unit == cast.ward  # the unit it was made under
